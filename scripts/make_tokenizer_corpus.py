#!/usr/bin/env python3
"""Generate the tokenizer parity corpus: JSONL lines {"text": ...}.

Deterministic (fixed seed, no data files, no network), so the >= 100k-text
corpus never needs to be committed: tests regenerate it. It covers:
  - every Unicode scalar value of planes 0-3 and 14 (plus samples of the
    others), alone and glued to letters, so every general category, control,
    format, private-use and unassigned code point goes through the pipeline;
  - sentences in many scripts and languages (hand-written samples plus
    words synthesized from each script's letters);
  - words built from the real WordPiece vocabulary (realistic subword splits);
  - emoji: ZWJ sequences, skin-tone modifiers, flags, keycaps, variation selectors;
  - combining-mark stacks in random canonical-class order (NFD reordering);
  - words around the 100-character WordPiece limit, before and after accent stripping;
  - texts far longer than 256 tokens (truncation), empty and whitespace-only texts;
  - special tokens ([CLS], [SEP], ...) inside text, partial and lowercase ones;
  - case-mapping edge cases (İ, Σ, ß, Georgian Mtavruli, Cherokee, Unicode-16 letters).

Usage: make_tokenizer_corpus.py OUT.jsonl [--count N] [--seed S] [--vocab tokenizer.json]
"""
import argparse
import json
import pathlib
import random
import sys
import unicodedata

DEFAULT_COUNT = 120_000
DEFAULT_SEED = 20240603
ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_VOCAB = ROOT / "models" / "all-MiniLM-L6-v2" / "tokenizer.json"

SAMPLE_SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Sentence embeddings map text to dense vectors for semantic search.",
    "Le cœur a ses raisons que la raison ne connaît point.",
    "Où est la bibliothèque ? Ça dépend, répondit-il à l'élève.",
    "Größere Übungen fördern die Fähigkeit, schnell zu lösen. Straße!",
    "¿Dónde está el niño? ¡Mañana será otro día, señor Muñoz!",
    "Não há nada mais difícil do que ação coordenada em São Paulo.",
    "Zażółć gęślą jaźń. Łódź i Kraków są w Polsce.",
    "Příliš žluťoučký kůň úpěl ďábelské ódy.",
    "Tiếng Việt có nhiều dấu: người, được, những, thế giới.",
    "Türkçe: İstanbul'da ılık bir gün; ağaçlar yeşil, ÇĞİÖŞÜ.",
    "Ελληνικά: Η γρήγορη καφέ αλεπού πηδά. ΣΊΣΥΦΟΣ, ὁ ἄνθρωπος.",
    "Русский: Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "Українська: Чуєш їх, доцю, га? Кумедна ж ти, прощайся без ґольфів!",
    "Български: Жълтата дюля беше щастлива.",
    "עברית: דג סקרן שט בים מאוכזב ולפתע מצא חברה.",
    "العربية: نص حكيم له سر قاطع وذو شأن عظيم مكتوب على ثوب أخضر.",
    "فارسی: به نام خداوند جان و خرد، کزین برتر اندیشه برنگذرد.",
    "हिन्दी: ऋषियों को सताने वाले दुष्ट राक्षसों के राजा रावण का सर्वनाश करने वाले विष्णुवतार भगवान श्रीराम।",
    "বাংলা: আমি বাংলায় গান গাই।",
    "தமிழ்: யாமறிந்த மொழிகளிலே தமிழ்மொழி போல் இனிதாவது எங்கும் காணோம்.",
    "తెలుగు: దేశ భాషలందు తెలుగు లెస్స.",
    "ไทย: เป็นมนุษย์สุดประเสริฐเลิศคุณค่า กว่าบรรดาฝูงสัตว์เดรัจฉาน",
    "ລາວ: ພາສາລາວ ເປັນພາສາທາງການ",
    "မြန်မာ: မင်္ဂလာပါ",
    "ខ្មែរ: ភាសាខ្មែរ",
    "中文：我能吞下玻璃而不伤身体。繁體字：我能吞下玻璃而不傷身體。",
    "日本語：いろはにほへと ちりぬるを わかよたれそ つねならむ。カタカナ、ｶﾀｶﾅ。",
    "한국어: 키스의 고유조건은 입술끼리 만나야 하고 특별한 기술은 필요치 않다.",
    "ქართული: ეს არის ქართული ტექსტი. ᲛᲗᲐᲕᲠᲣᲚᲘ",
    "Հայերեն: Բարեւ աշխարհ",
    "አማርኛ: ሰላም ለዓለም",
    "ᏣᎳᎩ: ᎣᏏᏲ ꮳꮃꭹ",
    "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３ ！？",
    "ﬁnance ﬂow ﬀ Ⅻ ⅷ ① ㈱ ㎏ ½ ² ™ №",
    "math: ∀x∈ℝ, ∃y: x²+y²≤1 ⇒ |x|≤1; ∑_{i=0}^{n} i = n(n+1)/2",
    "code: if (a[i] <= b->c && x != y) { return foo_bar(baz, \"q\\n\"); }",
    "urls: https://example.com/path?q=1&r=a%20b#frag user.name+tag@mail.example.org",
    "prices: $5.99, €10,00, £3, ¥500, ₹99, 50% off!!! #deal @shop ~tilde^caret`back`",
    "numbers: 3.14159 1,000,000 1e-10 0x1F 2024-06-03 12:34:56 +33 6 12 34 56 78",
]

