# `loom inspect` against gguf-py's GGUFReader on real files: the stories260K models (F32,
# Q8_0, Q4_0, Q4_K_M), every vocab-only file of the fixtures, the Gemma 3 default model, and
# gguf_tool's synthetic file of every value and tensor type.
#
# --json: header facts (version, alignment, data offset, size); every metadata key present
# on both sides with the same type and value (scalars, strings; arrays whole when short,
# else count and head elements); every tensor's name, type id, shape (GGUF order, ne[0]
# first, which is gguf-py's `tensor.shape`; its `tensor.data.shape` is reversed), offset,
# n_bytes and element count, in file order; the summary (parameters, type mix, largest
# tensors, hyperparameters, tokenizer facts) recomputed from gguf-py's reading.
# Text: the numbers a person reads (layers, embedding, parameters, heads, vocabulary) for
# stories260K and Gemma, and --tensors lists every tensor with its type and shape.
import math
import os
import re

import gguf
import pytest

from conftest import (Arr, fixture_ids, loom_inspect_json, metadata, reader, resolve, run,
                      scalar_python, type_description)

ARRAY_FULL_MAX = 16  # arrays up to this length are shown whole (InspectOptions)
ARRAY_HEAD = 8       # elements shown of a longer array

FILES = fixture_ids() + ["SYNTH"]


@pytest.fixture(params=FILES)
def gguf_path(request, fixtures_dir, default_model, synth):
    if request.param == "SYNTH":
        return synth[0]
    return resolve(request.param, fixtures_dir, default_model)


# ---- value comparison ----------------------------------------------------------------------

def check_scalar(shown, value, where):
    if isinstance(value, str):
        assert shown == value, where
        return
    expected = scalar_python(value)
    if isinstance(expected, bool):
        assert shown is expected, where
    elif isinstance(expected, float):
        if not math.isfinite(expected):
            # JSON has no inf or NaN: Loom writes null (a loss the report mentions).
            assert shown is None, f"{where}: {shown!r} for {expected!r}"
            return
        assert isinstance(shown, (float, int)) and not isinstance(shown, bool), where
        assert float(shown) == expected, f"{where}: {shown!r} != {expected!r}"
        assert math.copysign(1.0, float(shown)) == math.copysign(1.0, expected), \
            f"{where}: sign of {shown!r} != sign of {expected!r}"
    else:
        assert isinstance(shown, int) and not isinstance(shown, bool), f"{where}: {shown!r}"
        assert shown == expected, where


def check_value(shown, value, where):
    if not isinstance(value, Arr):
        check_scalar(shown, value, where)
        return
    n = len(value.items)
    if n <= ARRAY_FULL_MAX:
        assert isinstance(shown, list) and len(shown) == n, f"{where}: {shown!r}"
        items = shown
    else:
        assert isinstance(shown, dict), f"{where}: a long array is summarized"
        assert shown["type"] == type_description(value), where
        assert shown["count"] == n, where
        items = shown["head"]
        assert len(items) == ARRAY_HEAD, where
    for i, item in enumerate(items):
        check_value(item, value.items[i], f"{where}[{i}]")


def test_metadata_matches_gguf_py(loom_bin, gguf_path):
    doc = loom_inspect_json(loom_bin, gguf_path)
    expected = metadata(gguf_path)
    shown = doc["metadata"]
    assert sorted(shown) == sorted(expected), "the same keys"
    for key, value in expected.items():
        assert shown[key]["type"] == type_description(value), key
        check_value(shown[key]["value"], value, key)


