# `loom tokenize` against the reference tokenizers, on the corpus of tokenizer_texts.py:
#  - llama.cpp (llama-cpp-python, vocab_only) on every SentencePiece-style and byte-level BPE
#    fixture vocabulary, stories260K and the Gemma 3 model: identical token ids with
#    (add_special, parse_special) = (True, False) and (False, True);
#  - llama.cpp on copies of the gpt-2 and deepseek-llm vocabularies with tokenizer.ggml.pre
#    set to every alias of Loom's pre-tokenizer table (src/tokenizer/pre_tokenizer.cpp);
#  - the sentencepiece library on the Llama 2 and stories260K tokenizer.model files; where it
#    and Loom differ, llama.cpp must agree with Loom (recorded, known SentencePiece vs
#    llama.cpp differences) and there must be few such texts;
#  - token pieces (`--format json` and `--format pieces`) against llama.cpp's
#    llama_token_to_piece, and the round trip pieces -> text on the SentencePiece vocabularies;
#  - error cases: a missing file, a GGUF without a tokenizer, WordPiece (bert, not implemented)
#    and an unknown pre-tokenizer exit 1 with one line on stderr and nothing on stdout.
# Cost: one `loom tokenize` process per text, vocabulary and mode, so the "edge" texts run one
# by one in both modes and the whole corpus runs once per vocabulary as one text joined by a
# control token with parse_special (llama.cpp and Loom tokenize each part between special
# tokens on its own, so that comparison covers each text; a mismatch is reported per text).
# Not here: WordPiece tokenization (not implemented), decoding of whole sequences.
import concurrent.futures
import ctypes
import functools
import os
import pathlib
import re
import struct
import tempfile

import gguf
import llama_cpp
import pytest
import sentencepiece

import tokenizer_texts
from conftest import metadata, run

TEXTS = tokenizer_texts.corpus()
TEXT_BY_NAME = {t.name: t for t in TEXTS}
MODES = [(True, False), (False, True)]  # (add_special, parse_special)
MODE_IDS = ["add_special", "parse_special"]
VOCAB_SPM, VOCAB_BPE, VOCAB_WPM = 1, 2, 3  # llama_vocab_type
ATTR_LSTRIP, ATTR_RSTRIP = 1 << 7, 1 << 8   # llama_token_attr
WORKERS = 2  # concurrent `loom tokenize` processes: the CI machine has 2 cores


# ---- the vocabularies ------------------------------------------------------------------------

def vocab_names() -> list:
    """The compared files, relative to LOOM_FIXTURES ("DEFAULT_MODEL" for the Gemma model):
    every vocab/ file except bert-bge (WordPiece, not implemented: see the error tests)."""
    root = os.environ.get("LOOM_FIXTURES")
    names = []
    if root and pathlib.Path(root, "vocab").is_dir():
        names = [f"vocab/{p.name}" for p in sorted(pathlib.Path(root, "vocab").glob("*.gguf"))
                 if "bert" not in p.name]
    return names + ["stories260K.gguf", "DEFAULT_MODEL"]


VOCABS = vocab_names()
SPM_VOCABS = ["vocab/ggml-vocab-llama-spm.gguf", "vocab/ggml-vocab-phi-3.gguf",
              "vocab/ggml-vocab-baichuan.gguf", "stories260K.gguf", "DEFAULT_MODEL"]


@pytest.fixture(scope="session")
def vocab_path(fixtures_dir, default_model):
    def resolve(name: str) -> pathlib.Path:
        return default_model if name == "DEFAULT_MODEL" else fixtures_dir / name
    return resolve


# ---- llama.cpp -------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _quiet_llama_log():
    # llama.cpp logs to stderr even with verbose=False; a no-op callback silences it.
    @llama_cpp.llama_log_callback
    def _ignore(level, text, user_data):
        pass
    llama_cpp.llama_log_set(_ignore, ctypes.c_void_p(0))
    return _ignore  # kept alive by the cache


