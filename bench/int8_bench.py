#!/usr/bin/env python3
"""int8 benchmark (issue 15): accuracy and speed of the int8 peers of all-MiniLM-L6-v2 -- ONNX Runtime
dynamic quantization and OpenVINO (NNCF weight compression and post-training quantization) -- beside
arrowembed's f32, bf16 and int8 runtimes, in one run.

  flock /tmp/arrowembed-build.lock .venv/bin/python bench/int8_bench.py [--out bench/results/int8.md]

Needs build/arrowembed, the converted f32 model file (scripts/run.sh), the ONNX export
(bench/export_onnx.py; made when missing) and the reference stack with onnxruntime, openvino and nncf
(scripts/setup.sh --reference). build/bench/fma_peak, when present, probes the machine after each round.
arrowembed int8 runs models/converted/all-MiniLM-L6-v2-int8.arrow; when that file is missing the script
converts one into a temporary directory (`arrowembed convert ... --dtype int8`, the same command), and when
the conversion or an `arrowembed embed` of it fails, the runtime is reported as not available.

Peer configurations (files made once under models/int8/, remade when their recipe or the ONNX export
changes; every one from models/onnx/all-MiniLM-L6-v2.onnx):
  - ONNX Runtime dynamic int8 (onnxruntime.quantization.quantize_dynamic): QInt8 per-tensor (the default),
    per-channel, reduce_range, QUInt8 weights, per-channel with the embedding tables left in float (MatMul
    and Attention only), and optimum's AVX512-VNNI dynamic preset (AutoQuantizationConfig.avx512_vnni(
    is_static=False): ORTQuantizer's own ONNXQuantizer arguments, applied here because optimum-onnx would
    replace this venv's transformers 5 with 4.57); each on the export as is and (but reduce_range and
    QUInt8) on the graph fused first by onnxruntime.transformers' optimizer (model_type bert: Attention,
    SkipLayerNormalization, BiasGelu, EmbedLayerNormalization; exact GELU). Sessions: bench/export_onnx.py's
    session() (ORT_ENABLE_ALL, intra_op_num_threads=threads) and embed() (HF tokenizers, padding to the longest
    text of a batch).
  - OpenVINO: nncf.compress_weights INT8_ASYM / INT8_SYM (int8 weights, float activations) and
    nncf.quantize post-training quantization (int8 weights and activations; model_type TRANSFORMER, preset
    MIXED, fast bias correction, no overflow fix) calibrated on generated texts (engine_bench.make_texts,
    another seed): the settings of sentence-transformers' "qint8" OpenVINO export (optimum-intel's
    OVQuantizationConfig defaults; it calibrates on a glue/sst2 sample instead), and two variants of it
    (smooth quant off; the attention-output and FFN-output projections left in float). Compiled with
    INFERENCE_NUM_THREADS=threads and PERFORMANCE_HINT LATENCY (one synchronous request at a time, batch or
    single: THROUGHPUT's streams split the threads and were ~40 % slower in a trial), the precision hint per
    --ov-precision (OpenVINO's default is bf16 on a CPU with AVX512-BF16), run through the same embed().
  - arrowembed f32, bf16 (--precision bf16, on CPUs with AVX512-BF16) and int8.

Accuracy (every configuration, in a child process before the timing): min and mean cosine against the
sentence-transformers fp32 embeddings stored in tests/fixtures/minilm-reference.parquet (303 texts), and
retrieval on real English text: paragraphs of the docstrings of the Python standard library this venv runs
(module, class and function docstrings, ast-parsed, prose paragraphs of 10-200 tokens, deduplicated, the
first --corpus-size by SHA-1 of the text); the first --queries of them are queries against the rest, and a
configuration's score is |its top 10 & sentence-transformers fp32's top 10| / 10, averaged over queries (each
side searching with its own embeddings). The fp32 corpus embeddings are cached under models/int8/cache.
Every configuration embeds 32 texts a call in sentence-transformers' encode() order (longest first).
A short screen per peer configuration (short and long batches, --screen-seconds each) picks, per peer, the
fastest configuration; the speed rounds then time, per peer, the most accurate (highest fixture mean cosine)
and the fastest (highest product of the two screens). The optimum preset on the fused graph is the same file
as per-channel there (it is measured once).

Speed: engine_bench.py's protocol and machinery -- the same generated texts (short: 10-20 tokens, long:
190-210), batch 32, single texts, interleaved rounds with medians, Python peers as long-lived workers,
arrowembed through `arrowembed bench`, cold start (fresh process -> first vector), peak RSS per process,
rounds during which other processes used CPU left out and replaced (up to --extra-rounds).
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import engine_bench as eb  # noqa: E402
from engine_bench import (BATCH, BENCH_DIR, CONVERTED, MODEL_DIR, ONNX_PATH, REPO, CpuMonitor,  # noqa: E402
                          PyPeer, child_env, cold_start, fma_peak, machine_facts, make_texts, run_ours, serve_worker,
                          timed_loop)

FIXTURE = REPO / "tests" / "fixtures" / "minilm-reference.parquet"
SAFETENSORS = MODEL_DIR / "model.safetensors"
INT8_DIR = REPO / "models" / "int8"
OURS_INT8 = CONVERTED / "all-MiniLM-L6-v2-int8.arrow"
CALIB_SEED = 1515  # calibration texts for NNCF: generated like the benchmark's, from another seed
CALIB_SHORT, CALIB_LONG = 200, 64
OV_PRECISION_ENV = "INT8_BENCH_OV_PRECISION"
S, L, G = eb.S, eb.L, eb.G
WORKLOADS = eb.WORKLOADS
# A round is disturbed when other processes used more than engine_bench's share of the cores during it, or when
# the FMA probe after it (best of two 0.1 s probes) fell below this fraction of the best probe: on this 2-vCPU
# VM two-thread probes of an idle machine already vary by ~15 %, so engine_bench's 90 % would reject most rounds.
DISTURBED_CORES, DISTURBED_PROBE = eb.DISTURBED_CORES, 0.80

# ---------------------------------------------------------------------------
# Configurations. family: ort / ov / ours; kind (ort, ov): how the file is made.

ORT_QUANT = {  # name suffix -> (label, quantize_dynamic options; "vnni": optimum's preset)
    "q8": ("QInt8 weights, per-tensor (default)", {}),
    "q8-pc": ("QInt8, per-channel", {"per_channel": True}),
    "q8-rr": ("QInt8, per-tensor, reduce_range", {"reduce_range": True}),
    "u8": ("QUInt8 weights, per-tensor", {"weight_type": "QUInt8"}),
    "q8-pc-mm": ("QInt8, per-channel, MatMul/Attention only (embedding tables float)",
                 {"per_channel": True, "op_types_to_quantize": ["MatMul", "Attention"]}),
    "vnni": ("optimum avx512_vnni dynamic preset (per-channel, symmetric QInt8, all IntegerOps types, "
             "activation x activation MatMuls too)", "vnni"),
}
# reduce_range and QUInt8 weights lose accuracy on the export without gaining speed (a first full run: fixture
# mean cosine 0.81 / 0.97 against 0.93 for the default; short-batch screen no faster, QUInt8 about half as fast,
# as it has no VNNI kernel), and did the same on the fused graph: tried there once, not repeated in every run.
ORT_EXPORT_ONLY = ("q8-rr", "u8")
OV_RECIPES = {
    "ov-wc-asym": ("nncf.compress_weights INT8_ASYM (int8 weights per channel, float activations)",
                   {"kind": "wc", "mode": "INT8_ASYM"}),
    "ov-wc-sym": ("nncf.compress_weights INT8_SYM (int8 weights per channel, float activations)",
                  {"kind": "wc", "mode": "INT8_SYM"}),
    # nncf.quantize as optimum-intel's OVQuantizationConfig() defaults call it (sentence-transformers' "qint8"
    # OpenVINO export): model_type transformer, preset MIXED, fast bias correction, overflow fix off (a VNNI CPU
    # needs no 7-bit weights), NNCF's smooth quant alpha.
    "ov-ptq": ("nncf.quantize TRANSFORMER/MIXED, smooth quant default, fast bias correction, no overflow fix "
               "(sentence-transformers' qint8 recipe)", {"kind": "ptq"}),
    "ov-ptq-nosq": ("nncf.quantize as ov-ptq, smooth quant off", {"kind": "ptq", "smooth_quant": False}),
    "ov-ptq-keepout": ("nncf.quantize as ov-ptq, attention-output and FFN-output MatMuls left float",
                       {"kind": "ptq", "ignore": r".*layer\.\d+/(attention/)?output/dense/MatMul"}),
}


def configurations() -> dict[str, dict]:
    conf = {"ort-fp32": {"family": "ort", "label": "ONNX Runtime fp32 (reference)", "path": ONNX_PATH,
                         "int8": False, "how": "bench/export_onnx.py export, fp32"}}
    for graph in ("", "opt-"):
        for suffix, (label, opts) in ORT_QUANT.items():
            if graph and suffix in ORT_EXPORT_ONLY:
                continue
            name = f"ort-{graph}{suffix}"
            conf[name] = {"family": "ort", "int8": True, "path": INT8_DIR / "ort" / f"{name}.onnx",
                          "label": f"ORT {'optimized graph, ' if graph else ''}{label}",
                          "recipe": {"graph": "optimized" if graph else "export", "quant": opts}}
    for name, (label, recipe) in OV_RECIPES.items():
        conf[name] = {"family": "ov", "int8": True, "path": INT8_DIR / "ov" / f"{name}.xml",
                      "label": f"OpenVINO {label}", "recipe": recipe}
    conf["ours-f32"] = {"family": "ours", "int8": False, "label": "arrowembed f32",
                        "path": CONVERTED / "all-MiniLM-L6-v2-f32.arrow", "args": []}
    conf["ours-bf16"] = {"family": "ours", "int8": False, "label": "arrowembed bf16",
                         "path": CONVERTED / "all-MiniLM-L6-v2-f32.arrow", "args": ["--precision", "bf16"]}
    conf["ours-int8"] = {"family": "ours", "int8": True, "label": "arrowembed int8", "path": OURS_INT8, "args": []}
    return conf


CONF = configurations()
PEERS = {"ort": "ONNX Runtime int8", "ov": "OpenVINO int8"}


def model_files(path: Path) -> list[Path]:
    return [path, path.with_suffix(".bin")] if path.suffix == ".xml" else [path]


def file_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in model_files(path) if p.exists())


# ---------------------------------------------------------------------------
# Real English text for retrieval: the standard library's docstrings.

def real_corpus(size: int) -> tuple[list[str], dict]:
    from tokenizers import Tokenizer

    root = Path(sysconfig.get_paths()["stdlib"])
    skip = {"site-packages", "test", "tests", "idle_test"}
    files = sorted(p for p in root.rglob("*.py") if not skip & set(p.relative_to(root).parts))
    paragraphs: set[str] = set()
    for f in files:
        try:
            tree = ast.parse(f.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            doc = ast.get_docstring(node, clean=True)
            for para in re.split(r"\n\s*\n", doc or ""):
                lines = para.splitlines()
                if any(line.startswith((" ", "\t", ">>>", "...")) for line in lines):
                    continue  # code, examples, indented lists
                text = " ".join(line.strip() for line in lines)
                if (len(text.split()) >= 6 and text[0].isupper() and text[-1] in ".?!" and
                        sum(c.isalpha() or c == " " for c in text) >= 0.85 * len(text)):
                    paragraphs.add(text)
    tok = Tokenizer.from_file(str(MODEL_DIR / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    kept = []
    for text in paragraphs:
        n = len(tok.encode(text).ids)
        if 10 <= n <= 200:
            kept.append((hashlib.sha1(text.encode()).hexdigest(), text, n))
    kept.sort()
    kept = kept[:size]
    tokens = [n for _, _, n in kept]
    return [t for _, t, _ in kept], {
        "stdlib": str(root), "python": sys.version.split()[0], "files": len(files), "paragraphs": len(paragraphs),
        "texts": len(kept), "tokens_min": min(tokens),
        "tokens_max": max(tokens), "tokens_mean": sum(tokens) / len(tokens),
        "sha1": hashlib.sha1("\n".join(t for _, t, _ in kept).encode()).hexdigest()[:12]}


# ---------------------------------------------------------------------------
# Making the peers' files.

def _versions() -> dict:
    import importlib.metadata as md
    return {p: md.version(p) for p in ("onnxruntime", "onnx", "openvino", "nncf")}


def _stamp(recipe) -> str:
    st = ONNX_PATH.stat()
    return json.dumps({"recipe": recipe, "source": [st.st_size, int(st.st_mtime)], "versions": _versions()},
                      sort_keys=True)


def _fresh(path: Path, recipe) -> bool:
    side = path.with_suffix(path.suffix + ".recipe.json")
    return all(p.exists() for p in model_files(path)) and side.exists() and side.read_text() == _stamp(recipe)


def _mark(path: Path, recipe) -> None:
    path.with_suffix(path.suffix + ".recipe.json").write_text(_stamp(recipe))


def bert_shape() -> tuple[int, int]:
    cfg = json.loads((MODEL_DIR / "config.json").read_text())
    return cfg["num_attention_heads"], cfg["hidden_size"]


def optimized_fp32() -> tuple[Path, dict]:
    """The export fused by onnxruntime.transformers' optimizer (bert), fp32; its fused-operator counts."""
    path = INT8_DIR / "ort" / "opt-fp32.onnx"
    heads, hidden = bert_shape()
    recipe = {"optimizer": "bert", "num_heads": heads, "hidden_size": hidden}
    stats_path = path.with_suffix(".stats.json")
    if not _fresh(path, recipe) or not stats_path.exists():
        from onnxruntime.transformers.optimizer import optimize_model

        path.parent.mkdir(parents=True, exist_ok=True)
        model = optimize_model(str(ONNX_PATH), model_type="bert", num_heads=heads, hidden_size=hidden)
        stats = {k: v for k, v in model.get_fused_operator_statistics().items() if v}
        if stats.get("FastGelu") or stats.get("BiasFastGelu"):
            sys.exit("the optimizer approximated GELU (FastGelu)")
        model.save_model_to_file(str(path))
        stats_path.write_text(json.dumps(stats))
        _mark(path, recipe)
    return path, json.loads(stats_path.read_text())


