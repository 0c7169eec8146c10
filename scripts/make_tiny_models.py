#!/usr/bin/env python3
"""Make the tiny random BERT fixtures in tests/fixtures/tiny-models/.

Each is a complete sentence-transformers model directory (config.json,
model.safetensors, tokenizer.json, modules.json, 1_Pooling/config.json,
sentence_bert_config.json) of a shape unlike all-MiniLM-L6-v2, so the
converter, loader and engine are tested on more than one geometry. Each also
gets reference.json: a few texts with the ids Hugging Face `tokenizers`
gives them and the embeddings `transformers` BertModel + pooling gives them
(PyTorch fp32), for the engine's fidelity tests.

Needs the reference stack (scripts/setup.sh --reference) and the real model
(scripts/fetch_model.py), whose tokenizer.json is shrunk to a small vocabulary.
The output is committed; rerun only to change the fixtures:
  .venv/bin/python scripts/make_tiny_models.py
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer
from transformers import BertConfig, BertModel

REPO = Path(__file__).resolve().parent.parent
SOURCE_TOKENIZER = REPO / "models" / "all-MiniLM-L6-v2" / "tokenizer.json"
OUT = REPO / "tests" / "fixtures" / "tiny-models"

TEXTS = [
    "Hello world!",
    "The quick brown fox jumps over the lazy dog.",
    "",
    "   ",
    "Café naïve résumé — déjà vu",
    "東京は日本の首都です",
    "emoji 👍🏽 and 👨‍👩‍👧 families",
    "tab\tseparated\nnew line\r\nand \u200bzero width",
    "unbelievable " * 30,  # longer than max_seq_length: truncated
    "a",
]

MODELS = {
    # name: (BertConfig kwargs, pooling, normalize, max_seq_length, name prefix)
    "tiny-bert-cls": (
        dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
             max_position_embeddings=64, layer_norm_eps=1e-7),
        "cls", False, 48, "",
    ),
    "tiny-bert-mean": (
        dict(hidden_size=32, num_hidden_layers=3, num_attention_heads=2, intermediate_size=96,
             max_position_embeddings=40),
        "mean", True, 32, "bert.",  # saved as a BertFor* head would be
    ),
}


def small_vocab(full_vocab: dict[str, int], size: int) -> list[str]:
    """Special tokens, then single characters (and ## forms), then whole words."""
    by_id = sorted(full_vocab, key=full_vocab.get)
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = [t for t in by_id if len(t) == 1 and t.isascii()]
    cont = ["##" + c for c in chars if "##" + c in full_vocab]
    words = [t for t in by_id if len(t) > 2 and t.isalpha() and t.isascii()]
    vocab = special + chars + cont
    vocab += words[: size - len(vocab)]
    return vocab


def make_tokenizer(vocab: list[str]) -> dict:
    doc = json.loads(SOURCE_TOKENIZER.read_text(encoding="utf-8"))
    ids = {tok: i for i, tok in enumerate(vocab)}
    doc["model"]["vocab"] = ids
    doc["added_tokens"] = [
        {**tok, "id": ids[tok["content"]]} for tok in doc["added_tokens"] if tok["content"] in ids
    ]
    post = doc["post_processor"]
    for name, spec in post.get("special_tokens", {}).items():
        spec["ids"] = [ids[name]]
    doc["truncation"] = None
    doc["padding"] = None
    return doc


def pool(hidden: torch.Tensor, mask: torch.Tensor, mode: str) -> torch.Tensor:
    if mode == "cls":
        return hidden[:, 0]
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


def main() -> None:
    torch.manual_seed(20261124)
    full_vocab = json.loads(SOURCE_TOKENIZER.read_text(encoding="utf-8"))["model"]["vocab"]
    vocab = small_vocab(full_vocab, 300)
    tokenizer_doc = make_tokenizer(vocab)

    for name, (arch, pooling, normalize, max_seq_length, prefix) in MODELS.items():
        out = OUT / name
        if out.exists():
            shutil.rmtree(out)
        (out / "1_Pooling").mkdir(parents=True)

        config = BertConfig(vocab_size=len(vocab), **arch)
        model = BertModel(config, add_pooling_layer=False).eval()
        # Random init has tiny LayerNorm/bias variety; perturb so every
        # parameter matters in the fidelity tests.
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p) * 0.02)
        config.save_pretrained(out)
        tensors = {prefix + k: v.contiguous() for k, v in model.state_dict().items()}
        save_file(tensors, out / "model.safetensors", metadata={"format": "pt"})

        (out / "tokenizer.json").write_text(json.dumps(tokenizer_doc, ensure_ascii=False, indent=1), encoding="utf-8")
        modules = [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        ]
        if normalize:
            modules.append({"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"})
        (out / "modules.json").write_text(json.dumps(modules, indent=2))
        (out / "1_Pooling" / "config.json").write_text(json.dumps({
            "word_embedding_dimension": config.hidden_size,
            "pooling_mode_cls_token": pooling == "cls",
            "pooling_mode_mean_tokens": pooling == "mean",
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
        }, indent=2))
        (out / "sentence_bert_config.json").write_text(
            json.dumps({"max_seq_length": max_seq_length, "do_lower_case": False}, indent=2))

        tok = Tokenizer.from_file(str(out / "tokenizer.json"))
        tok.enable_truncation(max_seq_length)
        ids = [enc.ids for enc in tok.encode_batch(TEXTS)]
        embeddings = []
        with torch.no_grad():
            for row in ids:
                input_ids = torch.tensor([row])
                mask = torch.ones_like(input_ids)
                hidden = model(input_ids=input_ids, attention_mask=mask).last_hidden_state
                vec = pool(hidden, mask, pooling)
                if normalize:
                    vec = torch.nn.functional.normalize(vec, dim=-1)
                embeddings.append([float(x) for x in vec[0]])
        (out / "reference.json").write_text(json.dumps(
            {"generator": "transformers BertModel + pooling, PyTorch fp32 (scripts/make_tiny_models.py)",
             "pooling": pooling, "normalize": normalize, "max_seq_length": max_seq_length,
             "texts": TEXTS, "ids": ids, "embeddings": embeddings}, ensure_ascii=False))
        print(f"{name}: {sum(t.numel() for t in tensors.values()):,} parameters -> {out}")


if __name__ == "__main__":
    main()
