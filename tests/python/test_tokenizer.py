# `loom tokenize` against the reference tokenizers, on the corpus of tokenizer_texts.py:
#  - llama.cpp (llama-cpp-python, vocab_only) on every SentencePiece-style, byte-level BPE and
#    WordPiece fixture vocabulary, stories260K and the Gemma 3 model: identical token ids with
#    (add_special, parse_special) = (True, False) and (False, True);
#  - llama.cpp on copies of the gpt-2 and deepseek-llm vocabularies with tokenizer.ggml.pre
#    set to every alias of Loom's pre-tokenizer table (src/tokenizer/pre_tokenizer.cpp);
#  - the sentencepiece library on the Llama 2 and stories260K tokenizer.model files; where it
#    and Loom differ, llama.cpp must agree with Loom (recorded, known SentencePiece vs
#    llama.cpp differences) and there must be few such texts;
#  - token pieces (`--format json` and `--format pieces`) against llama.cpp's
#    llama_token_to_piece, and the round trip pieces -> text on the SentencePiece vocabularies;
#  - error cases: a missing file, a GGUF without a tokenizer, a tokenizer.ggml.model Loom does
#    not implement (t5, rwkv) or without a vocabulary, an unknown pre-tokenizer (and
#    --pre-fallback) exit 1 with one line on stderr and nothing on stdout.
# Cost (the suite must fit ~2 minutes on 2 cores): `loom tokenize` takes one text per process,
# so texts run one by one only where it matters (the "edge" texts with add_special, the
# longest text), and otherwise the corpus runs as one text joined by a control token with
# parse_special: llama.cpp and Loom tokenize each part between special tokens on its own, so
# that comparison covers every text, and a mismatch is reported per text.
# llama.cpp aborts on code points above U+10FFFF in BPE and WordPiece; see reference_input.
# Not here: decoding of whole sequences (Tokenizer::decode), the streaming decoder.
import concurrent.futures
import ctypes
import functools
import hashlib
import json
import os
import pathlib
import re
import struct
import tempfile
import threading

import gguf
import llama_cpp
import pytest
import sentencepiece

import tokenizer_texts
from conftest import metadata, run

TEXTS = tokenizer_texts.corpus()
TEXT_BY_NAME = {t.name: t for t in TEXTS}
VOCAB_SPM, VOCAB_BPE, VOCAB_WPM = 1, 2, 3  # llama_vocab_type
ATTR_LSTRIP, ATTR_RSTRIP = 1 << 7, 1 << 8   # llama_token_attr
WORKERS = 2  # concurrent `loom tokenize` processes: the CI machine has 2 cores


# ---- the vocabularies ------------------------------------------------------------------------

def vocab_names() -> list:
    """The compared files, relative to LOOM_FIXTURES ("DEFAULT_MODEL" for the Gemma model):
    every vocab/ file (SentencePiece-style, byte-level BPE, WordPiece), stories260K, Gemma 3."""
    root = os.environ.get("LOOM_FIXTURES")
    names = []
    if root and pathlib.Path(root, "vocab").is_dir():
        names = [f"vocab/{p.name}" for p in sorted(pathlib.Path(root, "vocab").glob("*.gguf"))]
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
    """The text given to llama.cpp for data. llama.cpp's byte-level BPE and WordPiece abort
    the process on a code point above U+10FFFF (unicode_cpt_to_utf8 throws
    std::invalid_argument "invalid codepoint" and nothing catches it); Loom documents that
    it treats such a sequence as U+FFFD (tokenizer.h), so llama.cpp gets U+FFFD in its place."""
    spans = above_max_sequences(data)
    if not spans or reference(path).vocab_type() == VOCAB_SPM:
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
_tmp_lock = threading.Lock()


def _text_file(data: bytes) -> str:
    """A temporary file holding data (one per distinct text, kept for the session; called
    from several threads)."""
    global _tmp_dir
    with _tmp_lock:
        if _tmp_dir is None:
            _tmp_dir = tempfile.TemporaryDirectory(prefix="loom-tokenize-")
        path = os.path.join(_tmp_dir.name, hashlib.sha1(data).hexdigest() + ".txt")
        if not os.path.exists(path):
            with open(path + ".tmp", "wb") as f:
                f.write(data)
            os.replace(path + ".tmp", path)
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


