# Loom's scalar quant references (src/quant/, driven through the test-only
# tests/quant/dequant_tool.cpp) against the references, bit for bit unless stated:
#   - dequantize of every tensor of the real fixture models (stories260K Q8_0 / Q4_0 /
#     Q4_K_M: Q8_0, Q4_0, Q5_0, F16, F32) and of the Gemma 3 270M Q4_K_M model (Q8_0,
#     Q5_0, Q4_K, Q6_K, F32; sampled rows of the tensors over 1024 rows) against gguf-py's
#     gguf.quants.dequantize;
#   - dequantize of random blocks of every type in Loom's table (Q4_1, Q5_1, Q2_K, Q3_K,
#     Q5_K, IQ4_NL, IQ4_XS, BF16, ... have no real file here) written into a GGUF with
#     gguf-py's GGUFWriter, against gguf-py and against ggml's own dequantize_row_*;
#   - quantize of random rows against ggml_quantize_chunk (the bytes llama-quantize writes
#     without an importance matrix) and, for the activation types, quantize_row_q8_*_ref;
#   - the fp16 / bf16 conversions over all 65536 patterns against ggml's;
#   - vec_dot against ggml's CPU dot (ggml_vec_dot_*, the kernel llama.cpp runs here), to a
#     tolerance: its SIMD summation order differs, so the last bits may.
# ggml is the libggml-base / libggml-cpu that llama-cpp-python built, loaded with ctypes.
import ctypes
import functools
import os
import pathlib
import subprocess

import gguf
import numpy as np
import pytest

from conftest import reader, resolve

QT = gguf.GGMLQuantizationType

REAL_FILES = ["stories260K-Q8_0.gguf", "stories260K-Q4_0.gguf", "stories260K-Q4_K_M.gguf",
              "DEFAULT_MODEL"]

# Rows checked of a tensor with more rows than this: the first, middle and last 64.
SAMPLE_ROWS_ABOVE = 1024
SAMPLE = 64

# Byte offsets of the fp16 scale fields of each block (ggml-common.h); random blocks get
# finite fp16 values there and random bytes everywhere else. A type added to Loom's table
# needs its entry here (the test says so).
FP16_FIELDS = {
    "q4_0": [0], "q4_1": [0, 2], "q5_0": [0], "q5_1": [0, 2], "q8_0": [0], "q8_1": [0, 2],
    "q2_K": [80, 82], "q3_K": [108], "q4_K": [0, 2], "q5_K": [0, 2], "q6_K": [208],
    "iq4_nl": [0], "iq4_xs": [0],
}
FLOAT_TYPES = {"f32", "f16", "bf16"}
F32_FIELDS = {"q8_K": [0]}  # Q8_K's d is fp32


# ---- the tool -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tool(loom_bin) -> pathlib.Path:
    path = pathlib.Path(loom_bin).parent / "tests" / "quant" / "quant_dequant_tool"
    if not path.exists():
        pytest.fail(f"{path}: not built (target quant_dequant_tool)", pytrace=False)
    return path


def run_tool(tool, args, data: bytes = b"") -> bytes:
    proc = subprocess.run([str(tool)] + [str(a) for a in args], input=data,
                          capture_output=True, timeout=300)
    assert proc.returncode == 0, f"{args}: exit {proc.returncode}: {proc.stderr.decode()}"
    return proc.stdout


class LoomType:
    def __init__(self, line: str):
        name, type_id, block_size, block_bytes, partner, has_dot = line.split()
        self.name = name
        self.qtype = QT(int(type_id))
        self.block_size = int(block_size)
        self.block_bytes = int(block_bytes)
        self.partner = partner
        self.has_dot = has_dot == "1"

    def __repr__(self):
        return self.name


@pytest.fixture(scope="module")
def loom_types(tool) -> dict:
    lines = run_tool(tool, ["--types"]).decode().splitlines()
    return {t.name: t for t in map(LoomType, lines)}


