"""Whatever scrapers wrote: odd files get a clear line or a sensible output, never a traceback."""

from __future__ import annotations

import gzip
from pathlib import Path

from typer.testing import CliRunner

from cleaner.cli import app

runner = CliRunner()
SENTENCE = "The council said on Monday that the new parking rules would apply from June. "


def clean_tree(tmp_path: Path, files: dict[str, bytes]) -> tuple[int, list[str], Path]:
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    for name, data in files.items():
        (raw / name).write_bytes(data)
    result = runner.invoke(app, ["clean", str(raw), "-o", str(out)])
    assert "Traceback" not in result.stderr
    return result.exit_code, result.stderr.splitlines(), out


def test_empty_and_blank_files_give_empty_outputs(tmp_path: Path) -> None:
    blank = " \n\t\r\n\u00a0\u200b\n".encode()
    code, lines, out = clean_tree(tmp_path, {"empty.txt": b"", "blank.txt": blank})
    assert code == 0
    assert (out / "empty.txt").read_text() == (out / "blank.txt").read_text() == ""
    assert lines[-1].startswith("cleaner: 2 documents: 0 blocks, 0 removed")


def test_a_10_mb_single_line_is_cleaned_whole(tmp_path: Path) -> None:
    line = (SENTENCE * 130_000).strip()
    code, _, out = clean_tree(tmp_path, {"long.txt": line.encode() + b"\n"})
    assert code == 0
    assert (out / "long.txt").read_text() == line + "\n"


def test_thousands_of_lines_are_cleaned(tmp_path: Path) -> None:
    text = "".join(f"{SENTENCE}Item {i}.\n" for i in range(5_000))  # `make fuzz` runs 100,000
    code, lines, out = clean_tree(tmp_path, {"many.txt": text.encode()})
    assert code == 0
    assert lines[0].startswith(f"{tmp_path / 'raw' / 'many.txt'}: 5000 blocks")
    assert len((out / "many.txt").read_text().splitlines()) >= 4_900


def test_html_nested_10000_deep_keeps_its_text_and_is_flagged(tmp_path: Path) -> None:
    # libxml2 stops reading at 256 levels and drops the rest of the page without an error.
    deep = ("<html><head><title>Deep page</title></head><body>" + "<div>" * 10_000
            + f"<p>{SENTENCE}</p>" + "</div>" * 10_000 + f"<p>After it. {SENTENCE}</p>")
    code, lines, out = clean_tree(tmp_path, {"deep.html": deep.encode()})
    assert code == 0
    assert lines[0].endswith("HTML nested over 256 deep: read without article extraction, so "
                             "page furniture may remain")
    assert (out / "deep.txt").read_text() == f"Deep page\n{SENTENCE.strip()}\nAfter it. {SENTENCE.strip()}\n"


def test_html_without_body_and_truncated_gzip_are_flagged_not_fatal(tmp_path: Path) -> None:
    paragraphs = "".join(f"<p>{SENTENCE}Item {i}.</p>" for i in range(500))
    page = f"<html><head><title>A page</title></head><body>{paragraphs}</body></html>"
    code, lines, out = clean_tree(tmp_path, {
        "headless.html": b"<html><head></head></html>",
        "truncated.html.gz": gzip.compress(page.encode())[:200]})
    assert code == 1
    assert lines[0].endswith("headless.html: 0 blocks, 0 removed; no article text found in the page")
    assert f"cleaner: {tmp_path / 'raw' / 'truncated.html.gz'}: broken gzip file" in lines[1]
    assert (out / "headless.txt").read_text() == ""
