"""Shared fixtures for the Python-side tests: the CLI binary, the real model,
and its converted forms (made once per test session)."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MODEL_DIR = REPO / "models" / "all-MiniLM-L6-v2"
TINY_MODELS = REPO / "tests" / "fixtures" / "tiny-models"


def cli_path() -> Path:
    return Path(os.environ.get("ARROWEMBED_BIN", REPO / "build" / "arrowembed"))


def run_cli(*args, check=True, input=None) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(cli_path()), *map(str, args)], capture_output=True, text=True,
                          input=input, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"arrowembed {' '.join(map(str, args))} failed ({proc.returncode}): {proc.stderr}")
    return proc


def cpu_has_bf16() -> bool:
    """What --precision bf16 needs (the engine's bf16_supported())."""
    flags = next(line for line in open("/proc/cpuinfo") if line.startswith("flags")).split()
    return all(f in flags for f in ("avx512f", "avx512bw", "avx512vl", "avx512_bf16"))


def run_json(*args) -> dict:
    return json.loads(run_cli(*args).stdout)


@pytest.fixture(scope="session")
def cli() -> Path:
    path = cli_path()
    assert path.is_file(), f"{path} is missing: build first (scripts/build.sh)"
    return path


@pytest.fixture(scope="session")
def real_model() -> Path:
    # scripts/test.sh fetches the model before running the tests; its absence
    # is a failure, not a skip.
    assert (MODEL_DIR / "model.safetensors").is_file(), \
        f"{MODEL_DIR} is missing: run scripts/fetch_model.py"
    return MODEL_DIR


@pytest.fixture(scope="session")
def converted(cli, real_model, tmp_path_factory) -> dict[str, Path]:
    """The real model as .arrow and .parquet, f32, f16 and int8."""
    out = tmp_path_factory.mktemp("converted")
    files = {}
    for dtype in ("f32", "f16", "int8"):
        arrow, parquet = out / f"minilm-{dtype}.arrow", out / f"minilm-{dtype}.parquet"
        run_cli("convert", real_model, "-o", arrow, "--dtype", dtype, "--parquet", parquet)
        files[f"{dtype}.arrow"], files[f"{dtype}.parquet"] = arrow, parquet
    return files


@pytest.fixture(scope="session")
def model_path(converted) -> Path:
    """The f32 model file the Python package's tests load."""
    return converted["f32.arrow"]


@pytest.fixture(scope="session")
def model(model_path):
    """One arrowembed.Model shared by the Python package's tests (it is
    thread-safe and none of them changes it)."""
    import arrowembed  # only the package's tests need it installed
    return arrowembed.Model(model_path)
