# The `loom` command's contract, run as a process: --help and --version print to stdout
# and exit 0; bad usage (unknown command or flag, missing argument) exits 2 with exactly
# one line on stderr naming the problem and nothing on stdout; a failed operation (missing
# file, corrupt file) exits 1 with one line naming the file (and the byte, for a corrupt
# one); `loom inspect` without FILE uses $LOOM_MODEL, else the built-in default model;
# --json prints one JSON document and nothing else.
import json
import os
import re

import pytest

from conftest import run


def clean_env(**extra):
    """The environment without the variables that choose the default model."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("LOOM_MODEL", "LOOM_CACHE", "XDG_CACHE_HOME")}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def assert_one_error_line(proc, code):
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert proc.stdout == ""
    assert proc.stderr.endswith("\n"), repr(proc.stderr)
    assert proc.stderr.count("\n") == 1, repr(proc.stderr)
    return proc.stderr.strip()


def project_version(source_dir) -> str:
    text = (source_dir / "CMakeLists.txt").read_text()
    m = re.search(r"project\(\s*loom\s+VERSION\s+([0-9.]+)", text)
    assert m, "project(loom VERSION x.y.z) in CMakeLists.txt"
    return m.group(1)


# ---- help and version ----------------------------------------------------------------------

def test_help(loom_bin):
    proc = run([loom_bin, "--help"])
    assert proc.returncode == 0
    assert proc.stderr == ""
    assert "inspect" in proc.stdout and "Usage" in proc.stdout


def test_version(loom_bin, source_dir):
    proc = run([loom_bin, "--version"])
    assert proc.returncode == 0
    assert proc.stderr == ""
    assert proc.stdout.count("\n") == 1
    assert proc.stdout.startswith(f"loom {project_version(source_dir)}")


def test_inspect_help(loom_bin):
    proc = run([loom_bin, "inspect", "--help"])
    assert proc.returncode == 0
    assert proc.stderr == ""
    for flag in ("--json", "--tensors", "FILE"):
        assert flag in proc.stdout


# ---- usage errors: exit 2 ------------------------------------------------------------------

USAGE_ERRORS = [
    (["frobnicate"], "frobnicate"),
    (["help"], "help"),
    (["--bogus"], "--bogus"),
    (["--bogus", "inspect"], "--bogus"),
    (["inspect", "--bogus"], "--bogus"),
    (["inspect", "--no-such-flag", "x.gguf"], "--no-such-flag"),
    (["inspect", "a.gguf", "b.gguf"], "b.gguf"),
    (["inspect", "-m"], "--model"),
]


@pytest.mark.parametrize("args, named", [pytest.param(a, n, id="loom " + " ".join(a))
                                         for a, n in USAGE_ERRORS])
def test_usage_error(loom_bin, args, named):
    line = assert_one_error_line(run([loom_bin, *args]), 2)
    assert line.startswith("loom"), line
    assert named in line, f"the message does not name {named!r}: {line}"


def test_no_command_is_a_usage_error(loom_bin):
    line = assert_one_error_line(run([loom_bin]), 2)
    assert "subcommand" in line.lower() or "command" in line.lower(), line


# ---- failed operations: exit 1 -------------------------------------------------------------

def test_missing_file(loom_bin, tmp_path):
    path = tmp_path / "no-such-model.gguf"
    line = assert_one_error_line(run([loom_bin, "inspect", path]), 1)
    assert str(path) in line
    assert "inspect" in line


def test_directory_instead_of_file(loom_bin, tmp_path):
    line = assert_one_error_line(run([loom_bin, "inspect", tmp_path]), 1)
    assert str(tmp_path) in line


@pytest.mark.parametrize("content", [
    b"",
    b"GG",
    b"GGUF",
    b"hello, world",
    b"GGUF\x03\x00\x00\x00" + b"\xff" * 16,
    b"GGUF\x63\x00\x00\x00" + b"\x00" * 16,
], ids=["empty", "short", "magic-only", "not-gguf", "huge-counts", "bad-version"])
def test_corrupt_file(loom_bin, tmp_path, content):
    path = tmp_path / "corrupt.gguf"
    path.write_bytes(content)
    line = assert_one_error_line(run([loom_bin, "inspect", path]), 1)
    assert str(path) in line
    assert "byte" in line, line


def test_truncated_real_file(loom_bin, stories, tmp_path):
    data = stories.read_bytes()
    for cut in (10, 1000, len(data) // 2, len(data) - 1):
        path = tmp_path / f"cut{cut}.gguf"
        path.write_bytes(data[:cut])
        line = assert_one_error_line(run([loom_bin, "inspect", path]), 1)
        assert str(path) in line and "byte" in line, line


# ---- the default model ---------------------------------------------------------------------

def inspected_file(proc) -> str:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["file"]


def test_inspect_without_file_uses_default_model(loom_bin, default_model, tmp_path):
    # No LOOM_MODEL and an empty cache: the model recorded at build time.
    env = clean_env(HOME=tmp_path)
    shown = inspected_file(run([loom_bin, "inspect", "--json"], env=env))
    assert os.path.samefile(shown, default_model)


def test_inspect_honours_loom_model(loom_bin, default_model, stories):
    proc = run([loom_bin, "inspect", "--json"], env=clean_env(LOOM_MODEL=default_model))
    assert os.path.samefile(inspected_file(proc), default_model)
    # A different file, so that honouring the variable is visible.
    proc = run([loom_bin, "inspect", "--json"], env=clean_env(LOOM_MODEL=stories))
    assert os.path.samefile(inspected_file(proc), stories)


def test_file_argument_beats_loom_model(loom_bin, default_model, stories):
    env = clean_env(LOOM_MODEL=default_model)
    for args in (["inspect", "--json", stories], ["inspect", "--json", "-m", stories]):
        assert os.path.samefile(inspected_file(run([loom_bin, *args], env=env)), stories)


def test_missing_loom_model_is_reported(loom_bin, tmp_path):
    path = tmp_path / "gone.gguf"
    proc = run([loom_bin, "inspect"], env=clean_env(LOOM_MODEL=path))
    line = assert_one_error_line(proc, 1)
    assert str(path) in line


# ---- --json --------------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["stories260K.gguf", "vocab/ggml-vocab-gpt-2.gguf"])
def test_json_is_the_only_output(loom_bin, fixtures_dir, which):
    proc = run([loom_bin, "inspect", "--json", fixtures_dir / which])
    assert proc.returncode == 0
    assert proc.stderr == ""
    doc = json.loads(proc.stdout)  # rejects anything after the document
    assert set(doc) >= {"file", "summary", "metadata", "tensors"}
    assert proc.stdout.endswith("}\n")


def test_text_goes_to_stdout_only(loom_bin, stories):
    proc = run([loom_bin, "inspect", stories])
    assert proc.returncode == 0
    assert proc.stderr == ""
    assert proc.stdout.startswith("file:")
