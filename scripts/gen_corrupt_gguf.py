#!/usr/bin/env python3
"""Writes the catalogue of hand-made corrupt GGUF files into tests/gguf/corrupt/.

One small file per validation case of the GGUF reader (header, metadata, arrays,
alignment, tensor infos, tensor data, well-known hyperparameter and tokenizer keys),
and tests/gguf/corrupt/manifest.tsv with one row per file: the file name, the error
code name the reader must throw (as loom::error_code_name spells it), a substring its
message must contain (usually "byte <offset>: <context>: <field>: <problem>", computed
here from the layout, or "key <name>: <problem>" for the well-known-key checks), and a
one-line description. tests/gguf/corrupt/test_corrupt_catalogue.cpp checks every row.

Standard library only, deterministic: re-running rewrites identical bytes. Stale
.gguf files in the folder are removed. Re-run after changing a case:
    python3 scripts/gen_corrupt_gguf.py
"""
import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "gguf", "corrupt")

# GGUF metadata value types (ggml docs/gguf.md).
U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
SCALAR_FORMAT = {U8: "B", I8: "b", U16: "H", I16: "h", U32: "I", I32: "i", F32: "f",
                 BOOL: "B", U64: "Q", I64: "q", F64: "d"}

# ggml tensor types used here: id -> (elements per block, bytes per block).
T_F32, T_F16, T_Q4_0, T_Q8_0, T_Q4_K = 0, 1, 2, 8, 12
BLOCKS = {T_F32: (1, 4), T_F16: (1, 2), T_Q4_0: (32, 18), T_Q8_0: (32, 34), T_Q4_K: (256, 144)}

U64_MAX = 2**64 - 1
NAN_F32 = struct.unpack("<f", bytes.fromhex("0000c07f"))[0]


def u32(v):
    return struct.pack("<I", v)


def u64(v):
    return struct.pack("<Q", v)


def gstr(text):
    """A GGUF string: u64 length, then the bytes."""
    b = text if isinstance(text, bytes) else text.encode()
    return u64(len(b)) + b


def encode(vtype, v):
    """The bytes of a value of type vtype (no type id). Arrays are (elem_type, items)."""
    if vtype == STRING:
        return gstr(v)
    if vtype == ARRAY:
        elem, items = v
        return u32(elem) + u64(len(items)) + b"".join(encode(elem, item) for item in items)
    return struct.pack("<" + SCALAR_FORMAT[vtype], v)


def tensor_bytes(ttype, dims):
    block_size, block_bytes = BLOCKS[ttype]
    n = 1
    for d in dims:
        n *= d
    return n // block_size * block_bytes


class Gguf:
    """A GGUF file written front to back. Each method returns the byte offset of what it
    added, so that cases can state where the reader must report the problem. The header
    counts default to what was added; finish() can override them."""

    def __init__(self, version=3, magic=b"GGUF"):
        self.buf = bytearray(magic + u32(version) + u64(0) + u64(0))
        self.n_kv = 0
        self.n_tensors = 0

    def pos(self):
        return len(self.buf)

    def raw(self, b):
        at = self.pos()
        self.buf += b
        return at

    def kv(self, key, vtype, v):
        """A whole key-value record; returns the record's offset."""
        self.n_kv += 1
        return self.raw(gstr(key) + u32(vtype) + encode(vtype, v))

    def kv_raw(self, key, vtype, payload):
        """A record whose value bytes are given as is; returns the value's offset."""
        self.n_kv += 1
        self.raw(gstr(key) + u32(vtype))
        return self.raw(payload)

    def tensor(self, name, dims, ttype, offset):
        """A tensor info record; returns its offset."""
        self.n_tensors += 1
        body = gstr(name) + u32(len(dims)) + b"".join(u64(d) for d in dims)
        return self.raw(body + u32(ttype) + u64(offset))

    def pad(self, alignment=32):
        self.raw(b"\0" * ((-self.pos()) % alignment))
        return self.pos()

    def finish(self, n_tensors=None, n_kv=None):
        out = bytearray(self.buf)
        out[8:16] = u64(self.n_tensors if n_tensors is None else n_tensors)
        out[16:24] = u64(self.n_kv if n_kv is None else n_kv)
        return bytes(out)


def value_offset(record_at, key):
    """Offset of the value of the record at record_at (after key string and type)."""
    return record_at + 8 + len(key) + 4


def offset_field(info_at, name, n_dims):
    """Offset of the offset field of the tensor info at info_at."""
    return info_at + 8 + len(name) + 4 + 8 * n_dims + 4


