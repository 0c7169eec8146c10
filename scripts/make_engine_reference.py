#!/usr/bin/env python3
"""Make tests/fixtures/minilm-reference.parquet: the engine's fidelity oracle.

About 300 deterministic texts (no seed-dependent data files, no network) that
stress what a BERT embedding engine can get wrong:
  - English sentences from 1 to ~80 words (hand-written and composed);
  - many scripts and languages: CJK, Arabic, Hindi, Russian, accented Latin
    (NFC and NFD forms), right-to-left and mixed scripts;
  - long texts cut at 256 tokens, and texts of exactly 255, 256 and 257
    tokens with [CLS]/[SEP] (the truncation boundary);
  - the empty string and whitespace-only texts (only [CLS] [SEP] remain);
  - emoji with ZWJ sequences, skin-tone modifiers, flags, keycaps;
  - control and format characters, code, numbers, special-token lookalikes.

For each text: the token ids sentence-transformers feeds the model (its own
preprocess(), truncation at max_seq_length 256) and the embedding
SentenceTransformer(models/all-MiniLM-L6-v2, device="cpu").encode() gives in
fp32 with the model's own modules (mean pooling, then Normalize). Each text is
encoded alone, so no padding enters the reference.

Columns: text (utf8), ids (list<int32>), embedding (fixed_size_list<float32, 384>);
schema metadata "arrowembed.reference" (JSON) names the versions that made it.
Needs the reference stack (scripts/setup.sh --reference) and the fetched model.
The output is committed; rerun only to change the fixture:
  .venv/bin/python scripts/make_engine_reference.py
"""
from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
import make_tokenizer_corpus as corpus  # noqa: E402  (shared multilingual/emoji samples)

MODEL_DIR = REPO / "models" / "all-MiniLM-L6-v2"
OUT = REPO / "tests" / "fixtures" / "minilm-reference.parquet"
SEED = 4  # issue 4
MAX_SEQ_LENGTH = 256

ENGLISH = [
    "Hi.",
    "Thanks!",
    "What time is it?",
    "The cat sat on the mat.",
    "Sentence embeddings turn text into vectors.",
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "A woman is playing violin.",
    "Two men pushed carts through the woods.",
    "A monkey is playing drums.",
    "How do I reset my password if I no longer have access to my email account?",
    "The new policy takes effect on the first of next month, and all staff are expected to comply.",
    "Despite the heavy rain, the match went ahead as planned, though the crowd was smaller than usual.",
    "She sells seashells by the seashore, and the shells she sells are surely seashells.",
    "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of "
    "foolishness, it was the epoch of belief, it was the epoch of incredulity.",
    "Photosynthesis converts light energy into chemical energy that is stored in glucose.",
    "The mitochondria is often described as the powerhouse of the cell.",
    "Please find attached the quarterly report; let me know if you have any questions.",
    "Can you recommend a good Italian restaurant near the train station?",
    "The stock market fell sharply after the central bank raised interest rates unexpectedly.",
    "In 1969, Neil Armstrong became the first person to walk on the Moon.",
    "Machine learning models can inherit biases present in their training data.",
    "I'm not sure whether we'll make it on time — the traffic's terrible today.",
    "\"Don't panic,\" she said, 'it's only a drill.'",
    "UPPERCASE TEXT SHOULD EMBED LIKE LOWERCASE TEXT FOR AN UNCASED MODEL.",
    "uppercase text should embed like lowercase text for an uncased model.",
    "Semantic search finds documents by meaning rather than by exact keywords.",
    "The quick brown fox jumps over the lazy dog",
    "the  quick   brown\tfox\njumps over the lazy dog",
    "Supercalifragilisticexpialidocious is an unusually long word.",
    "Antidisestablishmentarianism, pneumonoultramicroscopicsilicovolcanoconiosis and floccinaucinihilipilification.",
    "a",
    "I",
    "ok",
    "Hello, World!",
    "hello world",
    "Is this the real life? Is this just fantasy?",
    "To be, or not to be, that is the question.",
]

SUBJECTS = ["The committee", "A small dog", "My neighbour", "The research team", "Every student",
            "The old lighthouse keeper", "Our server", "The river", "A stranger in a grey coat", "The city council",
            "Nobody", "The orchestra", "This algorithm", "The museum", "Her younger brother"]
VERBS = ["approved", "ignored", "discovered", "painted", "rebuilt", "explained", "measured", "forgot",
         "carried", "translated", "questioned", "celebrated", "repaired", "sold", "described"]
