"""`loom quantize` against llama.cpp's own quantizer (llama_model_quantize from
llama-cpp-python, no importance matrix), on the same input file:
  - every file type Loom writes, on stories260K (F32; 64- and 172-wide rows, so the K-quant
    mixes all fall back) and on a synthetic llama whose 256-wide rows take real K-quants
    (its 352-wide ffn_down falls back): the same tensors with the same type, shape and
    bytes (hence the same dequantized values), and the same metadata, general.file_type
    and general.quantization_version included;
  - the architecture-dependent rules: tied embeddings (gemma3), a fused attn_qkv (phi3),
    8 experts (mixtral), per-layer head counts and routers (qwen2moe);
  - an F16 input, requantizing with --allow-requantize, --leave-output;
  - the quantized files in `loom run` and in llama.cpp: identical greedy text up to
    near-ties;
  - the contract: nothing on stdout, one-line errors with exit 1 (a failed operation) or 2
    (bad usage), no file left behind by a failed run, the same bytes for any thread count.
Tensor order is the input's for Loom and llama.cpp's sorted order for llama.cpp, so
tensors are compared by name."""
import ctypes
import os

import gguf
import numpy as np
import pytest

from conftest import exact, field_value, greedy_against_llama_cpp, run

# Every file type Loom writes (quant/quant_mix.cpp), by llama.cpp's name.
ALL_TYPES = ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K_S",
             "Q3_K_M", "Q3_K_L", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K", "IQ4_NL", "IQ4_XS"]
# The mixes with per-layer or per-architecture rules.
MIX_TYPES = ["Q2_K", "Q3_K_M", "Q3_K_L", "Q4_K_S", "Q4_K_M", "Q5_K_M", "IQ4_XS"]

# A llama with 256-wide rows (real K-quant blocks), a 352-wide ffn_down (11 blocks of 32:
# K-quants fall back to Q5_0 / Q5_1 / Q8_0) and 8 layers (use_more_bits picks 0, 3, 6, 7).
# 4 query heads per KV head: the n_gqa >= 4 rules of Q2_K and IQ4_XS apply.
LLAMA_SHAPE = ["--embd", "256", "--ff", "352", "--layers", "8", "--heads", "4", "--kv-heads", "1"]
ARCH_MODELS = {
    "gemma3": ["--arch", "gemma3", "--embd", "256", "--ff", "512", "--heads", "4", "--kv-heads", "2",
               "--head-dim", "64"],
    "phi3": ["--arch", "phi3", "--embd", "256", "--ff", "512", "--heads", "4", "--kv-heads", "4"],
    "mixtral8": ["--arch", "llama", "--experts", "8", "--experts-used", "2", "--embd", "256",
                 "--ff", "256", "--expert-ff", "256", "--heads", "4", "--kv-heads", "2"],
    "qwen2moe": ["--arch", "qwen2moe", "--embd", "256", "--heads", "4", "--kv-heads", "2"],
}


def llama_quantize(src, dst, type_name, allow_requantize=False, leave_output=False):
    """llama.cpp's quantizer, as llama-quantize calls it (2 threads)."""
    import llama_cpp
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = llama_cpp.LLAMA_FTYPE_ALL_F32 if type_name == "F32" else \
        getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{type_name}")
    params.nthread = 2
    params.allow_requantize = allow_requantize
    params.quantize_output_tensor = not leave_output
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), ctypes.byref(params))
    assert rc == 0, f"llama.cpp failed to quantize {src} to {type_name}"