@pytest.mark.parametrize("name", VOCABS)
def test_vocab_add_special_matches_llamacpp(loom_bin, vocab_path, name):
    """add_special, no parse_special: the edge texts and the 100k-character text, one by one.
    (The other texts differ from the joined run below only by BOS/EOS, which the edge texts
    cover, and by special-token look-alikes staying text, which "special-*" texts cover.)"""
    path = vocab_path(name)
    assert reference(str(path)).vocab_type() in (VOCAB_SPM, VOCAB_BPE, VOCAB_WPM)
    texts = [t for t in TEXTS if t.kind != tokenizer_texts.BULK]
    failures = compare_per_text(loom_bin, path, texts, True, False)
    assert not failures, report(f"{name} (add_special)", failures)


@pytest.mark.parametrize("name", VOCABS)
def test_vocab_parse_special_matches_llamacpp(loom_bin, vocab_path, name):
    """parse_special, no add_special: every text but the longest joined by a control token,
    and the longest on its own."""
    path = vocab_path(name)
    assert reference(str(path)).vocab_type() in (VOCAB_SPM, VOCAB_BPE, VOCAB_WPM)
    failures = compare_batched(loom_bin, path, [t for t in TEXTS if t.kind != tokenizer_texts.LONG])
    failures += compare_per_text(loom_bin, path, [t for t in TEXTS if t.kind == tokenizer_texts.LONG],
                                 False, True)
    assert not failures, report(f"{name} (parse_special)", failures)


# ---- (b) every pre-tokenizer alias in Loom's table ----------------------------------------------

def loom_pre_alias_lists() -> list:
    """tokenizer.ggml.pre values in Loom's table, one list per spec (the k...Names arrays of
    src/tokenizer/pre_tokenizer.cpp)."""
    root = os.environ.get("LOOM_SOURCE_DIR")
    if not root:
        return [["default"]]  # collected without the environment: the fixtures fail clearly
    source = pathlib.Path(root, "src/tokenizer/pre_tokenizer.cpp").read_text()
    lists = [re.findall(r'"([^"]*)"', body)
             for body in re.findall(r"k\w+Names\s*=\s*\{(.*?)\};", source, re.S)]
    assert lists and all(lists), "no k...Names alias lists found in pre_tokenizer.cpp"
    return lists


PRE_ALIAS_LISTS = loom_pre_alias_lists()
PRE_ALIASES = [alias for names in PRE_ALIAS_LISTS for alias in names]
# Every alias on gpt-2's vocabulary; on deepseek-llm's (a larger vocabulary with CJK and
# digit tokens, slower to load) the first alias of each spec, to fit the time budget. Aliases
# of one Loom spec differ only in what gpt-2's copy already shows (BOS, llama.cpp's own regex).
PRE_CASES = ([("gpt-2", alias) for alias in PRE_ALIASES]
             + [("deepseek-llm", names[0]) for names in PRE_ALIAS_LISTS])
# The corpus for each alias: not the longest text (time), nor the surrogates, which Loom turns
# into U+FFFD before any pre-tokenizer runs (the vocabulary tests above show that mismatch);
# here it would make every alias fail alike and hide the pre-tokenizer differences.
PRE_TEXTS = [t for t in TEXTS if t.kind != tokenizer_texts.LONG and t.name != "invalid-surrogate"]
# Texts also run with add_special and without parse_special: BOS/EOS on an empty text and
# around special-token look-alikes that must stay text.
PRE_MODE_TEXTS = ["empty", "special-mixed"]