OBJECTS = ["the budget for next year", "a ball across the park", "an ancient map", "the broken fence",
           "every detail of the plan", "the results of the experiment", "a letter from abroad",
           "the rules of the game", "three boxes of apples", "the noise from the street",
           "a new bridge over the valley", "the history of the region", "his grandmother's recipe"]
TAILS = ["yesterday", "before dawn", "with great care", "for the third time", "without telling anyone",
         "after a long discussion", "in the middle of winter", "despite the objections",
         "because nobody else would", "as the sun went down", "at the last minute", "quite unexpectedly"]
JOINERS = [", and ", "; meanwhile, ", ", but ", ". Later, ", " while ", ", so ", ". Then "]

MULTILINGUAL_EXTRA = [
    "我爱北京天安门。",
    "今天天气很好，我们去公园散步吧。",
    "人工智能正在改变世界。機器學習是人工智慧的一個分支。",
    "東京は日本の首都です。",
    "吾輩は猫である。名前はまだ無い。",
    "ひらがなとカタカナと漢字を混ぜた文章です。",
    "안녕하세요, 만나서 반갑습니다.",
    "مرحبا بالعالم",
    "اللغة العربية جميلة جداً، وهي لغة القرآن الكريم.",
    "السلام عليكم ورحمة الله وبركاته",
    "नमस्ते दुनिया",
    "मुझे हिंदी पढ़ना बहुत पसंद है।",
    "भारत एक विशाल देश है जिसमें अनेक भाषाएँ बोली जाती हैं।",
    "Привет, мир!",
    "Москва — столица России, крупнейший по численности населения город страны.",
    "Я помню чудное мгновенье: передо мной явилась ты.",
    "Café, naïve, résumé, déjà vu, façade, jalapeño, Ångström.",
    "Cafe\u0301, nai\u0308ve, re\u0301sume\u0301 (decomposed accents).",
    "ÀÁÂÃÄÅ àáâãäå ÈÉÊË èéêë ÌÍÎÏ ìíîï ÒÓÔÕÖ òóôõö ÙÚÛÜ ùúûü Ññ Çç",
    "Der Übermut des Bäckers führte zu größeren Brötchen.",
    "Ça va très bien, merci ! Et vous ?",
    "Ήταν μια όμορφη μέρα στην Αθήνα.",
    "שלום עולם, מה שלומך?",
    "Mixed: English, français, 日本語, русский, العربية, हिन्दी in one line.",
    "Ελληνικά and English and 中文 mixed 한국어 together",
    "ⓗⓔⓛⓛⓞ ｆｕｌｌｗｉｄｔｈ 𝐛𝐨𝐥𝐝 𝓈𝒸𝓇𝒾𝓅𝓉",
]

EMOJI_TEXTS = [
    "😀", "👍", "👍🏽", "👍🏿", "❤️", "👨‍👩‍👧‍👦", "👩🏽‍💻", "🧑🏿‍🤝‍🧑🏻", "🏳️‍🌈", "🇫🇷🇯🇵🇺🇸",
    "1️⃣ #️⃣ *️⃣", "🐈‍⬛ ❤️‍🔥 🫠 🫶🏾",
    "I love this! 😍😍😍",
    "Great job team 👏👏 🎉🚀",
    "Family trip 👨‍👩‍👧‍👦 to the beach 🏖️ was amazing ☀️",
    "My code works 🤔... no wait 😭",
    "🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥",
    "emoji🙂glued🙃to😉words",
    "☺︎ vs ☺️ (text and emoji presentation selectors)",
    "🏴󠁧󠁢󠁳󠁣󠁴󠁿 Scotland flag tag sequence",
]

CONTROL_FORMAT = [
    "\x00",
    "nul\x00inside",
    "\x07bell and \x08backspace",
    "escape \x1b[31mred\x1b[0m text",
    "tab\tseparated\tvalues",
    "line one\nline two\r\nline three\rline four",
    "vertical\x0btab and form\x0cfeed",
    "file\x1cgroup\x1drecord\x1eunit\x1fseparators",
    "zero\u200bwidth\u200bspace",
    "zero\u200cwidth\u200dnon-joiner and joiner",
    "soft\u00adhyphen",
    "word\u2060joiner",
    "\ufeffbyte order mark at start",
    "right-to-left \u202eoverride\u202c and \u200fmark\u200e",
    "next line\u0085and line\u2028separator\u2029paragraph",
    "no-break\u00a0space and narrow\u202fno-break",
    "replacement \ufffd character",
    "private use \ue000\uf8ff and noncharacter \ufdd0\uffff",
    "combining marks alone: \u0301\u0308 and a\u0301\u0302\u0303\u0304",
    "interlinear \ufff9annotation\ufffb anchors",
]

