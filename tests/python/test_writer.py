# Loom's GGUF writer against the reference tools.
#  - Every real fixture (stories260K models, vocab files) and the Gemma model, read and
#    rewritten by `gguf_tool copy`, is byte-identical to the original.
#  - gguf_tool's synthetic file (every value type with edge values, strings, arrays of every
#    scalar type, string and nested arrays, alignment 64, a tensor of every type in 1-D to
#    4-D) reads back in gguf-py with every key, type, value, tensor and data byte equal to
#    what the tool says it wrote, in gguf-py's layout (aligned data section, tensors packed
#    at the next multiple of the alignment); Loom also rewrites it byte for byte.
#  - llama.cpp (llama-cpp-python) loads the copies of the stories260K models and gives the
#    same greedy 32-token continuation and the same logits as from the originals.
#  - `gguf_tool randomize` of stories260K is deterministic per seed, keeps metadata, names,
#    types and shapes, gives N(0, 0.02) weights and unit norms, and loads in llama.cpp with
#    finite logits.
import math
import os
import struct

import gguf
import numpy as np
import pytest

from conftest import (Arr, VT, exact, fixture_ids, metadata, reader, resolve, run,
                      scalar_python)

PROMPT = "Once upon a time"
N_GREEDY = 32
STORIES_MODELS = ["stories260K.gguf", "stories260K-Q8_0.gguf", "stories260K-Q4_0.gguf",
                  "stories260K-Q4_K_M.gguf"]


def first_difference(a, b):
    """Byte offset of the first difference of two files, or None if identical."""
    size_a, size_b = os.path.getsize(a), os.path.getsize(b)
    with open(a, "rb") as fa, open(b, "rb") as fb:
        offset = 0
        while True:
            ca, cb = fa.read(1 << 20), fb.read(1 << 20)
            if ca != cb:
                n = min(len(ca), len(cb))
                i = next((k for k in range(n) if ca[k] != cb[k]), n)
                return offset + i
            if not ca:
                return None if size_a == size_b else min(size_a, size_b)
            offset += len(ca)


# ---- byte-identical copies -----------------------------------------------------------------

@pytest.mark.parametrize("name", fixture_ids())
def test_copy_is_byte_identical(gguf_tool, fixtures_dir, default_model, tmp_path, name):
    src = resolve(name, fixtures_dir, default_model)
    out = tmp_path / "copy.gguf"
    run([gguf_tool, "copy", src, out], check=True)
    diff = first_difference(src, out)
    assert diff is None, (f"{name}: copy differs from byte {diff} "
                          f"({os.path.getsize(out)} vs {os.path.getsize(src)} bytes)")


def test_copy_of_synth_is_byte_identical(gguf_tool, synth, tmp_path):
    out = tmp_path / "copy.gguf"
    run([gguf_tool, "copy", synth[0], out], check=True)
    assert first_difference(synth[0], out) is None


# ---- the synthetic file in gguf-py ---------------------------------------------------------

def described_value(vtype: int, v):
    """The synth description's value as exact() shows it (floats are given as bits)."""
    vtype = VT(vtype)
    if vtype == VT.ARRAY:
        return ("array", v["elem"], [described_value(v["elem"], item) for item in v["items"]])
    if vtype == VT.STRING:
        return ("string", v)
    np_type = gguf.GGUFReader.gguf_scalar_to_np[vtype]
    if vtype == VT.FLOAT32:
        return (np_type.__name__, struct.pack("<I", v))
    if vtype == VT.FLOAT64:
        return (np_type.__name__, struct.pack("<Q", v))
    return (np_type.__name__, np_type(v).tobytes())


def test_synth_metadata_reads_back_in_gguf_py(synth):
    path, desc = synth
    md = metadata(path)
    assert list(md) == [e["key"] for e in desc["metadata"]], "same keys in the same order"
    for e in desc["metadata"]:
        field = reader(path).fields[e["key"]]
        assert int(field.parts[2][0]) == e["type"], e["key"]
        assert exact(md[e["key"]]) == described_value(e["type"], e["value"]), e["key"]


def test_synth_tensors_read_back_in_gguf_py(synth):
    path, desc = synth
    r = reader(path)
    assert r.alignment == desc["alignment"] == 64
    assert [t.name for t in r.tensors] == [t["name"] for t in desc["tensors"]]
    for t, d in zip(r.tensors, desc["tensors"]):
        assert int(t.tensor_type) == d["type_id"], t.name
        assert [int(x) for x in t.shape] == d["shape"], t.name
        assert t.n_elements == d["n_elements"], t.name
        assert t.n_bytes == d["n_bytes"], t.name
        assert bytes(t.data.tobytes()) == bytes.fromhex(d["data_hex"]), t.name