def gguf_with_string(src: pathlib.Path, dst: pathlib.Path, key: str, value: str) -> None:
    """A copy of src, a vocab-only file (no tensors, so nothing follows the key-values that
    an offset could point into), with the string value of key replaced: the key-value pair
    (GGUF: u64 key length, key, u32 type 8 = string, u64 length, bytes) is spliced in place.
    Rewriting 10^5 tokens and merges through gguf-py's GGUFWriter, or even opening the file
    with its GGUFReader (2-5 s here), for each of ~70 copies would take minutes. llama.cpp
    and Loom both read the copies; a bad splice fails both loudly."""
    data = src.read_bytes()
    head = struct.pack("<Q", len(key)) + key.encode()
    at = data.find(head)
    assert at > 0 and data.find(head, at + 1) < 0, f"{src}: one {key!r} key expected"
    vtype, length = struct.unpack_from("<IQ", data, at + len(head))
    assert vtype == int(gguf.GGUFValueType.STRING), f"{src}: {key!r} is not a string"
    end = at + len(head) + 12 + length
    encoded = value.encode()
    kv = head + struct.pack("<IQ", vtype, len(encoded)) + encoded
    dst.write_bytes(data[:at] + kv + data[end:])


def gguf_with_pre(src: pathlib.Path, dst: pathlib.Path, pre: str) -> None:
    gguf_with_string(src, dst, "tokenizer.ggml.pre", pre)


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


@pytest.mark.parametrize("base,alias", PRE_CASES, ids=[f"{b}-{a}" for b, a in PRE_CASES])
def test_pre_tokenizer_matches_llamacpp(loom_bin, fixtures_dir, pre_dir, base, alias):
    path = pre_dir / f"{base}-{alias}.gguf"
    gguf_with_pre(fixtures_dir / f"vocab/ggml-vocab-{base}.gguf", path, alias)
    try:
        reference(str(path))
    except ValueError as e:
        pytest.skip(f"llama.cpp does not load tokenizer.ggml.pre = {alias!r}: {e}")
    try:
        failures = compare_batched(loom_bin, path, PRE_TEXTS)
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


def test_unknown_pre_with_fallback(loom_bin, fixtures_dir, pre_dir):
    """--pre-fallback gpt-2 on a gpt-2 copy with an unknown pre tokenizes as gpt-2 does."""
    path = pre_dir / "unknown-pre-fallback.gguf"
    gguf_with_pre(fixtures_dir / "vocab/ggml-vocab-gpt-2.gguf", path, "no-such-pre")
    data = TEXT_BY_NAME["random-1234-10"].data
    proc = run([loom_bin, "tokenize", "-m", path, "--pre-fallback", "gpt-2", "--file", _text_file(data)])
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    gpt2 = str(fixtures_dir / "vocab/ggml-vocab-gpt-2.gguf")
    assert [int(x) for x in proc.stdout.split()] == list(reference_ids(gpt2, data, True, False))


# ---- (c) SentencePiece -----------------------------------------------------------------------

SPM_PAIRS = {
    # id: (tokenizer.model, GGUF, whether its normalizer removes extra spaces)
    "llama2": ("tokenizer.model", "vocab/ggml-vocab-llama-spm.gguf", False),
    "tok512": ("tok512.model", "stories260K.gguf", True),
}
# Most texts where SentencePiece may differ from both Loom and llama.cpp (which agree) for a
# reason other than the space normalization below.
SPM_UNEXPLAINED_ALLOWED = 2


@functools.lru_cache(maxsize=None)
def sentencepiece_model(path: str):
    return sentencepiece.SentencePieceProcessor(model_file=path)


def remove_extra_spaces(text: str) -> str:
    """SentencePiece's normalizer with remove_extra_whitespaces: no leading or trailing
    spaces, runs of spaces collapsed to one (other whitespace is kept). llama.cpp never
    applies it; GGUF has no field for it."""
    return re.sub(" +", " ", text).strip(" ")


@pytest.mark.parametrize("pair", list(SPM_PAIRS))
def test_sentencepiece_model_is_the_gguf_vocab(fixtures_dir, pair):
    model, gguf_name, removes_spaces = SPM_PAIRS[pair]
    sp = sentencepiece_model(str(fixtures_dir / model))
    meta = metadata(fixtures_dir / gguf_name)
    tokens = meta["tokenizer.ggml.tokens"].items
    scores = meta["tokenizer.ggml.scores"].items
    assert sp.get_piece_size() == len(tokens)
    differ = [i for i in range(len(tokens)) if sp.id_to_piece(i) != tokens[i]]
    assert not differ, f"pieces differ at ids {differ[:20]}"
    assert all(abs(sp.get_score(i) - float(scores[i])) <= 1e-6 for i in range(len(tokens)))
    assert sp.bos_id() == 1 and sp.eos_id() == 2 and sp.unk_id() == 0
    assert (sp.encode("a  b ") == sp.encode("a b")) == removes_spaces