CODE = [
    "def add(a, b):\n    return a + b",
    "for (int i = 0; i < n; ++i) { sum += v[i] * w[i]; }",
    "SELECT id, name FROM users WHERE age > 30 ORDER BY name LIMIT 10;",
    "<div class=\"header\"><a href=\"/home\">Home</a></div>",
    "{\"key\": \"value\", \"list\": [1, 2, 3], \"nested\": {\"ok\": true, \"none\": null}}",
    "git commit -m \"fix: handle empty input\" && git push origin main",
    "curl -s https://example.com/api/v1/items?page=2&per_page=50 | jq '.items[].id'",
    "^(?:[a-z0-9!#$%&'*+/=?^_`{|}~-]+)@(?:[a-z0-9-]+\\.)+[a-z]{2,}$",
    "std::vector<std::unique_ptr<Node>> children; auto it = std::find_if(begin, end, pred);",
    "const x = arr.map((v, i) => v ** 2).filter(Boolean); // squares",
    "#include <stdio.h>\nint main(void) { printf(\"hello\\n\"); return 0; }",
    "fn main() { let v: Vec<u8> = (0..10).collect(); println!(\"{:?}\", v); }",
    "x_train, x_test = train_test_split(X, test_size=0.2, random_state=42)",
    "\\frac{\\partial L}{\\partial w} = \\sum_i (y_i - \\hat{y}_i) x_i",
    "C:\\Users\\Admin\\Documents\\report_final_v2 (1).docx",
]

NUMBERS = [
    "0",
    "42",
    "3.14159265358979323846",
    "1,234,567.89",
    "1e-10 6.022e23 -273.15",
    "+1 (555) 123-4567",
    "2024-06-03T12:34:56Z",
    "Call 0800 123 456 before 17:30 on 12/05/2025.",
    "The price rose from $9.99 to €12,50 (a 25% increase).",
    "ISBN 978-3-16-148410-0",
    "0x7FFFFFFF 0b1010 0o777",
    "MMXXIV is 2024 in Roman numerals; Ⅻ is twelve.",
    "½ + ¼ = ¾, 2² = 4, x₁ + x₂",
    "١٢٣٤٥ ० १ २ ३ 一二三 壹贰叁",
    "12345678901234567890123456789012345678901234567890",
]

SPECIALS = [
    "[CLS]", "[SEP]", "[MASK]", "[UNK] [PAD]",
    "The answer is [MASK].",
    "[CLS] already has special tokens [SEP]",
    "[cls] lowercase [sep] lookalikes",
]

BLANK = ["", " ", "\t", "\n", "   \n\t  \r\n ", "\u3000", "\u00a0", "\u200b", "\ufeff"]


def composed_english(rng: random.Random, clauses: int) -> str:
    parts = []
    for _ in range(clauses):
        clause = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}"
        if rng.random() < 0.6:
            clause += " " + rng.choice(TAILS)
        parts.append(clause)
    text = parts[0]
    for p in parts[1:]:
        j = rng.choice(JOINERS)
        text += j + (p if j.endswith(", ") or j.endswith("; ") or j == " while " else p[0].upper() + p[1:])
    return text + rng.choice([".", ".", "!", "?"])


def texts_with_token_count(rng: random.Random, count_tokens, targets: list[int]) -> list[str]:
    """English texts whose untruncated encoding (with [CLS] and [SEP]) has
    exactly each target length: the edges of truncation at 256."""
    out = []
    for target in targets:
        text = ""
        while True:  # grow by clauses until just past the target, then trim by words
            longer = (text + " " if text else "") + composed_english(rng, 1)
            if count_tokens(longer) > target:
                break
            text = longer
        words = longer.split(" ")
        while count_tokens(" ".join(words)) > target:
            words.pop()
        text = " ".join(words)
        # Words may be several tokens: pad up with one-token words to hit the target exactly.
        while count_tokens(text) < target:
            text += " the"
        assert count_tokens(text) == target, (target, count_tokens(text))
        out.append(text)
    return out