def make_ort(name: str, spec: dict, opt_path: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantizationMode, QuantType, quantize_dynamic

    recipe = spec["recipe"]
    path = spec["path"]
    if _fresh(path, recipe):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    src = opt_path if recipe["graph"] == "optimized" else ONNX_PATH
    # The fused graph's com.microsoft ops defeat ONNX shape inference; the quantizer needs a default type.
    extra = {"DefaultTensorType": onnx.TensorProto.FLOAT} if recipe["graph"] == "optimized" else {}
    quant = recipe["quant"]
    if quant == "vnni":
        # optimum's ORTQuantizer.quantize(AutoQuantizationConfig.avx512_vnni(is_static=False)): its arguments
        # to ORT's ONNXQuantizer (optimum-onnx 0.1, onnxruntime/quantization.py and configuration.py).
        from onnxruntime.quantization.onnx_quantizer import ONNXQuantizer
        from onnxruntime.quantization.registry import IntegerOpsRegistry

        q = ONNXQuantizer(
            onnx.load(str(src)), per_channel=True, reduce_range=False, mode=QuantizationMode.IntegerOps,
            static=False, weight_qType=QuantType.QInt8, activation_qType=QuantType.QUInt8, tensors_range=None,
            nodes_to_quantize=[], nodes_to_exclude=[], op_types_to_quantize=list(IntegerOpsRegistry.keys()),
            extra_options={"WeightSymmetric": True, "ActivationSymmetric": False, "EnableSubgraph": False,
                           "ForceSymmetric": False, "AddQDQPairToWeight": False, "DedicatedQDQPair": False,
                           "QDQOpTypePerChannelSupportToAxis": {"MatMul": 1}, **extra})
        q.quantize_model()
        q.model.save_model_to_file(str(path))
    else:
        opts = dict(quant)
        opts["weight_type"] = getattr(QuantType, opts.get("weight_type", "QInt8"))
        quantize_dynamic(str(src), str(path), extra_options=extra or None, **opts)
    _mark(path, recipe)


def calibration_inputs() -> list[dict]:
    import numpy as np
    from export_onnx import hf_tokenizer

    short, long, _ = make_texts(CALIB_SEED)
    tok = hf_tokenizer()
    items = []
    for text in short[:CALIB_SHORT] + long[:CALIB_LONG]:
        ids = np.array([tok.encode(text).ids], dtype=np.int64)
        items.append({"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)})
    return items


def ov_recipe(spec: dict) -> dict:
    recipe = spec["recipe"]
    ptq = recipe["kind"] == "ptq"
    return {**recipe, "calibration": [CALIB_SEED, CALIB_SHORT, CALIB_LONG] if ptq else None,
            "overflow_fix": "disable" if ptq else None}


def make_ov(name: str, spec: dict, calib: list) -> None:
    recipe = spec["recipe"]
    path = spec["path"]
    full = ov_recipe(spec)
    if _fresh(path, full):
        return
    import nncf
    import openvino as ov

    path.parent.mkdir(parents=True, exist_ok=True)
    model = ov.Core().read_model(str(ONNX_PATH))
    if recipe["kind"] == "wc":
        model = nncf.compress_weights(model, mode=getattr(nncf.CompressWeightsMode, recipe["mode"]))
    else:
        from nncf.quantization.advanced_parameters import (AdvancedQuantizationParameters,
                                                           AdvancedSmoothQuantParameters, OverflowFix)
        advanced = AdvancedQuantizationParameters(overflow_fix=OverflowFix.DISABLE)
        if recipe.get("smooth_quant") is False:
            advanced.smooth_quant_alphas = AdvancedSmoothQuantParameters(matmul=-1)
        kw = {"advanced_parameters": advanced}
        if recipe.get("ignore"):
            kw["ignored_scope"] = nncf.IgnoredScope(patterns=[recipe["ignore"]])
        model = nncf.quantize(model, nncf.Dataset(calib), model_type=nncf.ModelType.TRANSFORMER,
                              preset=nncf.QuantizationPreset.MIXED, subset_size=len(calib), **kw)
    ov.save_model(model, str(path), compress_to_fp16=False)
    _mark(path, full)


# ---------------------------------------------------------------------------
# Running a peer configuration: export_onnx's session()/embed(); OpenVINO behind the same run() call.

class OVSession:
    """An OpenVINO compiled model behind ONNX Runtime's sess.run(names, feeds), for export_onnx.embed()."""

    def __init__(self, path: Path, threads: int, precision: str):
        import openvino as ov

        cfg = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}
        if precision != "default":
            cfg["INFERENCE_PRECISION_HINT"] = precision
        self.compiled = ov.Core().compile_model(str(path), "CPU", cfg)
        self.request = self.compiled.create_infer_request()

    def run(self, names, feeds):
        self.request.infer(feeds)
        return [self.request.get_output_tensor(0).data]

    def info(self) -> dict:
        def text(v):
            return v.to_string() if hasattr(v, "to_string") else str(v)
        return {k.lower(): text(self.compiled.get_property(k)) for k in
                ("INFERENCE_NUM_THREADS", "PERFORMANCE_HINT", "INFERENCE_PRECISION_HINT", "NUM_STREAMS")}


def make_call(name: str, threads: int, ov_precision: str):
    from export_onnx import embed, hf_tokenizer, session

    spec = CONF[name]
    if spec["family"] == "ort":
        sess = session(spec["path"], threads)
        info = {"intra_op_num_threads": sess.get_session_options().intra_op_num_threads}
    else:
        sess = OVSession(spec["path"], threads, ov_precision)
        info = sess.info()
    tokenizer = hf_tokenizer()

    def call(batch):
        return embed(sess, tokenizer, batch, BATCH)
    return call, info


def worker_main(name: str, threads: int, texts_path: Path, ov_precision: str) -> int:
    texts = json.loads(texts_path.read_text(encoding="utf-8"))
    t0 = time.perf_counter()
    call, info = make_call(name, threads, ov_precision)
    return serve_worker(call, texts, {"load_ms": (time.perf_counter() - t0) * 1000, **info})


def cold_main(name: str, threads: int, text: str, ov_precision: str) -> int:
    call, _ = make_call(name, threads, ov_precision)
    print(json.dumps({"embedding": call([text])[0].tolist()}), flush=True)
    return 0


def cold_argv(name: str, threads: int, text: str, cli: Path, ov_precision: str) -> tuple[list[str], str | None]:
    spec = CONF[name]
    if spec["family"] == "ours":
        return [str(cli), "embed", "-m", str(spec["path"]), "--threads", str(threads), *spec["args"]], text + "\n"
    if spec["family"] == "ort":  # engine_bench's ONNX Runtime cold start, on this configuration's file
        return [sys.executable, "-c", eb.COLD_ORT, str(BENCH_DIR), str(spec["path"]), str(threads), text], None
    return [sys.executable, str(Path(__file__).resolve()), "--cold", name, "--threads", str(threads),
            "--ov-precision", ov_precision, "--text", text], None


# ---------------------------------------------------------------------------
# Offline phase (a child process, so the harness stays small): texts, files, accuracy, screening.

def ours_embed(cli: Path, spec: dict, texts: list[str], threads: int, tmp: Path):
    import numpy as np
    import pyarrow.ipc as ipc

    inp, out = tmp / "ours-in.jsonl", tmp / "ours-out.arrow"
    inp.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    proc = subprocess.run([str(cli), "embed", "-m", str(spec["path"]), "--input", str(inp), "-o", str(out),
                           "--batch-size", str(BATCH), "--threads", str(threads), *spec["args"]],
                          capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError((proc.stderr.strip() or f"exit {proc.returncode}").splitlines()[-1])
    with ipc.open_file(str(out)) as reader:
        column = reader.read_all()["embedding"].combine_chunks()
    return np.asarray(column.values.to_numpy(zero_copy_only=False), dtype=np.float32).reshape(len(texts), -1)


def in_st_order(embed_fn, texts: list[str]):
    """embed_fn over the texts in sentence-transformers' encode() order (longest first; 32 a call), unsorted."""
    import numpy as np

    order = np.argsort([-len(t) for t in texts])
    emb = embed_fn([texts[i] for i in order])
    out = np.empty_like(emb)
    out[order] = emb
    return out


def accuracy(emb, ref, corpus_emb, fp32_corpus, queries: int) -> dict:
    import numpy as np

    def cos(a, b):
        return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))

    def top10(e):
        e = e / np.linalg.norm(e, axis=1, keepdims=True)
        scores = e[:queries] @ e[queries:].T
        return np.argpartition(-scores, 10, axis=1)[:, :10]

    c, cc = cos(emb, ref), cos(corpus_emb, fp32_corpus)
    a, b = top10(corpus_emb), top10(fp32_corpus)
    overlap = [len(set(x) & set(y)) / 10 for x, y in zip(a.tolist(), b.tolist())]
    return {"fixture_min": float(c.min()), "fixture_mean": float(c.mean()), "corpus_min": float(cc.min()),
            "corpus_mean": float(cc.mean()), "overlap": float(np.mean(overlap)),
            "overlap_min": float(min(overlap)), "overlap_full": float(np.mean([o == 1.0 for o in overlap]))}


def offline_main(args) -> int:
    import numpy as np
    import pyarrow.parquet as pq

    out: dict = {"configs": {}}
    t_start = time.perf_counter()
    short, long, stats = make_texts()
    (args.tmp / "texts.json").write_text(json.dumps({"short": short, "long": long, "stats": stats}),
                                         encoding="utf-8")
    # Files.
    t0 = time.perf_counter()
    opt_path, out["optimizer_ops"] = optimized_fp32()
    calib = None
    for name, spec in CONF.items():
        if spec["family"] == "ort" and spec["int8"]:
            make_ort(name, spec, opt_path)
        elif spec["family"] == "ov":
            if calib is None and spec["recipe"]["kind"] == "ptq" and not _fresh(spec["path"], ov_recipe(spec)):
                calib = calibration_inputs()
            make_ov(name, spec, calib)
    out["prepare_s"] = time.perf_counter() - t0
    print(f"files ready ({out['prepare_s']:.0f} s)", flush=True)

    # Reference embeddings: the fixture's, and sentence-transformers fp32 of the corpus (cached).
    table = pq.read_table(FIXTURE, columns=["text", "embedding"])
    fixture = table["text"].to_pylist()
    ref = np.asarray(table["embedding"].combine_chunks().values.to_numpy(), dtype=np.float32).reshape(
        len(fixture), -1)
    corpus, out["corpus"] = real_corpus(args.corpus_size)
    import sentence_transformers
    key = hashlib.sha1(("\n".join(corpus) + sentence_transformers.__version__).encode()).hexdigest()[:16]
    cache = INT8_DIR / "cache" / f"corpus-fp32-{key}.npy"
    if cache.exists():
        fp32_corpus = np.load(cache)
    else:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(args.threads)
        st = SentenceTransformer(str(MODEL_DIR), device="cpu")
        fp32_corpus = st.encode(corpus, batch_size=BATCH, convert_to_numpy=True, show_progress_bar=False)
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, fp32_corpus)
        del st
    out["corpus"]["cache"] = str(cache.relative_to(REPO))

    digests: dict[str, str] = {}
    for name, spec in CONF.items():
        r: dict = {"label": spec["label"]}
        out["configs"][name] = r
        if name == "ours-bf16" and args.no_bf16:
            r["unavailable"] = args.no_bf16
            continue
        if spec["family"] == "ours":
            if not Path(spec["path"]).exists():
                r["unavailable"] = f"{spec['path']} is missing"
                continue
        else:
            digest = hashlib.sha256(b"".join(p.read_bytes() for p in model_files(spec["path"]))).hexdigest()
            r["sha256"] = digest[:12]
            same = digests.get(digest)
            digests.setdefault(digest, name)
            if same:  # byte-identical file: same results, no need to run it again
                r.update({k: v for k, v in out["configs"][same].items() if k not in ("label",)})
                r["same_file_as"] = same
                continue
        t0 = time.perf_counter()
        try:
            if spec["family"] == "ours":
                def call(texts):
                    return ours_embed(args.cli, spec, texts, args.threads, args.tmp)
            else:
                call, r["session"] = make_call(name, args.threads, args.ov_precision)
            emb, corpus_emb = in_st_order(call, fixture), in_st_order(call, corpus)
        except Exception as e:  # noqa: BLE001 -- reported, the run goes on
            r["unavailable"] = f"embedding failed: {e}"
            print(f"{name}: {r['unavailable']}", flush=True)
            continue
        r["embed_s"] = time.perf_counter() - t0
        r.update(accuracy(emb, ref, corpus_emb, fp32_corpus, args.queries))
        if spec["family"] != "ours":  # a short screen of its speed, to pick each peer's fastest
            r["screen_short"] = timed_loop(call, short, BATCH, args.screen_seconds)["texts_per_s"]
            r["screen_long"] = timed_loop(call, long, BATCH, args.screen_seconds)["texts_per_s"]
            del call
        print(f"{name}: fixture min {r['fixture_min']:.5f} mean {r['fixture_mean']:.6f}; top-10 overlap "
              f"{r['overlap']:.3f}" + (f"; screen {r['screen_short']:.0f} / {r['screen_long']:.1f} texts/s"
                                       if "screen_short" in r else "") + f" ({r['embed_s']:.0f} s)", flush=True)
    out["offline_s"] = time.perf_counter() - t_start
    (args.tmp / "offline.json").write_text(json.dumps(out))
    return 0