def test_synth_layout_is_gguf_py_layout(synth):
    """Data section at the first multiple of the alignment after the tensor infos; each
    tensor at the next multiple after the previous one; the file ends padded."""
    path, desc = synth
    r = reader(path)
    align = desc["alignment"]
    last = r.tensors[-1].field
    infos_end = last.offset + sum(int(p.nbytes) for p in last.parts)
    assert r.data_offset == -(-infos_end // align) * align
    expected = r.data_offset
    for t in r.tensors:
        assert t.data_offset == expected, t.name
        expected += -(-t.n_bytes // align) * align
    assert os.path.getsize(path) == expected


def test_synth_covers_what_it_must(synth):
    """The description is checked above against gguf-py; here, that it holds the edge
    cases at all (independently of the tool's own account)."""
    path, desc = synth
    md = metadata(path)
    types = {int(reader(path).fields[k].parts[2][0]) for k in md}
    assert types == set(range(13)), "all 13 value types"
    assert scalar_python(md["synth.u64.max"]) == 2**64 - 1
    assert scalar_python(md["synth.i64.min"]) == -2**63
    assert scalar_python(md["synth.i8.min"]) == -128
    assert scalar_python(md["synth.u32.max"]) == 2**32 - 1
    for name in ("f32", "f64"):
        assert math.copysign(1.0, scalar_python(md[f"synth.{name}.neg_zero"])) == -1.0
        assert scalar_python(md[f"synth.{name}.inf"]) == math.inf
        assert scalar_python(md[f"synth.{name}.neg_inf"]) == -math.inf
        assert math.isnan(scalar_python(md[f"synth.{name}.nan"]))
    assert md["synth.string.empty"] == ""
    assert md["synth.string.utf8"] == "h\u00e9llo w\u00f6rld \u2014 \u65e5\u672c \U0001f999"
    assert md["synth.string.nul"] == "a\x00b"
    nested = md["synth.array.nested_i32"]
    assert isinstance(nested, Arr) and nested.elem == VT.ARRAY
    assert [[int(x) for x in inner.items] for inner in nested.items] == \
        [[1, 2, 3], [-4], [], [-2**31, 2**31 - 1]]
    assert md["synth.array.empty_u32"].items == [] and md["synth.array.empty_u32"].elem == VT.UINT32
    for t in ("u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64", "f32", "f64", "bool",
              "string"):
        assert isinstance(md[f"synth.array.{t}"], Arr), t
    assert scalar_python(md["general.alignment"]) == 64
    r = reader(path)
    tensor_types = {t.tensor_type for t in r.tensors}
    Q = gguf.GGMLQuantizationType
    assert {Q.F32, Q.F16, Q.BF16, Q.Q8_0, Q.Q4_0, Q.Q4_K, Q.Q6_K, Q.I32} <= tensor_types
    assert {len(t.shape) for t in r.tensors} == {1, 2, 3, 4}
    for t in r.tensors:
        if t.tensor_type in (Q.F32, Q.F16, Q.F64):
            assert np.isfinite(t.data).all(), t.name


# ---- llama.cpp -----------------------------------------------------------------------------

def greedy(path, n=N_GREEDY):
    """Greedy continuation of PROMPT in llama.cpp: (token ids, logits of every step)."""
    from llama_cpp import Llama
    llm = Llama(model_path=str(path), n_ctx=128, n_threads=2, n_threads_batch=2,
                logits_all=True, verbose=False, seed=0)
    try:
        tokens = llm.tokenize(PROMPT.encode(), add_bos=True)
        llm.eval(tokens)
        out, logits = [], []
        for _ in range(n):
            step = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
            logits.append(step)
            token = int(np.argmax(step))
            out.append(token)
            llm.eval([token])
        return out, np.stack(logits)
    finally:
        llm.close()


@pytest.mark.parametrize("name", STORIES_MODELS)
def test_llama_cpp_continuation_of_copy_is_identical(gguf_tool, fixtures_dir, tmp_path, name):
    src = fixtures_dir / name
    out = tmp_path / name
    run([gguf_tool, "copy", src, out], check=True)
    tokens_a, logits_a = greedy(src)
    tokens_b, logits_b = greedy(out)
    assert len(set(tokens_a)) > 3, f"a degenerate continuation: {tokens_a}"
    assert tokens_b == tokens_a
    assert np.array_equal(logits_b, logits_a)


@pytest.fixture(scope="module")
def randomized(gguf_tool, stories, tmp_path_factory):
    d = tmp_path_factory.mktemp("randomize")
    paths = {}
    for label, seed in (("a", 1), ("a_again", 1), ("b", 2)):
        paths[label] = d / f"{label}.gguf"
        run([gguf_tool, "randomize", stories, paths[label], seed], check=True)
    return paths


def test_randomize_is_deterministic_per_seed(randomized):
    assert first_difference(randomized["a"], randomized["a_again"]) is None
    assert first_difference(randomized["a"], randomized["b"]) is not None


def test_randomize_keeps_structure_and_sets_weights(randomized, stories):
    original, r = reader(stories), reader(randomized["a"])
    md_orig, md = metadata(stories), metadata(randomized["a"])
    assert list(md) == list(md_orig)
    for key in md:
        assert exact(md[key]) == exact(md_orig[key]), key
    assert [(t.name, t.tensor_type, [int(x) for x in t.shape]) for t in r.tensors] == \
        [(t.name, t.tensor_type, [int(x) for x in t.shape]) for t in original.tensors]
    n_norm = 0
    for t in r.tensors:
        assert t.tensor_type == gguf.GGMLQuantizationType.F32
        w = np.asarray(t.data, dtype=np.float64)
        assert np.isfinite(w).all(), t.name
        if t.name.endswith("_norm.weight"):
            n_norm += 1
            assert (w == 1.0).all(), t.name
        elif w.size >= 4096:
            assert abs(w.mean()) < 0.002, t.name
            assert 0.018 < w.std() < 0.022, t.name
    assert n_norm == 11  # attn_norm and ffn_norm of 5 layers, output_norm


def test_randomized_model_runs_in_llama_cpp(randomized, stories):
    tokens, logits = greedy(randomized["a"], n=4)
    assert np.isfinite(logits).all()
    assert logits.shape[1] == 512
    _, original_logits = greedy(stories, n=4)
    assert not np.allclose(logits[0], original_logits[0])