EMOJI = ["😀", "👍", "❤️", "🔥", "🎉", "🚀", "🇫🇷", "🇯🇵", "🏳️‍🌈", "👨‍👩‍👧‍👦", "👩🏽‍💻",
         "🧑🏿‍🤝‍🧑🏻", "👋🏼", "1️⃣", "#️⃣", "©️", "☺︎", "🫠", "🫶🏾", "🐈‍⬛", "❤️‍🔥", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"]
SKIN_TONES = [chr(c) for c in range(0x1F3FB, 0x1F400)]
WHITESPACE = [" ", "\t", "\n", "\r", "\u00a0", "\u1680", "\u2000", "\u2003", "\u2009", "\u200a",
              "\u2028", "\u2029", "\u202f", "\u205f", "\u3000", "\u000b", "\u000c", "\u0085",
              "\u200b", "\ufeff", "\u180e"]
SPECIAL = ["[CLS]", "[SEP]", "[MASK]", "[UNK]", "[PAD]", "[SEP", "SEP]", "[[SEP]]", "[sep]",
           "[ MASK ]", "[CLS][SEP]", "[MASK]s", "x[PAD]y"]
# Scripts for synthesized words: (first, last) code point ranges of letters.
SCRIPTS = {
    "latin_ext": [(0x00C0, 0x024F), (0x1E00, 0x1EFF)], "greek": [(0x0370, 0x03FF), (0x1F00, 0x1FFF)],
    "cyrillic": [(0x0400, 0x052F)], "armenian": [(0x0531, 0x058A)], "hebrew": [(0x05D0, 0x05EA), (0x0591, 0x05C7)],
    "arabic": [(0x0600, 0x06FF), (0x0750, 0x077F)], "devanagari": [(0x0900, 0x097F)], "bengali": [(0x0980, 0x09FF)],
    "gurmukhi": [(0x0A00, 0x0A7F)], "tamil": [(0x0B80, 0x0BFF)], "telugu": [(0x0C00, 0x0C7F)],
    "malayalam": [(0x0D00, 0x0D7F)], "thai": [(0x0E00, 0x0E7F)], "tibetan": [(0x0F00, 0x0FFF)],
    "myanmar": [(0x1000, 0x109F)], "georgian": [(0x10A0, 0x10FF), (0x1C90, 0x1CBF)], "hangul": [(0xAC00, 0xD7A3)],
    "ethiopic": [(0x1200, 0x137F)], "cherokee": [(0x13A0, 0x13FF), (0xAB70, 0xABBF)], "khmer": [(0x1780, 0x17FF)],
    "mongolian": [(0x1800, 0x18AF)], "hiragana": [(0x3040, 0x309F)], "katakana": [(0x30A0, 0x30FF)],
    "cjk": [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF)], "cjk_compat": [(0xF900, 0xFAFF)],
    "fullwidth": [(0xFF01, 0xFF5E)], "math_alnum": [(0x1D400, 0x1D7FF)], "deseret": [(0x10400, 0x1044F)],
    "adlam": [(0x1E900, 0x1E95F)], "unicode16": [(0xA7C0, 0xA7DC), (0x10D40, 0x10D8F), (0x16EA0, 0x16EDF)],
}
CASE_EDGES = ["İ", "ı", "Σ", "ς", "ß", "ẞ", "ǅ", "ǈ", "ǋ", "ᾈ", "ﬀ", "Ω", "K", "Å", "ℌ", "Ⅻ", "Ⓐ", "Ᲊ", "ꟊ",
              "Ꟍ", "Ᲊ", "\U00010D50", "\U00016EA0", "Ꭰ", "ꭰ", "Ა", "Ა"]


