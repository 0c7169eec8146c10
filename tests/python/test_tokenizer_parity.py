"""Token ids from `arrowembed tokenize` must equal Hugging Face `tokenizers`.

- test_committed_sample: always runs (no oracle needed) against the ids stored
  in tests/fixtures/tokenizer_parity_sample.jsonl.
- the other tests need the oracle (`pip install tokenizers`, listed in
  scripts/requirements-test.txt): the full generated corpus (>= 100k texts),
  ids AND offsets, plus freshness checks of the committed sample and of the
  generated Unicode override tables.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import MODEL_DIR, REPO, cli_path

SAMPLE = REPO / "tests" / "fixtures" / "tokenizer_parity_sample.jsonl"
SCRIPTS = REPO / "scripts"
MAX_LENGTH = 256


def tokenize_with_cli(model: Path, texts: list[str], tmp_path: Path, max_length: int = MAX_LENGTH,
                      offsets: bool = False) -> list[dict]:
    """Runs `arrowembed tokenize` over a JSONL file of texts."""
    inp = tmp_path / "texts.jsonl"
    with open(inp, "w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
    args = [str(cli_path()), "tokenize", "-m", str(model), "--input", str(inp), "--max-length", str(max_length)]
    if offsets:
        args.append("--offsets")
    proc = subprocess.run(args, capture_output=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    results = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert len(results) == len(texts)
    return results


def load_sample():
    # split("\n"), not splitlines(): texts hold raw U+2028, U+0085, ... which
    # splitlines() would also treat as line breaks.
    lines = SAMPLE.read_text(encoding="utf-8").rstrip("\n").split("\n")
    meta = json.loads(lines[0])["_meta"]
    rows = [json.loads(line) for line in lines[1:]]
    return meta, rows


def describe_mismatches(texts, expected, actual, limit=5):
    bad = [i for i, (e, a) in enumerate(zip(expected, actual)) if e != a]
    lines = [f"{len(bad)} of {len(texts)} texts differ"]
    for i in bad[:limit]:
        lines.append(f"  text {i}: {texts[i]!r:.120}\n    expected {expected[i]!s:.200}\n    actual   {actual[i]!s:.200}")
    return bad, "\n".join(lines)


def test_committed_sample(cli, converted, tmp_path):
    meta, rows = load_sample()
    assert meta["max_length"] == MAX_LENGTH
    assert len(rows) >= 2000
    texts = [r["text"] for r in rows]
    ours = tokenize_with_cli(converted["f32.arrow"], texts, tmp_path)
    bad, report = describe_mismatches(texts, [r["ids"] for r in rows], [o["ids"] for o in ours])
    assert not bad, report


def test_model_file_and_model_dir_agree(cli, converted, real_model, tmp_path):
    # The tokenizer.json stored in the .arrow file is the one from the directory.
    texts = [r["text"] for r in load_sample()[1][:300]]
    assert tokenize_with_cli(converted["f16.arrow"], texts, tmp_path) == tokenize_with_cli(real_model, texts, tmp_path)


# ---- with the oracle --------------------------------------------------------

def oracle_tokenizer(max_length: int):
    tokenizers = pytest.importorskip("tokenizers")
    tok = tokenizers.Tokenizer.from_file(str(MODEL_DIR / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=max_length)
    return tok


def byte_offsets(text, char_offsets):
    positions = [0]
    for ch in text:
        positions.append(positions[-1] + len(ch.encode("utf-8")))
    return [[positions[b], positions[e]] for b, e in char_offsets]


@pytest.fixture(scope="module")
def full_corpus(tmp_path_factory) -> list[str]:
    sys.path.insert(0, str(SCRIPTS))
    import make_tokenizer_corpus
    texts = make_tokenizer_corpus.generate(make_tokenizer_corpus.DEFAULT_COUNT, make_tokenizer_corpus.DEFAULT_SEED,
                                           make_tokenizer_corpus.DEFAULT_VOCAB)
    assert len(texts) >= 100_000
    return texts


@pytest.mark.parametrize("max_length", [MAX_LENGTH, 100_000_000])
def test_full_corpus_matches_oracle(cli, converted, full_corpus, tmp_path, max_length):
    oracle = oracle_tokenizer(max_length)
    expected = oracle.encode_batch(full_corpus)
    ours = tokenize_with_cli(converted["f32.arrow"], full_corpus, tmp_path, max_length=max_length, offsets=True)
    bad, report = describe_mismatches(full_corpus, [e.ids for e in expected], [o["ids"] for o in ours])
    assert not bad, report
    bad, report = describe_mismatches(full_corpus, [byte_offsets(t, e.offsets) for t, e in zip(full_corpus, expected)],
                                      [o["offsets"] for o in ours])
    assert not bad, "offsets: " + report


def test_committed_sample_is_current():
    oracle = oracle_tokenizer(MAX_LENGTH)
    _, rows = load_sample()
    expected = [e.ids for e in oracle.encode_batch([r["text"] for r in rows])]
    assert expected == [r["ids"] for r in rows], "rerun scripts/make_tokenizer_parity_sample.py"


def test_unicode_overrides_are_current():
    pytest.importorskip("tokenizers")
    proc = subprocess.run([sys.executable, str(SCRIPTS / "gen_tokenizer_unicode_overrides.py"), "--check"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