def build_corpus(count_tokens) -> list[str]:
    rng = random.Random(SEED)
    texts: list[str] = []
    texts += ENGLISH
    texts += [composed_english(rng, rng.choice([1, 1, 1, 2, 2, 3, 4, 6])) for _ in range(90)]
    texts += corpus.SAMPLE_SENTENCES + MULTILINGUAL_EXTRA
    texts += BLANK + EMOJI_TEXTS + CONTROL_FORMAT + CODE + NUMBERS + SPECIALS
    # Long texts: all are cut at 256 tokens.
    texts += [" ".join(composed_english(rng, 4) for _ in range(rng.randint(5, 9))) for _ in range(8)]
    texts += ["".join(rng.sample(MULTILINGUAL_EXTRA[:7], 7)) * 4,          # CJK: ~1 token per character
              " ".join(MULTILINGUAL_EXTRA[7:16]) * 4,                      # Arabic, Hindi, Russian
              " ".join(corpus.SAMPLE_SENTENCES) * 2,                        # every script at once
              "🙂 " * 300,
              "word " * 600,
              "x" * 2000,                                                   # one over-long word -> [UNK]
              " ".join(CODE) * 3,
              "\n".join(ENGLISH) * 2]
    texts += texts_with_token_count(rng, count_tokens, [255, 256, 257, 258, 300])
    return texts


def main() -> int:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
    import sentence_transformers
    import tokenizers
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    if not (MODEL_DIR / "model.safetensors").is_file():
        sys.exit(f"{MODEL_DIR} is missing: run scripts/run.sh (or scripts/fetch_model.py) first")
    transformers.logging.set_verbosity_error()  # count_tokens measures texts past 256 on purpose
    torch.manual_seed(0)
    model = SentenceTransformer(str(MODEL_DIR), device="cpu")
    model.eval()
    if model.max_seq_length != MAX_SEQ_LENGTH:
        sys.exit(f"unexpected max_seq_length {model.max_seq_length}")
    tok = model.tokenizer

    def count_tokens(text: str) -> int:  # untruncated, with [CLS] and [SEP]
        return len(tok(text, truncation=False)["input_ids"])

    texts = build_corpus(count_tokens)

    ids_col, emb_col = [], []
    mismatched = 0
    for text in texts:
        # The ids the model is actually fed: sentence-transformers' own preprocessing.
        features = model.preprocess([text])
        n = int(features["attention_mask"][0].sum())
        ids = features["input_ids"][0][:n].tolist()
        # ...which must equal the plain tokenizer call the engine mirrors.
        if ids != tok(text, truncation=True, max_length=MAX_SEQ_LENGTH)["input_ids"]:
            mismatched += 1
        ids_col.append(ids)
        with torch.inference_mode():
            emb = model.encode([text], batch_size=1, convert_to_numpy=True, show_progress_bar=False)
        assert emb.dtype == np.float32 and emb.shape == (1, 384)
        emb_col.append(emb[0])
    if mismatched:
        sys.exit(f"{mismatched} texts: sentence-transformers' ids differ from tokenizer(truncation=256)")

    dim = emb_col[0].shape[0]
    flat = np.concatenate(emb_col).astype(np.float32)
    meta = {
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "made_by": "scripts/make_engine_reference.py",
        "how": "SentenceTransformer(dir, device='cpu').encode([text]) per text, fp32, model's modules "
               "(mean pooling + Normalize); ids from SentenceTransformer.preprocess",
        "max_seq_length": MAX_SEQ_LENGTH,
        "sentence_transformers": sentence_transformers.__version__,
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "tokenizers": tokenizers.__version__,
        "numpy": np.__version__,
    }
    table = pa.table(
        {
            "text": pa.array(texts, pa.utf8()),
            "ids": pa.array(ids_col, pa.list_(pa.int32())),
            "embedding": pa.FixedSizeListArray.from_arrays(pa.array(flat, pa.float32()), dim),
        }
    ).replace_schema_metadata({"arrowembed.reference": json.dumps(meta, sort_keys=True)})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    # Byte-stream-split groups the floats' exponent bytes, which zstd then compresses well.
    pq.write_table(table, OUT, compression="zstd", compression_level=19,
                   use_byte_stream_split=["embedding.list.element"], use_dictionary=["text"])
    lengths = [len(i) for i in ids_col]
    print(f"wrote {len(texts)} texts ({sum(n == MAX_SEQ_LENGTH for n in lengths)} of "
          f"{MAX_SEQ_LENGTH} tokens, {sum(lengths)} tokens), {OUT.stat().st_size:,} bytes to "
          f"{OUT.relative_to(REPO)}\n{json.dumps(meta, indent=1)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