def all_scalar_values(rng):
    """Planes 0-3 and 14 in full; a sample of the mostly unassigned rest."""
    cps = [cp for cp in range(0x40000) if not 0xD800 <= cp <= 0xDFFF]
    cps += list(range(0xE0000, 0xE1000))
    cps += rng.sample(range(0x40000, 0xE0000), 4000)
    cps += rng.sample(range(0xF0000, 0x110000), 2000) + [0xFFFFF, 0x10FFFF]
    return cps


def random_char(rng, script):
    lo, hi = rng.choice(SCRIPTS[script])
    return chr(rng.randint(lo, hi))


def synth_word(rng, script, length=None):
    return "".join(random_char(rng, script) for _ in range(length or rng.randint(1, 12)))


def vocab_word(rng, vocab_plain, vocab_cont):
    word = rng.choice(vocab_plain)
    for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
        word += rng.choice(vocab_cont)
    if rng.random() < 0.2:
        word = word.capitalize() if rng.random() < 0.5 else word.upper()
    return word


def combining_stack(rng, marks):
    base = rng.choice(["a", "e", "o", "A", "n", "ı", "α", "и", "ก", "ᄀ", "中", " ", "1"])
    return base + "".join(rng.choice(marks) for _ in range(rng.randint(1, 6)))


