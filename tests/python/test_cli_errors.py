"""Bad input to the CLI: one clear error line on stderr and a non-zero exit,
never a crash (a signal) or a traceback."""
from __future__ import annotations

import pytest

from conftest import TINY_MODELS, run_cli


def assert_clean_failure(proc, fragment: str) -> None:
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("arrowembed: error: ")
    assert fragment in lines[0], lines[0]


def test_missing_file(tmp_path):
    assert_clean_failure(run_cli("info", tmp_path / "nope.arrow", check=False), "no such file")


def test_foreign_and_truncated_files(tmp_path, converted):
    text = tmp_path / "notes.arrow"
    text.write_text("not a model\n")
    assert_clean_failure(run_cli("info", text, check=False), "not a model file")
    data = converted["f16.arrow"].read_bytes()
    for n in (7, 100, len(data) // 2, len(data) - 1):
        cut = tmp_path / f"cut{n}.arrow"
        cut.write_bytes(data[:n])
        assert_clean_failure(run_cli("info", cut, check=False), "cut")


def test_corrupted_tensor_is_found_by_verify(tmp_path, converted):
    data = bytearray(converted["f32.arrow"].read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside the word embeddings
    damaged = tmp_path / "damaged.arrow"
    damaged.write_bytes(bytes(data))
    assert run_cli("info", damaged).returncode == 0  # open does not read every byte
    assert_clean_failure(run_cli("info", "--verify", damaged, check=False), "checksum mismatch")


def test_convert_errors(tmp_path):
    assert_clean_failure(run_cli("convert", tmp_path, "-o", tmp_path / "x.arrow", check=False), "no config.json")
    assert_clean_failure(
        run_cli("convert", TINY_MODELS / "tiny-bert-cls", "-o", tmp_path / "missing" / "x.arrow", check=False),
        "cannot write")
    assert not (tmp_path / "x.arrow").exists()


@pytest.mark.parametrize("args", [["convert"], ["info"], ["convert", "x", "-o", "y", "--dtype", "int8"], ["frobnicate"]])
def test_usage_errors_exit_nonzero(args):
    proc = run_cli(*args, check=False)
    assert proc.returncode != 0 and proc.returncode < 128
    assert proc.stderr.strip()
