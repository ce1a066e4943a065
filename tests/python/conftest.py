# Shared fixtures of the pytest suites that compare Loom with the reference tools (gguf-py,
# llama-cpp-python). CTest passes the paths in the environment (tests/CMakeLists.txt):
# LOOM_BIN, LOOM_GGUF_TOOL, LOOM_SYNTH, LOOM_FIXTURES, LOOM_DEFAULT_MODEL, LOOM_SOURCE_DIR.
# A missing variable or file fails the run: the set-up always provides them, so a skip would
# hide it.
import functools
import json
import os
import pathlib
import subprocess

import gguf
import numpy as np
import pytest


def _required_path(name: str) -> pathlib.Path:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"environment variable {name} is not set (run through CTest, or set it "
                    f"as tests/CMakeLists.txt does)", pytrace=False)
    path = pathlib.Path(value)
    if not path.exists():
        pytest.fail(f"{name}={value}: no such file or directory", pytrace=False)
    return path


@pytest.fixture(scope="session")
def loom_bin() -> pathlib.Path:
    return _required_path("LOOM_BIN")


@pytest.fixture(scope="session")
def gguf_tool() -> pathlib.Path:
    return _required_path("LOOM_GGUF_TOOL")


@pytest.fixture(scope="session")
def synth_model() -> pathlib.Path:
    """tests/tools/synth_model: random-weight models of every architecture and tensor type."""
    return _required_path("LOOM_SYNTH")


@pytest.fixture(scope="session")
def fixtures_dir() -> pathlib.Path:
    return _required_path("LOOM_FIXTURES")


@pytest.fixture(scope="session")
def default_model() -> pathlib.Path:
    return _required_path("LOOM_DEFAULT_MODEL")


@pytest.fixture(scope="session")
def source_dir() -> pathlib.Path:
    return _required_path("LOOM_SOURCE_DIR")


@pytest.fixture(scope="session")
def stories(fixtures_dir) -> pathlib.Path:
    return fixtures_dir / "stories260K.gguf"


# ---- running the binaries ------------------------------------------------------------------

def run(args, env=None, check=False, timeout=120) -> subprocess.CompletedProcess:
    """Runs a command, capturing stdout and stderr as text (UTF-8)."""
    proc = subprocess.run([str(a) for a in args], capture_output=True, env=env,
                          timeout=timeout, encoding="utf-8", errors="strict")
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} exited {proc.returncode}\nstdout:\n{proc.stdout[-2000:]}"
                             f"\nstderr:\n{proc.stderr[-2000:]}")
    return proc


@functools.lru_cache(maxsize=None)
def _loom_json_cached(loom: str, path: str) -> str:
    return run([loom, "inspect", "--json", path], check=True).stdout


def loom_inspect_json(loom_bin, path) -> dict:
    """`loom inspect --json PATH`, parsed (cached per session)."""
    return json.loads(_loom_json_cached(str(loom_bin), str(path)))


@functools.lru_cache(maxsize=None)
def _reader_cached(path: str) -> gguf.GGUFReader:
    return gguf.GGUFReader(path)


def reader(path) -> gguf.GGUFReader:
    """gguf-py's reader of path (cached per session: Gemma's vocabulary takes seconds)."""
    return _reader_cached(str(path))


# ---- gguf-py values --------------------------------------------------------------------------

VT = gguf.GGUFValueType

VALUE_TYPE_NAMES = {
    VT.UINT8: "u8", VT.INT8: "i8", VT.UINT16: "u16", VT.INT16: "i16", VT.UINT32: "u32",
    VT.INT32: "i32", VT.FLOAT32: "f32", VT.BOOL: "bool", VT.STRING: "string", VT.ARRAY: "array",
    VT.UINT64: "u64", VT.INT64: "i64", VT.FLOAT64: "f64",
}


class Arr:
    """An array value as read from the file's raw parts: element type and items."""

    def __init__(self, elem: int, items: list):
        self.elem = VT(elem)
        self.items = items

    def __repr__(self):
        return f"Arr({self.elem.name}, {self.items!r})"


def _decode_parts(parts, i: int, vtype: int):
    """Decodes one value of type vtype from gguf-py's parts list at index i.

    Returns (value, next index). Scalars stay numpy scalars (exact bits), strings are
    decoded from UTF-8, arrays become Arr (nested arrays too, which gguf-py's contents()
    flattens)."""
    vtype = VT(vtype)
    if vtype == VT.STRING:
        return bytes(parts[i + 1]).decode("utf-8"), i + 2
    if vtype == VT.ARRAY:
        elem = int(parts[i][0])
        count = int(parts[i + 1][0])
        i += 2
        items = []
        for _ in range(count):
            item, i = _decode_parts(parts, i, elem)
            items.append(item)
        return Arr(elem, items), i
    return parts[i][0], i + 1


