"""scripts/fetch_model.py: digests are enforced, installs are atomic."""
from __future__ import annotations

import importlib.util
import shutil

import pytest

from conftest import REPO

spec = importlib.util.spec_from_file_location("fetch_model", REPO / "scripts" / "fetch_model.py")
fetch_model = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fetch_model)


def test_the_fetched_model_is_the_official_one(real_model):
    fetch_model.verify(real_model, fetch_model.EXPECTED)


def test_a_tampered_file_is_rejected_and_nothing_installed(real_model, tmp_path):
    src = tmp_path / "src"
    shutil.copytree(real_model, src)
    with open(src / "tokenizer.json", "ab") as f:
        f.write(b" ")
    dest = tmp_path / "dest"
    with pytest.raises(fetch_model.FetchError, match="tokenizer.json: sha256"):
        fetch_model.install(src, dest, fetch_model.EXPECTED)
    assert not dest.exists()


def test_a_wrong_size_is_rejected(real_model, tmp_path):
    src = tmp_path / "src"
    shutil.copytree(real_model, src)
    with open(src / "model.safetensors", "r+b") as f:
        f.truncate(1000)
    with pytest.raises(fetch_model.FetchError, match="size 1,000 bytes, expected 90,868,376"):
        fetch_model.verify(src, fetch_model.EXPECTED)


def test_missing_files_are_named(tmp_path):
    with pytest.raises(fetch_model.FetchError, match="missing config.json"):
        fetch_model.verify(tmp_path, {})


def test_any_local_model_directory_can_be_installed(tmp_path):
    dest = tmp_path / "tiny"
    fetch_model.install(REPO / "tests/fixtures/tiny-models/tiny-bert-cls", dest, {})
    assert (dest / "model.safetensors").is_file()
