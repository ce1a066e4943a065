"""`loom run` against llama.cpp (llama-cpp-python) on the same GGUF files: identical
prompt token ids and identical greedy continuations, on stories260K in F32 and in the
three quantized variants (Q8_0; Q4_0; the "Q4_K_M" file, which holds Q5_0/Q8_0/F16) up
to near-ties, with the reference kernels and with the fastest this CPU has; Gemma 3.
Also the command's contract: only the continuation on stdout, errors as one stderr line."""
import os
import subprocess

import pytest

from conftest import greedy_against_llama_cpp

FIXTURES = os.environ["LOOM_FIXTURES"]
LOOM = os.environ["LOOM_BIN"]
MODELS = ["stories260K.gguf", "stories260K-Q8_0.gguf", "stories260K-Q4_0.gguf", "stories260K-Q4_K_M.gguf"]
PROMPTS = ["Once upon a time", "The little dog", "Lily and Ben went to the park. They", "Hello"]
N_PREDICT = 64

_llama = {}


def reference(model):
    import llama_cpp
    if model not in _llama:
        _llama[model] = llama_cpp.Llama(os.path.join(FIXTURES, model), n_ctx=128, n_threads=2,
                                        verbose=False)
    return _llama[model]


def loom_run(*args):
    return subprocess.run([LOOM, "run", *args], capture_output=True, timeout=120)


_llama_logits = {}


def reference_logits_model(model):
    import llama_cpp
    if model not in _llama_logits:
        _llama_logits[model] = llama_cpp.Llama(os.path.join(FIXTURES, model), n_ctx=128, n_threads=2,
                                               verbose=False, logits_all=True, flash_attn=False)
    return _llama_logits[model]


def greedy_pair(model, prompt):
    llm = reference(model)
    # Same prompt tokens: the tokenizer suite checks this broadly; here the exact prompt.
    ids = subprocess.run([LOOM, "tokenize", "-m", os.path.join(FIXTURES, model), "--format", "ids", prompt],
                         capture_output=True, text=True, check=True).stdout.split()
    assert [int(i) for i in ids] == llm.tokenize(prompt.encode(), add_bos=True, special=False)
    llm.reset()
    ref = llm(prompt, max_tokens=N_PREDICT, temperature=0.0, top_k=1)["choices"][0]["text"]
    out = loom_run("-m", os.path.join(FIXTURES, model), "-p", prompt, "-n", str(N_PREDICT), "--temp", "0",
                   "-c", "128")
    assert out.returncode == 0, out.stderr
    return out.stdout.decode(), ref


@pytest.mark.parametrize("prompt", PROMPTS)
def test_f32_greedy_continuation_matches_llama_cpp(prompt):
    got, ref = greedy_pair("stories260K.gguf", prompt)
    assert got == ref


# Quantized matmuls run as in ggml (activations converted to the dot partner type,
# integer block dots), but summed in another order, and an activation that lands on a
# rounding boundary can round to the neighbouring int8 step on one side only. On this
# 260K-parameter model that moves logits by up to ~0.05; greedy choices closer than this
# bound are decided by rounding, not by the model (measured divergences: margins 0.003
# to 0.05).
STORIES_NEAR_TIE = 0.1


@pytest.mark.parametrize("model", MODELS[1:])
@pytest.mark.parametrize("kernels", ["scalar", "best"])
def test_quantized_greedy_continuations_match_llama_cpp_up_to_near_ties(model, kernels):
    identical = 0
    for prompt in PROMPTS:
        toks = reference_logits_model(model).tokenize(prompt.encode(), add_bos=True, special=False)
        extra = ["--kernels", "scalar"] if kernels == "scalar" else []
        same, first, margin = greedy_against_llama_cpp(LOOM, reference_logits_model(model),
                                                       os.path.join(FIXTURES, model), toks, 128, N_PREDICT, extra)
        identical += same
        assert same or margin < STORIES_NEAR_TIE, (model, prompt, first, margin)
    assert identical >= len(PROMPTS) // 2, identical


def test_echo_and_stdout_contract():
    model = os.path.join(FIXTURES, "stories260K.gguf")
    out = loom_run("-m", model, "-p", "Once upon a time", "-n", "8", "--temp", "0", "--echo")
    assert out.returncode == 0
    assert out.stdout.decode().startswith("Once upon a time")
    assert b"tok/s" in out.stderr and b"tok/s" not in out.stdout


def test_same_seed_same_text():
    model = os.path.join(FIXTURES, "stories260K.gguf")
    a = loom_run("-m", model, "-p", "Once", "-n", "32", "--temp", "1.0", "--seed", "7")
    b = loom_run("-m", model, "-p", "Once", "-n", "32", "--temp", "1.0", "--seed", "7")
    assert a.returncode == 0 and a.stdout == b.stdout


