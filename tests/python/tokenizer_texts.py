# The text corpus of the tokenizer comparison tests (test_tokenizer.py) and of
# bench/tokenize_vs_llamacpp.py, built in code so that it is deterministic and reviewable:
# edge cases (empty text, whitespace runs, line ends, special-token look-alikes, invalid
# UTF-8 given as bytes), scripts and emoji, code, numbers, contractions, URLs, markdown,
# very long words, one ~100k-character text, and seeded random mixtures of all of these.
# Every text is bytes (what `loom tokenize --file` reads and llama.cpp's tokenize takes).
# Not here: any expected token ids; the tests get those from the reference libraries.
import dataclasses
import random

# Texts of the kind "edge" are also compared one by one (with add_special); all of them are
# compared in one joined run per vocabulary (see test_tokenizer.py). Keep the corpus
# small: the suite runs one `loom tokenize` process per text and vocabulary.
EDGE = "edge"
BULK = "bulk"
LONG = "long"


@dataclasses.dataclass(frozen=True)
class Text:
    name: str
    data: bytes
    kind: str = BULK

    @property
    def valid_utf8(self) -> bool:
        try:
            self.data.decode("utf-8", errors="strict")
        except UnicodeDecodeError:
            return False
        return True

    def label(self, limit: int = 80) -> str:
        """name and a repr of the text, truncated, for failure messages."""
        shown = self.data if len(self.data) <= limit else self.data[:limit] + b"..."
        try:
            body = repr(shown.decode("utf-8"))
        except UnicodeDecodeError:
            body = repr(shown)
        return f"{self.name} ({len(self.data)} bytes) {body}"


def _t(name, text, kind=BULK) -> Text:
    return Text(name, text if isinstance(text, bytes) else text.encode("utf-8"), kind)


# ---- hand-written texts ----------------------------------------------------------------------

_EDGE_TEXTS = [
    ("empty", ""),
    ("space", " "),
    ("two-spaces", "  "),
    ("whitespace-run", "   \t  \t"),
    ("newline", "\n"),
    ("crlf", "\r\n"),
    ("newlines", "\n\n\n"),
    ("tab", "\t"),
    ("tab-indented", "\t\tindented\n\t  mixed"),
    ("leading-space", " leading space"),
    ("trailing-space", "trailing space "),
    ("both-spaces", "  both  ends  "),
    ("spaces-newlines", "a \n b  \n\n  c   \r\n d"),
    ("nul-byte", "a\x00b"),
    ("hello", "Hello world"),
    ("hello-caps", " Hello World! HELLO"),
    ("single-letter", "a"),
    ("unicode-spaces", "nbsp\u00a0thin\u2009ideo\u3000ls\u2028end\u0085x"),
    ("contractions", "don't won't I'd they're we've she'll it's y'all"),
    ("contractions-upper", "I'M HERE, YOU'LL SEE, IT'S WE'RE THEY'VE SHE'D DON'T 'S 'LL"),
    ("apostrophes", "'s 'tis '' ''' rock 'n' roll \u2019s l'homme"),
    ("digits", "0 12 123 1234 12345 123456 1234567 12345678901234567890"),
    ("decimals", "3.14159 -0.001 1e10 6.02e23 1,000,000.50 .5 5."),
    ("cjk", "你好，世界。日本語のテキストです。"),
    ("emoji-zwj", "\U0001F468\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466 "
                  "\U0001F3F3\ufe0f\u200d\U0001F308 \U0001F44D\U0001F3FD\U0001F600"),
    ("combining", "e\u0301 n\u0303 a\u0308\u0304 Z\u0351\u0364\u0322 \u1100\u1161\u11a8"),
    ("arabic", "مرحبا بالعالم، كيف حالك؟ ١٢٣"),
    ("hindi", "नमस्ते दुनिया। क्षत्रिय ज्ञान ०१२"),
    ("thai", "สวัสดีชาวโลก ภาษาไทยไม่มีช่องว่าง"),
    ("korean", "안녕하세요 세계 한국어 텍스트"),
    ("mixed-scripts", "Hello мир κόσμος 世界 عالم שלום 123 abc٣٤٥"),
    ("punct-repeat", "!!!???...,,,;;;:::---___***((()))[[[]]]"),
    ("ellipsis", "Wait... what?! \u2026 \u201cquoted\u201d \u2014 dash"),
    # Strings that look like special tokens of one vocabulary or another.
    ("special-s", "<s>"),
    ("special-end-s", "</s>"),
    ("special-unk", "<unk>"),
    ("special-endoftext", "<|endoftext|>"),
    ("special-gemma-turn", "<start_of_turn>user\nHi there<end_of_turn>\n<start_of_turn>model\n"),
    ("special-cls", "[CLS] query [SEP] doc [SEP] [MASK] [PAD]"),
    ("special-mixed", "a<s>b</s>c <|endoftext|> d<bos><eos><pad>"),
    ("special-phi3", "<|user|>\nHi<|end|>\n  <|assistant|>  ok<|end|>"),
    ("special-deepseek", "<\uff5cbegin\u2581of\u2581sentence\uff5c>x<\uff5cend\u2581of\u2581sentence\uff5c>"),
    ("special-partial", "<|endoftext| <s <|end <start_of_turn"),
    ("sentencepiece-space", "\u2581already\u2581escaped \u2581"),
    ("byte-token-text", "<0x0A> <0xFF>"),
    # Invalid UTF-8.
    ("invalid-lone-continuation", b"\x80"),
    ("invalid-continuations", b"ab\x80\xbf\x80cd"),
    ("invalid-ff", b"abc\xffdef\xfe"),
    ("invalid-truncated-2", b"x\xc3"),
    ("invalid-truncated-3", b"\xe4\xb8 after"),
    ("invalid-truncated-4", b"\xf0\x9f\x98x"),
    ("invalid-overlong", b"\xc0\xaf \xe0\x80\xaf \xf0\x80\x80\xaf"),
    ("invalid-surrogate", b"\xed\xa0\x80\xed\xbf\xbf"),
    ("invalid-above-max", b"\xf4\x90\x80\x80 \xf7\xbf\xbf\xbf"),
    ("invalid-mixed", b"Hello \xe4\xbd\xa0\xe5\xa5 world\xff \xc3\xa9t\xc3\xa9 \x80"),
]

