# Loom's ggml type table (gguf_tool types) against the references: gguf-py's
# GGMLQuantizationType and GGML_QUANT_SIZES, and ggml itself (ggml_type_name,
# ggml_blck_size, ggml_type_size of the libggml-base that llama-cpp-python built from
# source, through ctypes). Every type gguf-py knows must be in Loom's table with the same
# block size and bytes and vice versa; names match case-insensitively. Where gguf-py and
# ggml disagree (Q8_1: gguf-py says 40 bytes, its block struct is 36), ggml decides.
# Also Loom's general.file_type names (gguf_tool file-types) against gguf.LlamaFileType.
import ctypes
import json
import pathlib

import gguf
import pytest

from conftest import run

GGUF_PY_TYPES = sorted(gguf.GGMLQuantizationType, key=int)

# Known errors in gguf-py's GGML_QUANT_SIZES: type -> (gguf-py's value, ggml's value).
GGUF_PY_KNOWN_WRONG = {gguf.GGMLQuantizationType.Q8_1: ((32, 40), (32, 36))}


@pytest.fixture(scope="module")
def loom_types(gguf_tool) -> dict:
    rows = json.loads(run([gguf_tool, "types"], check=True).stdout)
    table = {}
    for row in rows:
        assert set(row) >= {"id", "name", "block_size", "block_bytes", "quantized"}, row
        assert row["id"] not in table, f"id {row['id']} listed twice"
        table[row["id"]] = row
    return table


class Ggml:
    """ggml's own type traits, from the shared library llama-cpp-python ships."""

    def __init__(self):
        import llama_cpp
        lib_dir = pathlib.Path(llama_cpp.__file__).parent / "lib"
        candidates = sorted(lib_dir.glob("libggml-base.so*")) + sorted(lib_dir.glob("libggml.so*"))
        assert candidates, f"no libggml in {lib_dir}"
        lib = ctypes.CDLL(str(candidates[0]))
        lib.ggml_type_name.restype = ctypes.c_char_p
        lib.ggml_type_name.argtypes = [ctypes.c_int]
        lib.ggml_blck_size.restype = ctypes.c_int64
        lib.ggml_blck_size.argtypes = [ctypes.c_int]
        lib.ggml_type_size.restype = ctypes.c_size_t
        lib.ggml_type_size.argtypes = [ctypes.c_int]
        self.lib = lib

    def traits(self, type_id: int):
        """(name, block size, block bytes), or None for a removed id."""
        size = self.lib.ggml_blck_size(type_id)
        if size == 0:
            return None
        return (self.lib.ggml_type_name(type_id).decode(), size,
                self.lib.ggml_type_size(type_id))


@pytest.fixture(scope="module")
def ggml() -> Ggml:
    return Ggml()


def test_table_is_in_id_order_with_unique_names(loom_types):
    ids = list(loom_types)
    assert ids == sorted(ids)
    names = [row["name"].lower() for row in loom_types.values()]
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("qtype", GGUF_PY_TYPES, ids=lambda t: t.name)
def test_gguf_py_type_is_in_loom_table(loom_types, ggml, qtype):
    assert int(qtype) in loom_types, (
        f"gguf-py knows {qtype.name} = {int(qtype)} (block size, bytes "
        f"{gguf.GGML_QUANT_SIZES[qtype]}; ggml: {ggml.traits(int(qtype))}), Loom's table "
        f"does not")
    row = loom_types[int(qtype)]
    assert row["name"].lower() == qtype.name.lower()
    expected = gguf.GGML_QUANT_SIZES[qtype]
    if qtype in GGUF_PY_KNOWN_WRONG:
        wrong, right = GGUF_PY_KNOWN_WRONG[qtype]
        assert expected == wrong, f"gguf-py's {qtype.name} changed: update GGUF_PY_KNOWN_WRONG"
        assert ggml.traits(int(qtype))[1:] == right
        expected = right
    assert (row["block_size"], row["block_bytes"]) == expected


def test_loom_types_are_known_to_gguf_py(loom_types):
    for type_id, row in loom_types.items():
        qtype = gguf.GGMLQuantizationType(type_id)  # ValueError for an id gguf-py lacks
        assert row["name"].lower() == qtype.name.lower(), row


def test_loom_table_matches_ggml_library(loom_types, ggml):
    """Every type ggml has (ids up to gguf-py's largest: ggml has no bounds check on ids
    past its GGML_TYPE_COUNT, which it does not export) against Loom's table."""
    last = max(int(t) for t in GGUF_PY_TYPES)
    ggml_ids = [i for i in range(0, last + 1) if ggml.traits(i) is not None]
    assert ggml_ids[:3] == [0, 1, 2]
    mismatched, missing = [], []
    for type_id in ggml_ids:
        name, block_size, block_bytes = ggml.traits(type_id)
        row = loom_types.get(type_id)
        if row is None:
            missing.append(f"{name} = {type_id} ({block_size} elements, {block_bytes} bytes)")
        elif (row["name"], row["block_size"], row["block_bytes"]) != (name, block_size,
                                                                      block_bytes):
            mismatched.append((row, (name, block_size, block_bytes)))
    assert not mismatched
    extra = set(loom_types) - set(ggml_ids)
    assert not extra, f"ids in Loom's table that ggml does not know: {sorted(extra)}"
    assert not missing, f"ggml types missing from Loom's table: {missing}"


def test_quantized_flag(loom_types):
    # Quantized types are exactly those whose blocks hold more than one element.
    for row in loom_types.values():
        assert row["quantized"] == (row["block_size"] > 1), row


def _file_type_name(ftype: gguf.LlamaFileType) -> str:
    return ftype.name.removeprefix("ALL_").removeprefix("MOSTLY_")


FILE_TYPES = [t for t in gguf.LlamaFileType if t != gguf.LlamaFileType.GUESSED]


@pytest.mark.parametrize("ftype", FILE_TYPES, ids=lambda t: t.name)
def test_file_type_names_match_gguf_py(gguf_tool, ftype):
    rows = json.loads(run([gguf_tool, "file-types"], check=True).stdout)
    names = {row["id"]: row["name"] for row in rows}
    assert int(ftype) in names, f"gguf-py's {ftype.name} = {int(ftype)} has no name in Loom"
    assert names[int(ftype)] == _file_type_name(ftype)


def test_loom_file_types_are_known_to_gguf_py(gguf_tool):
    rows = json.loads(run([gguf_tool, "file-types"], check=True).stdout)
    for row in rows:
        ftype = gguf.LlamaFileType(row["id"])
        assert row["name"] == _file_type_name(ftype)