@pytest.mark.parametrize("args, code", [
    (["-p", "x", "-m", "/nonexistent.gguf"], 1),
    (["-m", "stories260K.gguf"], 2),            # no prompt
    (["-p", "x", "--temp", "-1", "-m", "stories260K.gguf"], 2),
    (["-p", "x" * 2000, "-c", "16", "-m", "stories260K.gguf"], 1),  # prompt longer than the context
])
def test_errors_are_one_line(args, code):
    args = [os.path.join(FIXTURES, a) if a == "stories260K.gguf" else a for a in args]
    out = loom_run(*args)
    assert out.returncode == code, out.stderr
    assert out.stdout == b""
    assert len(out.stderr.decode().strip().splitlines()) == 1


def test_unsupported_architecture_is_named():
    # A vocabulary-only file whose general.architecture Loom has no spec for.
    out = loom_run("-p", "hi", "-m", os.path.join(FIXTURES, "vocab", "ggml-vocab-gpt-2.gguf"), "-n", "1")
    assert out.returncode == 1 and b'architecture "gpt2" is not supported' in out.stderr, out.stderr


GEMMA_PROMPTS = ["The capital of France is", "Once upon a time", "def fibonacci(n):", "Hi"]


def gemma_logits(llm, prompt):
    import numpy as np
    llm.reset()
    toks = llm.tokenize(prompt.encode(), add_bos=True)
    llm.eval(toks)
    return np.array(llm.scores[len(toks) - 1])


def test_gemma3_logits_within_llama_cpps_own_spread(tmp_path):
    # Gemma 3's residual stream is large, so rounding order matters: llama.cpp's own two
    # attention paths (flash attention on/off) differ by about 1.2 max-abs on these
    # logits. Loom's reference path must stay within 1.5x that spread, and agree on the
    # first greedy token.
    import llama_cpp
    import numpy as np
    model = os.environ["LOOM_DEFAULT_MODEL"]
    plain = llama_cpp.Llama(model, n_ctx=256, n_threads=2, verbose=False, logits_all=True, flash_attn=False)
    flash = llama_cpp.Llama(model, n_ctx=256, n_threads=2, verbose=False, logits_all=True, flash_attn=True)
    for prompt in GEMMA_PROMPTS:
        ref = gemma_logits(plain, prompt)
        spread = np.abs(gemma_logits(flash, prompt) - ref)
        out_file = tmp_path / "logits.bin"
        out = loom_run("-m", model, "-p", prompt, "-n", "1", "--temp", "0", "-c", "256",
                       "--logits-out", str(out_file))
        assert out.returncode == 0, out.stderr
        got = np.fromfile(out_file, dtype=np.float32)
        assert got.shape == ref.shape
        diff = np.abs(got - ref)
        assert diff.max() <= 1.5 * max(spread.max(), 0.1), (prompt, diff.max(), spread.max())
        assert diff.mean() <= 1.5 * max(spread.mean(), 0.02), (prompt, diff.mean(), spread.mean())
        assert int(np.argmax(got)) == int(np.argmax(ref)), prompt


GEMMA_GREEDY_PROMPTS = ["The capital of France is", "def fibonacci(n):", "The three laws of robotics are",
                        "Water boils at", "The quick brown fox", "Once upon a time"]
# A near-tie, in logits: the largest gap measured between llama.cpp's own two attention
# paths (flash attention on/off) on the top two tokens of these continuations (0.49), and
# between Loom and llama.cpp (0.46). A greedy choice between candidates closer than this
# is decided by rounding order, not by the model.
GEMMA_NEAR_TIE = 0.5


def test_gemma3_greedy_64_tokens_match_llama_cpp_up_to_near_ties():
    # Gemma's logits differ by ~0.3-0.9 between any two correct engines (and between
    # llama.cpp's own attention paths), so two greedy runs stay identical only until a
    # near-tie. Every continuation must equal llama.cpp's up to its first near-tie, and
    # most must be identical over all 64 tokens.
    import llama_cpp
    model = os.environ["LOOM_DEFAULT_MODEL"]
    llm = llama_cpp.Llama(model, n_ctx=256, n_threads=2, verbose=False, logits_all=True, flash_attn=False)
    identical = 0
    for prompt in GEMMA_GREEDY_PROMPTS:
        toks = llm.tokenize(prompt.encode(), add_bos=True, special=False)
        same, first, margin = greedy_against_llama_cpp(LOOM, llm, model, toks, 256, N_PREDICT)
        identical += same
        assert same or margin < GEMMA_NEAR_TIE, (prompt, first, margin)
    # Which prompts stay identical to the end is chance (where the near-ties fall): the
    # reference and SIMD kernels sit equally close to llama.cpp (median max-abs logit
    # difference ~0.95 either way), yet differ in which continuations they keep.
    assert identical >= len(GEMMA_GREEDY_PROMPTS) // 2, identical
