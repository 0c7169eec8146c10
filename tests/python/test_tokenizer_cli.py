"""`arrowembed tokenize`: input formats, truncation and error handling."""
from __future__ import annotations

import json
import subprocess

from conftest import cli_path


def tokenize(model, *args, input: bytes):
    return subprocess.run([str(cli_path()), "tokenize", "-m", str(model), *map(str, args)], input=input,
                          capture_output=True, timeout=120)


def ids_of(proc):
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return [json.loads(line)["ids"] for line in proc.stdout.decode().splitlines()]


def test_text_lines_from_stdin(cli, converted):
    proc = tokenize(converted["f32.arrow"], input="Hello, World!\n\nunaffable\n".encode())
    # Ids from the Hugging Face tokenizer for all-MiniLM-L6-v2.
    assert ids_of(proc) == [[101, 7592, 1010, 2088, 999, 102], [101, 102], [101, 14477, 20961, 3468, 102]]


def test_jsonl_input_file_keeps_order_and_newlines(cli, converted, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"text": "a\nb"}) + "\n" + json.dumps({"text": "naïve café"}) + "\n", encoding="utf-8")
    assert ids_of(tokenize(converted["f32.arrow"], "--input", path, input=b"")) == [
        [101, 1037, 1038, 102], [101, 15743, 7668, 102]]


def test_truncates_to_model_max_seq_length(cli, converted):
    ids = ids_of(tokenize(converted["f32.arrow"], input=("word " * 1000 + "\n").encode()))[0]
    assert len(ids) == 256 and ids[0] == 101 and ids[-1] == 102 and set(ids[1:-1]) == {2773}


def test_max_length_option(cli, converted):
    assert ids_of(tokenize(converted["f32.arrow"], "--max-length", 4, input=b"one two three four\n")) == [
        [101, 2028, 2048, 102]]


def test_offsets_are_utf8_byte_offsets(cli, converted):
    proc = tokenize(converted["f32.arrow"], "--offsets", input="é [SEP]x\n".encode())
    assert proc.returncode == 0
    assert json.loads(proc.stdout) == {"ids": [101, 1041, 102, 1060, 102],
                                       "offsets": [[0, 0], [0, 2], [3, 8], [8, 9], [0, 0]]}


def test_invalid_utf8_names_the_line(cli, converted):
    proc = tokenize(converted["f32.arrow"], input=b"fine\nalso fine\nbad \xc3\x28 byte\n")
    assert proc.returncode == 1
    assert b"line 3" in proc.stderr and b"invalid UTF-8 at byte 4" in proc.stderr
    assert len(proc.stdout.decode().splitlines()) == 2  # the good lines before it were written


def test_bad_jsonl_names_the_line(cli, converted, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"text": "ok"}\n{"txt": "no text field"}\n', encoding="utf-8")
    proc = tokenize(converted["f32.arrow"], "--input", path, input=b"")
    assert proc.returncode == 1 and b"line 2" in proc.stderr and b'"text"' in proc.stderr
    path.write_bytes(b'{"text": "ok"}\n{"text": "\xff"}\n')
    proc = tokenize(converted["f32.arrow"], "--input", path, input=b"")
    assert proc.returncode == 1 and b"line 2" in proc.stderr


def test_missing_input_file_is_an_error(cli, converted, tmp_path):
    proc = tokenize(converted["f32.arrow"], "--input", tmp_path / "nope.txt", input=b"")
    assert proc.returncode == 1 and b"cannot open input file" in proc.stderr
