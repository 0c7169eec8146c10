#!/usr/bin/env python3
"""Tokenizer throughput: arrowembed vs Hugging Face `tokenizers`, same texts, same run.

  .venv/bin/python bench/tokenizer_bench.py [--build build] [--repeat 3]

Needs build/bench/tokenizer_bench (cmake --build build --target tokenizer_bench)
and `pip install tokenizers`. Three deterministic datasets (see make_datasets),
max_length 256 as sentence-transformers uses for all-MiniLM-L6-v2. Ours is
timed in C++ (bench/tokenizer_bench.cc: encode() in a loop, and
encode_batch(..., 2 threads)); HF through its Python API: encode() in a loop
and encode_batch() with RAYON_NUM_THREADS=1 and =2 (each in its own process,
since rayon reads the variable once). Best of --repeat runs.
"""
import argparse
import json
import os
import pathlib
import platform
import random
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import make_tokenizer_corpus as corpus  # noqa: E402

TOKENIZER_JSON = ROOT / "models" / "all-MiniLM-L6-v2" / "tokenizer.json"
MAX_LENGTH = 256

HF_SNIPPET = r"""
import json, sys, time
from tokenizers import Tokenizer
path, texts_path, mode, repeat = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
texts = [json.loads(l)["text"] for l in open(texts_path, encoding="utf-8")]
t0 = time.perf_counter(); tok = Tokenizer.from_file(path); load = time.perf_counter() - t0
tok.no_padding(); tok.enable_truncation(max_length=%d)
best = 1e30
for _ in range(repeat):
    t0 = time.perf_counter()
    if mode == "encode":
        for t in texts: tok.encode(t)
    else:
        tok.encode_batch(texts)
    best = min(best, time.perf_counter() - t0)
print(json.dumps({"seconds": best, "load_ms": load * 1e3}))
""" % MAX_LENGTH


def make_datasets():
    rng = random.Random(12345)
    vocab = list(json.loads(TOKENIZER_JSON.read_text())["model"]["vocab"])
    plain = [t for t in vocab if not t.startswith("##") and not t.startswith("[")]
    cont = [t[2:] for t in vocab if t.startswith("##")]

    def sentence(lo, hi):
        words = [corpus.vocab_word(rng, plain, cont) for _ in range(rng.randint(lo, hi))]
        return " ".join(words).capitalize() + rng.choice([".", "!", "?", ""])

    english = [sentence(5, 40) for _ in range(20000)]
    mixed_all = corpus.generate(corpus.DEFAULT_COUNT, corpus.DEFAULT_SEED, TOKENIZER_JSON)
    mixed = rng.sample(mixed_all, 20000)
    long = [sentence(300, 700) for _ in range(1000)]
    return {"english sentences (5-40 words)": english,
            "parity-corpus mix (all scripts, emoji, marks)": mixed,
            "long documents (300-700 words, truncated to 256)": long}


def run_ours(binary, texts_path, repeat):
    out = subprocess.run([str(binary), str(TOKENIZER_JSON), str(texts_path), "--max-length", str(MAX_LENGTH),
                          "--repeat", str(repeat)], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def run_hf(texts_path, mode, threads, repeat):
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads), TOKENIZERS_PARALLELISM="true")
    out = subprocess.run([sys.executable, "-c", HF_SNIPPET, str(TOKENIZER_JSON), str(texts_path), mode, str(repeat)],
                         check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=str(ROOT / "build"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    binary = pathlib.Path(args.build) / "bench" / "tokenizer_bench"
    import tokenizers
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"tokenizers {tokenizers.__version__}; max_length {MAX_LENGTH}; best of {args.repeat}")
    loads = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, texts in make_datasets().items():
            path = pathlib.Path(tmp) / "texts.jsonl"
            path.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts), encoding="utf-8")
            ours = run_ours(binary, path, args.repeat)
            hf_encode = run_hf(path, "encode", 1, args.repeat)
            hf_batch1 = run_hf(path, "batch", 1, args.repeat)
            hf_batch2 = run_hf(path, "batch", 2, args.repeat)
            loads.append((ours["load_ms_median"], hf_encode["load_ms"]))
            n = ours["texts"]
            rate = lambda s: n / s  # noqa: E731
            print(f"\n## {name}: {n} texts, {ours['bytes'] / 1e6:.1f} MB, {ours['tokens']} tokens")
            print(f"| {'':38} | {'texts/s':>10} | {'MB/s':>7} | {'ours vs it':>10} |")
            print(f"|{'-' * 40}|{'-' * 12}|{'-' * 9}|{'-' * 12}|")
            rows = [
                ("arrowembed encode, 1 thread", ours["single_s"], None),
                ("arrowembed encode_batch, 2 threads", ours["batch2_s"], None),
                ("HF encode loop, 1 thread", hf_encode["seconds"], ours["single_s"]),
                ("HF encode_batch, RAYON_NUM_THREADS=1", hf_batch1["seconds"], ours["single_s"]),
                ("HF encode_batch, RAYON_NUM_THREADS=2", hf_batch2["seconds"], ours["batch2_s"]),
            ]
            for label, seconds, ours_seconds in rows:
                ratio = f"{seconds / ours_seconds:9.1f}x" if ours_seconds else f"{'':10}"
                print(f"| {label:38} | {rate(seconds):10.0f} | {ours['bytes'] / 1e6 / seconds:7.1f} | {ratio} |")
    print(f"\nconstruction from tokenizer.json: arrowembed {loads[0][0]:.1f} ms (median of 10), "
          f"HF Tokenizer.from_file {loads[0][1]:.1f} ms")
    print("ratios: 1-thread rows compare with our 1-thread encode, the 2-thread row with our 2-thread batch")


if __name__ == "__main__":
    main()