# ---------------------------------------------------------------------------

def med(xs):
    return statistics.median(xs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads for every runtime")
    ap.add_argument("--rounds", type=int, default=3, help="clean interleaved rounds wanted (medians over them)")
    ap.add_argument("--extra-rounds", type=int, default=2, help="rounds allowed beyond --rounds to replace "
                    "disturbed ones")
    ap.add_argument("--seconds", type=float, default=1.5, help="timed seconds per short/single measurement")
    ap.add_argument("--long-seconds", type=float, default=2.0, help="timed seconds per long-text measurement")
    ap.add_argument("--screen-seconds", type=float, default=0.5, help="seconds per screening measurement")
    ap.add_argument("--corpus-size", type=int, default=3000, help="retrieval corpus texts (queries included)")
    ap.add_argument("--queries", type=int, default=200, help="retrieval queries (the corpus' first texts)")
    ap.add_argument("--ov-precision", choices=["default", "f32", "bf16"],
                    default=os.environ.get(OV_PRECISION_ENV, "default"),
                    help="OpenVINO INFERENCE_PRECISION_HINT (default: OpenVINO's choice for the CPU)")
    ap.add_argument("--ours-int8", type=Path, default=OURS_INT8, help="arrowembed int8 model file")
    ap.add_argument("--no-speed", action="store_true", help="accuracy and files only (for development)")
    ap.add_argument("--configs", help="only these peer configurations, comma-separated (for development)")
    ap.add_argument("--build", type=Path, default=REPO / "build", help="build dir with arrowembed")
    ap.add_argument("--out", type=Path, help="also write the report (markdown) here")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--texts", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--cold", help=argparse.SUPPRESS)
    ap.add_argument("--text", help=argparse.SUPPRESS)
    ap.add_argument("--offline", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--no-bf16", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.cli = args.build / "arrowembed"
    CONF["ours-int8"]["path"] = args.ours_int8
    if args.configs:
        keep = set(args.configs.split(",")) | {"ort-fp32"}
        for name in [n for n, s in CONF.items() if s["family"] != "ours" and n not in keep]:
            del CONF[name]
    if args.worker:
        return worker_main(args.worker, args.threads, args.texts, args.ov_precision)
    if args.cold:
        return cold_main(args.cold, args.threads, args.text, args.ov_precision)
    if args.offline:
        args.tmp = args.offline
        return offline_main(args)

    started = time.perf_counter()
    for path, hint in [(args.cli, "scripts/build.sh"), (SAFETENSORS, "scripts/run.sh"),
                       (CONF["ours-f32"]["path"], "scripts/run.sh"), (FIXTURE, "the repository's fixture")]:
        if not path.exists():
            sys.exit(f"{path} is missing: {hint}")
    if not ONNX_PATH.is_file():
        print(f"{ONNX_PATH} is missing: exporting it with bench/export_onnx.py", flush=True)
        subprocess.run([sys.executable, str(BENCH_DIR / "export_onnx.py"), "--out", str(ONNX_PATH)], check=True)
    env = child_env(args.threads)
    env[OV_PRECISION_ENV] = args.ov_precision  # for the workers PyPeer starts (`--worker NAME` only)
    missing = [f for f in eb.BF16_FLAGS if f not in eb.cpu_flags()]
    no_bf16 = f"this CPU lacks {', '.join(missing)}" if missing else ""
    fma = args.build / "bench" / "fma_peak"
    facts = machine_facts(args.cli, env)
    print(f"{facts['cpu']}, {facts['cores']} cores; threads {args.threads}", flush=True)

    with tempfile.TemporaryDirectory(prefix="int8-bench-") as tmpdir:
        tmp = Path(tmpdir)
        ours_int8_note = ""
        if not args.ours_int8.exists():  # the same convert command, into the temporary directory
            made = tmp / "all-MiniLM-L6-v2-int8.arrow"
            proc = subprocess.run([str(args.cli), "convert", str(MODEL_DIR), "-o", str(made), "--dtype", "int8"],
                                  capture_output=True, text=True)
            if proc.returncode == 0 and made.exists():
                CONF["ours-int8"]["path"] = made
                shown = args.ours_int8.relative_to(REPO) if args.ours_int8.is_relative_to(REPO) else args.ours_int8
                ours_int8_note = (f"{shown} was missing: converted for this run by `build/arrowembed convert "
                                  "models/all-MiniLM-L6-v2 -o TMP/all-MiniLM-L6-v2-int8.arrow --dtype int8`")
            else:
                ours_int8_note = ("missing, and `arrowembed convert --dtype int8` failed: " +
                                  ((proc.stderr.strip() or f"exit {proc.returncode}").splitlines() or ["?"])[-1])
                CONF["ours-int8"]["path"] = made  # does not exist: reported as not available
        print("offline phase: texts, files, accuracy, screening", flush=True)
        argv = [sys.executable, str(Path(__file__).resolve()), "--offline", str(tmp), "--threads", str(args.threads),
                "--corpus-size", str(args.corpus_size), "--queries", str(args.queries), "--build", str(args.build),
                "--ov-precision", args.ov_precision, "--screen-seconds", str(args.screen_seconds),
                "--ours-int8", str(CONF["ours-int8"]["path"])] + (["--no-bf16", no_bf16] if no_bf16 else []) + \
            (["--configs", args.configs] if args.configs else [])
        subprocess.run(argv, check=True, env=env)
        off = json.loads((tmp / "offline.json").read_text())
        acc = off["configs"]
        if "unavailable" in acc["ours-int8"] and not ours_int8_note.startswith("missing"):
            ours_int8_note = (ours_int8_note + "; " if ours_int8_note else "") + acc["ours-int8"]["unavailable"]
        ours_info = {}
        for name in ("ours-f32", "ours-int8"):
            if "unavailable" not in acc[name]:
                info = subprocess.run([str(args.cli), "info", str(CONF[name]["path"])], capture_output=True, text=True)
                ours_info[name] = json.loads(info.stdout) if info.returncode == 0 else {}

        # Which configurations the rounds time: ours, ORT fp32, and per peer the most accurate and the fastest.
        chosen: dict[str, list[str]] = {}
        for fam in PEERS:
            ok = [n for n, s in CONF.items() if s["family"] == fam and s["int8"] and "unavailable" not in acc[n]
                  and "same_file_as" not in acc[n]]
            if not ok:
                continue
            best = max(ok, key=lambda n: (acc[n]["fixture_mean"], acc[n]["fixture_min"]))
            fast = max(ok, key=lambda n: acc[n]["screen_short"] * acc[n]["screen_long"])
            chosen[fam] = list(dict.fromkeys([best, fast]))
            acc[best]["role"] = "most accurate"
            acc[fast]["role"] = ("most accurate and fastest" if fast == best else "fastest")
        runtimes = [n for n in ("ours-f32", "ours-bf16", "ours-int8") if "unavailable" not in acc[n]]
        runtimes += ["ort-fp32"] + [n for fam in chosen for n in chosen[fam]]
        m = {"results": {rt: {w: [] for w in WORKLOADS} for rt in runtimes}, "cold": {rt: [] for rt in runtimes},
             "load": [], "clean": [], "ready": {}, "peer_rss": {}}
        if not args.no_speed:
            run_speed(args, runtimes, tmp, env, fma, m)
        m["parent_maxrss"] = eb.resource.getrusage(eb.resource.RUSAGE_SELF).ru_maxrss * 1024.0
    elapsed = time.perf_counter() - started
    report = build_report(args, facts, off, m, runtimes, chosen, ours_int8_note, ours_info, no_bf16, elapsed)
    print(report)
    if args.out:
        args.out.write_text(report)
    return 0


def run_speed(args, runtimes: list[str], tmp: Path, env: dict, fma: Path, m: dict) -> None:
    texts = json.loads((tmp / "texts.json").read_text(encoding="utf-8"))
    m["text_stats"] = texts["stats"]
    files = {"short": tmp / "short.txt", "long": tmp / "long.txt"}
    for name in files:
        files[name].write_text("".join(t + "\n" for t in texts[name]), encoding="utf-8")
    cold_text = texts["short"][0]
    del texts
    for rt in runtimes:  # warm the page cache
        for f in model_files(Path(CONF[rt]["path"])):
            with f.open("rb") as fh:
                while fh.read(1 << 20):
                    pass
    peers = {}
    for rt in runtimes:
        if CONF[rt]["family"] != "ours":
            peers[rt] = PyPeer(rt, args.threads, tmp / "texts.json", tmp, env, script=Path(__file__).resolve())
    monitor = CpuMonitor(lambda: [p.proc.pid for p in peers.values() if p.proc.returncode is None])
    has_fma = fma.exists()
    best_fma = fma_peak(fma, args.threads)["all_threads_gflops"] if has_fma else 0.0
    started = time.perf_counter()
    r = 0
    while sum(m["clean"]) < args.rounds and r < args.rounds + args.extra_rounds:
        order = runtimes[r % len(runtimes):] + runtimes[:r % len(runtimes)]
        for name, mode in WORKLOADS:
            seconds = args.long_seconds if name == "long" else args.seconds
            for rt in order:
                if rt in peers:
                    res = peers[rt].measure(name, 1 if mode == "single" else BATCH, seconds)
                else:
                    res = run_ours(args.cli, Path(CONF[rt]["path"]), files[name], mode, seconds, args.threads, env,
                                   tmp, CONF[rt]["args"])
                m["results"][rt][(name, mode)].append(res)
        for rt in order:
            argv, stdin = cold_argv(rt, args.threads, cold_text, args.cli, args.ov_precision)
            m["cold"][rt].append(cold_start(argv, stdin, env, tmp))
        lap = monitor.lap()
        lap["fma_gflops"] = max(fma_peak(fma, args.threads, 0.1)["all_threads_gflops"] for _ in range(2)) \
            if has_fma else float("nan")
        m["load"].append(lap)
        best_fma = max(best_fma, lap["fma_gflops"]) if has_fma else 0.0
        clean = lap["others_cores"] <= DISTURBED_CORES and (
            not has_fma or lap["fma_gflops"] >= DISTURBED_PROBE * best_fma)
        m["clean"].append(clean)
        r += 1
        print(f"round {r}: short texts/s " + ", ".join(
            f"{rt} {m['results'][rt][S][-1]['texts_per_s']:.0f}" for rt in runtimes) +
            f"; other processes {lap['others_cores']:.2f} cores; FMA probe {lap['fma_gflops']:.0f} GFLOP/s (best "
            f"{best_fma:.0f}) -> {'clean' if clean else 'DISTURBED'}, "
            f"{sum(m['clean'])}/{args.rounds} clean ({time.perf_counter() - started:.0f} s)", flush=True)
    m["ready"] = {rt: p.ready for rt, p in peers.items()}
    m["peer_rss"] = {rt: p.close() for rt, p in peers.items()}


# ---------------------------------------------------------------------------
# Report.

def build_report(args, facts, off, m, runtimes, chosen, ours_int8_note, ours_info, no_bf16, elapsed) -> str:
    acc = off["configs"]
    flags = eb.cpu_flags()
    size_st = SAFETENSORS.stat().st_size
    command = "flock /tmp/arrowembed-build.lock .venv/bin/python bench/int8_bench.py" + "".join(
        f" {a}" for a in sys.argv[1:])
    corpus = off["corpus"]
    versions = _versions()
    out = [
        "# int8 peers of all-MiniLM-L6-v2: accuracy and speed (issue 15)",
        "",
        f"- command (repository root): `{command}`",
        f"- date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; the whole run took {elapsed:.0f} s "
        f"(files, accuracy and screening {off['offline_s']:.0f} s, of which making missing files "
        f"{off['prepare_s']:.0f} s)",
        f"- git commit: {facts['commit']}",
        f"- machine: {facts['cpu']} (family/model {facts['cpu_family_model']}), {facts['cores']} cores"
        f"{', KVM guest' if facts['virtualised'] else ''}, Linux {facts['kernel']}; int8/bf16 flags: "
        + ", ".join(f"{f} {'yes' if f in flags else 'no'}" for f in ("avx512_vnni", "avx512_bf16", "avx_vnni",
                                                                  "amx_int8", "amx_bf16")),
        f"- arrowembed: {facts['binary']}; {facts['cxx']}",
        f"- peers: onnxruntime {versions['onnxruntime']}, onnx {versions['onnx']}, openvino {versions['openvino']}, "
        f"nncf {versions['nncf']}; reference: sentence-transformers {facts['sentence-transformers']}, torch "
        f"{facts['torch']}, transformers {facts['transformers']}, tokenizers {facts['tokenizers']}; Python "
        f"{facts['python']}",
        "- optimum[onnxruntime] is not installed: its optimum-onnx requires transformers<4.58 and would replace "
        f"transformers {facts['transformers']} and tokenizers {facts['tokenizers']} (pip --dry-run); its "
        "AVX512-VNNI dynamic preset is applied here with the arguments its ORTQuantizer passes to ONNX Runtime's "
        "quantizer",
        f"- threads: {args.threads} for every runtime (arrowembed --threads, ORT intra_op_num_threads, OpenVINO "
        "INFERENCE_NUM_THREADS with PERFORMANCE_HINT LATENCY, INFERENCE_PRECISION_HINT "
        + (f"{args.ov_precision}" if args.ov_precision != "default" else "OpenVINO's default")
        + (f" = {_ov_precision(acc)}" if _ov_precision(acc) else "") + ")",
        f"- ORT optimized graph (onnxruntime.transformers optimizer, bert): "
        + ", ".join(f"{k} x{v}" for k, v in sorted(off["optimizer_ops"].items())) + " (exact GELU)",
        f"- accuracy: tests/fixtures/minilm-reference.parquet (303 texts, sentence-transformers fp32, normalised); "
        f"retrieval corpus: {corpus['texts']} paragraphs of the Python {corpus['python']} standard library's "
        f"docstrings ({corpus['stdlib']}: module/class/function docstrings of {corpus['files']} files, "
        f"ast-parsed, prose paragraphs only, {corpus['paragraphs']} distinct, 10-200 tokens kept, the first "
        f"{corpus['texts']} by SHA-1; {corpus['tokens_min']}-{corpus['tokens_max']} tokens, mean "
        f"{corpus['tokens_mean']:.0f}; set digest {corpus['sha1']}); the first {args.queries} are queries against "
        f"the other {corpus['texts'] - args.queries}; top-10 overlap = |top-10 & sentence-transformers fp32's "
        "top-10| / 10, mean over queries (fp32 corpus embeddings cached in "
        f"{corpus['cache']}). Every runtime embeds them 32 texts a call in sentence-transformers' encode() order "
        "(longest first), which matters for dynamic int8: it quantizes activations per call",
        f"- OpenVINO post-training quantization is calibrated on {CALIB_SHORT} short + {CALIB_LONG} long texts "
        f"generated like the benchmark's (engine_bench.make_texts, seed {CALIB_SEED}), one text per sample",
        "",
    ]
    if ours_int8_note:
        out += [f"- arrowembed int8: {ours_int8_note}", ""]

    # ---- files
    out += ["## File sizes", "", "| file | bytes | of safetensors |", "|---|---:|---:|"]

    def frow(label, nbytes):
        out.append(f"| {label} | {nbytes:,} | {nbytes / size_st:.1%} |")
    frow("model.safetensors (fp32)", size_st)
    frow("ONNX export, fp32", ONNX_PATH.stat().st_size)
    for name, spec in CONF.items():
        if spec["family"] in PEERS and spec["int8"]:
            p = Path(spec["path"])
            frow(f"{name}: {'/'.join(f.name for f in model_files(p))}", file_bytes(p))
    if "ours-int8" in ours_info:
        frow(f"arrowembed int8: {Path(CONF['ours-int8']['path']).name}", file_bytes(Path(CONF["ours-int8"]["path"])))
    else:
        out.append("| arrowembed int8 | not available | |")
    out.append("")

    # ---- accuracy of every configuration
    out += ["## Accuracy of every configuration", "",
            "Cosine against sentence-transformers fp32 (fixture: its stored embeddings; corpus: computed here); "
            f"top-10 overlap over {args.queries} queries. Screen: texts/s in a {args.screen_seconds:g} s run per "
            "batch workload in the accuracy process (indicative only; it picks each peer's fastest).", "",
            "| configuration | fixture min cos | fixture mean cos | corpus min cos | corpus mean cos | top-10 overlap "
            "| queries 10/10 | screen short / long texts/s | file | timed |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for name, spec in CONF.items():
        r = acc[name]
        label = f"`{name}` {spec['label']}"
        if "unavailable" in r:
            out.append(f"| {label} | not available: {r['unavailable']} | | | | | | | | |")
            continue
        same = f" (same file as `{r['same_file_as']}`)" if r.get("same_file_as") else ""
        screen = (f"{r['screen_short']:.0f} / {r['screen_long']:.1f}" if "screen_short" in r else "")
        size = file_bytes(Path(spec["path"]))
        timed = r.get("role", "") if name in runtimes else ""
        if name in runtimes and not timed:
            timed = "yes"
        out.append(f"| {label}{same} | {r['fixture_min']:.5f} | {r['fixture_mean']:.6f} | {r['corpus_min']:.5f} | "
                   f"{r['corpus_mean']:.6f} | {r['overlap']:.3f} | {r['overlap_full']:.0%} | {screen} | "
                   f"{size / 2**20:.1f} MiB | {timed} |")
    out.append("")
    if args.no_speed:
        return "\n".join(out) + "\n"

    # ---- speed beside accuracy
    clean = m["clean"]
    use = clean if sum(clean) >= 2 else [True] * len(clean)

    def pick(xs):
        return [x for x, ok in zip(xs, use) if ok]
    res = {rt: {w: pick(v) for w, v in ws.items()} for rt, ws in m["results"].items()}
    tput = {rt: {w: med([x["texts_per_s"] for x in res[rt][w]]) for w in WORKLOADS} for rt in runtimes}
    p50 = {rt: med([x["p50"] for x in res[rt][G]]) for rt in runtimes}
    p99 = {rt: med([x["p99"] for x in res[rt][G]]) for rt in runtimes}
    cold = {rt: med([c["ms"] for c in pick(m["cold"][rt])]) for rt in runtimes}
    rss = {rt: (m["peer_rss"][rt] if rt in m["peer_rss"] else max(x["rss"] for w in WORKLOADS for x in res[rt][w]))
           for rt in runtimes}
    load = pick(m["load"])
    out += ["## Speed beside accuracy", "",
            f"{sum(use)} interleaved rounds used of {len(clean)} run ({len(clean) - sum(clean)} disturbed: other "
            f"processes above {DISTURBED_CORES:g} cores or the FMA probe below {DISTURBED_PROBE:.0%} of the best"
            + ("; fewer than 2 clean rounds, so all are used" if sum(clean) < 2 else "") +
            f"); every round runs every workload on every runtime (order rotated) and one cold start each; "
            f"{args.seconds:g} s timed per short/single measurement, {args.long_seconds:g} s per long one, after one "
            "untimed warm-up call; figures are medians over the rounds; timings include tokenization and pooling. "
            f"Texts: engine_bench.make_texts (seed {eb.SEED}): {text_stats(m['text_stats'])}. Other processes used "
            f"{med([x['others_cores'] for x in load]):.2f} cores on median per round.", "",
            "| runtime | fixture min / mean cos | top-10 overlap | short batch texts/s | long batch texts/s | "
            "single p50 ms | single p99 ms | cold start ms | peak RSS MiB | file MiB |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for rt in runtimes:
        r = acc[rt]
        out.append(f"| `{rt}`{' (' + r['role'] + ')' if r.get('role') else ''} | "
                   f"{r['fixture_min']:.5f} / {r['fixture_mean']:.6f} | {r['overlap']:.3f} | {tput[rt][S]:,.0f} | "
                   f"{tput[rt][L]:,.1f} | {p50[rt]:.2f} | {p99[rt]:.2f} | {cold[rt]:,.0f} | {rss[rt] / 2**20:.0f} | "
                   f"{file_bytes(Path(CONF[rt]['path'])) / 2**20:.1f} |")
    out += ["", "Peak RSS: ru_maxrss of each runtime's own process (Python peers: one worker for all workloads; "
            f"arrowembed: the largest of its per-measurement processes); the harness stays at "
            f"{m['parent_maxrss'] / 2**20:.0f} MiB.", ""]
    peer_ready = {rt: {k: round(v) if k == "load_ms" else v for k, v in r.items() if k != "ready"}
                  for rt, r in m["ready"].items()}
    out += ["Python workers (load time and settings as reported): "
            + "; ".join(f"`{rt}` {json.dumps(r)}" for rt, r in peer_ready.items()), ""]
    # Per peer: what its most accurate configuration costs against its fastest, in the timed rounds.
    for fam, names in chosen.items():
        screens = {n: acc[n]["screen_short"] for n, s in CONF.items() if s["family"] == fam and s["int8"]
                   and "screen_short" in acc[n] and not acc[n].get("same_file_as")}
        text = (f"- {PEERS[fam]}: short-batch screens of its {len(screens)} configurations span "
                f"{min(screens.values()):,.0f}-{max(screens.values()):,.0f} texts/s (lowest: "
                f"`{min(screens, key=screens.get)}`). ")
        if len(names) == 2:
            best, fast = names
            text += (f"Timed, the most accurate (`{best}`) runs at {tput[best][S] / tput[fast][S]:.2f}x the fastest's "
                     f"(`{fast}`) short-batch throughput, {tput[best][L] / tput[fast][L]:.2f}x its long-batch "
                     f"throughput, and {p50[best] / p50[fast]:.2f}x its single-text p50, with fixture mean cosine "
                     f"{acc[best]['fixture_mean']:.4f} against {acc[fast]['fixture_mean']:.4f} and top-10 overlap "
                     f"{acc[best]['overlap']:.3f} against {acc[fast]['overlap']:.3f}.")
        else:
            text += f"`{names[0]}` is both its most accurate and its fastest configuration."
        out.append(text)
    out.append("")

    # ---- per peer: ratios of ours int8 (and the int8 peers against ORT fp32)
    out += ["## Against ONNX Runtime fp32", "",
            "| runtime | short batch | long batch | single p50 |", "|---|---:|---:|---:|"]
    for rt in runtimes:
        if rt != "ort-fp32":
            out.append(f"| `{rt}` | {tput[rt][S] / tput['ort-fp32'][S]:.2f}x | {tput[rt][L] / tput['ort-fp32'][L]:.2f}x"
                       f" | {p50[rt] / p50['ort-fp32']:.2f}x |")
    out.append("")

    # ---- targets
    out += ["## Targets (issue 15)", ""]
    if "ours-int8" not in runtimes:
        out += [f"arrowembed int8 is not available ({acc['ours-int8'].get('unavailable', '?')}), so the targets "
                "are not evaluated.", ""]
    else:
        out += target_rows(acc, runtimes, chosen, tput, p50, size_st)
    out += ["## Every round", "", "| runtime | workload | texts/s per round | p50 ms per round |", "|---|---|---|---|"]
    mark = ["" if ok else "*" for ok in clean]
    for rt in runtimes:
        for w in WORKLOADS:
            xs = m["results"][rt][w]
            out.append(f"| `{rt}` | {w[0]} {w[1]} | " + ", ".join(
                f"{x['texts_per_s']:.1f}{k}" for x, k in zip(xs, mark)) + " | " +
                ", ".join(f"{x['p50']:.2f}" for x in xs) + " |")
        out.append(f"| `{rt}` | cold start ms | " + ", ".join(f"{c['ms']:.0f}" for c in m["cold"][rt]) + " | |")
    out.append("| (other processes, cores) | | " + ", ".join(
        f"{x['others_cores']:.2f}{k}" for x, k in zip(m["load"], mark)) + " | |")
    out.append("| (FMA probe after the round, GFLOP/s) | | " + ", ".join(
        f"{x['fma_gflops']:.0f}{k}" for x, k in zip(m["load"], mark)) + " | |")
    out.append("")
    return "\n".join(out) + "\n"


def _ov_precision(acc) -> str:
    for name, r in acc.items():
        if CONF[name]["family"] == "ov" and isinstance(r.get("session"), dict):
            return r["session"].get("inference_precision_hint", "")
    return ""


def text_stats(stats: dict) -> str:
    return "; ".join(f"{k}: {v['texts']} texts of {v['min']}-{v['max']} tokens (mean {v['mean']:.1f}), padding to "
                     f"the longest of each batch adds {v['padded_fraction']:.0%}" for k, v in stats.items())


def target_rows(acc, runtimes, chosen, tput, p50, size_st) -> list[str]:
    out = ["| target | value | verdict |", "|---|---|---|"]
    ours = "ours-int8"
    peers_timed = [rt for fam in chosen for rt in chosen[fam]]

    def verdict(ok, miss):
        return "**PASS**" if ok else f"**MISS** ({miss})"
    for w, label in ((S, "short"), (L, "long")):
        best = max(peers_timed, key=lambda rt: tput[rt][w])
        v = tput[ours][w] / tput[best][w]
        out.append(f"| {label}-text batch throughput >= 1.5x the best int8 peer (`{best}`, {tput[best][w]:,.1f} "
                   f"texts/s) | {tput[ours][w]:,.1f} texts/s = {v:.2f}x | "
                   + verdict(v >= 1.5, f"reaches {v / 1.5:.0%} of the goal; needs {1.5 * tput[best][w]:,.1f} texts/s")
                   + " |")
    ort = [rt for rt in chosen.get("ort", [])]
    if ort:
        fastest = min(ort, key=lambda rt: p50[rt])
        v = p50[ours] / p50[fastest]
        out.append(f"| single-text p50 <= 0.5x ONNX Runtime int8 (`{fastest}`, {p50[fastest]:.2f} ms) | "
                   f"{p50[ours]:.2f} ms = {v:.2f}x | "
                   f"{verdict(v <= 0.5, f'{v / 0.5:.2f}x the budget of {0.5 * p50[fastest]:.2f} ms')} |")
    groups = [(PEERS[fam], [n for n, s in CONF.items() if s["family"] == fam and s["int8"]]) for fam in PEERS]
    # OpenVINO's weight compression keeps float activations (int8 weights only); its int8-activation side:
    groups.append(("OpenVINO int8 with int8 activations (nncf.quantize)",
                   [n for n, s in CONF.items() if s["family"] == "ov" and s["recipe"]["kind"] == "ptq"]))
    for group, names in groups:
        names = [n for n in names if "unavailable" not in acc[n]]
        if not names:
            continue
        for metric, label in (("fixture_min", "fixture min cosine"), ("fixture_mean", "fixture mean cosine"),
                              ("overlap", "top-10 overlap")):
            best = max(names, key=lambda n: acc[n][metric])
            a, b = acc[ours][metric], acc[best][metric]
            fmt = ".3f" if metric == "overlap" else ".5f" if metric == "fixture_min" else ".6f"
            out.append(f"| accuracy >= {group}'s best: {label} (`{best}` {b:{fmt}}) | {a:{fmt}} | "
                       f"{verdict(a >= b, f'{b - a:{fmt}} below')} |")
    size = file_bytes(Path(CONF[ours]["path"]))
    out.append(f"| int8 file <= 27% of safetensors ({size_st:,} bytes) | {size:,} bytes = {size / size_st:.1%} | "
               f"{verdict(size <= 0.27 * size_st, f'{size - 0.27 * size_st:,.0f} bytes over')} |")
    return out + [""]


if __name__ == "__main__":
    sys.exit(main())