def generate(count, seed, vocab_path):
    rng = random.Random(seed)
    vocab = list(json.loads(pathlib.Path(vocab_path).read_text())["model"]["vocab"])
    vocab_plain = [t for t in vocab if not t.startswith("##") and not t.startswith("[")]
    vocab_cont = [t[2:] for t in vocab if t.startswith("##")]
    by_category = {}
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        by_category.setdefault(unicodedata.category(chr(cp)), []).append(chr(cp))
    marks = by_category["Mn"] + by_category["Mc"] + by_category["Me"]
    texts = []

    # 1. Every scalar value, in chunks, in three layouts.
    cps = all_scalar_values(rng)
    for start in range(0, len(cps), 24):
        chunk = [chr(cp) for cp in cps[start:start + 24]]
        layout = (start // 24) % 3
        if layout == 0:
            texts.append(" ".join(chunk))
        elif layout == 1:
            texts.append("".join("x" + c + "y" for c in chunk))
        else:
            texts.append("".join(chunk))

    generators = []

    def gen(weight):
        def register(fn):
            generators.append((weight, fn))
            return fn
        return register

    @gen(10)
    def sentences():
        parts = rng.sample(SAMPLE_SENTENCES, rng.randint(1, 3))
        return rng.choice([" ", "\n", "  ", "\t"]).join(parts)

    @gen(14)
    def vocab_text():
        words = [vocab_word(rng, vocab_plain, vocab_cont) for _ in range(rng.randint(1, 40))]
        seps = [" "] * 12 + [", ", ". ", "-", "'", "/", "  ", "\n", "!", "?", ":"]
        return "".join(w + rng.choice(seps) for w in words).strip()

    @gen(12)
    def script_text():
        script = rng.choice(list(SCRIPTS))
        return " ".join(synth_word(rng, script) for _ in range(rng.randint(1, 15)))

    @gen(6)
    def mixed_scripts():
        return " ".join(synth_word(rng, rng.choice(list(SCRIPTS))) for _ in range(rng.randint(2, 12)))

    @gen(6)
    def category_mix():
        cats = rng.sample(sorted(by_category), rng.randint(1, 4))
        return "".join(rng.choice(by_category[c]) + rng.choice(["", "", " ", "a"]) for c in cats for _ in range(rng.randint(1, 6)))

    @gen(5)
    def emoji_text():
        pieces = []
        for _ in range(rng.randint(1, 10)):
            e = rng.choice(EMOJI)
            if rng.random() < 0.3:
                e += rng.choice(SKIN_TONES)
            if rng.random() < 0.2:
                e += "\u200d" + rng.choice(EMOJI)
            pieces.append(e + rng.choice(["", " ", "a", "!", "\ufe0f"]))
        return rng.choice(["", "I love ", "ok "]) + "".join(pieces)

    @gen(6)
    def combining_text():
        return " ".join(combining_stack(rng, marks) + rng.choice(["", "b", "é"]) for _ in range(rng.randint(1, 6)))

    @gen(3)
    def control_format_text():
        chars = by_category["Cc"] + by_category["Cf"] + WHITESPACE + ["\x00", "\ufffd", "\u00ad", "\u200d", "\u2060"]
        return "".join(rng.choice(chars) + rng.choice(["", "a", "b c", "中"]) for _ in range(rng.randint(1, 12)))

    @gen(4)
    def long_word():
        n = rng.choice([98, 99, 100, 101, 102, 120, 150, 300])
        kind = rng.random()
        if kind < 0.3:
            w = "".join(rng.choice("abcdefghij") for _ in range(n))
        elif kind < 0.5:
            w = "é" * n if rng.random() < 0.5 else "e\u0301" * (n // 2)
        elif kind < 0.7:
            w = "".join(rng.choice(vocab_cont) for _ in range(n // 4))[:n]
        elif kind < 0.85:
            w = synth_word(rng, rng.choice(list(SCRIPTS)), n)
        else:
            w = "İ" * n
        return rng.choice(["", "word ", "x, "]) + w + rng.choice(["", " end", "."])

    @gen(4)
    def long_text():
        words = [vocab_word(rng, vocab_plain, vocab_cont) for _ in range(rng.randint(200, 700))]
        return " ".join(words)

    @gen(2)
    def blank_text():
        return "".join(rng.choice(WHITESPACE) for _ in range(rng.randint(0, 8)))

    @gen(3)
    def special_text():
        words = [rng.choice(SPECIAL) if rng.random() < 0.4 else vocab_word(rng, vocab_plain, vocab_cont)
                 for _ in range(rng.randint(1, 10))]
        return rng.choice([" ", "", " ,"]).join(words)

    @gen(3)
    def case_text():
        return "".join(rng.choice(CASE_EDGES) + rng.choice(["", "a", " ", "Σ", "\u0307"]) for _ in range(rng.randint(1, 10)))

    @gen(4)
    def random_code_points():
        pieces = []
        for _ in range(rng.randint(1, 30)):
            r = rng.random()
            if r < 0.5:
                pieces.append(rng.choice("abc XYZ .,!?'-"))
            elif r < 0.8:
                pieces.append(chr(rng.choice(cps)))
            else:
                pieces.append(rng.choice(rng.choice(list(by_category.values()))))
        return "".join(pieces)

    @gen(3)
    def punctuation_text():
        punct = [c for cat in ("Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So") for c in by_category[cat]]
        return "".join(rng.choice(punct) + rng.choice(["", "", "a", "1", " "]) for _ in range(rng.randint(1, 20)))

    total_weight = sum(w for w, _ in generators)
    while len(texts) < count:
        r = rng.uniform(0, total_weight)
        for weight, fn in generators:
            r -= weight
            if r <= 0:
                texts.append(fn())
                break
    texts.extend(["", " ", "\n", "\t \r\n", "\u3000", "a", "[SEP]", "[CLS] [SEP]"])
    return texts


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--vocab", default=str(DEFAULT_VOCAB), help="tokenizer.json whose vocabulary seeds realistic words")
    args = parser.parse_args()
    texts = generate(args.count, args.seed, args.vocab)
    with open(args.out, "w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
    print(f"wrote {len(texts)} texts to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