def dims_field(info_at, name):
    """Offset of the n_dims field of the tensor info at info_at."""
    return info_at + 8 + len(name)


CASES = []


def case(name, data, code, substring, description):
    assert "\t" not in substring and "\n" not in substring
    CASES.append((name + ".gguf", data, code, substring, description))


def named():
    """A valid header and one general.name record (42 bytes) to build on."""
    g = Gguf()
    g.kv("general.name", STRING, "tiny model")
    return g


def one_tensor(name="a.weight", dims=(16,), ttype=T_F32, offset=0, data=None, align=32,
               kvs=()):
    """A file with the given records and one tensor; data defaults to the tensor's size."""
    g = Gguf()
    for k in kvs:
        g.kv(*k)
    at = g.tensor(name, list(dims), ttype, offset)
    g.pad(align)
    g.raw(b"\0" * (tensor_bytes(ttype, dims) if data is None else data))
    return g, at


def model(kvs=(), blocks=(), arch="llama"):
    """A structurally valid file: general.architecture, the given records, one small F32
    tensor blk.N.attn_norm.weight for each N in blocks."""
    g = Gguf()
    if arch is not None:
        g.kv("general.architecture", STRING, arch)
    for k in kvs:
        g.kv(*k)
    for i, n in enumerate(blocks):
        g.tensor("blk.%s.attn_norm.weight" % n, [8], T_F32, 32 * i)
    if blocks:
        g.pad()
        g.raw(b"\0" * (32 * len(blocks)))
    return g.finish()


def header_cases():
    case("hdr_empty", b"", "format",
         "byte 0: header: magic: truncated: needs 4 bytes, file has 0 left",
         "empty file")
    case("hdr_magic_truncated", b"GGU", "format",
         "byte 0: header: magic: truncated: needs 4 bytes, file has 3 left",
         "file shorter than the magic")
    base = named().finish()
    case("hdr_magic_bad", b"GGML" + base[4:], "format",
         'byte 0: header: magic: expected "GGUF", got "GGML"',
         "wrong magic")
    case("hdr_magic_ggjt", u32(0x67676A74) + base[4:], "format",
         'byte 0: header: magic: expected "GGUF", got "tjgg"',
         "magic of the pre-GGUF llama.cpp GGJT format")
    case("hdr_magic_zero", b"\0\0\0\0" + base[4:], "format",
         'byte 0: header: magic: expected "GGUF", got "\\x00\\x00\\x00\\x00"',
         "zero magic, shown escaped")
    big = b"FUGG" + struct.pack(">IQQ", 3, 0, 1) + base[24:]
    case("hdr_magic_big_endian", big, "format",
         'byte 0: header: magic: expected "GGUF", got "FUGG" (this looks like a big-endian GGUF',
         "byte-swapped magic: a big-endian file, with a hint")
    big_version = b"GGUF" + struct.pack(">IQQ", 3, 0, 1) + base[24:]
    case("hdr_version_big_endian", big_version, "unsupported",
         "byte 4: header: version: unsupported GGUF version 50331648, expected 2 or 3 "
         "(this looks like a big-endian GGUF",
         "big-endian file as gguf-py writes it (magic bytes GGUF, version 3 byte-swapped)")
    for version, hint in ((1, " (GGUF v1 used 32-bit counts"), (0, ""), (4, "")):
        data = b"GGUF" + u32(version) + base[8:]
        case("hdr_version_%d" % version, data, "unsupported",
             "byte 4: header: version: unsupported GGUF version %d, expected 2 or 3%s"
             % (version, hint),
             "GGUF version %d" % version)
    case("hdr_version_truncated", b"GGUF\x03\x00", "format",
         "byte 4: header: version: truncated: needs 4 bytes, file has 2 left",
         "file ends inside the version")
    case("hdr_counts_truncated", b"GGUF" + u32(3) + u64(0) + b"\0\0\0\0", "format",
         "byte 16: header: metadata_kv_count: truncated: needs 8 bytes, file has 4 left",
         "file ends inside metadata_kv_count")

    case("hdr_kv_count_huge", named().finish(n_kv=U64_MAX), "format",
         "byte 16: header: metadata_kv_count: 18446744073709551615 entries exceed the limit "
         "of 1048576",
         "metadata_kv_count 2^64-1")
    case("hdr_kv_count_too_large", named().finish(n_kv=4), "format",
         "byte 16: header: metadata_kv_count: 4 entries cannot fit in the 42 bytes left",
         "metadata_kv_count larger than the file can hold")
    g = named()
    end = g.pos()
    case("hdr_kv_count_one_too_many", g.finish(n_kv=2), "format",
         "byte %d: metadata entry 1: key length: truncated: needs 8 bytes, file has 0 left"
         % end,
         "metadata_kv_count one more than the records present")
    case("hdr_tensor_count_huge", named().finish(n_tensors=U64_MAX), "format",
         "byte 8: header: tensor_count: 18446744073709551615 tensors exceed the limit of "
         "1048576",
         "tensor_count 2^64-1")
    case("hdr_tensor_count_too_large", named().finish(n_tensors=1000), "format",
         "byte 8: header: tensor_count: 1000 tensors cannot fit in the 42 bytes left",
         "tensor_count larger than the file can hold")
    g = named()
    g.tensor("a.weight", [8], T_F32, 0)
    end = g.pos()
    case("hdr_tensor_count_one_too_many", g.finish(n_tensors=2), "format",
         "byte %d: tensor info 1: name length: truncated: needs 8 bytes, file has 0 left" % end,
         "tensor_count one more than the tensor infos present")