class Reference:
    """llama.cpp's tokenizer for one file (vocab_only)."""

    def __init__(self, path):
        _quiet_llama_log()
        self.path = pathlib.Path(path)
        self.llama = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
        self.vocab = self.llama._model.vocab

    def ids(self, data: bytes, add_special: bool, parse_special: bool) -> list:
        # llama-cpp-python's add_bos argument is llama_tokenize's add_special.
        return self.llama.tokenize(data, add_bos=add_special, special=parse_special)

    def piece(self, token: int, special: bool = True) -> bytes:
        # Llama.detokenize([id]) uses a 32-byte buffer (longer pieces come back wrong) and
        # drops a leading space after BOS, so call llama_token_to_piece directly.
        size = 256
        while True:
            buf = ctypes.create_string_buffer(size)
            n = llama_cpp.llama_token_to_piece(self.vocab, token, buf, size, 0, special)
            if n >= 0:
                return buf.raw[:n]
            size = -n

    def vocab_type(self) -> int:
        return llama_cpp.llama_vocab_type(self.vocab)

    def text(self, token: int) -> bytes:
        return llama_cpp.llama_vocab_get_text(self.vocab, token)

    def separator(self):
        """A control token (BOS, else EOS) that strips no neighbouring whitespace, to join
        texts with: (id, text bytes)."""
        for token in (llama_cpp.llama_vocab_bos(self.vocab), llama_cpp.llama_vocab_eos(self.vocab)):
            if token < 0 or not llama_cpp.llama_vocab_is_control(self.vocab, token):
                continue
            if llama_cpp.llama_vocab_get_attr(self.vocab, token) & (ATTR_LSTRIP | ATTR_RSTRIP):
                continue
            return token, self.text(token)
        raise AssertionError(f"{self.path.name}: no BOS or EOS control token to join texts with")


_references = {}


def reference(path: str) -> Reference:
    """llama.cpp's tokenizer for path, kept for the session (see drop_reference)."""
    if path not in _references:
        _references[path] = Reference(path)
    return _references[path]


def drop_reference(path: str) -> None:
    _references.pop(path, None)


def above_max_sequences(data: bytes) -> list:
    """[begin, end) of each 4-byte sequence that llama.cpp's UTF-8 decoder (unicode.cpp,
    unicode_cpt_from_utf8: lead F0-F7, three continuation bytes, no range check) turns into
    a code point above U+10FFFF."""
    spans, i = [], 0
    while i < len(data):
        lead = data[i]
        if lead >> 3 == 0b11110 and i + 3 < len(data) and all(b >> 6 == 2 for b in data[i + 1:i + 4]):
            cp = ((lead & 7) << 18) | ((data[i + 1] & 63) << 12) | ((data[i + 2] & 63) << 6) | (data[i + 3] & 63)
            if cp > 0x10FFFF:
                spans.append((i, i + 4))
            i += 4
        else:
            i += 1
    return spans


def reference_input(path: str, data: bytes) -> bytes:
    """The text given to llama.cpp for data. llama.cpp's byte-level BPE aborts the process on
    a code point above U+10FFFF (unicode_cpt_to_utf8 throws std::invalid_argument "invalid
    codepoint" and nothing catches it); Loom documents that it treats such a sequence as
    U+FFFD (tokenizer.h), so llama.cpp gets U+FFFD in its place."""
    spans = above_max_sequences(data)
    if not spans or reference(path).vocab_type() != VOCAB_BPE:
        return data
    out, last = [], 0
    for begin, end in spans:
        out += [data[last:begin], "\ufffd".encode()]
        last = end
    return b"".join(out + [data[last:]])


def reference_ids(path: str, data: bytes, add_special: bool, parse_special: bool) -> tuple:
    return tuple(reference(path).ids(reference_input(path, data), add_special, parse_special))


# ---- Loom ------------------------------------------------------------------------------------

_tmp_dir = None


