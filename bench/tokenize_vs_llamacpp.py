#!/usr/bin/env python3
# Tokenizer throughput, Loom against llama.cpp, in one run on the same vocabulary files and
# the same text: ~1 MB of mixed text built from the test corpus (tests/python/
# tokenizer_texts.py: many scripts, code, numbers, whitespace, emoji, special-token
# look-alikes). Loom is timed as a process, `loom tokenize -m FILE --file TEXT --format ids`,
# minus the same command on an empty file (process start, vocabulary load, regex compile);
# llama.cpp (llama-cpp-python, vocab_only) as the llama_tokenize call alone. Runs are interleaved
# (Loom empty, Loom full, llama.cpp, repeated) and the best of --repeats is kept; both
# tokenize with add_special and without parse_special, single-threaded. Prints a Markdown
# table with MB/s for both and the ratio Loom/llama.cpp, and whether the ids agree.
# Not a test: the correctness comparison is tests/python/test_tokenizer.py.
#
#   ~/.cache/loom/venv/bin/python bench/tokenize_vs_llamacpp.py [--bytes N] [--repeats N]
import argparse
import ctypes
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import time

import llama_cpp

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "python"))
import tokenizer_texts  # noqa: E402


def default_files(fixtures: pathlib.Path, model: pathlib.Path) -> list:
    return [("gpt-2 (BPE)", fixtures / "vocab/ggml-vocab-gpt-2.gguf"),
            ("llama-spm (SPM)", fixtures / "vocab/ggml-vocab-llama-spm.gguf"),
            ("deepseek-llm (BPE)", fixtures / "vocab/ggml-vocab-deepseek-llm.gguf"),
            ("gemma-3-270m (SPM)", model)]


def loom_seconds(loom: str, model: pathlib.Path, text_file: str) -> tuple:
    """Wall time of one `loom tokenize` process and its ids."""
    start = time.perf_counter()
    proc = subprocess.run([loom, "tokenize", "-m", str(model), "--file", text_file, "--format", "ids"],
                          capture_output=True, check=True)
    elapsed = time.perf_counter() - start
    return elapsed, proc.stdout


def cpu_name() -> str:
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return out + ("+changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bytes", type=int, default=1_000_000, help="size of the text (default 1 MB)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement; the best counts")
    parser.add_argument("--loom", default=os.environ.get("LOOM_BIN", str(ROOT / "build/loom")))
    parser.add_argument("--fixtures", default=os.environ.get("LOOM_FIXTURES", str(ROOT.parent / "shared/fixtures")))
    parser.add_argument("--model", default=os.environ.get(
        "LOOM_DEFAULT_MODEL", str(pathlib.Path.home() / ".cache/loom/models/gemma-3-270m-q4_k_m.gguf")))
    args = parser.parse_args()

    @llama_cpp.llama_log_callback
    def quiet(level, text, user_data):
        pass
    llama_cpp.llama_log_set(quiet, ctypes.c_void_p(0))

    text = tokenizer_texts.mixed_text(args.bytes)
    mb = len(text) / 1e6
    with tempfile.TemporaryDirectory() as tmp:
        text_file = os.path.join(tmp, "text.txt")
        empty_file = os.path.join(tmp, "empty.txt")
        pathlib.Path(text_file).write_bytes(text)
        pathlib.Path(empty_file).write_bytes(b"")

        print(f"text: {len(text)} bytes of mixed UTF-8 from tests/python/tokenizer_texts.py; "
              f"best of {args.repeats}, interleaved")
        print(f"machine: {cpu_name()}, {os.cpu_count()} logical CPUs; loom {commit()}; "
              f"llama-cpp-python {llama_cpp.__version__}\n")
        print("| vocabulary | tokens | Loom MB/s | llama.cpp MB/s | Loom / llama.cpp | Loom start-up s | same ids |")
        print("|---|---:|---:|---:|---:|---:|---|")
        for label, path in default_files(pathlib.Path(args.fixtures), pathlib.Path(args.model)):
            ref = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
            vocab = ref._model.vocab
            # llama_tokenize directly, into a buffer that fits: Llama.tokenize first tries a
            # buffer of n_ctx tokens and, when that is too small, tokenizes everything again.
            buf = (llama_cpp.llama_token * (len(text) + 16))()
            best_empty = best_full = best_ref = float("inf")
            loom_out = b""
            ref_ids = []
            for _ in range(args.repeats):
                empty, _ = loom_seconds(args.loom, path, empty_file)
                full, loom_out = loom_seconds(args.loom, path, text_file)
                start = time.perf_counter()
                n = llama_cpp.llama_tokenize(vocab, text, len(text), buf, len(buf), True, False)
                best_ref = min(best_ref, time.perf_counter() - start)
                assert n >= 0
                ref_ids = buf[:n]
                best_empty = min(best_empty, empty)
                best_full = min(best_full, full)
            loom_ids = [int(x) for x in loom_out.split()]
            loom_time = max(best_full - best_empty, 1e-9)
            loom_rate, ref_rate = mb / loom_time, mb / best_ref
            print(f"| {label} | {len(ref_ids)} | {loom_rate:.2f} | {ref_rate:.2f} | "
                  f"{loom_rate / ref_rate:.2f} | {best_empty:.3f} | "
                  f"{'yes' if loom_ids == ref_ids else 'NO'} |", flush=True)
            del ref
    return 0


if __name__ == "__main__":
    sys.exit(main())