def loom_type_names() -> list:
    """Names for parametrize, from the tool when it is built (else the known list)."""
    bin_path = os.environ.get("LOOM_BIN")
    if bin_path:
        path = pathlib.Path(bin_path).parent / "tests" / "quant" / "quant_dequant_tool"
        if path.exists():
            out = subprocess.run([str(path), "--types"], capture_output=True, text=True)
            if out.returncode == 0:
                return [line.split()[0] for line in out.stdout.splitlines()]
    return sorted(FP16_FIELDS) + sorted(F32_FIELDS) + sorted(FLOAT_TYPES)


def dequantize_batch(tool, path, requests) -> list:
    """Loom's float32 rows for each (tensor name, row begin, row end, row elements)."""
    stdin = "".join(f"{name} {b} {e}\n" for name, b, e, _ in requests).encode()
    out = np.frombuffer(run_tool(tool, ["--batch", path], stdin), dtype="<f4")
    result, offset = [], 0
    for _, b, e, row in requests:
        count = (e - b) * row
        result.append(out[offset:offset + count].reshape(e - b, row))
        offset += count
    assert offset == out.size, f"tool wrote {out.size} floats, expected {offset}"
    return result


def assert_bits_equal(got: np.ndarray, want: np.ndarray, what: str):
    got = np.ascontiguousarray(got, dtype=np.float32).reshape(-1)
    want = np.ascontiguousarray(want, dtype=np.float32).reshape(-1)
    assert got.size == want.size, f"{what}: {got.size} values, expected {want.size}"
    diff = np.flatnonzero(got.view(np.uint32) != want.view(np.uint32))
    if diff.size:
        i = diff[0]
        pytest.fail(f"{what}: {diff.size} of {got.size} values differ; first at {i}: "
                    f"loom {got[i]!r} ({got.view(np.uint32)[i]:#010x}), reference {want[i]!r} "
                    f"({want.view(np.uint32)[i]:#010x})", pytrace=False)


# ---- ggml through ctypes ----------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def ggml():
    """(libggml-base, libggml-cpu) of llama-cpp-python, the CPU backend initialized."""
    import llama_cpp
    lib_dir = pathlib.Path(llama_cpp.__file__).parent / "lib"
    base = ctypes.CDLL(str(lib_dir / "libggml-base.so"))
    cpu = ctypes.CDLL(str(lib_dir / "libggml-cpu.so"))
    cpu.ggml_cpu_init()  # fills the fp16 tables the CPU dot kernels use
    base.ggml_quantize_chunk.restype = ctypes.c_size_t
    base.ggml_quantize_chunk.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p,
                                         ctypes.c_int64, ctypes.c_int64, ctypes.c_int64,
                                         ctypes.c_void_p]
    # Row conversions: results stay in numpy buffers, so NaN bits are never touched by a
    # float -> double round trip in ctypes.
    for name in ("ggml_fp16_to_fp32_row", "ggml_bf16_to_fp32_row", "ggml_fp32_to_fp16_row",
                 "ggml_fp32_to_bf16_row_ref"):
        getattr(base, name).restype = None
        getattr(base, name).argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
    return base, cpu


def ggml_convert(name: str, src: np.ndarray, out_dtype) -> np.ndarray:
    base, _ = ggml()
    src = np.ascontiguousarray(src)
    out = np.empty(src.size, dtype=out_dtype)
    getattr(base, name)(src.ctypes.data, out.ctypes.data, src.size)
    return out


def ggml_dequantize(t: LoomType, blocks: np.ndarray) -> np.ndarray:
    base, _ = ggml()
    n = blocks.size // t.block_bytes * t.block_size
    out = np.empty(n, dtype=np.float32)
    src = np.ascontiguousarray(blocks)
    if t.name == "f32":
        return src.view(np.float32).copy()
    if t.name in ("f16", "bf16"):
        ref = "ggml_fp16_to_fp32_row" if t.name == "f16" else "ggml_bf16_to_fp32_row"
        return ggml_convert(ref, src.view(np.uint16), np.float32)
    f = getattr(base, f"dequantize_row_{t.name}")
    f.restype = None
    f.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
    f(src.ctypes.data, out.ctypes.data, n)
    return out


