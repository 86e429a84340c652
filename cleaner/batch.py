"""Batches: clean many files or JSON Lines records, on one process or several, in input order.

Workers receive task descriptions (paths, raw JSON lines, stdin's bytes) and clean with the
model the parent loaded before forking them (see cleaner.workers); the parent only writes what
must stay in order (stdout, JSON Lines outputs, the audit).
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

from cleaner.blocks import CleanerError
from cleaner.io import (
    STDIN,
    FileTask,
    Shard,
    atomic_writer,
    jsonl_lines,
    read_bytes,
    safe_relative,
    write_atomic,
)
from cleaner.task import Outcome, RecordTask, Settings, clean_file, clean_record, model_at

Task = TypeVar("Task")


@dataclass(slots=True)
class Totals:
    """Counts over a whole run, for the closing summary line."""

    documents: int = 0
    skipped: int = 0
    failed: int = 0
    blocks: int = 0
    removed: Counter[str] = field(default_factory=Counter)
    flagged: int = 0

    def add(self, outcome: Outcome) -> None:
        """Count one finished document."""
        if outcome.error is not None:
            self.failed += 1
            return
        self.documents += 1
        self.flagged += bool(outcome.notes)
        self.blocks += outcome.blocks
        self.removed.update(dict(outcome.removed))


def printable(line: str) -> str:
    """Return a message as one printable line: newlines and undecodable file-name bytes escaped."""
    line = line.replace("\r", "\\r").replace("\n", "\\n")
    return line.encode("utf-8", "backslashreplace").decode("utf-8")


# Tasks travel to the workers in chunks: the parent shares two cores with the workers, and its
# cost per call (dispatch, pickling, callbacks) slowed them down. A text record takes about
# 1 ms, so 256 of them still balance the workers to within a fraction of a second; an HTML
# page takes up to 100 ms, so files and HTML records go 32 at a time. Measured 2026-12-04
# (--jobs 2, whole corpus, interleaved runs): records 32 to a call, parent 0.92-1.03 s of CPU
# and 4.81-5.79 s wall; 256 to a chunk, parent 0.66-0.84 s and 4.65-5.32 s.
TEXT_RECORDS_PER_CHUNK = 256
TASKS_PER_CHUNK = 32


def outcomes(work: Callable[[Task, Settings], Outcome], tasks: Iterable[Task],
             settings: Settings, jobs: int, client: Any = None,
             chunk_size: int = TASKS_PER_CHUNK) -> Iterator[Outcome]:
    """Yield the outcome of every task in input order, on `jobs` processes or a Dask cluster."""
    if client is not None:
        from cleaner.cluster import cluster_outcomes

        yield from cluster_outcomes(client, work, tasks, settings)
        return
    if jobs > 1:
        from cleaner.workers import can_fork

        if can_fork():  # not on Windows, which runs them in this process: the same output
            yield from forked_outcomes(work, tasks, settings, jobs, chunk_size)
            return
    for task in tasks:
        yield work(task, settings)


def forked_outcomes(work: Callable[[Task, Settings], Outcome], tasks: Iterable[Task],
                    settings: Settings, jobs: int, chunk_size: int) -> Iterator[Outcome]:
    """Yield the outcomes in input order from `jobs` worker processes forked from this one.

    The model is loaded here, before the fork, so every worker starts with it in memory (pages
    shared until written) instead of importing numpy and loading it again. joblib's loky
    workers are fresh interpreters that paid that at every run: 200 corpus files took 1.6 s
    with --jobs 2 against 1.0 s with --jobs 1, and 0.85 s forked (2026-12-06, 3 runs each).
    """
    from functools import partial

    from cleaner.workers import ordered_results

    model_at(settings.model_path, settings.favor)
    clean_chunk = partial(work_on_chunk, work, settings=settings)
    for outcomes_of_chunk in ordered_results(clean_chunk, chunks(tasks, chunk_size), jobs):
        yield from outcomes_of_chunk


def chunks(tasks: Iterable[Task], size: int) -> Iterator[list[Task]]:
    """Yield the tasks in order, `size` at a time (the last chunk may be shorter)."""
    chunk: list[Task] = []
    for task in tasks:
        chunk.append(task)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def work_on_chunk(work: Callable[[Task, Settings], Outcome], chunk: list[Task],
                  settings: Settings) -> list[Outcome]:
    """Return the outcomes of one chunk of tasks, in order (runs in a worker)."""
    return [work(task, settings) for task in chunk]


class Run:
    """One batch run: feeds tasks to the workers, writes outputs in order, counts and reports."""

    def __init__(self, settings: Settings, jobs: int, audit_path: Path | None,
                 report: Callable[[str], None], progress: Any = None, verbosity: int = 0,
                 client: Any = None, record_dir: Path | None = None) -> None:
        self.record_dir = record_dir  # JSON Lines records to one text file each, named by id
        self.first_line: dict[str, str] = {}  # output file -> the record that wrote it
        self.client = client  # a Dask client: documents are cleaned on its cluster
        self.settings = settings
        self.jobs = jobs
        self.audit_path = audit_path
        self.report = report
        self.progress = progress
        # -1 (-q): errors only; 0: a line per file; 1 (-v): per JSON Lines record too;
        # 2 (-vv): each removed block as well (the workers then send their audit lines).
        self.verbosity = verbosity
        self.totals = Totals()

    @property
    def records_per_chunk(self) -> int:
        """Return how many JSON Lines records go to a worker at a time (see outcomes)."""
        return TASKS_PER_CHUNK if self.settings.html_field else TEXT_RECORDS_PER_CHUNK

    def finish(self, outcome: Outcome, out: IO[bytes] | None, audit: IO[bytes] | None,
               per_document_line: bool) -> None:
        """Write and count one outcome, reporting its error or its summary line."""
        self.totals.add(outcome)
        if self.progress is not None:
            self.progress.advance()
        if outcome.error is not None:
            self.report(printable("cleaner: " + outcome.error))
            return
        if outcome.output is not None and out is not None:
            out.write(outcome.output)
        if audit is not None:
            audit.write(outcome.audit)
        if (per_document_line or outcome.notes or self.verbosity >= 1) and self.verbosity >= 0:
            line = summary_line(outcome.name, outcome.blocks, Counter(dict(outcome.removed)))
            self.report(printable("".join([line, *(f"; {note}" for note in outcome.notes)])))
        if self.verbosity >= 2:
            for line in removed_lines(outcome.audit):
                self.report(printable(line))

    def clean_files(self, tasks: list[FileTask], jsonl_file: Path | None) -> Totals:
        """Clean files: written by the workers, or in order to stdout or one JSON Lines file."""
        if self.jobs > 1 or self.client is not None:
            tasks = self.with_stdin_read(tasks)
        try:
            with ExitStack() as stack:
                audit = self.open(stack, self.audit_path)
                out = self.open(stack, jsonl_file) or stdout_bytes()
                for outcome in outcomes(clean_file, tasks, self.settings, self.jobs, self.client):
                    self.finish(outcome, out, audit, per_document_line=True)
                out.flush()
        except OSError as error:  # a full disk or a read-only directory: nothing half-written
            self.output_failed(error, [jsonl_file, self.audit_path])
        return self.totals

    def with_stdin_read(self, tasks: list[FileTask]) -> list[FileTask]:
        """Return the tasks, the one that reads stdin with its bytes read here: other processes
        (--jobs workers, a cluster's) cannot read this one's stdin, and would clean nothing."""
        ready = []
        for task in tasks:
            if task.source.path == STDIN:
                try:
                    task = dataclasses.replace(task, data=read_bytes(STDIN))
                except CleanerError as error:
                    self.totals.failed += 1
                    self.report(printable(f"cleaner: {error}"))
                    continue
            ready.append(task)
        return ready

    def clean_shards(self, shards: list[Shard]) -> Totals:
        """Clean JSON Lines inputs record by record, each shard's output in input order."""
        try:
            with ExitStack() as stack:
                audit = self.open(stack, self.audit_path)
                for shard in shards:
                    try:
                        self.clean_shard(shard, audit)
                    except CleanerError as error:
                        self.totals.failed += 1
                        self.report(printable(f"cleaner: {error}"))
                    except OSError as error:
                        self.output_failed(error, [shard.destination])
                stdout_bytes().flush()
        except OSError as error:
            self.output_failed(error, [self.audit_path])
        return self.totals

    def output_failed(self, error: OSError, paths: list[Path | None]) -> None:
        """Report an output that could not be written; its temporary file is already gone."""
        self.totals.failed += 1
        names = ", ".join(str(p) for p in paths if p is not None) or "standard output"
        self.report(printable(f"cleaner: {names}: cannot write ({error.strerror or error})"))

    def clean_shard(self, shard: Shard, audit: IO[bytes] | None) -> None:
        """Clean one JSON Lines input into its destination, which appears only when complete."""
        tasks = (RecordTask(shard.source.path, number, line)
                 for number, line in jsonl_lines(shard.source.path) if line.strip(b" \t\r\n"))
        if self.record_dir is not None:
            self.clean_shard_to_files(tasks, shard.source.path, audit)
            return
        with ExitStack() as stack:
            out = self.open(stack, shard.destination) or stdout_bytes()
            for outcome in outcomes(clean_record, tasks, self.settings, self.jobs, self.client,
                                    self.records_per_chunk):
                self.finish(outcome, out, audit, per_document_line=False)

    def clean_shard_to_files(self, tasks: Iterable[RecordTask], source: str,
                             audit: IO[bytes] | None) -> None:
        """Clean records into one text file each, `<id>.txt` under the output directory."""
        assert self.record_dir is not None
        first_line = self.first_line
        for outcome in outcomes(clean_record, tasks, self.settings, self.jobs, self.client,
                                self.records_per_chunk):
            if outcome.error is None:
                outcome = self.write_record(outcome, first_line, source)
            self.finish(outcome, None, audit, per_document_line=False)

    def write_record(self, outcome: Outcome, first_line: dict[str, str], source: str) -> Outcome:
        """Write one record's clean text to its file; return an error outcome if it may not be."""
        assert self.record_dir is not None
        where = f"{source}:{outcome.line}"
        try:
            os.fsencode(outcome.name)
        except UnicodeEncodeError:  # a lone surrogate from a JSON escape cannot name a file
            return Outcome(where, error=f"{where}: id '{outcome.name}' cannot be a file name")
        relative = safe_relative(outcome.name)
        if relative is None:
            return Outcome(where, error=f"{where}: id '{outcome.name}' would be written outside "
                                        f"{self.record_dir}")
        # Ids that name the same file ('a/b', 'a\\b', './a/b') are duplicates too.
        key = relative.as_posix()
        if key in first_line:
            return Outcome(where, error=f"{where}: duplicate id '{outcome.name}' (first on "
                                        f"{first_line[key]})")
        first_line[key] = where
        try:
            write_atomic(self.record_dir / relative, outcome.output or b"")
        except OSError as error:
            return Outcome(where, error=f"{where}: cannot write {relative} "
                                        f"({error.strerror or error})")
        return dataclasses.replace(outcome, output=None)

    @staticmethod
    def open(stack: ExitStack, path: Path | None) -> IO[bytes] | None:
        """Return an atomic writer for `path` that lives as long as `stack`, or None."""
        return None if path is None else stack.enter_context(atomic_writer(path))


def stdout_bytes() -> IO[bytes]:
    """Return standard output for bytes, after what was printed to it as text."""
    sys.stdout.flush()
    return sys.stdout.buffer


# A removed block is listed (-vv) with this much of its text: enough to recognise the line.
LISTED_TEXT_CHARS = 100


def removed_lines(audit: bytes) -> list[str]:
    """Return one line per removed block of a document's audit: index, label, probability and
    the start of its text."""
    entries = (json.loads(line) for line in audit.splitlines())
    return [f"  block {entry['block']}: {entry['label']} {entry['probability']:.2f}: "
            + shorten(entry["text"]) for entry in entries if "block" in entry]


def shorten(text: str, width: int = LISTED_TEXT_CHARS) -> str:
    """Return `text` cut to `width` characters, an ellipsis saying so (also `cleaner explain`)."""
    return text if len(text) <= width else text[:width - 1] + "…"


def summary_line(source: str, blocks: int, removed: Counter[str]) -> str:
    """Return the one-line summary of one cleaned input."""
    kinds = ", ".join(f"{label} {n}" for label, n in sorted(removed.items()))
    return f"{source}: {blocks} blocks, {sum(removed.values())} removed" + (
        f" ({kinds})" if kinds else "")


def closing_line(totals: Totals) -> str:
    """Return the one-line summary of a whole run."""
    body = summary_line(f"{totals.documents} documents", totals.blocks, totals.removed)
    return (f"cleaner: {body}; {totals.flagged} flagged, {totals.skipped} skipped (up to date), "
            f"{totals.failed} failed")
