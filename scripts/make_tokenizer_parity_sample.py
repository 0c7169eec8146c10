#!/usr/bin/env python3
"""Write tests/fixtures/tokenizer_parity_sample.jsonl: a small, committed slice
of the parity corpus with the ids and offsets the oracle (`tokenizers`) gives,
so the parity check runs even where the oracle is not installed.

First line: {"_meta": {...}}; then one {"text", "ids"} per line. (Offsets are
left out to keep the file small; the full-corpus test compares them.)

Usage: .venv/bin/python scripts/make_tokenizer_parity_sample.py [--count N]
"""
import argparse
import json
import pathlib
import random
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import make_tokenizer_corpus  # noqa: E402

import tokenizers  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "tokenizer_parity_sample.jsonl"
MAX_LENGTH = 256


def oracle(tokenizer_json):
    tok = tokenizers.Tokenizer.from_file(str(tokenizer_json))
    tok.no_padding()
    tok.enable_truncation(max_length=MAX_LENGTH)
    return tok


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=2300)
    args = parser.parse_args()
    texts = make_tokenizer_corpus.generate(make_tokenizer_corpus.DEFAULT_COUNT, make_tokenizer_corpus.DEFAULT_SEED,
                                           make_tokenizer_corpus.DEFAULT_VOCAB)
    rng = random.Random(7)
    # A spread over every generator: a random subset, plus the fixed edge
    # cases at the end of the corpus; long texts are kept but few, for size.
    picked = rng.sample(range(len(texts) - 8), args.count) + list(range(len(texts) - 8, len(texts)))
    picked.sort()
    tok = oracle(make_tokenizer_corpus.DEFAULT_VOCAB)
    lines = [json.dumps({"_meta": {"oracle": f"tokenizers {tokenizers.__version__}",
                                   "tokenizer": "sentence-transformers/all-MiniLM-L6-v2",
                                   "max_length": MAX_LENGTH}})]
    long_kept = 0
    for i in picked:
        text = texts[i]
        if len(text) > 200:
            if long_kept >= 8:
                continue
            long_kept += 1
        enc = tok.encode(text)
        lines.append(json.dumps({"text": text, "ids": enc.ids},
                                ensure_ascii=False, separators=(",", ":")))
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines) - 1} texts, {OUT.stat().st_size // 1024} KiB to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