def _text_file(data: bytes) -> str:
    """A temporary file holding data (one per distinct text, kept for the session)."""
    global _tmp_dir
    if _tmp_dir is None:
        _tmp_dir = tempfile.TemporaryDirectory(prefix="loom-tokenize-")
    path = os.path.join(_tmp_dir.name, f"{abs(hash(data)):x}-{len(data)}.txt")
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)
    return path


def loom_args(loom_bin, model, data: bytes, add_special: bool, parse_special: bool, fmt="ids"):
    args = [loom_bin, "tokenize", "-m", model, "--format", fmt, "--file", _text_file(data)]
    if not add_special:
        args.append("--no-add-special")
    if parse_special:
        args.append("--parse-special")
    return args


def run_loom(args):
    proc = run(args, timeout=300)
    if proc.returncode != 0 or proc.stderr:
        raise AssertionError(f"{' '.join(map(str, args))} exited {proc.returncode}: {proc.stderr.strip()}")
    return proc.stdout


@functools.lru_cache(maxsize=None)
def loom_ids(loom_bin: str, model: str, data: bytes, add_special: bool, parse_special: bool) -> tuple:
    out = run_loom(loom_args(loom_bin, model, data, add_special, parse_special))
    assert out.endswith("\n") and out.count("\n") == 1, repr(out[-200:])
    return tuple(int(x) for x in out.split())


def loom_ids_many(loom_bin, model, texts, add_special, parse_special) -> dict:
    """loom_ids for many texts, WORKERS processes at a time: {name: ids}."""
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        futures = {t.name: pool.submit(loom_ids, str(loom_bin), str(model), t.data, add_special,
                                       parse_special) for t in texts}
        return {name: f.result() for name, f in futures.items()}


def loom_json(loom_bin, model, data: bytes, add_special: bool, parse_special: bool) -> list:
    import json
    doc = json.loads(run_loom(loom_args(loom_bin, model, data, add_special, parse_special, "json")))
    assert doc["count"] == len(doc["tokens"])
    return doc["tokens"]


def loom_pieces_format(loom_bin, model, data, add_special, parse_special) -> list:
    """`--format pieces` as (id, displayed piece) pairs."""
    out = run_loom(loom_args(loom_bin, model, data, add_special, parse_special, "pieces"))
    pairs = []
    for line in out.split("\n")[:-1]:
        m = re.fullmatch(r"(-?\d+)\t'(.*)'", line, re.S)
        assert m, f"bad line {line!r}"
        pairs.append((int(m.group(1)), m.group(2)))
    return pairs


# ---- reports ---------------------------------------------------------------------------------