def metadata_cases():
    # A key length followed by a few bytes: enough for the header's count bound (14).
    g = Gguf()
    g.n_kv = 1
    g.raw(u64(1000) + b"general.name")
    case("kv_key_length_exceeds_file", g.finish(), "format",
         "byte 24: metadata entry 0: key length: is 1000 but only 12 bytes remain in the file",
         "key length larger than the rest of the file")
    for label, length in (("over_limit", 65536), ("huge", U64_MAX)):
        g = Gguf()
        g.n_kv = 1
        g.raw(u64(length) + b"general.name")
        case("kv_key_length_" + label, g.finish(), "format",
             "byte 24: metadata entry 0: key length: is %d, at most 65535 allowed" % length,
             "key length %d, above the 65535 limit" % length)
    g = Gguf()
    g.kv(b"", STRING, "tiny model")
    case("kv_key_empty", g.finish(), "format",
         "byte 24: metadata entry 0: key: is empty",
         "empty key")
    for label, key, shown in (
            ("control", b"general.na\x01me", "general.na\\x01me"),
            ("nul", b"general\x00name", "general\\x00name"),
            ("space", b"general name", "general name"),
            ("utf8", "g\u00e9n\u00e9ral.name".encode(), "g\\xc3\\xa9n\\xc3\\xa9ral.name"),
            ("del", b"general.name\x7f", "general.name\\x7f")):
        g = Gguf()
        g.kv(key, STRING, "tiny model")
        case("kv_key_" + label, g.finish(), "format",
             'byte 24: metadata entry 0: key: "%s" has characters other than printable ASCII'
             % shown,
             "key with a byte outside printable ASCII (%s)" % label)
    g = named()
    second = g.kv("general.name", STRING, "again")
    case("kv_duplicate_key", g.finish(), "format",
         'byte %d: metadata key "general.name": key: duplicate key (first at byte 24)' % second,
         "the same key twice")
    for label, vtype in (("13", 13), ("max", 0xFFFFFFFF)):
        g = named()
        at = g.kv_raw("test.value", vtype, u32(7) + u32(0))
        case("kv_value_type_" + label, g.finish(), "format",
             'byte %d: metadata key "test.value": value type: unknown value type %d '
             "(valid: 0-12)" % (at - 4, vtype),
             "unknown value type %d" % vtype)
    for b in (2, 255):
        g = named()
        at = g.kv_raw("test.flag", BOOL, bytes([b]))
        case("kv_bool_%d" % b, g.finish(), "format",
             'byte %d: metadata key "test.flag": bool value: is %d, expected 0 or 1' % (at, b),
             "bool value byte %d" % b)
    for label, length in (("exceeds_file", 1000), ("huge", U64_MAX)):
        g = named()
        at = g.kv_raw("test.text", STRING, u64(length) + b"hello")
        case("kv_string_length_" + label, g.finish(), "format",
             'byte %d: metadata key "test.text": string value length: is %d but only 5 bytes '
             "remain in the file" % (at, length),
             "string value length %d, past the end of the file" % length)
    g = named()
    at = g.kv_raw("test.count", U32, b"\x01\x02")
    case("kv_scalar_truncated", g.finish(), "format",
         'byte %d: metadata key "test.count": u32 value: truncated: needs 4 bytes, file has 2 '
         "left" % at,
         "file ends inside a u32 value")
    g = named()
    at = g.kv_raw("test.ratio", F64, b"\0" * 7)
    case("kv_f64_truncated", g.finish(), "format",
         'byte %d: metadata key "test.ratio": f64 value: truncated: needs 8 bytes, file has 7 '
         "left" % at,
         "file ends inside an f64 value")


