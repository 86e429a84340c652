"""One document's work, as a worker does it: read the file or record, clean it, then write the
output or hand it back, with its audit lines, counts and notes for a person to check."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from cleaner.blocks import Cleaned, CleanerError, Document
from cleaner.clean import clean_document
from cleaner.io import (
    STDIN,
    FileTask,
    Source,
    audit_lines,
    decode_text,
    encoded,
    json_line,
    jsonl_record,
    read_bytes,
    removed_entries,
    write_atomic,
)
from cleaner.model import LinearBlockModel
from cleaner.segment import segment_text
from cleaner.store import DEFAULT_FAVOR, load_model


@dataclass(frozen=True, slots=True)
class Settings:
    """What every worker needs besides its task; small, so it travels with each task."""

    model_path: Path
    output_format: str = "text"
    audit: bool = False  # --removed: audit lines, and a `removed` field in JSON Lines records
    text_field: str = "text"
    html_field: str | None = None
    id_field: str = "id"
    list_removed: bool = False  # -vv: audit lines for the parent to list, nothing written
    favor: str = DEFAULT_FAVOR  # --favor: which of the model's keep thresholds decides


@dataclass(frozen=True, slots=True)
class RecordTask:
    """One JSON Lines record, still as its raw line, and where it came from."""

    source: str
    line_number: int
    line: bytes  # as read: decoded by the worker, so the parent never decodes a record

    def __reduce__(self) -> tuple[type[RecordTask], tuple[str, int, bytes]]:
        """Pickle as a constructor call (see Outcome.__reduce__)."""
        return RecordTask, (self.source, self.line_number, self.line)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What cleaning one document gave: output for the parent to write, audit, counts or error.

    Output and audit come encoded: with --jobs the parent only copies bytes to the files.
    """

    name: str
    output: bytes | None = None
    audit: bytes = b""
    blocks: int = 0
    removed: tuple[tuple[str, int], ...] = ()
    error: str | None = None
    notes: tuple[str, ...] = ()  # what an archivist should look at: decoding, a gutted document
    line: int = 0  # for a JSON Lines record: its line in the input

    def __reduce__(self) -> tuple[type[Outcome], tuple[Any, ...]]:
        """Pickle as a constructor call. A frozen dataclass with slots otherwise goes through
        dataclasses' __getstate__/__setstate__, which look its fields up per object: 0.2 s of
        the parent's CPU over the corpus's 9,335 records with --jobs 2 (cProfile, 2026-12-06),
        on cores the workers share."""
        return Outcome, (self.name, self.output, self.audit, self.blocks, self.removed,
                         self.error, self.notes, self.line)


_PRELOADED: dict[tuple[Path, str], LinearBlockModel] = {}


def preload_model(path: Path, favor: str, model: LinearBlockModel) -> None:
    """Make `model_at(path, favor)` return `model` in this process (a cluster worker got it
    shipped)."""
    _PRELOADED[path, favor] = model


def model_at(path: Path, favor: str = DEFAULT_FAVOR) -> LinearBlockModel:
    """Return the model at `path` deciding as `favor` asks, loaded once per process (workers
    are reused across tasks)."""
    return _PRELOADED.get((path, favor)) or load_once(path, favor)


@lru_cache(maxsize=2)
def load_once(path: Path, favor: str) -> LinearBlockModel:
    """Return the model at `path` for `favor`, loading it on the first call only."""
    return load_model(path, favor)


def load_document(source: Source, data: bytes | None = None) -> Document:
    """Return the blocks of one input file (or of `data`, its bytes if already read): scraped
    text, or an HTML page through extraction."""
    data = read_bytes(source.path) if data is None else data
    if source.is_html or (source.path == STDIN and looks_like_html(data)):
        from cleaner.segment import segment_html

        return segment_html(data, doc_id=source.path)
    decoded = decode_text(data, source.path)
    meta = {"decoding": decoded.note} if decoded.note else {}
    return segment_text(decoded.text, doc_id=source.path, meta=meta)


# A cleaned document that lost more than this share of its characters is flagged for a person
# to check: on the FakeNewsNet corpus ordinary articles lose well under half.
CUT_FLAG_SHARE = 0.5


def looks_like_html(data: bytes) -> bool:
    """Return True for bytes that open like an HTML page (used for stdin, which has no name)."""
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html"))