def show_ids(ids, around: int = 0, limit: int = 24) -> str:
    ids = list(ids)
    if len(ids) <= limit:
        return str(ids)
    start = max(0, min(around - limit // 2, len(ids) - limit))
    head = "[... " if start > 0 else "["
    tail = " ...]" if start + limit < len(ids) else "]"
    return f"{head}{', '.join(map(str, ids[start:start + limit]))}{tail} ({len(ids)} ids)"


def first_difference(a, b) -> int:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def mismatch(text, loom, ref, ref_name="llama.cpp") -> str:
    i = first_difference(loom, ref)
    return (f"  {text.label()}\n    first difference at id {i}\n"
            f"    loom:      {show_ids(loom, i)}\n    {ref_name + ':':<10} {show_ids(ref, i)}")


def report(title: str, failures: list, limit: int = 12) -> str:
    shown = failures[:limit]
    more = f"\n  ... and {len(failures) - limit} more" if len(failures) > limit else ""
    return f"{title}: {len(failures)} mismatches\n" + "\n".join(shown) + more


# ---- (a) every fixture vocabulary against llama.cpp ---------------------------------------------

def compare_per_text(loom_bin, path, texts, add_special, parse_special) -> list:
    loom = loom_ids_many(loom_bin, path, texts, add_special, parse_special)
    failures = []
    for t in texts:
        ref = reference_ids(str(path), t.data, add_special, parse_special)
        if loom[t.name] != ref:
            failures.append(mismatch(t, loom[t.name], ref))
    return failures


def compare_batched(loom_bin, path, texts) -> list:
    """All texts joined by a control token, tokenized once with parse_special and without
    add_special; texts containing the separator's text run on their own."""
    ref = reference(str(path))
    sep_id, sep = ref.separator()
    joined = [t for t in texts if sep not in t.data]
    alone = [t for t in texts if sep in t.data]
    failures = compare_per_text(loom_bin, path, alone, False, True)
    data = sep.join(t.data for t in joined)
    loom = loom_ids(str(loom_bin), str(path), data, False, True)
    want = reference_ids(str(path), data, False, True)
    if loom == want:
        return failures

    def split(ids):
        parts, current = [], []
        for token in ids:
            if token == sep_id:
                parts.append(current)
                current = []
            else:
                current.append(token)
        return parts + [current]
    loom_parts, ref_parts = split(loom), split(want)
    if len(loom_parts) == len(ref_parts) == len(joined):
        for t, a, b in zip(joined, loom_parts, ref_parts):
            if a != b:
                failures.append(mismatch(t, a, b))
    else:
        i = first_difference(loom, want)
        failures.append(f"  joined text of {len(joined)} texts (separator {sep!r}) does not split "
                        f"back into texts; first difference at id {i}\n"
                        f"    loom:      {show_ids(loom, i)}\n    llama.cpp: {show_ids(want, i)}")
    return failures


def per_text_set():
    return [t for t in TEXTS if t.kind != tokenizer_texts.BULK]


@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
@pytest.mark.parametrize("name", VOCABS)
def test_vocab_edge_texts_match_llamacpp(loom_bin, vocab_path, name, mode):
    """The edge texts and the 100k-character text, one by one."""
    path = vocab_path(name)
    assert reference(str(path)).vocab_type() in (VOCAB_SPM, VOCAB_BPE)
    failures = compare_per_text(loom_bin, path, per_text_set(), *mode)
    assert not failures, report(f"{name} {mode}", failures)


@pytest.mark.parametrize("name", VOCABS)
def test_vocab_corpus_matches_llamacpp(loom_bin, vocab_path, name):
    """Every text but the longest, joined by a control token (parse_special)."""
    path = vocab_path(name)
    texts = [t for t in TEXTS if t.kind != tokenizer_texts.LONG]
    failures = compare_batched(loom_bin, path, texts)
    assert not failures, report(f"{name} (joined, parse_special)", failures)


# ---- (b) every pre-tokenizer alias in Loom's table ----------------------------------------------

def loom_pre_aliases() -> list:
    """tokenizer.ggml.pre values in Loom's table: the string lists named k...Names."""
    root = os.environ.get("LOOM_SOURCE_DIR")
    if not root:
        return ["default"]  # collected without the environment: the fixtures fail clearly
    source = pathlib.Path(root, "src/tokenizer/pre_tokenizer.cpp").read_text()
    aliases = []
    for body in re.findall(r"k\w+Names\s*=\s*\{(.*?)\};", source, re.S):
        aliases += re.findall(r'"([^"]*)"', body)
    assert aliases, "no k...Names alias lists found in pre_tokenizer.cpp"
    return aliases


PRE_ALIASES = loom_pre_aliases()
PRE_BASES = ["gpt-2", "deepseek-llm"]
# Texts also run with add_special and without parse_special (BOS/EOS, special look-alikes).
PRE_MODE_TEXTS = ["empty", "hello", "special-mixed", "contractions-upper"]


def gguf_with_pre(src: pathlib.Path, dst: pathlib.Path, pre: str) -> None:
    """A copy of src with tokenizer.ggml.pre replaced. The files hold no tensors, so the
    key-value is spliced in place (gguf-py's reader gives its offset and size) instead of
    rewriting 10^5 tokens and merges through GGUFWriter for each of ~100 copies."""
    field = gguf.GGUFReader(src).fields["tokenizer.ggml.pre"]
    size = sum(part.nbytes for part in field.parts)
    data = src.read_bytes()
    key, value = b"tokenizer.ggml.pre", pre.encode()
    kv = (struct.pack("<Q", len(key)) + key + struct.pack("<I", int(gguf.GGUFValueType.STRING))
          + struct.pack("<Q", len(value)) + value)
    assert data[field.offset:field.offset + 8 + len(key)] == kv[:8 + len(key)]
    dst.write_bytes(data[:field.offset] + kv + data[field.offset + size:])


@pytest.fixture(scope="session")
def pre_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("pre")


def test_pre_alias_list_matches_loom_error(loom_bin, fixtures_dir, pre_dir):
    """The aliases read from the source are the ones the binary lists as known."""
    path = pre_dir / "no-such-pre.gguf"
    gguf_with_pre(fixtures_dir / "vocab/ggml-vocab-gpt-2.gguf", path, "no-such-pre")
    proc = run([loom_bin, "tokenize", "-m", path, "x"])
    m = re.search(r"\(known: ([^)]*)\)", proc.stderr)
    assert m, proc.stderr
    assert m.group(1).split(", ") == PRE_ALIASES


@pytest.mark.parametrize("alias", PRE_ALIASES)
@pytest.mark.parametrize("base", PRE_BASES)
def test_pre_tokenizer_matches_llamacpp(loom_bin, fixtures_dir, pre_dir, base, alias):
    path = pre_dir / f"{base}-{alias}.gguf"
    gguf_with_pre(fixtures_dir / f"vocab/ggml-vocab-{base}.gguf", path, alias)
    try:
        reference(str(path))
    except ValueError as e:
        pytest.skip(f"llama.cpp does not load tokenizer.ggml.pre = {alias!r}: {e}")
    try:
        failures = compare_batched(loom_bin, path, [t for t in TEXTS if t.kind != tokenizer_texts.LONG])
        mode_texts = [TEXT_BY_NAME[n] for n in PRE_MODE_TEXTS]
        failures += compare_per_text(loom_bin, path, mode_texts, True, False)
    finally:
        drop_reference(str(path))
    assert not failures, report(f"{base} with pre {alias!r}", failures)


def test_unknown_pre_is_an_error(loom_bin, fixtures_dir, pre_dir):
    path = pre_dir / "unknown-pre.gguf"
    gguf_with_pre(fixtures_dir / "vocab/ggml-vocab-gpt-2.gguf", path, "no-such-pre")
    message = assert_one_error_line(run([loom_bin, "tokenize", "-m", path, "--format", "ids", "x"]))
    assert '"no-such-pre"' in message and "tokenizer.ggml.pre" in message


# ---- (c) SentencePiece -----------------------------------------------------------------------

SPM_PAIRS = {
    # id: (tokenizer.model, GGUF, most texts allowed to differ from SentencePiece)
    "llama2": ("tokenizer.model", "vocab/ggml-vocab-llama-spm.gguf", 3),
    "tok512": ("tok512.model", "stories260K.gguf", 30),
}


@functools.lru_cache(maxsize=None)
def sentencepiece_model(path: str):
    return sentencepiece.SentencePieceProcessor(model_file=path)


@pytest.mark.parametrize("pair", list(SPM_PAIRS))
def test_sentencepiece_model_is_the_gguf_vocab(fixtures_dir, pair):
    model, gguf_name, _ = SPM_PAIRS[pair]
    sp = sentencepiece_model(str(fixtures_dir / model))
    meta = metadata(fixtures_dir / gguf_name)
    tokens = meta["tokenizer.ggml.tokens"].items
    scores = meta["tokenizer.ggml.scores"].items
    assert sp.get_piece_size() == len(tokens)
    differ = [i for i in range(len(tokens)) if sp.id_to_piece(i) != tokens[i]]
    assert not differ, f"pieces differ at ids {differ[:20]}"
    assert all(abs(sp.get_score(i) - float(scores[i])) <= 1e-6 for i in range(len(tokens)))
    assert sp.bos_id() == 1 and sp.eos_id() == 2 and sp.unk_id() == 0


@pytest.mark.parametrize("pair", list(SPM_PAIRS))
def test_sentencepiece_matches_loom(loom_bin, fixtures_dir, pair):
    model, gguf_name, allowed = SPM_PAIRS[pair]
    sp = sentencepiece_model(str(fixtures_dir / model))
    path = fixtures_dir / gguf_name
    texts = [t for t in TEXTS if t.valid_utf8]
    loom = loom_ids_many(loom_bin, path, texts, True, False)
    known, failures = [], []
    for t in texts:
        want = tuple([sp.bos_id()] + sp.encode(t.data.decode("utf-8")))
        if loom[t.name] == want:
            continue
        ref = reference_ids(str(path), t.data, True, False)
        if ref == loom[t.name]:
            known.append(mismatch(t, loom[t.name], want, "spm"))
        else:
            failures.append(mismatch(t, loom[t.name], want, "spm") + f"\n    llama.cpp: {show_ids(ref)}")
    print(f"\n{pair}: {len(known)} of {len(texts)} texts where SentencePiece differs from "
          f"llama.cpp and Loom (llama.cpp agrees with Loom):\n" + "\n".join(known))
    assert not failures, report(f"{pair}: Loom differs from both SentencePiece and llama.cpp",
                                failures)
    assert len(known) <= allowed, report(f"{pair}: too many SentencePiece differences", known)


# ---- (d) pieces and the round trip -------------------------------------------------------------

PIECE_TEXTS = ["hello", "special-mixed", "special-gemma-turn", "special-phi3", "special-unk",
               "special-deepseek", "cjk", "emoji-zwj", "combining", "invalid-mixed",
               "byte-token-text", "sentencepiece-space", "code-python", "spaces-newlines"]


def display(piece: bytes) -> str:
    """What `loom tokenize --format pieces` shows for a piece (cli/tokenize_command.cpp):
    valid UTF-8 kept; control characters, DEL and invalid bytes escaped."""
    out, i = [], 0
    while i < len(piece):
        c = piece[i]
        n = 1 if c < 0xC0 else 2 if c < 0xE0 else 3 if c < 0xF0 else 4
        seq = piece[i:i + n]
        valid = True
        try:
            seq.decode("utf-8")
        except UnicodeDecodeError:
            valid = False
        if c < 0x20 or c == 0x7F or (c >= 0x80 and not valid):
            out.append({0x0A: "\\n", 0x09: "\\t", 0x0D: "\\r"}.get(c, f"\\x{c:02x}"))
            i += 1
            continue
        out.append(seq.decode("utf-8"))
        i += len(seq)
    return "".join(out)


@pytest.mark.parametrize("name", VOCABS)
def test_pieces_match_llamacpp(loom_bin, vocab_path, name):
    """Each token's piece (control tokens rendered) is llama.cpp's piece with special=True:
    in JSON, invalid UTF-8 (a byte token, half a character) becomes U+FFFD as Python's
    decode(errors="replace") does; `--format pieces` escapes it byte by byte."""
    path = vocab_path(name)
    ref = reference(str(path))
    failures = []
    for text_name in PIECE_TEXTS:
        t = TEXT_BY_NAME[text_name]
        tokens = loom_json(loom_bin, path, t.data, True, True)
        shown = loom_pieces_format(loom_bin, path, t.data, True, True)
        ids = [tok["id"] for tok in tokens]
        assert ids == list(loom_ids(str(loom_bin), str(path), t.data, True, True)), t.label()
        assert [i for i, _ in shown] == ids, t.label()
        for tok, (_, shown_piece) in zip(tokens, shown):
            want = ref.piece(tok["id"], special=True)
            if tok["piece"] != want.decode("utf-8", errors="replace"):
                failures.append(f"  {t.name}: id {tok['id']} json piece {tok['piece']!r}, "
                                f"llama.cpp {want!r}")
            if shown_piece != display(want):
                failures.append(f"  {t.name}: id {tok['id']} pieces-format {shown_piece!r}, "
                                f"expected {display(want)!r} (llama.cpp {want!r})")
    assert not failures, report(f"{name} pieces", sorted(set(failures)))


def loom_piece_bytes(loom_bin, path, data) -> list:
    """Loom's pieces of data (no BOS, no special parsing) as bytes: the JSON piece, or where
    JSON had to replace invalid UTF-8, the bytes `--format pieces` escaped."""
    tokens = loom_json(loom_bin, path, data, False, False)
    shown = None
    pieces = []
    for k, tok in enumerate(tokens):
        if "\ufffd" not in tok["piece"] or b"\xef\xbf\xbd" in data:
            pieces.append(tok["piece"].encode("utf-8"))
            continue
        if shown is None:
            shown = loom_pieces_format(loom_bin, path, data, False, False)
        assert re.fullmatch(r"(\\x[0-9a-f]{2}|[^\\])*", shown[k][1]), shown[k]
        pieces.append(re.sub(rb"\\x([0-9a-f]{2})", lambda m: bytes([int(m.group(1), 16)]),
                             shown[k][1].encode("utf-8")))
    return pieces


@pytest.mark.parametrize("name", SPM_VOCABS)
def test_pieces_round_trip(loom_bin, vocab_path, name):
    """Concatenated pieces give back the text, plus the leading space SentencePiece adds
    when tokenizer.ggml.add_space_prefix is true (the default; false for Gemma 3)."""
    path = vocab_path(name)
    add_space_prefix = metadata(path).get("tokenizer.ggml.add_space_prefix", True)
    texts = [t for t in TEXTS if t.valid_utf8 and t.kind != tokenizer_texts.LONG]
    if name == "DEFAULT_MODEL":  # a slower vocabulary to load: the edge texts only
        texts = [t for t in texts if t.kind == tokenizer_texts.EDGE]
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        pieces = dict(zip([t.name for t in texts],
                          pool.map(lambda t: loom_piece_bytes(loom_bin, path, t.data), texts)))
    failures = []
    for t in texts:
        want = (b" " if add_space_prefix and t.data else b"") + t.data
        got = b"".join(pieces[t.name])
        if got != want:
            failures.append(f"  {t.label()}\n    pieces give {got[:120]!r}")
    assert not failures, report(f"{name} round trip", failures)


# ---- (e) errors ------------------------------------------------------------------------------

def assert_one_error_line(proc) -> str:
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert proc.stdout == ""
    assert proc.stderr.endswith("\n") and proc.stderr.count("\n") == 1, repr(proc.stderr)
    return proc.stderr.strip()


def test_missing_model_file(loom_bin, tmp_path):
    path = tmp_path / "nothing-here.gguf"
    message = assert_one_error_line(run([loom_bin, "tokenize", "-m", path, "hello"]))
    assert str(path) in message


def test_gguf_without_tokenizer(loom_bin, tmp_path):
    path = tmp_path / "no-tokenizer.gguf"
    writer = gguf.GGUFWriter(str(path), arch="llama")
    writer.add_name("no tokenizer")
    writer.add_context_length(128)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    message = assert_one_error_line(run([loom_bin, "tokenize", "-m", path, "hello"]))
    assert str(path) in message and "tokenizer" in message


def test_wordpiece_is_not_implemented(loom_bin, fixtures_dir):
    path = fixtures_dir / "vocab/ggml-vocab-bert-bge.gguf"
    message = assert_one_error_line(run([loom_bin, "tokenize", "-m", path, "hello"]))
    assert str(path) in message and '"bert"' in message and "not implemented" in message