@pytest.mark.parametrize("pair", list(SPM_PAIRS))
def test_sentencepiece_matches_loom(loom_bin, fixtures_dir, pair):
    """SentencePiece's ids (BOS first) against Loom's with add_special. Where they differ,
    llama.cpp must give Loom's ids; such a difference is explained when SentencePiece's ids
    are Loom's for the text with extra spaces removed (tok512.model's normalizer)."""
    model, gguf_name, removes_spaces = SPM_PAIRS[pair]
    sp = sentencepiece_model(str(fixtures_dir / model))
    path = fixtures_dir / gguf_name
    texts = [t for t in TEXTS if t.valid_utf8]
    loom = loom_ids_many(loom_bin, path, texts, True, False)
    spaces, unexplained, failures = [], [], []
    for t in texts:
        text = t.data.decode("utf-8")
        want = tuple([sp.bos_id()] + sp.encode(text))
        if loom[t.name] == want:
            continue
        ref = reference_ids(str(path), t.data, True, False)
        if ref != loom[t.name]:
            failures.append(mismatch(t, loom[t.name], want, "spm") + f"\n    llama.cpp: {show_ids(ref)}")
        elif removes_spaces and loom_ids(str(loom_bin), str(path), remove_extra_spaces(text).encode(),
                                         True, False) == want:
            spaces.append(t.name)
        else:
            unexplained.append(mismatch(t, loom[t.name], want, "spm"))
    print(f"\n{pair}: SentencePiece differs from Loom and llama.cpp (which agree) on "
          f"{len(spaces) + len(unexplained)} of {len(texts)} texts;\n  explained by "
          f"SentencePiece's removal of extra spaces ({len(spaces)}): {', '.join(spaces)}\n"
          f"  other ({len(unexplained)}):\n" + "\n".join(unexplained))
    assert not failures, report(f"{pair}: Loom differs from both SentencePiece and llama.cpp",
                                failures)
    assert len(unexplained) <= SPM_UNEXPLAINED_ALLOWED, report(
        f"{pair}: too many SentencePiece differences", unexplained)


# ---- (d) pieces and the round trip -------------------------------------------------------------

PIECE_TEXTS = ["hello", "special-mixed", "special-gemma-turn", "special-phi3", "special-unk",
               "special-deepseek", "cjk", "emoji-zwj", "combining", "invalid-mixed",
               "byte-token-text", "sentencepiece-space", "code-python", "spaces-newlines",
               "random-1234-10", "random-1234-11"]


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
    """Each token's piece is llama.cpp's llama_token_to_piece with special=True (control
    tokens rendered), for the tokens of PIECE_TEXTS joined by a control token, with
    add_special and parse_special. In JSON, invalid UTF-8 (a byte token, part of a
    character) becomes U+FFFD as Python's decode(errors="replace") does; `--format pieces`
    escapes it byte by byte. The ids themselves are compared in the tests above."""
    path = vocab_path(name)
    ref = reference(str(path))
    _, sep = ref.separator()
    data = sep.join(TEXT_BY_NAME[n].data for n in PIECE_TEXTS)
    tokens = loom_json(loom_bin, path, data, True, True)
    shown = loom_pieces_format(loom_bin, path, data, True, True)
    assert [i for i, _ in shown] == [tok["id"] for tok in tokens]
    failures = []
    for tok, (_, shown_piece) in zip(tokens, shown):
        want = ref.piece(tok["id"], special=True)
        if tok["piece"] != want.decode("utf-8", errors="replace"):
            failures.append(f"  id {tok['id']}: json piece {tok['piece']!r}, llama.cpp {want!r}")
        if shown_piece != display(want):
            failures.append(f"  id {tok['id']}: pieces-format {shown_piece!r}, expected "
                            f"{display(want)!r} (llama.cpp {want!r})")
    assert not failures, report(f"{name} pieces", sorted(set(failures)))