def array_cases():
    def array_head(key, elem, count, rest):
        g = named()
        at = g.kv_raw(key, ARRAY, u32(elem) + u64(count) + rest)
        return g.finish(), at

    data, at = array_head("test.bytes", U8, 1000, b"\1\2\3")
    case("arr_u8_count_exceeds_file", data, "format",
         'byte %d: metadata key "test.bytes": array count: 1000 elements of type u8 cannot fit '
         "in the 3 bytes left in the file" % (at + 4),
         "u8 array count larger than the rest of the file")
    data, at = array_head("test.strings", STRING, 1000, gstr("a") + gstr("bc"))
    case("arr_string_count_exceeds_file", data, "format",
         'byte %d: metadata key "test.strings": array count: 1000 elements of type string '
         "cannot fit in the 19 bytes left in the file" % (at + 4),
         "string array count larger than the file can hold")
    data, at = array_head("test.strings", STRING, 2, gstr("ab") + u64(1000) + b"xyz")
    case("arr_string_element_exceeds_file", data, "format",
         'byte %d: metadata key "test.strings" element 1: string value length: is 1000 but '
         "only 3 bytes remain in the file" % (at + 12 + 10),
         "string array whose second element runs past the end of the file")
    data, at = array_head("test.nested", ARRAY, 1000, u32(U8) + u64(0))
    case("arr_nested_count_exceeds_file", data, "format",
         'byte %d: metadata key "test.nested": array count: 1000 elements of type array cannot '
         "fit in the 12 bytes left in the file" % (at + 4),
         "array-of-arrays count larger than the file can hold")
    for label, elem in (("13", 13), ("max", 0xFFFFFFFF)):
        data, at = array_head("test.values", elem, 1, b"\0" * 8)
        case("arr_elem_type_" + label, data, "format",
             'byte %d: metadata key "test.values": array element type: unknown value type %d'
             % (at, elem),
             "array with unknown element type %d" % elem)
    data, at = array_head("test.nested", ARRAY, 1, u32(77) + u64(1) + b"\0" * 8)
    case("arr_nested_elem_type_unknown", data, "format",
         'byte %d: metadata key "test.nested" element 0: array element type: unknown value '
         "type 77" % (at + 12),
         "inner array of a nested array with unknown element type 77")
    # Four levels: array[array[array[array[u8]]]]; the limit is 3.
    inner = u32(U8) + u64(1) + b"\1"
    for _ in range(3):
        inner = u32(ARRAY) + u64(1) + inner
    data, at = array_head("test.nested", ARRAY, 1, inner[12:])
    case("arr_nested_too_deep", data, "format",
         'byte %d: metadata key "test.nested" element 0: array: nested arrays deeper than 3 '
         "levels" % (at + 36),
         "arrays nested four deep (limit 3)")
    for label, elem, count, type_name in (
            ("u64_size_overflow", U64, 2**61, "u64"),
            ("u32_count_max", U32, U64_MAX, "u32"),
            ("string_count_overflow", STRING, 2**61, "string"),
            ("nested_count_overflow", ARRAY, 2**62, "array")):
        data, at = array_head("test.values", elem, count, b"\0" * 16)
        case("arr_" + label, data, "format",
             'byte %d: metadata key "test.values": array count: %d elements of type %s cannot '
             "fit in the 16 bytes left in the file" % (at + 4, count, type_name),
             "array[%s] count %d: count times element size overflows 64 bits or the file"
             % (type_name, count))
    data, at = array_head("test.flags", BOOL, 3, b"\1\0\2")
    case("arr_bool_element_2", data, "format",
         'byte %d: metadata key "test.flags" element 2: bool value: is 2, expected 0 or 1'
         % (at + 12 + 2),
         "bool array whose third element is 2")


def alignment_cases():
    for label, vtype, v, type_name in (("u64", U64, 32, "u64"), ("string", STRING, "32", "string"),
                                       ("i32", I32, 32, "i32")):
        g = Gguf()
        g.kv("general.alignment", vtype, v)
        case("align_type_" + label, g.finish(), "format",
             'byte 53: metadata key "general.alignment": value: expected u32, found ' + type_name,
             "general.alignment stored as %s" % type_name)
    for label, v in (("zero", 0), ("48", 48), ("2pow31", 2**31), ("2pow21", 2**21)):
        g = named()
        at = g.kv("general.alignment", U32, v)
        case("align_" + label, g.finish(), "format",
             'byte %d: metadata key "general.alignment": value: alignment %d must be a power of '
             "two no larger than 1048576" % (at + 8 + len("general.alignment") + 4, v),
             "general.alignment %d" % v)


