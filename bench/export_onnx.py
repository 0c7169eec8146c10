#!/usr/bin/env python3
"""Export all-MiniLM-L6-v2 to ONNX for the ONNX Runtime peer of bench/engine_bench.py.

  .venv/bin/python bench/export_onnx.py [--out models/onnx/all-MiniLM-L6-v2.onnx]

The same weights (models/all-MiniLM-L6-v2, `transformers` BertModel, fp32)
exported with the TorchScript exporter at opset 17, with dynamic batch and
sequence axes; inputs input_ids, attention_mask, token_type_ids (int64),
output last_hidden_state. Eager attention is exported (not SDPA) because that
is the pattern ONNX Runtime's transformer fusions recognise.

GELU stays exact: BERT's "gelu" is the erf form, exported as Div/Erf/Add/Mul,
which ONNX Runtime fuses at session creation (ORT_ENABLE_ALL) into its exact
Gelu/BiasGelu kernels. Its approximate FastGelu only replaces the tanh form,
and the offline `onnxruntime.transformers` optimizer is not used, so no
approximation can enter. The script checks this on the optimized graph.

Then it verifies the model: mean pooling + L2 normalisation (numpy) of ORT's
output against sentence-transformers' embeddings of the reference corpus
(tests/fixtures/minilm-reference.parquet texts), batched 32 with padding as
the benchmark runs it; it prints max |diff| and fails above 1e-4.
Needs the reference stack plus `onnxruntime onnx` (scripts/requirements-reference.txt).
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
MODEL_DIR = REPO / "models" / "all-MiniLM-L6-v2"
DEFAULT_OUT = REPO / "models" / "onnx" / "all-MiniLM-L6-v2.onnx"
REFERENCE = REPO / "tests" / "fixtures" / "minilm-reference.parquet"
MAX_LENGTH = 256
TOLERANCE = 1e-4


def export(out: Path) -> None:
    import torch
    from transformers import BertModel

    model = BertModel.from_pretrained(str(MODEL_DIR), attn_implementation="eager", torch_dtype=torch.float32)
    model.eval()
    if model.config.hidden_act != "gelu":
        sys.exit(f"unexpected hidden_act {model.config.hidden_act!r}")

    class LastHidden(torch.nn.Module):
        """Positional inputs in a fixed order, a single named output."""

        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    ids = torch.tensor([[101, 7592, 2088, 102, 0], [101, 1037, 2204, 2154, 102]], dtype=torch.int64)
    mask = (ids != 0).to(torch.int64)
    dyn = {0: "batch", 1: "sequence"}
    out.parent.mkdir(parents=True, exist_ok=True)
    with torch.inference_mode():
        torch.onnx.export(
            LastHidden(model), (ids, mask, torch.zeros_like(ids)), str(out),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": dyn, "attention_mask": dyn, "token_type_ids": dyn, "last_hidden_state": dyn},
            opset_version=17, do_constant_folding=True, dynamo=False)


def session(path: Path, threads: int, optimized_copy: Path | None = None):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    if optimized_copy is not None:
        so.optimized_model_filepath = str(optimized_copy)
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def embed(sess, tokenizer, texts: list[str], batch_size: int = 32):
    """ORT last_hidden_state -> mean pooling over real tokens -> L2 normalisation."""
    import numpy as np

    out = []
    for i in range(0, len(texts), batch_size):
        enc = tokenizer.encode_batch(texts[i:i + batch_size])
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        hidden = sess.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask,
                                                  "token_type_ids": np.zeros_like(ids)})[0]
        m = mask[:, :, None].astype(np.float32)
        pooled = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)
        out.append(pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12))
    return np.concatenate(out)


def hf_tokenizer():
    """HF tokenizers, as sentence-transformers sets it up: truncation 256, pad to longest."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(MODEL_DIR / "tokenizer.json"))
    tok.enable_truncation(max_length=MAX_LENGTH)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    return tok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    if not (MODEL_DIR / "model.safetensors").is_file():
        sys.exit(f"{MODEL_DIR} is missing: run scripts/run.sh first")

    export(args.out)
    import onnx
    onnx.checker.check_model(str(args.out))
    print(f"exported {args.out} ({args.out.stat().st_size:,} bytes)")

    # What ORT makes of it at session creation: fused ops, and no approximate GELU.
    with tempfile.TemporaryDirectory() as tmp:
        opt_path = Path(tmp) / "optimized.onnx"
        sess = session(args.out, args.threads, opt_path)
        ops = collections.Counter(n.op_type for n in onnx.load(str(opt_path)).graph.node)
    print("ORT_ENABLE_ALL graph:", ", ".join(f"{k} x{v}" for k, v in sorted(ops.items())))
    if ops.get("FastGelu") or ops.get("BiasFastGelu") or ops.get("Tanh"):
        sys.exit("approximate GELU found in the optimized graph")
    if not (ops.get("Gelu") or ops.get("BiasGelu") or ops.get("Erf")):
        sys.exit("no exact GELU (Gelu/BiasGelu/Erf) in the optimized graph")

    # Fidelity against sentence-transformers on the reference corpus.
    import numpy as np
    import pyarrow.parquet as pq
    from sentence_transformers import SentenceTransformer

    if REFERENCE.is_file():
        texts = pq.read_table(REFERENCE, columns=["text"])["text"].to_pylist()
    else:  # still verify something meaningful without the fixture
        texts = ["Hello world!", "", "東京は日本の首都です", "unbelievable " * 300, "emoji 👍🏽"]
    st = SentenceTransformer(str(MODEL_DIR), device="cpu")
    expected = st.encode(texts, batch_size=32, convert_to_numpy=True, show_progress_bar=False)
    got = embed(sess, hf_tokenizer(), texts)
    diff = float(np.abs(got - expected).max())
    cos = float((got * expected).sum(1).min())
    print(f"ONNX Runtime vs sentence-transformers on {len(texts)} texts: max |diff| {diff:.2e}, "
          f"min cosine {cos:.8f} (tolerance {TOLERANCE:g})")
    if diff >= TOLERANCE:
        sys.exit("FAIL: the ONNX export does not match sentence-transformers")
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