def loom_quantize(loom_bin, src, dst, type_name, *flags):
    proc = run([loom_bin, "quantize", *flags, src, dst, type_name], timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    return proc


def tensors_of(path) -> dict:
    """name -> (type name, shape, raw bytes)."""
    r = gguf.GGUFReader(path)
    return {t.name: (t.tensor_type.name, [int(d) for d in t.shape], t.data.tobytes()) for t in r.tensors}


def metadata_of(path) -> list:
    r = gguf.GGUFReader(path)
    return [(k, exact(field_value(f))) for k, f in r.fields.items() if not k.startswith("GGUF.")]


def assert_same_as_llama_cpp(loom_bin, src, tmp_path, type_name, *flags, **llama_flags):
    ours, theirs = tmp_path / f"loom-{type_name}.gguf", tmp_path / f"llama-{type_name}.gguf"
    loom_quantize(loom_bin, src, ours, type_name, *flags)
    llama_quantize(src, theirs, type_name, **llama_flags)
    got, want = tensors_of(ours), tensors_of(theirs)
    assert sorted(got) == sorted(want)
    wrong_type = {n: (got[n][0], want[n][0]) for n in want if got[n][0] != want[n][0]}
    assert not wrong_type, f"{type_name}: tensor types differ (loom, llama.cpp): {wrong_type}"
    for name in want:
        assert got[name][1] == want[name][1], name
        assert got[name][2] == want[name][2], f"{type_name}: {name} ({want[name][0]}) bytes differ"
    assert metadata_of(ours) == metadata_of(theirs)
    # Loom keeps the input's tensor order.
    assert list(got) == [t.name for t in gguf.GGUFReader(src).tensors]
    return ours


@pytest.fixture(scope="module")
def synth_llama(synth_model, stories, tmp_path_factory):
    path = tmp_path_factory.mktemp("quantize") / "llama-f32.gguf"
    run([synth_model, "--arch", "llama", "--type", "f32", *LLAMA_SHAPE, "--vocab-from", stories,
         "--seed", "3", "-o", path], check=True)
    return path


@pytest.mark.parametrize("type_name", ALL_TYPES)
def test_stories260k_same_as_llama_cpp(loom_bin, stories, tmp_path, type_name):
    assert_same_as_llama_cpp(loom_bin, stories, tmp_path, type_name)


@pytest.mark.parametrize("type_name", ALL_TYPES)
def test_synthetic_llama_same_as_llama_cpp(loom_bin, synth_llama, tmp_path, type_name):
    path = assert_same_as_llama_cpp(loom_bin, synth_llama, tmp_path, type_name)
    if type_name == "Q4_K_M":
        # The rules really ran: Q6_K on the use_more_bits layers, Q4_K elsewhere.
        types = {name: t[0] for name, t in tensors_of(path).items()}
        assert [types[f"blk.{i}.attn_v.weight"] for i in range(8)] == \
            ["Q6_K", "Q4_K", "Q4_K", "Q6_K", "Q4_K", "Q4_K", "Q6_K", "Q6_K"]
        assert types["blk.3.ffn_down.weight"] == "Q8_0" and types["blk.1.ffn_down.weight"] == "Q5_0"
        assert types["output.weight"] == "Q6_K" and types["token_embd.weight"] == "Q4_K"


@pytest.mark.parametrize("arch", sorted(ARCH_MODELS))
@pytest.mark.parametrize("type_name", MIX_TYPES)
def test_architecture_rules_same_as_llama_cpp(loom_bin, synth_model, stories, tmp_path, arch, type_name):
    src = tmp_path / "f32.gguf"
    run([synth_model, *ARCH_MODELS[arch], "--type", "f32", "--vocab-from", stories, "--seed", "4",
         "-o", src], check=True)
    assert_same_as_llama_cpp(loom_bin, src, tmp_path, type_name)


def test_f16_input(loom_bin, synth_model, stories, tmp_path):
    src = tmp_path / "f16.gguf"
    run([synth_model, "--arch", "llama", "--type", "f16", *LLAMA_SHAPE, "--vocab-from", stories,
         "--seed", "5", "-o", src], check=True)
    for type_name in ["Q4_K_M", "Q8_0", "BF16"]:
        assert_same_as_llama_cpp(loom_bin, src, tmp_path, type_name)


def test_requantize_needs_the_flag_and_then_matches_llama_cpp(loom_bin, synth_llama, tmp_path):
    q8 = tmp_path / "q8.gguf"
    loom_quantize(loom_bin, synth_llama, q8, "Q8_0")
    proc = run([loom_bin, "quantize", q8, tmp_path / "q4.gguf", "Q4_K_M"])
    assert proc.returncode == 1 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and "--allow-requantize" in proc.stderr, proc.stderr
    assert not (tmp_path / "q4.gguf").exists()
    for type_name in ["Q4_K_M", "Q4_0", "F16"]:
        assert_same_as_llama_cpp(loom_bin, q8, tmp_path, type_name, "--allow-requantize",
                                 allow_requantize=True)


def test_leave_output(loom_bin, synth_llama, tmp_path):
    path = assert_same_as_llama_cpp(loom_bin, synth_llama, tmp_path, "Q4_K_M", "--leave-output",
                                    leave_output=True)
    assert tensors_of(path)["output.weight"][0] == "F32"


def test_thread_count_does_not_change_the_bytes(loom_bin, synth_llama, tmp_path):
    one, four = tmp_path / "t1.gguf", tmp_path / "t4.gguf"
    loom_quantize(loom_bin, synth_llama, one, "Q4_K_M", "-t", "1")
    loom_quantize(loom_bin, synth_llama, four, "q4_k_m", "--threads", "4")
    assert one.read_bytes() == four.read_bytes()


def test_concurrent_runs_to_one_path_both_succeed(loom_bin, synth_model, stories, tmp_path):
    # Regression: both runs once shared one temporary file; the second truncated the first's
    # output and then failed to rename it away.
    import subprocess
    src = tmp_path / "big.gguf"
    run([synth_model, "--arch", "llama", "--type", "f32", "--embd", "512", "--ff", "1536", "--layers", "8",
         "--heads", "8", "--kv-heads", "2", "--vocab-from", stories, "--seed", "6", "-o", src], check=True)
    solo, shared = tmp_path / "solo.gguf", tmp_path / "shared.gguf"
    loom_quantize(loom_bin, src, solo, "Q4_K_M", "-t", "1")
    procs = [subprocess.Popen([str(loom_bin), "quantize", "-t", "1", str(src), str(shared), "Q4_K_M"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
    assert shared.read_bytes() == solo.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.gguf", "shared.gguf", "solo.gguf"]


def test_progress_and_summary_on_stderr(loom_bin, stories, tmp_path):
    proc = loom_quantize(loom_bin, stories, tmp_path / "q.gguf", "Q8_0")
    lines = proc.stderr.splitlines()
    assert sum(line.startswith("[") for line in lines) == len(gguf.GGUFReader(stories).tensors)
    assert "tensors by type" in proc.stderr and "bpw" in proc.stderr


# ---- running the quantized files ------------------------------------------------------------

PROMPTS = ["Once upon a time", "The little dog", "Lily and Ben went to the park. They"]
N_PREDICT = 48
# As in test_run.py: on this 260K-parameter model, quantized matmuls summed in another
# order move logits by up to ~0.05, so greedy choices closer than this are decided by
# rounding, not by the model.
STORIES_NEAR_TIE = 0.1


@pytest.mark.parametrize("type_name", ["Q8_0", "Q4_K_M", "Q4_0"])
def test_quantized_file_runs_like_llama_cpp(loom_bin, stories, tmp_path, type_name):
    import llama_cpp
    path = tmp_path / f"{type_name}.gguf"
    loom_quantize(loom_bin, stories, path, type_name)
    llm = llama_cpp.Llama(str(path), n_ctx=128, n_threads=2, verbose=False, logits_all=True)
    identical = 0
    for prompt in PROMPTS:
        toks = llm.tokenize(prompt.encode(), add_bos=True, special=False)
        same, first, margin = greedy_against_llama_cpp(loom_bin, llm, path, toks, 128, N_PREDICT)
        identical += same
        assert same or margin < STORIES_NEAR_TIE, (type_name, prompt, first, margin)
    assert identical >= 2, identical


# ---- errors ---------------------------------------------------------------------------------

@pytest.mark.parametrize("case, code", [
    ("missing input", 1),
    ("unknown type", 2),
    ("no type", 2),
    ("unwritable output", 1),
    ("bad threads", 2),
])
def test_errors_are_one_line(loom_bin, stories, tmp_path, case, code):
    out = tmp_path / "out.gguf"
    args = {
        "missing input": [tmp_path / "none.gguf", out, "Q8_0"],
        "unknown type": [stories, out, "Q4_K_X"],
        "no type": [stories, out],
        "unwritable output": [stories, tmp_path / "no" / "such" / "dir.gguf", "Q8_0"],
        "bad threads": ["-t", "0", stories, out, "Q8_0"],
    }[case]
    proc = run([loom_bin, "quantize", *args])
    assert proc.returncode == code, proc.stderr
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith("loom")
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "a failed run left a file"
    if case == "unknown type":
        assert "Q4_K_M" in proc.stderr  # the message lists the known types