def tensor_info_cases():
    g, at = one_tensor(name="")
    case("ti_name_empty", g.finish(), "format",
         "byte %d: tensor info 0: name: is empty" % at,
         "empty tensor name")
    g, at = one_tensor(name="t" * 64)
    case("ti_name_64_bytes", g.finish(), "format",
         "byte %d: tensor info 0: name length: is 64, at most 63 allowed" % at,
         "tensor name of 64 bytes (ggml's limit is 63 plus the NUL)")
    g = named()
    at = g.raw(u64(60) + b"blk.0.attn")
    g.n_tensors = 1
    case("ti_name_length_exceeds_file", g.finish(), "format",
         "byte %d: tensor info 0: name length: is 60 but only 10 bytes remain in the file" % at,
         "tensor name length past the end of the file")
    g = Gguf()
    first = g.tensor("a.weight", [8], T_F32, 0)
    second = g.tensor("a.weight", [8], T_F32, 32)
    g.pad()
    g.raw(b"\0" * 64)
    case("ti_duplicate_name", g.finish(), "format",
         'byte %d: tensor "a.weight": name: duplicate tensor name (first at byte %d)'
         % (second, first),
         "two tensors with the same name")
    for label, n_dims in (("5", 5), ("max", 0xFFFFFFFF)):
        g = named()
        at = g.raw(gstr("a.weight") + u32(n_dims) + u64(1) * 5 + u32(T_F32) + u64(0))
        g.n_tensors = 1
        case("ti_n_dims_" + label, g.finish(), "format",
             'byte %d: tensor "a.weight": n_dims: is %d, at most 4 allowed'
             % (dims_field(at, "a.weight"), n_dims),
             "tensor with n_dims %d" % n_dims)
    for label, dims, d in (("2pow63", [8, 2**63], 1), ("max", [U64_MAX], 0)):
        g, at = one_tensor(dims=dims, data=0)
        field = dims_field(at, "a.weight") + 4 + 8 * d
        case("ti_dim_" + label, g.finish(), "format",
             'byte %d: tensor "a.weight": ne[%d]: dimension %d is larger than 2^63-1'
             % (field, d, dims[d]),
             "tensor dimension %d, above 2^63-1" % dims[d])
    for label, dims in (("overflow_64", [2**32, 2**32]), ("over_int64", [2**32, 2**31]),
                        ("overflow_4d", [2**16, 2**16, 2**16, 2**16]),
                        ("overflow_before_last", [2**32, 2**32, 7])):
        g, at = one_tensor(dims=dims, data=0)
        case("ti_shape_" + label, g.finish(), "format",
             'byte %d: tensor "a.weight": shape: element count overflows 64 bits'
             % dims_field(at, "a.weight"),
             "dims %s: element count above 2^63-1" % dims)
    g, at = one_tensor(dims=[2**62], data=0)
    case("ti_byte_size_overflow", g.finish(), "format",
         'byte %d: tensor "a.weight": shape: byte size overflows 64 bits'
         % dims_field(at, "a.weight"),
         "f32 tensor of 2^62 elements: 2^64 bytes")
    for type_id in (4, 5, 31, 36, 99, 0xFFFFFFFF):
        g, at = one_tensor(ttype=type_id, data=64)
        case("ti_type_%d" % type_id, g.finish(), "unsupported",
             'byte %d: tensor "a.weight": type: unknown ggml type id %d'
             % (offset_field(at, "a.weight", 1) - 4, type_id),
             "unknown or removed ggml type id %d" % type_id)
    for label, ttype, ne0, type_name, block in (("q4_0_ne0_33", T_Q4_0, 33, "q4_0", 32),
                                                ("q4_k_ne0_32", T_Q4_K, 32, "q4_K", 256)):
        g, at = one_tensor(ttype=ttype, dims=[ne0, 2], data=256)
        case("ti_" + label, g.finish(), "format",
             'byte %d: tensor "a.weight": ne[0]: %d is not a multiple of the %s block size %d'
             % (dims_field(at, "a.weight"), ne0, type_name, block),
             "%s tensor with ne[0] %d" % (type_name, ne0))