def ggml_quantize(t: LoomType, x: np.ndarray, rows: int) -> bytes:
    base, _ = ggml()
    n = x.size
    out = np.zeros(n // t.block_size * t.block_bytes, dtype=np.uint8)
    if t.name in ("q8_1", "q8_K"):  # activation types: not storage types of quantize_chunk
        f = getattr(base, f"quantize_row_{t.name}_ref")
        f.restype = None
        f.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
        f(x.ctypes.data, out.ctypes.data, n)
    else:
        base.ggml_quantize_chunk(int(t.qtype), x.ctypes.data, out.ctypes.data, 0, rows,
                                 n // rows, None)
    return out.tobytes()


def ggml_vec_dot(t: LoomType, n: int, x: bytes, y: bytes) -> float:
    _, cpu = ggml()
    name = f"ggml_vec_dot_{t.name}" if t.name in FLOAT_TYPES else \
        f"ggml_vec_dot_{t.name}_{t.partner}"
    f = getattr(cpu, name)
    f.restype = None
    f.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_float), ctypes.c_size_t,
                  ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t,
                  ctypes.c_int]
    s = ctypes.c_float()
    f(n, ctypes.byref(s), 0, x, 0, y, 0, 1)
    return s.value


# ---- random blocks ------------------------------------------------------------------------

def random_finite_fp16(rng, count) -> np.ndarray:
    """Random fp16 bit patterns that are finite (subnormals and the largest included)."""
    bits = rng.integers(0, 0x10000, size=count, dtype=np.uint32).astype(np.uint16)
    bits[(bits & 0x7c00) == 0x7c00] &= 0xbbff  # inf / NaN -> a finite value
    return bits


def random_blocks(t: LoomType, rows: int, row_elements: int, seed: int) -> np.ndarray:
    """rows x row_bytes of random blocks of type t with valid scale fields."""
    rng = np.random.default_rng(seed)
    n_blocks = rows * row_elements // t.block_size
    if t.name in FLOAT_TYPES:
        if t.name == "f32":
            data = rng.standard_normal(rows * row_elements).astype(np.float32)
        elif t.name == "f16":
            # NaN patterns excluded: numpy and ggml may quiet signalling NaNs differently.
            data = random_finite_fp16(rng, rows * row_elements)
        else:
            data = rng.integers(0, 0x10000, size=rows * row_elements).astype(np.uint16)
        return data.view(np.uint8).reshape(rows, -1)
    if t.name not in FP16_FIELDS and t.name not in F32_FIELDS:
        pytest.fail(f"{t.name}: add its scale fields to FP16_FIELDS / F32_FIELDS", pytrace=False)
    blocks = rng.integers(0, 256, size=(n_blocks, t.block_bytes), dtype=np.uint16)
    blocks = blocks.astype(np.uint8)
    for off in FP16_FIELDS.get(t.name, []):
        blocks[:, off:off + 2] = random_finite_fp16(rng, n_blocks).view(np.uint8).reshape(-1, 2)
    for off in F32_FIELDS.get(t.name, []):
        d = (rng.standard_normal(n_blocks) * 0.01).astype(np.float32)
        blocks[:, off:off + 4] = d.view(np.uint8).reshape(-1, 4)
    return blocks.reshape(rows, -1)


def gguf_py_can_dequantize(t: LoomType) -> bool:
    try:
        gguf.quants.dequantize(np.zeros(t.block_bytes, dtype=np.uint8), t.qtype)
        return True
    except NotImplementedError:
        return False


# ---- tests: real files ------------------------------------------------------------------

@pytest.mark.parametrize("name", REAL_FILES)
def test_dequantize_real_tensors_match_gguf_py(name, tool, loom_types, fixtures_dir,
                                               default_model):
    path = resolve(name, fixtures_dir, default_model)
    by_id = {t.qtype: t for t in loom_types.values()}
    requests, expected, seen_types = [], [], set()
    for tensor in reader(path).tensors:
        qtype = QT(int(tensor.tensor_type))
        assert qtype in by_id, f"{tensor.name}: type {qtype.name} not computable by Loom"
        seen_types.add(qtype.name)
        row = int(tensor.shape[0])
        n_rows = int(tensor.n_elements) // row
        raw = np.asarray(tensor.data).view(np.uint8).reshape(n_rows, -1)
        if n_rows > SAMPLE_ROWS_ABOVE:
            mid = n_rows // 2
            ranges = [(0, SAMPLE), (mid, mid + SAMPLE), (n_rows - SAMPLE, n_rows)]
        else:
            ranges = [(0, n_rows)]
        for b, e in ranges:
            requests.append((tensor.name, b, e, row))
            expected.append((tensor.name, qtype, raw[b:e]))
    got = dequantize_batch(tool, path, requests)
    for (tname, qtype, raw), rows in zip(expected, got):
        want = gguf.quants.dequantize(raw, qtype)
        assert_bits_equal(rows, want, f"{name} {tname} ({qtype.name})")
    print(f"{name}: {len(requests)} ranges of types {sorted(seen_types)}")


