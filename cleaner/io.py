"""Inputs and outputs: files, directories and `-`, decoding, atomic writes, skip-if-fresh, audit."""

from __future__ import annotations

import gzip
import io
import json
import os
import sys
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cleaner.blocks import Cleaned, CleanerError, Document

STDIN = "-"
TEXT_SUFFIXES = (".txt",)
HTML_SUFFIXES = (".html", ".htm", ".html.gz", ".htm.gz")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson")


@dataclass(frozen=True, slots=True)
class Source:
    """One input to clean: where it is read from and where its output goes, relative to -o."""

    path: str
    relative: Path

    @property
    def is_html(self) -> bool:
        """Return True when the input is an HTML page, judged by its name."""
        return self.path.lower().endswith(HTML_SUFFIXES)


def expand_inputs(inputs: list[str], suffixes: tuple[str, ...],
                  globs: list[str] | None = None) -> Iterator[Source]:
    """Yield every input: `-`, files, and the files under directories (by suffix or glob)."""
    for name in inputs:
        path = Path(name)
        if name == STDIN:
            yield Source(STDIN, Path("stdin.txt"))
        elif path.is_dir():
            found = {p for pattern in globs for p in path.rglob(pattern)} if globs else {
                p for p in path.rglob("*") if p.name.lower().endswith(suffixes)}
            for file in sorted(p for p in found if p.is_file()):
                yield Source(str(file), file.relative_to(path))
        else:
            yield Source(name, Path(path.name))


def output_name(relative: Path) -> Path:
    """Return the clean text's name for an input: pages become .txt, texts keep their name."""
    name = relative.name
    for suffix in HTML_SUFFIXES:
        if name.lower().endswith(suffix):
            return relative.with_name(name[: -len(suffix)] + ".txt")
    return relative


def read_bytes(source: str) -> bytes:
    """Return the bytes of a file (gunzipped for *.gz) or of stdin; raise CleanerError if unreadable."""
    try:
        data = sys.stdin.buffer.read() if source == STDIN else Path(source).read_bytes()
    except FileNotFoundError:
        raise CleanerError(source, "no such file") from None
    except IsADirectoryError:
        raise CleanerError(source, "is a directory") from None
    except OSError as error:
        raise CleanerError(source, f"cannot read ({error.strerror})") from None
    if source.lower().endswith(".gz"):
        try:
            return gzip.decompress(data)
        except (EOFError, OSError, zlib.error) as error:
            raise CleanerError(source, f"broken gzip file ({error})") from None
    return data


def decode_text(data: bytes, source: str) -> str:
    """Return the text of scraped bytes; raise CleanerError when they are not text."""
    if b"\0" in data[:8192]:
        raise CleanerError(source, "binary file (NUL bytes), not scraped text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CleanerError(source, f"not UTF-8 text (bad byte at offset {error.start})") from None


def read_text(source: str) -> str:
    """Return the text of a file or of stdin; raise CleanerError when it is not text."""
    return decode_text(read_bytes(source), source)


@contextmanager
def atomic_writer(path: Path) -> Iterator[IO[str]]:
    """Yield a text file that appears at `path` only when the block completes (gzip for *.gz).

    Until then it is a hidden temporary file beside `path`, removed on any error or interrupt,
    so no reader ever sees a half-written output.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    for leftover in path.parent.glob(f".{glob_escape(path.name)}.*.tmp"):
        leftover.unlink(missing_ok=True)  # from a run that was killed (SIGKILL) while writing
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as raw:
            packed: Any = gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) if path.name.endswith(
                ".gz") else raw
            text = io.TextIOWrapper(packed, encoding="utf-8", newline="")
            try:
                yield text
            finally:
                text.detach()  # flushes, and leaves closing the files to this function
            if packed is not raw:
                packed.close()  # writes the gzip trailer; leaves `raw` open
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def glob_escape(name: str) -> str:
    """Return `name` with the characters glob treats as patterns escaped."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` so that no half-written file can ever exist there."""
    with atomic_writer(path) as out:
        out.write(text)


def is_fresh(output: Path, inputs: list[Path]) -> bool:
    """Return True when `output` exists and is newer than every one of `inputs` (make's rule)."""
    try:
        built = output.stat().st_mtime_ns
        return all(built >= path.stat().st_mtime_ns for path in inputs)
    except OSError:
        return False


def removed_entries(doc: Document, cleaned: Cleaned) -> list[dict[str, Any]]:
    """Return one entry per removed block: index, label, probability, text."""
    return [{"block": v.block_index, "label": v.label.value, "probability": v.confidence,
             "text": doc.blocks[v.block_index].text} for v in cleaned.removed]


def audit_lines(source: str, entries: list[dict[str, Any]]) -> tuple[str, ...]:
    """Return the removal audit's JSON lines for one document."""
    return tuple(json.dumps({"source": source, **entry}, ensure_ascii=False) + "\n"
                 for entry in entries)


def jsonl_record(source: str, cleaned: Cleaned) -> str:
    """Return the JSON Lines record of one clean document."""
    return json.dumps({"id": source, "text": cleaned.text}, ensure_ascii=False) + "\n"


def jsonl_lines(source: str) -> Iterator[tuple[int, str]]:
    """Yield (line number, line) of a JSON Lines file or stdin, streamed in constant memory."""
    if source == STDIN:
        stream: IO[str] = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
    else:
        try:
            stream = (gzip.open(source, "rt", encoding="utf-8", errors="replace")
                      if source.lower().endswith(".gz")
                      else open(source, encoding="utf-8", errors="replace"))  # noqa: SIM115
        except OSError as error:
            raise CleanerError(source, f"cannot read ({error.strerror or error})") from None
    with stream:
        try:
            yield from enumerate(stream, 1)
        except (EOFError, OSError, zlib.error) as error:
            raise CleanerError(source, f"broken gzip file ({error})") from None