_CODE_TEXTS = [
    ("code-python", '''import os


def main(argv: list[str]) -> int:
    """Print the arguments."""
    for i, arg in enumerate(argv):
        if arg.startswith("--"):
            print(f"{i:3d}: {arg!r}\\n", end="")
        else:
            print('  ', arg, sep='\\t')
    return 0  # done


if __name__ == "__main__":
    raise SystemExit(main(os.sys.argv))
'''),
    ("code-c", '''#include <stdio.h>

int main(int argc, char **argv) {
\tfor (int i = 0; i < argc; ++i) {
\t\tprintf("%d: %s\\n", i, argv[i]);
\t}
\treturn argc > 1 ? 0 : -1; /* no args */
}
'''),
    ("code-js", '''const add = (a, b) => a + b;
export default async function fetchAll(urls) {
  const results = await Promise.all(urls.map(u => fetch(u).then(r => r.json())));
  return results.filter(Boolean).reduce((acc, x) => ({ ...acc, [x.id]: x }), {});
}
// `template ${literal}` === 'quoted' !== "double"
'''),
    ("code-rust", '''fn main() -> Result<(), Box<dyn std::error::Error>> {
    let v: Vec<u64> = (1..=10).map(|x| x * x).collect();
    println!("{:?} {}", v, v.iter().sum::<u64>());
    match v.get(3) { Some(&n) if n > 5 => Ok(()), _ => Err("bad".into()) }
}
'''),
    ("code-shell", '''#!/bin/sh
set -eu
for f in *.gguf; do
  [ -f "$f" ] || continue
  echo "${f%.gguf}: $(wc -c < "$f") bytes" >> /tmp/out.log 2>&1 && ls -la | grep -v '^d'
done
'''),
    ("code-json", '{"model": "llama", "n_ctx": 4096, "rope": {"base": 1e4, "scale": null}, "ok": true}'),
    ("code-html", '<div class="x"><a href="/a?b=1&amp;c=2">link</a><br/></div>'),
]

_OTHER_TEXTS = [
    ("url", "See https://example.com/path/to/page?query=1&x=%20y#frag and http://a.b.c:8080/ or "
            "ftp://files.example.org/pub/file.tar.gz, mailto:someone@example.com."),
    ("markdown", "# Title\n\n## Sub-title\n\n- item **bold** and _italic_\n- `code` and [link](http://x.y)\n\n"
                 "```python\nprint('hi')\n```\n\n> quote\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"),
    ("long-number", "".join(str(i % 10) for i in range(1, 201))),
    ("numbers-mixed", "v1.2.3 0x1F 0b1010 1_000_000 12:30:45 2024-01-15 +49 (0)30 123456 ²³ ½ Ⅻ ٣"),
    ("long-word", "supercalifragilisticexpialidocious" * 30),
    ("long-repeat-a", "a" * 3000),
    ("long-spaces", " " * 500 + "x" + " " * 500),
    ("long-newlines", "\n" * 300 + "end"),
    ("long-cjk", "汉字漢字かなカナ한글" * 200),
    ("long-punct", "=-" * 400),
    ("long-emoji", "\U0001F600\U0001F680\u2764\ufe0f" * 200),
    ("pangrams", "The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs! "
                 "Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich. Voix ambiguë d'un cœur."),
    ("case-mix", "camelCaseWord PascalCase snake_case SCREAMING_CASE kebab-case McDonald's iPhone ÉCOLE"),
    ("line-ends", "line1\nline2\r\nline3\rline4\n\rline5\u2029line6"),
    ("greek-cyrillic", "Αυτό είναι ελληνικά. Это русский текст, ёлка. Українська мова: їжак, ґанок."),
    ("hebrew-persian", "עברית עם ניקוד: שָׁלוֹם. فارسی: سلام دنیا ۱۲۳"),
    ("bengali-tamil", "বাংলা ভাষা তামিল: தமிழ் மொழி"),
    ("vietnamese", "Tiếng Việt có dấu: Xin chào thế giới, cảm ơn bạn nhiều."),
    ("math", "∀x∈ℝ: x² ≥ 0, ∑ᵢ aᵢ = ∫₀^∞ f(t) dt ≈ π ≠ ∞ → ⊥ ∧ ¬⊤"),
    ("box-drawing", "┌──┐\n│ab│\n└──┘ ░▒▓█"),
    ("fullwidth", "ＡＢＣ１２３！？（全角）"),
    ("tabs-table", "name\tvalue\tunit\nalpha\t1.5\tm/s\nbeta\t-2\t\n"),
]