def tensor_data_cases():
    g, at = one_tensor(offset=1, data=96)
    case("data_offset_unaligned", g.finish(), "format",
         'byte %d: tensor "a.weight": offset: 1 is not a multiple of the alignment 32'
         % offset_field(at, "a.weight", 1),
         "tensor offset 1 with the default alignment 32")
    g, at = one_tensor(offset=32, data=128, align=64, kvs=[("general.alignment", U32, 64)])
    case("data_offset_unaligned_64", g.finish(), "format",
         'byte %d: tensor "a.weight": offset: 32 is not a multiple of the alignment 64'
         % offset_field(at, "a.weight", 1),
         "tensor offset 32 with general.alignment 64")
    g, at = one_tensor(data=32)
    case("data_past_end", g.finish(), "format",
         'byte %d: tensor "a.weight": offset: data [0, +64 bytes) lies outside the 32-byte data '
         "section (file truncated?)" % offset_field(at, "a.weight", 1),
         "64-byte tensor in a 32-byte data section")
    g = Gguf()
    g.tensor("a.weight", [16], T_F32, 0)
    second = g.tensor("b.weight", [16], T_F32, 64)
    g.pad()
    g.raw(b"\0" * 96)
    case("data_second_past_end", g.finish(), "format",
         'byte %d: tensor "b.weight": offset: data [64, +64 bytes) lies outside the 96-byte '
         "data section" % offset_field(second, "b.weight", 1),
         "second tensor runs 32 bytes past the end of the file")
    g, at = one_tensor(offset=2**64 - 32, data=64)
    case("data_offset_size_overflow", g.finish(), "format",
         'byte %d: tensor "a.weight": offset: data [18446744073709551584, +64 bytes) lies '
         "outside the 64-byte data section" % offset_field(at, "a.weight", 1),
         "tensor offset 2^64-32 plus size 64 overflows 64 bits")
    g = Gguf()
    g.tensor("a.weight", [16], T_F32, 0)
    second = g.tensor("b.weight", [16], T_F32, 32)
    g.pad()
    g.raw(b"\0" * 128)
    case("data_overlap", g.finish(), "format",
         'byte %d: tensor "b.weight": offset: data at 32 overlaps tensor "a.weight" [0, 64)'
         % offset_field(second, "b.weight", 1),
         "tensor b starts inside tensor a")
    g, at = one_tensor(dims=[0], offset=64, data=32)
    case("data_empty_tensor_past_end", g.finish(), "format",
         'byte %d: tensor "a.weight": offset: data [64, +0 bytes) lies outside the 32-byte data '
         "section" % offset_field(at, "a.weight", 1),
         "zero-size tensor whose offset lies past the end of the data section")
    g = Gguf()
    g.tensor("a.weight", [16], T_F32, 0)
    g.tensor("b.weight", [8], T_F32, 0)
    g.pad()
    g.raw(b"\0" * 64)
    case("data_overlap_same_offset", g.finish(), "format",
         "offset: data at 0 overlaps tensor",
         "two tensors at the same offset")
    g = Gguf()
    g.tensor("tok.weight", [16], T_F32, 0)
    end = g.pos()
    assert end % 32 != 0
    case("data_start_past_end", g.finish(), "format",
         "byte %d: data section: start: tensor data would start at byte %d, past the end of "
         "the file (%d bytes)" % (end, end + (-end) % 32, end),
         "file ends right after the tensor infos, before the aligned data section")