# ---- tests: synthetic files of every type ---------------------------------------------

@pytest.fixture(scope="module")
def synthetic(tool, loom_types, tmp_path_factory):
    """A GGUF written by gguf-py with one tensor of random blocks per Loom type:
    (path, {type name: (tensor name, rows x row_bytes blocks, row elements)})."""
    path = tmp_path_factory.mktemp("quant") / "random_blocks.gguf"
    writer = gguf.GGUFWriter(str(path), "loomquanttest")
    tensors = {}
    for i, t in enumerate(loom_types.values()):
        row_elements = 1024  # 4 blocks of 256, 32 of 32, or 1024 floats
        blocks = random_blocks(t, rows=6, row_elements=row_elements, seed=1000 + i)
        name = f"random.{t.name}"
        # Shape in elements, bytes passed as int8 so that gguf-py takes the shape as given
        # (from uint8 it derives it from GGML_QUANT_SIZES, whose Q8_1 is 40 bytes, not 36).
        writer.add_tensor(name, blocks.view(np.int8), raw_shape=(6, row_elements),
                          raw_dtype=t.qtype)
        tensors[t.name] = (name, blocks, row_elements)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path, tensors


@pytest.mark.parametrize("type_name", loom_type_names())
def test_dequantize_random_blocks_match_gguf_py_and_ggml(type_name, tool, loom_types,
                                                         synthetic):
    t = loom_types[type_name]
    path, tensors = synthetic
    tname, blocks, row = tensors[type_name]
    # All 6 rows, then rows [2, 5) alone (row offsets into the mapped file).
    whole, part = dequantize_batch(tool, path, [(tname, 0, 6, row), (tname, 2, 5, row)])
    assert_bits_equal(part, whole[2:5], f"{type_name} rows 2..5 vs whole tensor")
    checked = 0
    if gguf_py_can_dequantize(t):
        assert_bits_equal(whole, gguf.quants.dequantize(blocks, t.qtype), f"{type_name} gguf-py")
        checked += 1
    if type_name != "q8_1":
        assert_bits_equal(whole, ggml_dequantize(t, blocks), f"{type_name} ggml")
        checked += 1
    else:
        # Neither ggml nor gguf-py dequantizes the activation-only Q8_1: x = d * qs.
        b = blocks.reshape(-1, t.block_bytes)
        d = b[:, 0:2].copy().view(np.float16).astype(np.float32)
        want = b[:, 4:].view(np.int8).astype(np.float32) * d
        assert_bits_equal(whole, want, f"{type_name} numpy d * qs")
        checked += 1
    # The raw-blocks path of the tool agrees with the GGUF path.
    raw = np.frombuffer(run_tool(tool, ["--dequantize", type_name], blocks.tobytes()), "<f4")
    assert_bits_equal(raw, whole, f"{type_name} raw blocks vs GGUF")
    assert checked >= 1, f"{type_name}: no reference could dequantize it"


# ---- tests: quantize ----------------------------------------------------------------------

@pytest.mark.parametrize("type_name", loom_type_names())
@pytest.mark.parametrize("sigma", [0.02, 1.0, 300.0])
def test_quantize_matches_ggml(type_name, sigma, tool, loom_types):
    t = loom_types[type_name]
    rows, row = 4, 4096
    x = (np.random.default_rng(7).standard_normal(rows * row) * sigma).astype(np.float32)
    x[:t.block_size] = 0.0  # one all-zero block
    got = run_tool(tool, ["--quantize", type_name], x.tobytes())
    want = ggml_quantize(t, x, rows)
    # (ggml's Q8_K leaves the bsums of an all-zero block unwritten; its output buffer
    # starts zeroed here, and Loom writes zeros.)
    if got != want:
        g = np.frombuffer(got, np.uint8).reshape(-1, t.block_bytes)
        w = np.frombuffer(want, np.uint8).reshape(-1, t.block_bytes)
        bad = np.flatnonzero((g != w).any(axis=1))
        pytest.fail(f"{type_name}: {bad.size} of {len(g)} blocks differ from ggml, first "
                    f"block {bad[0]}", pytrace=False)