# Fragments the random mixtures draw from: every class of character the pre-tokenizers
# treat differently (letters of several scripts and cases, digits, punctuation, each
# kind of whitespace, marks, emoji, special-token look-alikes).
_FRAGMENTS = [
    "the", "The", "THE", "word", "Hello", "world", "a", "I", "x", "état", "Straße", "naïve",
    "мир", "Ωμέγα", "世界", "日本語", "한국어", "مرحبا", "नमस्ते", "ไทย", "שלום",
    "0", "7", "42", "123", "2024", "3.14", "1,000", "٣٤", "१२",
    ".", ",", "!", "?", "...", "'", "\"", "'s", "'S", "'ll", "'LL", "n't", "(", ")", "{", "}",
    "[", "]", "<", ">", "/", "\\", "-", "_", "=", "+", "*", "&", "#", "@", "$", "%", "^", "~",
    "|", "`", ";", ":", "\u2026", "\u201c", "\u201d", "\u2019", "\u3002", "\uff0c",
    " ", " ", " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", "\r", " \n", "\u00a0", "\u3000",
    "\u2009", "\u200b", "\u0301", "\u0308", "\u093f", "\U0001F600", "\U0001F44D\U0001F3FD",
    "\u200d", "\ufe0f", "\u2581", "<s>", "</s>", "<|endoftext|>", "<start_of_turn>", "<unk>",
    "[CLS]", "<0x41>",
]


def random_mixture(rng: random.Random, n_fragments: int) -> str:
    return "".join(rng.choice(_FRAGMENTS) for _ in range(n_fragments))


def _random_texts(count: int, seed: int) -> list:
    rng = random.Random(seed)
    texts = []
    for i in range(count):
        n = rng.choice([1, 2, 3, 5, 8, 13, 21, 40, 80])
        texts.append(_t(f"random-{seed}-{i}", random_mixture(rng, n)))
    return texts


def long_text(n_chars: int = 100_000, seed: int = 7) -> str:
    """A deterministic text of exactly n_chars characters: random mixtures interleaved
    with the hand-written texts, so every character class occurs throughout."""
    rng = random.Random(seed)
    valid = [t.data.decode("utf-8") for t in _hand_written() if t.valid_utf8 and t.data]
    parts = []
    total = 0
    while total < n_chars:
        part = rng.choice(valid) if rng.random() < 0.3 else random_mixture(rng, rng.randint(5, 60))
        parts.append(part)
        total += len(part)
    return "".join(parts)[:n_chars]


def _hand_written() -> list:
    return ([_t(n, s, EDGE) for n, s in _EDGE_TEXTS] + [_t(n, s) for n, s in _CODE_TEXTS]
            + [_t(n, s) for n, s in _OTHER_TEXTS])


def corpus() -> list:
    """Every text of the tokenizer tests, in a fixed order, with unique names."""
    texts = _hand_written() + _random_texts(40, seed=1234)
    texts.append(_t("long-100k", long_text(), LONG))
    names = [t.name for t in texts]
    assert len(names) == len(set(names)), "duplicate text names"
    return texts


def mixed_text(n_bytes: int, seed: int = 99) -> bytes:
    """About n_bytes of valid UTF-8 drawn from the corpus (for benchmarks)."""
    rng = random.Random(seed)
    pool = [t.data for t in corpus() if t.valid_utf8 and t.data and t.kind != LONG]
    out = []
    size = 0
    while size < n_bytes:
        piece = rng.choice(pool) if rng.random() < 0.5 else random_mixture(
            rng, rng.randint(10, 100)).encode("utf-8")
        out.append(piece)
        size += len(piece)
    return b"".join(out)