def finished(name: str, doc: Document, cleaned: Cleaned, settings: Settings,
             output: str | None) -> Outcome:
    """Return the outcome of a cleaned document, with its audit lines and notes."""
    notes = tuple(n for n in (doc.meta.get("decoding"), doc.meta.get("extraction"),
                              cut_note(doc, cleaned)) if n)
    audit = ""
    if settings.audit or settings.list_removed:
        audit = audit_lines(name, removed_entries(doc, cleaned)) + "".join(
            json_line({"source": name, "note": note}) for note in notes)
    kinds = Counter(v.label.value for v in cleaned.removed)
    return Outcome(name, None if output is None else encoded(output), encoded(audit),
                   len(doc.blocks), tuple(sorted(kinds.items())), notes=notes)


def cut_note(doc: Document, cleaned: Cleaned) -> str | None:
    """Return a warning when cleaning emptied the document or removed most of its text."""
    if "title" in doc.meta and all(b.text == doc.meta["title"] for b in doc.blocks):
        # An HTML page whose extraction found nothing but its headline is worth a look.
        return "no article text found in the page"
    if not doc.blocks:
        return None
    if not cleaned.kept:
        return "emptied: every block was removed"
    total = sum(len(block.text) for block in doc.blocks)
    removed = sum(len(doc.blocks[v.block_index].text) for v in cleaned.removed)
    return f"cut {removed / total:.0%} of its text" if removed > CUT_FLAG_SHARE * total else None


def clean_file(task: FileTask, settings: Settings) -> Outcome:
    """Clean one file; write it when it has a destination, else hand the output back."""
    name = task.source.path
    try:
        doc = load_document(task.source, task.data)
        cleaned = clean_document(doc, model_at(settings.model_path, settings.favor))
    except CleanerError as error:
        return Outcome(name, error=str(error))
    if task.destination is None:
        text = jsonl_record(name, cleaned) if settings.output_format == "jsonl" else cleaned.text
        return finished(name, doc, cleaned, settings, text)
    try:
        write_atomic(task.destination, encoded(cleaned.text))
    except OSError as error:
        return Outcome(name, error=f"{task.destination}: cannot write ({error.strerror or error})")
    return finished(name, doc, cleaned, settings, None)


def clean_record(task: RecordTask, settings: Settings) -> Outcome:
    """Clean one JSON Lines record: its fields kept, `clean_text` (and `removed`) added."""
    where = f"{task.source}:{task.line_number}"
    try:
        record = parse_record(task.line.decode("utf-8", "replace"), where)
        field_name = settings.html_field or settings.text_field
        value = record.get(field_name)
        if not isinstance(value, str):
            raise CleanerError(where, f"no string field '{field_name}'")
        name = str(record.get(settings.id_field, where))
        if settings.output_format == "text" and not isinstance(record.get(settings.id_field),
                                                               str | int):
            raise CleanerError(where, f"no id field '{settings.id_field}' to name its output file")
        if settings.html_field:
            from cleaner.segment import segment_html

            doc = segment_html(value.encode("utf-8", "backslashreplace"), doc_id=name)
        else:
            doc = segment_text(value, doc_id=name)
        cleaned = clean_document(doc, model_at(settings.model_path, settings.favor))
    except CleanerError as error:
        return Outcome(where, error=str(error))
    if settings.output_format == "text":  # one file per record, named by its id
        return dataclasses.replace(finished(name, doc, cleaned, settings, cleaned.text),
                                   line=task.line_number)
    record["clean_text"] = cleaned.text
    if settings.audit:
        record["removed"] = removed_entries(doc, cleaned)
    return finished(name, doc, cleaned, settings, json_line(record))


def parse_record(line: str, where: str) -> dict[str, Any]:
    """Return the JSON object on one line; raise CleanerError naming the line otherwise."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise CleanerError(where, f"not valid JSON ({error.msg} at column {error.colno})") from None
    except (ValueError, RecursionError) as error:  # a 5,000-digit number, arrays 10,000 deep
        raise CleanerError(where, f"not readable JSON ({str(error).split(':')[0]})") from None
    if not isinstance(record, dict):
        raise CleanerError(where, "not a JSON object")
    return record