def test_header_matches_gguf_py(loom_bin, gguf_path):
    doc = loom_inspect_json(loom_bin, gguf_path)
    r = reader(gguf_path)
    assert doc["gguf_version"] == int(r.fields["GGUF.version"].parts[0][0])
    assert doc["alignment"] == r.alignment
    assert doc["file_bytes"] == os.path.getsize(gguf_path)
    assert len(doc["tensors"]) == int(r.fields["GGUF.tensor_count"].parts[0][0])
    assert len(doc["metadata"]) == int(r.fields["GGUF.kv_count"].parts[0][0])
    if r.tensors:
        assert doc["data_offset"] == r.data_offset
    else:
        # No tensors: the real files end right after the metadata, without padding. Loom
        # says the data section starts there; gguf-py rounds up to the alignment anyway.
        align = r.alignment
        assert r.data_offset == -(-doc["data_offset"] // align) * align
        assert doc["data_offset"] <= doc["file_bytes"]


def test_tensors_match_gguf_py(loom_bin, gguf_path):
    doc = loom_inspect_json(loom_bin, gguf_path)
    r = reader(gguf_path)
    assert [t["name"] for t in doc["tensors"]] == [t.name for t in r.tensors], "file order"
    for shown, t in zip(doc["tensors"], r.tensors):
        where = t.name
        assert shown["type_id"] == int(t.tensor_type), where
        assert shown["type"].lower() == t.tensor_type.name.lower(), where
        # gguf-py's tensor.shape is the file's order (ne[0] first); data.shape is reversed.
        assert shown["shape"] == [int(d) for d in t.shape], where
        assert shown["elements"] == t.n_elements, where
        assert shown["bytes"] == t.n_bytes == t.data.nbytes, where
        assert shown["file_offset"] == t.data_offset, where
        assert shown["offset"] == t.data_offset - r.data_offset, where
        assert shown["offset"] % doc["alignment"] == 0, where


def _per_layer_max(value):
    if value is None:
        return None
    if isinstance(value, Arr):
        return max(int(v) for v in value.items) if value.items else None
    return int(value)


def _file_type_name(file_type):
    try:
        return gguf.LlamaFileType(file_type).name.removeprefix("ALL_").removeprefix("MOSTLY_")
    except ValueError:
        return ""


def test_summary_matches_gguf_py(loom_bin, gguf_path):
    s = loom_inspect_json(loom_bin, gguf_path)["summary"]
    md = metadata(gguf_path)
    tensors = reader(gguf_path).tensors

    def get(key):
        v = md.get(key)
        return None if v is None else (v if isinstance(v, (str, Arr)) else scalar_python(v))

    arch = get("general.architecture") or ""
    assert s["architecture"] == arch
    assert s["name"] == (get("general.name") or "")
    assert s["parameters"] == sum(t.n_elements for t in tensors)
    assert s["tensor_bytes"] == sum(t.n_bytes for t in tensors)
    if tensors:
        bpw = 8 * sum(t.n_bytes for t in tensors) / sum(t.n_elements for t in tensors)
        assert s["bits_per_weight"] == pytest.approx(bpw, rel=1e-12)
    assert s["file_type"] == get("general.file_type")
    if get("general.file_type") is not None:
        assert s["file_type_name"] == _file_type_name(get("general.file_type"))

    mix = {}
    for t in tensors:
        m = mix.setdefault(t.tensor_type.name.lower(), [0, 0, 0])
        m[0] += 1
        m[1] += t.n_elements
        m[2] += t.n_bytes
    assert {m["type"].lower(): [m["tensors"], m["elements"], m["bytes"]]
            for m in s["tensor_types"]} == mix
    shown_bytes = [m["bytes"] for m in s["tensor_types"]]
    assert shown_bytes == sorted(shown_bytes, reverse=True)
    largest = sorted(tensors, key=lambda t: -t.n_bytes)[:5]  # stable: file order on ties
    assert s["largest_tensors"] == [t.name for t in largest]

    p = arch + "."
    if arch:
        assert s["context_length"] == get(p + "context_length")
        assert s["block_count"] == get(p + "block_count")
        assert s["embedding_length"] == get(p + "embedding_length")
        assert s["feed_forward_length"] == _per_layer_max(md.get(p + "feed_forward_length"))
        assert s["head_count"] == _per_layer_max(md.get(p + "attention.head_count"))
        assert s["head_count_kv"] == _per_layer_max(md.get(p + "attention.head_count_kv"))
        head_dim = get(p + "attention.key_length")
        if head_dim is None and s["embedding_length"] and s["head_count"]:
            head_dim = s["embedding_length"] // s["head_count"]
        assert s["head_dim"] == head_dim
        assert s["expert_count"] == get(p + "expert_count")
        assert s["expert_used_count"] == get(p + "expert_used_count")
        assert s["rope_freq_base"] == get(p + "rope.freq_base")

    assert s["tokenizer_model"] == (get("tokenizer.ggml.model") or "")
    assert s["tokenizer_pre"] == (get("tokenizer.ggml.pre") or "")
    tokens = md.get("tokenizer.ggml.tokens")
    if tokens is not None:
        assert s["vocab_size"] == len(tokens.items)
    elif arch and get(p + "vocab_size") is not None:
        assert s["vocab_size"] == get(p + "vocab_size")
    assert s["bos_token_id"] == get("tokenizer.ggml.bos_token_id")
    assert s["eos_token_id"] == get("tokenizer.ggml.eos_token_id")
    template = get("tokenizer.chat_template")
    assert s["chat_template"] == (template is not None)
    assert s["chat_template_bytes"] == (len(template.encode()) if template else 0)


# ---- known facts, so that the reference reading itself is checked -------------------------

def test_known_facts_of_stories260k(loom_bin, stories):
    # fixtures/README.md: dim 64, hidden 172, 5 layers, 8 heads, 4 KV heads, vocab 512,
    # context_length stored as 128; F32.
    s = loom_inspect_json(loom_bin, stories)["summary"]
    assert (s["architecture"], s["embedding_length"], s["feed_forward_length"],
            s["block_count"], s["head_count"], s["head_count_kv"], s["vocab_size"],
            s["context_length"]) == ("llama", 64, 172, 5, 8, 4, 512, 128)
    assert [m["type"] for m in s["tensor_types"]] == ["f32"]


def test_known_facts_of_gemma(loom_bin, default_model):
    s = loom_inspect_json(loom_bin, default_model)["summary"]
    assert s["architecture"] == "gemma3"
    assert s["file_type_name"] == "Q4_K_M"
    assert 250_000_000 < s["parameters"] < 300_000_000  # "270m"
    assert s["vocab_size"] == 262144


# ---- text output ---------------------------------------------------------------------------

def text_fields(text: str) -> dict:
    """The "label: value" lines of `loom inspect`'s text output."""
    fields = {}
    for line in text.splitlines():
        m = re.match(r"^([a-z][a-z ]*):\s+(.*)$", line)
        if m:
            fields[m.group(1)] = m.group(2)
    return fields


@pytest.mark.parametrize("which", ["stories260K.gguf", "DEFAULT_MODEL"])
def test_text_output_numbers(loom_bin, fixtures_dir, default_model, which):
    path = resolve(which, fixtures_dir, default_model)
    proc = run([loom_bin, "inspect", path], check=True)
    assert proc.stderr == ""
    f = text_fields(proc.stdout)
    md = metadata(path)
    r = reader(path)
    arch = str(md["general.architecture"])

    def num(key):
        return int(md[f"{arch}.{key}"])

    n_params = sum(t.n_elements for t in r.tensors)
    assert f["architecture"] == f'"{arch}"'
    assert f["layers"] == str(num("block_count"))
    assert f["embedding"] == f"{num('embedding_length')}, feed-forward {num('feed_forward_length')}"
    assert f["parameters"].endswith(f"({n_params})")
    assert f["context"] == f"{num('context_length')} (trained)"
    n_head, n_head_kv = num("attention.head_count"), num("attention.head_count_kv")
    assert f["heads"].startswith(f"{n_head}, kv heads {n_head_kv}, head dim ")
    assert f"{len(md['tokenizer.ggml.tokens'].items)} tokens" in f["tokenizer"]
    assert f"{len(r.fields) - 3} metadata keys, {len(r.tensors)} tensors" in f["format"]
    assert f"alignment {r.alignment}" in f["format"]


@pytest.mark.parametrize("which", ["stories260K-Q4_K_M.gguf", "DEFAULT_MODEL"])
def test_text_tensor_list(loom_bin, fixtures_dir, default_model, which):
    path = resolve(which, fixtures_dir, default_model)
    proc = run([loom_bin, "inspect", "--tensors", path], check=True)
    lines = proc.stdout.splitlines()
    start = lines.index("tensors:") + 1
    rows = lines[start:]
    r = reader(path)
    assert len(rows) == len(r.tensors)
    for row, t in zip(rows, r.tensors):
        shape = "[" + ", ".join(str(int(d)) for d in t.shape) + "]"
        m = re.match(r'^\s+"([^"]*)"\s+(\S+)\s+(\[[0-9, ]*\])\s+', row)
        assert m, row
        assert (m.group(1), m.group(2).lower(), m.group(3)) == \
            (t.name, t.tensor_type.name.lower(), shape)
