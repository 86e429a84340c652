"""Inputs and outputs: files, directories and `-`, decoding, atomic writes, the removal audit."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from cleaner.blocks import Cleaned, CleanerError, Document
from cleaner.clean import clean_document
from cleaner.model import LinearBlockModel
from cleaner.segment import segment_text

STDIN = "-"
TEXT_SUFFIXES = (".txt",)


@dataclass(frozen=True, slots=True)
class Source:
    """One input to clean: where it is read from and where its output goes, relative to -o."""

    path: str
    relative: Path


def expand_inputs(inputs: list[str]) -> Iterator[Source]:
    """Yield every input to clean: `-`, files, and the text files under directories."""
    for name in inputs:
        path = Path(name)
        if name == STDIN:
            yield Source(STDIN, Path("stdin.txt"))
        elif path.is_dir():
            for found in sorted(path.rglob("*")):
                if found.is_file() and found.name.endswith(TEXT_SUFFIXES):
                    yield Source(str(found), found.relative_to(path))
        else:
            yield Source(name, Path(path.name))


def read_text(source: str) -> str:
    """Return the text of a file or of stdin; raise CleanerError when it is not text."""
    try:
        data = sys.stdin.buffer.read() if source == STDIN else Path(source).read_bytes()
    except FileNotFoundError:
        raise CleanerError(source, "no such file") from None
    except IsADirectoryError:
        raise CleanerError(source, "is a directory") from None
    except OSError as error:
        raise CleanerError(source, f"cannot read ({error.strerror})") from None
    if b"\0" in data[:8192]:
        raise CleanerError(source, "binary file (NUL bytes), not scraped text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CleanerError(source, f"not UTF-8 text (bad byte at offset {error.start})") from None


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` so that no half-written file can ever exist there."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def removed_records(doc: Document, cleaned: Cleaned, source: str) -> Iterator[str]:
    """Yield one JSON line per removed block: source, index, label, probability, text."""
    for verdict in cleaned.removed:
        block = doc.blocks[verdict.block_index]
        yield json.dumps({"source": source, "block": verdict.block_index,
                          "label": verdict.label.value, "probability": verdict.confidence,
                          "text": block.text}, ensure_ascii=False) + "\n"


def jsonl_record(source: str, cleaned: Cleaned) -> str:
    """Return the JSON Lines record of one clean document."""
    return json.dumps({"id": source, "text": cleaned.text}, ensure_ascii=False) + "\n"


def open_audit(path: Path | None) -> IO[str] | None:
    """Return a file for the removal audit, written beside its final name until closed."""
    if path is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(path.with_name(f".{path.name}.tmp"), "w", encoding="utf-8")  # noqa: SIM115


def close_audit(audit: IO[str] | None, path: Path | None, complete: bool) -> None:
    """Close the removal audit: move it to its final name if the run completed, else delete it."""
    if audit is None or path is None:
        return
    audit.close()
    if complete:
        os.replace(audit.name, path)
    else:
        Path(audit.name).unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class Plan:
    """Which inputs to clean and where each output goes (None: standard output)."""

    sources: list[Source]
    destinations: list[Path | None]
    jsonl_file: Path | None = None


def plan_outputs(sources: list[Source], output: Path | None, output_format: str,
                 several: bool) -> Plan:
    """Return where each output goes; raise ValueError for an impossible combination.

    `several` says the inputs were several paths or a directory: their outputs mirror into -o.
    """
    if output_format == "jsonl":
        return Plan(sources, [None] * len(sources), jsonl_file=output)
    if output is None:
        if several:
            raise ValueError("several inputs need an output directory (-o DIR) "
                             "or --format jsonl")
        return Plan(sources, [None])
    if several or output.is_dir():
        return Plan(sources, [output / s.relative for s in sources])
    return Plan(sources, [output])


def clean_sources(plan: Plan, model: LinearBlockModel, removed_path: Path | None,
                  output_format: str, report: Callable[[str], None] | None,
                  on_error: Callable[[CleanerError], None],
                  summarize: Callable[[str, int, Counter[str]], str]) -> int:
    """Clean every planned input, writing each output as it is done; return the failure count."""
    failures = 0
    audit = open_audit(removed_path)
    records: list[str] = []
    complete = False
    try:
        for source, destination in zip(plan.sources, plan.destinations, strict=True):
            try:
                doc = segment_text(read_text(source.path), doc_id=source.path)
                cleaned = clean_document(doc, model)
            except CleanerError as error:
                on_error(error)
                failures += 1
                continue
            if audit is not None:
                audit.writelines(removed_records(doc, cleaned, source.path))
            if output_format == "jsonl" and plan.jsonl_file is not None:
                records.append(jsonl_record(source.path, cleaned))
            elif output_format == "jsonl":
                sys.stdout.write(jsonl_record(source.path, cleaned))
            elif destination is None:
                sys.stdout.write(cleaned.text)
            else:
                try:
                    write_atomic(destination, cleaned.text)
                except OSError as error:
                    on_error(CleanerError(str(destination), f"cannot write ({error.strerror})"))
                    failures += 1
                    continue
            if report is not None:
                kinds = Counter(v.label.value for v in cleaned.removed)
                report(summarize(source.path, len(doc.blocks), kinds))
        if plan.jsonl_file is not None:
            write_atomic(plan.jsonl_file, "".join(records))
        complete = True
    finally:
        # An interrupted run leaves no partial audit behind, like every other output.
        close_audit(audit, removed_path, complete)
    sys.stdout.flush()
    return failures