def hyperparameter_cases():
    for label, vtype, v, shown in (("over_limit", U32, 1025, "1025"), ("zero", U32, 0, "0"),
                                   ("negative", I32, -1, "-1")):
        case("hp_block_count_" + label, model([("llama.block_count", vtype, v)]),
             "out_of_range",
             "key llama.block_count: value %s is outside [1, 1024]" % shown,
             "llama.block_count %s (allowed 1 .. kMaxLayers 1024)" % shown)
    case("hp_block_count_u64_max", model([("llama.block_count", U64, U64_MAX)]), "out_of_range",
         "key llama.block_count: value 18446744073709551615 is outside [1, 1024]",
         "llama.block_count 2^64-1 as u64: the message must show the stored value")
    for label, vtype, v, type_name in (("string", STRING, "5", "string"), ("f32", F32, 5.0, "f32"),
                                       ("array", ARRAY, (U32, [5]), "array[u32]")):
        case("hp_block_count_" + label, model([("llama.block_count", vtype, v)]), "format",
             "key llama.block_count: expected an unsigned integer, found " + type_name,
             "llama.block_count stored as %s" % type_name)
    case("hp_block_count_exceeds_tensors",
         model([("llama.block_count", U32, 2)], blocks=[0]), "out_of_range",
         "key llama.block_count: is 2 but the file has tensors for only 1 layers "
         "(blk.0 .. blk.0)",
         "block_count 2 with tensors for blk.0 only")
    case("hp_blk_index_ge_block_count",
         model([("llama.block_count", U32, 1)], blocks=[0, 1]), "out_of_range",
         'key llama.block_count: is 1 but tensor "blk.1.',
         "block_count 1 with a blk.1 tensor")
    case("hp_blk_index_5000",
         model([("llama.block_count", U32, 1)], blocks=[0, 5000]), "out_of_range",
         'key llama.block_count: is 1 but tensor "blk.5000.',
         "block_count 1 with a blk.5000 tensor (beyond kMaxLayers): the message names 5000")
    case("hp_blk_index_overflow",
         model([("llama.block_count", U32, 1)], blocks=[0, "99999999999999999999"]),
         "out_of_range",
         'key llama.block_count: is 1 but tensor "blk.99999999999999999999.',
         "block_count 1 with a blk.99999999999999999999 tensor (index above 2^64)")
    case("hp_head_count_wrong_length",
         model([("llama.block_count", U32, 2),
                ("llama.attention.head_count", ARRAY, (U32, [8, 8, 8]))]),
         "out_of_range",
         "key llama.attention.head_count: per-layer array has 3 entries, block_count is 2",
         "per-layer head_count array of 3 entries with block_count 2")
    case("hp_head_count_kv_strings",
         model([("llama.block_count", U32, 2),
                ("llama.attention.head_count_kv", ARRAY, (STRING, ["8", "8"]))]),
         "format",
         "key llama.attention.head_count_kv: expected an integer or array of integers, found "
         "array[string]",
         "per-layer head_count_kv as an array of strings")
    case("hp_feed_forward_length_element",
         model([("llama.block_count", U32, 2),
                ("llama.feed_forward_length", ARRAY, (U32, [256, 2**23]))]),
         "out_of_range",
         "key llama.feed_forward_length: element 1: value 8388608 is outside [0, 4194304]",
         "per-layer feed_forward_length with an element above its bound")
    case("hp_head_count_u64_element",
         model([("llama.block_count", U32, 1),
                ("llama.attention.head_count", ARRAY, (U64, [U64_MAX]))]),
         "out_of_range",
         "key llama.attention.head_count: element 0: value 18446744073709551615 is outside "
         "[0, 16384]",
         "per-layer head_count array[u64] holding 2^64-1: the message must show that value")
    case("hp_expert_used_gt_count",
         model([("llama.expert_count", U32, 2), ("llama.expert_used_count", U32, 3)]),
         "out_of_range",
         "key llama.expert_used_count: is 3, more than expert_count 2",
         "expert_used_count 3 with expert_count 2")
    case("hp_expert_used_without_count", model([("llama.expert_used_count", U32, 2)]),
         "out_of_range",
         "key llama.expert_used_count: is 2, more than the experts of a file without expert_count",
         "expert_used_count without expert_count")
    case("hp_rms_epsilon_nan",
         model([("llama.attention.layer_norm_rms_epsilon", F32, NAN_F32)]), "out_of_range",
         "key llama.attention.layer_norm_rms_epsilon: value nan is outside [0, 1]",
         "layer_norm_rms_epsilon NaN")
    case("hp_rms_epsilon_u32",
         model([("llama.attention.layer_norm_rms_epsilon", U32, 0)]), "format",
         "key llama.attention.layer_norm_rms_epsilon: expected f32, found u32",
         "layer_norm_rms_epsilon stored as u32")
    case("hp_rope_freq_base_inf", model([("llama.rope.freq_base", F32, float("inf"))]),
         "out_of_range",
         "key llama.rope.freq_base: value inf is outside [0, ",
         "rope.freq_base infinite")
    case("hp_context_length_zero", model([("llama.context_length", U32, 0)]), "out_of_range",
         "key llama.context_length: value 0 is outside [1, ",
         "context_length 0")
    case("hp_architecture_u32", model([("general.architecture", U32, 1)], arch=None), "format",
         "key general.architecture: expected string, found u32",
         "general.architecture stored as u32")