def loom_piece_bytes(loom_bin, path, data) -> list:
    """Loom's pieces of data (no BOS, no special parsing) as bytes: the JSON piece, or where
    JSON had to replace invalid UTF-8 (byte tokens of a character the vocabulary lacks), the
    bytes `--format pieces` escaped."""
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


# Round trip one by one: the edge texts on the quick vocabularies, a few on Gemma 3 (262k
# tokens take longer to load); then every valid text at once on each.
ROUND_TRIP_GEMMA = ["empty", "space", "two-spaces", "newline", "leading-space", "both-spaces",
                    "hello", "cjk", "emoji-zwj", "sentencepiece-space", "special-gemma-turn"]


@pytest.mark.parametrize("name", SPM_VOCABS)
def test_pieces_round_trip(loom_bin, vocab_path, name):
    """Concatenated pieces (no BOS, no special parsing) give back the text, with
      - one space more in front when tokenizer.ggml.add_space_prefix is true (the default
        for "llama" vocabularies; Gemma 3's file sets it false), none for an empty text;
      - U+2581 (SentencePiece's space mark) written in the text coming back as a space:
        the pieces cannot tell it from an escaped space (llama.cpp's pieces do the same,
        see test_pieces_match_llamacpp on "sentencepiece-space")."""
    path = vocab_path(name)
    prefix = reference(str(path)).llama.metadata.get("tokenizer.ggml.add_space_prefix", "true") == "true"
    valid = [t for t in TEXTS if t.valid_utf8 and t.kind != tokenizer_texts.LONG]
    if name == "DEFAULT_MODEL":
        texts = [TEXT_BY_NAME[n] for n in ROUND_TRIP_GEMMA]
    else:
        texts = [t for t in valid if t.kind == tokenizer_texts.EDGE]
    texts.append(tokenizer_texts.Text("all-valid-texts", b"".join(t.data for t in valid)))
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        pieces = list(pool.map(lambda t: loom_piece_bytes(loom_bin, path, t.data), texts))
    failures = []
    for t, p in zip(texts, pieces):
        want = (b" " if prefix and t.data else b"") + t.data.replace("\u2581".encode(), b" ")
        got = b"".join(p)
        if got != want:
            i = first_difference(got, want)
            failures.append(f"  {t.label()}\n    first difference at byte {i}: pieces give "
                            f"{got[max(0, i - 30):i + 50]!r}\n    expected {want[max(0, i - 30):i + 50]!r}")
    assert not failures, report(f"{name} round trip (add_space_prefix {prefix})", failures)


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


@pytest.mark.parametrize("model", ["t5", "rwkv", "no-such-model"])
def test_unsupported_tokenizer_model(loom_bin, fixtures_dir, tmp_path, model):
    """A tokenizer.ggml.model Loom does not implement (t5 = Unigram and rwkv are real ones)."""
    path = tmp_path / f"model-{model}.gguf"
    gguf_with_string(fixtures_dir / "vocab/ggml-vocab-llama-spm.gguf", path, "tokenizer.ggml.model", model)
    message = assert_one_error_line(run([loom_bin, "tokenize", "-m", path, "hello"]))
    assert str(path) in message and f'"{model}"' in message and "tokenizer.ggml.model" in message


def test_model_without_vocabulary(loom_bin, fixtures_dir, tmp_path):
    """tokenizer.ggml.model = "no_vocab" (llama.cpp's LLAMA_VOCAB_TYPE_NONE)."""
    path = tmp_path / "no-vocab.gguf"
    gguf_with_string(fixtures_dir / "vocab/ggml-vocab-llama-spm.gguf", path, "tokenizer.ggml.model", "no_vocab")
    message = assert_one_error_line(run([loom_bin, "tokenize", "-m", path, "hello"]))
    assert str(path) in message and '"no_vocab"' in message
