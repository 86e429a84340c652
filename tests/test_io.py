"""Reading what scrapers wrote: encodings, binary and broken files, atomic writes."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

from cleaner.blocks import CleanerError
from cleaner.io import (
    SETTINGS_STAMP,
    atomic_writer,
    decode_text,
    is_fresh,
    read_bytes,
    stamp_settings,
)

TEXT = "Café owners say the “new rules” will cost them — and the council disagrees.\n"


@pytest.mark.parametrize(("data", "note"), [
    (TEXT.encode("utf-8"), None),
    (TEXT.encode("utf-8-sig"), "decoded as utf-8-sig (byte order mark)"),
    (TEXT.encode("utf-16"), "decoded as utf-16 (byte order mark)"),
    (TEXT.encode("utf-32"), "decoded as utf-32 (byte order mark)"),
    (TEXT.encode("cp1252"), "decoded as cp1252"),
])
def test_text_in_any_common_encoding_is_decoded_and_says_how(data: bytes, note: str | None) -> None:
    decoded = decode_text(data, "a.txt")
    assert (decoded.text, decoded.note) == (TEXT, note)


def test_latin1_without_smart_quotes_reads_as_cp1252() -> None:
    text = "Crème brûlée at the café on Friday, naïve visitors said, was the best in town.\n"
    assert decode_text(text.encode("latin-1"), "a.txt").text == text


def test_broken_utf8_bytes_are_replaced_and_counted() -> None:
    data = "Café".encode() + b" \xff\xfe " + b"menu changes announced on Tuesday."
    decoded = decode_text(data, "a.txt")
    assert decoded.text == "Café \ufffd\ufffd menu changes announced on Tuesday."
    assert decoded.note == "not valid UTF-8, 2 bad bytes replaced"


def test_binary_file_is_refused_in_one_line() -> None:
    with pytest.raises(CleanerError, match=r"^a\.bin: binary file \(NUL bytes\), not text$"):
        decode_text(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "a.bin")


def test_truncated_gzip_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "page.html.gz"
    path.write_bytes(gzip.compress(b"<html><body><p>Hello</p></body></html>" * 200)[:60])
    with pytest.raises(CleanerError, match=r"page\.html\.gz: broken gzip file"):
        read_bytes(str(path))


def test_atomic_writer_leaves_nothing_when_interrupted(tmp_path: Path) -> None:
    target = tmp_path / "out" / "a.txt"

    def write_half() -> None:
        with atomic_writer(target) as out:
            out.write(b"half of it")
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_half()
    assert list((tmp_path / "out").iterdir()) == []


def test_atomic_writer_gzips_by_name(tmp_path: Path) -> None:
    target = tmp_path / "a.jsonl.gz"
    with atomic_writer(target) as out:
        out.write(b"{}\n")
    assert gzip.decompress(target.read_bytes()) == b"{}\n"


def test_an_output_older_than_an_input_is_not_fresh(tmp_path: Path) -> None:
    import os

    source, output = tmp_path / "in.txt", tmp_path / "out.txt"
    source.write_text("a")
    output.write_text("b")
    os.utime(source, (2_000_000_000, 2_000_000_000))
    assert not is_fresh(output, [source])
    os.utime(output, (2_000_000_001, 2_000_000_001))
    assert is_fresh(output, [source])
    assert not is_fresh(tmp_path / "missing.txt", [source])


def test_a_settings_stamp_is_written_only_when_the_settings_change(tmp_path: Path) -> None:
    defaults = {"favor": "recall"}
    assert stamp_settings(tmp_path, defaults, defaults) is None  # the default needs no file
    assert not (tmp_path / SETTINGS_STAMP).exists()
    stamp = stamp_settings(tmp_path, {"favor": "precision"}, defaults)
    assert stamp == tmp_path / SETTINGS_STAMP
    written = stamp.stat().st_mtime_ns
    os.utime(stamp, ns=(written - 10**9, written - 10**9))
    assert stamp_settings(tmp_path, {"favor": "precision"}, defaults) == stamp
    assert stamp.stat().st_mtime_ns == written - 10**9  # the same settings: left as it was
    stamp.write_text("{not json", encoding="utf-8")
    assert stamp_settings(tmp_path, {"favor": "precision"}, defaults) == stamp
    assert json.loads(stamp.read_text(encoding="utf-8")) == {"favor": "precision"}


def test_an_output_gets_the_mode_of_a_file_made_by_open(tmp_path: Path) -> None:
    # A temporary file is private (0600); renamed as it is, archives other users read from
    # would have been unreadable to them.
    (tmp_path / "plain.txt").write_text("x", encoding="utf-8")
    with atomic_writer(tmp_path / "out.txt") as out:
        out.write(b"x")
    assert (tmp_path / "out.txt").stat().st_mode == (tmp_path / "plain.txt").stat().st_mode
