#!/usr/bin/env python3
"""Writes the seed inputs of the GGUF reader fuzzer into fuzz/corpus/gguf_reader/.

Small valid GGUF files (every value type, nested and string arrays, llama
hyperparameters, a tokenizer, tensors of several types and alignments) and the header
of the real stories260K model. Standard library only. The fuzzer grows the corpus from
these; scripts/fuzz.sh runs it. Re-run: python3 scripts/gen_fuzz_seeds.py
"""
import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "corpus", "gguf_reader")
FIXTURES = os.path.join(ROOT, "..", "shared", "fixtures")


def s(text):
    b = text.encode()
    return struct.pack("<Q", len(b)) + b


SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}


def value(vtype, v):
    if vtype == 8:
        return s(v)
    if vtype == 9:
        elem, items = v
        out = struct.pack("<IQ", elem, len(items))
        for item in items:
            out += value(elem, item)
        return out
    return struct.pack("<" + SCALARS[vtype], v)


def kv(key, vtype, v):
    return s(key) + struct.pack("<I", vtype) + value(vtype, v)


BLOCK = {0: (1, 4), 1: (1, 2), 2: (32, 18), 8: (32, 34), 12: (256, 144), 14: (256, 210), 30: (1, 2)}


def gguf(kvs, tensors, alignment=32, version=3):
    head = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs)) + b"".join(kvs)
    infos, blobs, offset = b"", b"", 0
    for name, ttype, shape in tensors:
        bs, bb = BLOCK[ttype]
        n = 1
        for d in shape:
            n *= d
        size = n // bs * bb
        infos += s(name) + struct.pack("<I", len(shape)) + b"".join(struct.pack("<Q", d) for d in shape)
        infos += struct.pack("<IQ", ttype, offset)
        blob = bytes((i * 37 + 11) % 251 for i in range(size))
        pad = (-size) % alignment
        blobs += blob + b"\0" * pad
        offset += size + pad
    out = head + infos
    out += b"\0" * ((-len(out)) % alignment)
    return out + blobs


def main():
    os.makedirs(OUT, exist_ok=True)
    every_type = [
        kv("t.u8", 0, 200), kv("t.i8", 1, -5), kv("t.u16", 2, 60000), kv("t.i16", 3, -300),
        kv("t.u32", 4, 4000000000), kv("t.i32", 5, -7), kv("t.f32", 6, 1.5), kv("t.bool", 7, True),
        kv("t.str", 8, "h\u00e9llo"), kv("t.u64", 10, 2**40), kv("t.i64", 11, -2**40),
        kv("t.f64", 12, 0.25), kv("t.arr", 9, (5, [1, 2, 3])),
        kv("t.strs", 9, (8, ["a", "bc", ""])), kv("t.nested", 9, (9, [(5, [1]), (5, [2, 3])])),
    ]
    seeds = {
        "values.gguf": gguf(every_type, []),
        "values_v2.gguf": gguf(every_type[:5], [], version=2),
    }
    tokens = ["<unk>", "<s>", "</s>", "a", "b", "\u2581c"]
    llama = [
        kv("general.architecture", 8, "llama"), kv("general.alignment", 4, 64),
        kv("llama.block_count", 4, 2), kv("llama.embedding_length", 4, 32),
        kv("llama.attention.head_count", 4, 4), kv("llama.attention.head_count_kv", 9, (4, [2, 4])),
        kv("llama.attention.layer_norm_rms_epsilon", 6, 1e-5), kv("llama.context_length", 4, 64),
        kv("tokenizer.ggml.model", 8, "llama"), kv("tokenizer.ggml.tokens", 9, (8, tokens)),
        kv("tokenizer.ggml.scores", 9, (6, [0.0] * len(tokens))),
        kv("tokenizer.ggml.token_type", 9, (5, [2, 3, 3, 1, 1, 1])),
        kv("tokenizer.ggml.bos_token_id", 4, 1), kv("tokenizer.ggml.add_bos_token", 7, True),
    ]
    tensors = [("token_embd.weight", 8, [32, 6]), ("output_norm.weight", 0, [32]),
               ("blk.0.attn_norm.weight", 0, [32]), ("blk.0.ffn_up.weight", 2, [32, 3]),
               ("blk.1.attn_norm.weight", 30, [32]), ("blk.1.ffn_up.weight", 12, [256, 1, 1]),
               ("blk.1.ffn_down.weight", 14, [256, 1, 1, 1])]
    seeds["llama_tiny.gguf"] = gguf(llama, tensors, alignment=64)
    seeds["llama_tiny_align8.gguf"] = gguf(
        [k for k in llama if b"general.alignment" not in k] + [kv("general.alignment", 4, 8)],
        tensors, alignment=8)
    stories = os.path.join(FIXTURES, "stories260K.gguf")
    if os.path.exists(stories):
        with open(stories, "rb") as f:
            seeds["stories260K_header.gguf"] = f.read(12288)
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(seeds)} seeds to {OUT}")


if __name__ == "__main__":
    main()