def field_value(field):
    """The value of a gguf-py ReaderField, with exact scalars and real nesting.

    A field's parts are [key length, key bytes, value type, value parts...]."""
    vtype = int(field.parts[2][0])
    if vtype == VT.ARRAY and len(field.types) == 2 and field.types[1] != VT.ARRAY:
        # Fast path for long flat arrays (a vocabulary has 10^5 strings).
        elem = field.types[1]
        if elem == VT.STRING:
            items = [bytes(field.parts[j]).decode("utf-8") for j in field.data]
        else:
            items = [field.parts[j][0] for j in field.data]
        return Arr(elem, items)
    value, end = _decode_parts(field.parts, 3, vtype)
    assert end == len(field.parts), f"{field.name}: {end} of {len(field.parts)} parts decoded"
    return value


def type_description(value) -> str:
    """A value's type as Loom names it: "u32", "array[string]", "array[array[i32]]"."""
    if isinstance(value, Arr):
        if value.elem == VT.ARRAY and value.items:
            # Loom names the element type after the first inner array.
            return f"array[{type_description(value.items[0])}]"
        return f"array[{VALUE_TYPE_NAMES[value.elem]}]"
    if isinstance(value, str):
        return "string"
    return VALUE_TYPE_NAMES[_numpy_value_type(value)]


def _numpy_value_type(value) -> int:
    for vtype, np_type in gguf.GGUFReader.gguf_scalar_to_np.items():
        if type(value) is np_type:
            return vtype
    raise TypeError(f"unexpected scalar {value!r} of type {type(value)}")


@functools.lru_cache(maxsize=None)
def _metadata_cached(path: str) -> dict:
    r = reader(path)
    return {k: field_value(f) for k, f in r.fields.items() if not k.startswith("GGUF.")}


def metadata(path) -> dict:
    """Every metadata key of the file (not gguf-py's GGUF.* header pseudo-fields), in file
    order, mapped to its value as field_value gives it (cached: do not modify)."""
    return _metadata_cached(str(path))


def exact(value):
    """A value as a comparable tree with exact scalars: (type, bytes) for numbers, so that
    -0.0 differs from 0.0 and a NaN equals the same NaN."""
    if isinstance(value, Arr):
        return ("array", int(value.elem), [exact(v) for v in value.items])
    if isinstance(value, str):
        return ("string", value)
    return (type(value).__name__, value.tobytes())


def scalar_python(value):
    """A numpy scalar as the plain Python number or bool JSON would give."""
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.floating, float)):
        return float(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    return value


def model_files(fixtures_dir: pathlib.Path) -> list:
    """The real GGUF fixtures: the stories260K models and every vocab file."""
    files = sorted(fixtures_dir.glob("*.gguf")) + sorted((fixtures_dir / "vocab").glob("*.gguf"))
    assert len(files) >= 16, f"expected the fixture models and vocab files in {fixtures_dir}"
    return files


def fixture_ids() -> list:
    """Names of the real GGUF fixtures for parametrize (relative to LOOM_FIXTURES), plus
    "DEFAULT_MODEL" for the Gemma model."""
    root = os.environ.get("LOOM_FIXTURES")
    if not root or not pathlib.Path(root).is_dir():
        # Collected without the environment: the fixtures above fail with a clear message.
        return ["stories260K.gguf", "DEFAULT_MODEL"]
    root = pathlib.Path(root)
    return [str(p.relative_to(root)) for p in model_files(root)] + ["DEFAULT_MODEL"]


def resolve(name: str, fixtures_dir, default_model) -> pathlib.Path:
    return default_model if name == "DEFAULT_MODEL" else fixtures_dir / name


@pytest.fixture(scope="session")
def synth(gguf_tool, tmp_path_factory):
    """`gguf_tool synth`: (path of the file, its JSON description)."""
    path = tmp_path_factory.mktemp("synth") / "synth.gguf"
    proc = run([gguf_tool, "synth", path], check=True)
    return path, json.loads(proc.stdout)


# ---- greedy continuations against llama.cpp --------------------------------------------------

def greedy_against_llama_cpp(loom_bin, llm, model_path, toks, n_ctx, n_predict, extra_args=()):
    """Greedy n_predict tokens by llama.cpp (a Llama made with logits_all=True; its top-2
    margin recorded at each step) and by `loom run --tokens`. Returns (identical, index of
    the first differing token, llama.cpp's margin there). Callers accept a difference
    only at a near-tie: a margin below what rounding order can move (see test_run.py)."""
    llm.reset()
    llm.eval(toks)
    ids, margins = [], []
    for _ in range(n_predict):
        logits = np.array(llm.scores[llm.n_tokens - 1])
        top2 = np.argsort(-logits)[:2]
        ids.append(int(top2[0]))
        margins.append(float(logits[top2[0]] - logits[top2[1]]))
        llm.eval([ids[-1]])
    out = subprocess.run([str(loom_bin), "run", "-m", str(model_path), "--tokens", ",".join(map(str, toks)),
                          "-n", str(n_predict), "--temp", "0", "-c", str(n_ctx), *extra_args],
                         capture_output=True, timeout=300)
    assert out.returncode == 0, out.stderr
    if out.stdout == llm.detokenize(ids):
        return True, None, None
    first = next(i for i in range(len(ids)) if not out.stdout.startswith(llm.detokenize(ids[:i + 1])))
    return False, first, margins[first]