def tokenizer_cases():
    tokens = ("tokenizer.ggml.tokens", ARRAY, (STRING, ["<unk>", "<s>", "</s>", "a"]))
    rows = [
        ("tok_tokens_i32", [("tokenizer.ggml.tokens", ARRAY, (I32, [1, 2, 3]))], "format",
         "key tokenizer.ggml.tokens: expected array[string], found array[i32]",
         "tokenizer.ggml.tokens with element type i32"),
        ("tok_tokens_string", [("tokenizer.ggml.tokens", STRING, "<unk>")], "format",
         "key tokenizer.ggml.tokens: expected array[string], found string",
         "tokenizer.ggml.tokens as a single string"),
        ("tok_tokens_empty", [("tokenizer.ggml.tokens", ARRAY, (STRING, []))], "out_of_range",
         "key tokenizer.ggml.tokens: has 0 tokens, expected 1 .. 2^31-1",
         "empty tokenizer.ggml.tokens"),
        ("tok_scores_length", [tokens, ("tokenizer.ggml.scores", ARRAY, (F32, [0.0] * 3))],
         "out_of_range",
         "key tokenizer.ggml.scores: has 3 entries, tokenizer.ggml.tokens has 4",
         "tokenizer.ggml.scores one shorter than the tokens"),
        ("tok_scores_without_tokens", [("tokenizer.ggml.scores", ARRAY, (F32, [0.0] * 3))],
         "format",
         "key tokenizer.ggml.scores: present without tokenizer.ggml.tokens",
         "tokenizer.ggml.scores without tokens"),
        ("tok_scores_f64", [tokens, ("tokenizer.ggml.scores", ARRAY, (F64, [0.0] * 4))],
         "format",
         "key tokenizer.ggml.scores: expected array[f32], found array[f64]",
         "tokenizer.ggml.scores with element type f64"),
        ("tok_token_type_f32", [tokens, ("tokenizer.ggml.token_type", ARRAY, (F32, [1.0] * 4))],
         "format",
         "key tokenizer.ggml.token_type: expected array[i32], found array[f32]",
         "tokenizer.ggml.token_type with element type f32"),
        ("tok_token_type_scalar_f32", [tokens, ("tokenizer.ggml.token_type", F32, 1.0)],
         "format",
         "key tokenizer.ggml.token_type: expected array[i32], found f32",
         "tokenizer.ggml.token_type as a single f32"),
        ("tok_token_type_length", [tokens, ("tokenizer.ggml.token_type", ARRAY, (I32, [1] * 5))],
         "out_of_range",
         "key tokenizer.ggml.token_type: has 5 entries, tokenizer.ggml.tokens has 4",
         "tokenizer.ggml.token_type one longer than the tokens"),
        ("tok_merges_i32", [tokens, ("tokenizer.ggml.merges", ARRAY, (I32, [1]))], "format",
         "key tokenizer.ggml.merges: expected array[string], found array[i32]",
         "tokenizer.ggml.merges with element type i32"),
        ("tok_add_bos_u8", [tokens, ("tokenizer.ggml.add_bos_token", U8, 1)], "format",
         "key tokenizer.ggml.add_bos_token: expected bool, found u8",
         "tokenizer.ggml.add_bos_token stored as u8"),
        ("tok_bos_id_string", [tokens, ("tokenizer.ggml.bos_token_id", STRING, "1")], "format",
         "key tokenizer.ggml.bos_token_id: expected an integer token id, found string",
         "tokenizer.ggml.bos_token_id stored as a string"),
        ("tok_model_u32", [tokens, ("tokenizer.ggml.model", U32, 1)], "format",
         "key tokenizer.ggml.model: expected string, found u32",
         "tokenizer.ggml.model stored as u32"),
        ("tok_chat_template_u32", [tokens, ("tokenizer.chat_template", U32, 1)], "format",
         "key tokenizer.chat_template: expected string, found u32",
         "tokenizer.chat_template stored as u32"),
    ]
    for name, kvs, code, substring, description in rows:
        case(name, model(kvs), code, substring, description)


def main():
    header_cases()
    metadata_cases()
    array_cases()
    alignment_cases()
    tensor_info_cases()
    tensor_data_cases()
    hyperparameter_cases()
    tokenizer_cases()

    os.makedirs(OUT, exist_ok=True)
    names = [c[0] for c in CASES]
    assert len(names) == len(set(names)), "duplicate case name"
    for stale in os.listdir(OUT):
        if stale.endswith(".gguf") and stale not in names:
            os.remove(os.path.join(OUT, stale))
    rows = ["file\tcode\tsubstring\tdescription"]
    for name, data, code, substring, description in CASES:
        assert len(data) < 4096, name
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        rows.append("\t".join((name, code, substring, description)))
    with open(os.path.join(OUT, "manifest.tsv"), "w", newline="\n") as f:
        f.write("\n".join(rows) + "\n")
    print("wrote %d cases to %s" % (len(CASES), os.path.relpath(OUT, ROOT)))


if __name__ == "__main__":
    main()