# ---- tests: fp16 / bf16 against ggml ------------------------------------------------------

def test_fp16_and_bf16_to_fp32_all_patterns_match_ggml(tool):
    patterns = np.arange(65536, dtype=np.uint32).astype(np.uint16)
    for name, ref in (("f16", "ggml_fp16_to_fp32_row"), ("bf16", "ggml_bf16_to_fp32_row")):
        got = np.frombuffer(run_tool(tool, ["--dequantize", name], patterns.tobytes()), "<f4")
        want = ggml_convert(ref, patterns, np.float32)
        assert_bits_equal(got, want, f"{name} -> fp32, all 65536 patterns")


def test_fp32_to_fp16_and_bf16_match_ggml(tool):
    rng = np.random.default_rng(5)
    # Every finite fp16 value, the fp32 values just below and at the midpoint above it,
    # and random fp32 patterns. NaNs left out: ggml's fp32 -> fp16 drops the payload
    # (0x7e00), Loom keeps its top bits as F16C hardware does.
    halves = np.arange(65536, dtype=np.uint32).astype(np.uint16)
    halves = halves[(halves & 0x7c00) != 0x7c00]
    bits = halves.view(np.float16).astype(np.float32).view(np.uint32)
    randoms = rng.integers(0, 2**32, 200000, dtype=np.uint64).astype(np.uint32)
    x = np.concatenate([bits, bits + 0x1000, bits + 0xfff, bits - 1, randoms]).view(np.float32)
    x = np.ascontiguousarray(x[~np.isnan(x)])
    for name, ref in (("f16", "ggml_fp32_to_fp16_row"), ("bf16", "ggml_fp32_to_bf16_row_ref")):
        got = np.frombuffer(run_tool(tool, ["--quantize", name], x.tobytes()), "<u2")
        want = ggml_convert(ref, x, np.uint16)
        bad = np.flatnonzero(got != want)
        assert bad.size == 0, (f"fp32 -> {name}: {bad.size} of {x.size} differ, first "
                               f"{x[bad[0]]!r}: {got[bad[0]]:#06x} vs ggml {want[bad[0]]:#06x}")


# ---- tests: vec_dot ------------------------------------------------------------------------

@pytest.mark.parametrize("type_name", loom_type_names())
def test_vec_dot_matches_ggml_cpu(type_name, tool, loom_types):
    t = loom_types[type_name]
    if not t.has_dot:
        pytest.skip("activation-side only")
    partner = loom_types[t.partner]
    n = 4096
    rng = np.random.default_rng(11)
    for trial in range(5):
        x = rng.standard_normal(n).astype(np.float32)
        y = rng.standard_normal(n).astype(np.float32)
        xq = run_tool(tool, ["--quantize", type_name], x.tobytes())
        yq = run_tool(tool, ["--quantize", partner.name], y.tobytes())
        bits = int(run_tool(tool, ["--vec-dot", type_name, n], xq + yq).decode(), 16)
        got = float(np.array([bits], dtype=np.uint32).view(np.float32)[0])
        want = ggml_vec_dot(t, n, xq, yq)
        xd = np.frombuffer(run_tool(tool, ["--dequantize", type_name], xq), "<f4")
        yd = np.frombuffer(run_tool(tool, ["--dequantize", partner.name], yq), "<f4")
        magnitude = float(np.abs(xd.astype(np.float64) * yd).sum())
        # Both round each block partial and each sum in fp32 (2^-24 relative), in a
        # different order: n / block_size + 8 roundings of at most the magnitude.
        tol = (n / t.block_size + 8) * 2.0**-23 * magnitude
        assert abs(got - want) <= tol, \
            f"{type_name} trial {trial}: loom {got!r}, ggml {want!r}, tolerance {tol:.3g}"
