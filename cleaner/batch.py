"""Batches: clean many files or JSON Lines records, on one process or several, in input order.

Workers receive task descriptions (paths, raw JSON lines) and load the model once per process;
the parent only writes what must stay in order (stdout, JSON Lines outputs, the audit).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, TypeVar

from cleaner.blocks import Cleaned, CleanerError, Document
from cleaner.clean import clean_document
from cleaner.io import (
    STDIN,
    Source,
    atomic_writer,
    audit_lines,
    decode_text,
    is_fresh,
    jsonl_lines,
    jsonl_record,
    output_name,
    read_bytes,
    removed_entries,
    write_atomic,
)
from cleaner.model import LinearBlockModel, load_model
from cleaner.segment import segment_text

Task = TypeVar("Task")


@dataclass(frozen=True, slots=True)
class Settings:
    """What every worker needs besides its task; small, so it travels with each task."""

    model_path: Path
    output_format: str = "text"
    audit: bool = False
    text_field: str = "text"
    html_field: str | None = None
    id_field: str = "id"


@dataclass(frozen=True, slots=True)
class FileTask:
    """One file to clean; `destination` None means the parent writes the result in order."""

    source: Source
    destination: Path | None


@dataclass(frozen=True, slots=True)
class RecordTask:
    """One JSON Lines record, still as its raw line, and where it came from."""

    source: str
    line_number: int
    line: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What cleaning one document gave: output for the parent to write, audit, counts or error."""

    name: str
    output: str | None = None
    audit: tuple[str, ...] = ()
    blocks: int = 0
    removed: tuple[tuple[str, int], ...] = ()
    error: str | None = None


@dataclass(slots=True)
class Totals:
    """Counts over a whole run, for the closing summary line."""

    documents: int = 0
    skipped: int = 0
    failed: int = 0
    blocks: int = 0
    removed: Counter[str] = field(default_factory=Counter)

    def add(self, outcome: Outcome) -> None:
        """Count one finished document."""
        if outcome.error is not None:
            self.failed += 1
            return
        self.documents += 1
        self.blocks += outcome.blocks
        self.removed.update(dict(outcome.removed))


@lru_cache(maxsize=2)
def model_at(path: Path) -> LinearBlockModel:
    """Return the model at `path`, loaded once per process (workers are reused across tasks)."""
    return load_model(path)


def load_document(source: Source) -> Document:
    """Return the blocks of one input file: scraped text, or an HTML page through extraction."""
    data = read_bytes(source.path)
    if source.is_html:
        from cleaner.html import segment_html

        return segment_html(data, doc_id=source.path)
    return segment_text(decode_text(data, source.path), doc_id=source.path)


def finished(name: str, doc: Document, cleaned: Cleaned, settings: Settings,
             output: str | None) -> Outcome:
    """Return the outcome of a cleaned document, with its audit lines when asked for."""
    audit = audit_lines(name, removed_entries(doc, cleaned)) if settings.audit else ()
    kinds = Counter(v.label.value for v in cleaned.removed)
    return Outcome(name, output, audit, len(doc.blocks), tuple(sorted(kinds.items())))


def clean_file(task: FileTask, settings: Settings) -> Outcome:
    """Clean one file; write it when it has a destination, else hand the output back."""
    name = task.source.path
    try:
        doc = load_document(task.source)
        cleaned = clean_document(doc, model_at(settings.model_path))
    except CleanerError as error:
        return Outcome(name, error=str(error))
    if task.destination is None:
        text = jsonl_record(name, cleaned) if settings.output_format == "jsonl" else cleaned.text
        return finished(name, doc, cleaned, settings, text)
    try:
        write_atomic(task.destination, cleaned.text)
    except OSError as error:
        return Outcome(name, error=f"{task.destination}: cannot write ({error.strerror or error})")
    return finished(name, doc, cleaned, settings, None)


def clean_record(task: RecordTask, settings: Settings) -> Outcome:
    """Clean one JSON Lines record: its fields kept, `clean_text` (and `removed`) added."""
    where = f"{task.source}:{task.line_number}"
    try:
        record = parse_record(task.line, where)
        field_name = settings.html_field or settings.text_field
        value = record.get(field_name)
        if not isinstance(value, str):
            raise CleanerError(where, f"no string field '{field_name}'")
        name = str(record.get(settings.id_field, where))
        if settings.html_field:
            from cleaner.html import segment_html

            doc = segment_html(value.encode("utf-8"), doc_id=name)
        else:
            doc = segment_text(value, doc_id=name)
        cleaned = clean_document(doc, model_at(settings.model_path))
    except CleanerError as error:
        return Outcome(where, error=str(error))
    record["clean_text"] = cleaned.text
    if settings.audit:
        record["removed"] = removed_entries(doc, cleaned)
    return finished(name, doc, cleaned, settings, json.dumps(record, ensure_ascii=False) + "\n")


def parse_record(line: str, where: str) -> dict[str, Any]:
    """Return the JSON object on one line; raise CleanerError naming the line otherwise."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise CleanerError(where, f"not valid JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(record, dict):
        raise CleanerError(where, "not a JSON object")
    return record


def outcomes(work: Callable[[Task, Settings], Outcome], tasks: Iterable[Task],
             settings: Settings, jobs: int) -> Iterator[Outcome]:
    """Yield the outcome of every task in input order, on `jobs` processes."""
    if jobs == 1:
        for task in tasks:
            yield work(task, settings)
        return
    from joblib import Parallel, delayed

    # A generator keeps memory constant: only a few batches are in flight at any time.
    parallel = Parallel(n_jobs=jobs, return_as="generator", batch_size=32,
                        pre_dispatch="4 * n_jobs")
    yield from parallel(delayed(work)(task, settings) for task in tasks)


@dataclass(frozen=True, slots=True)
class Shard:
    """A JSON Lines input and where its records go (None: standard output)."""

    source: Source
    destination: Path | None


class Run:
    """One batch run: feeds tasks to the workers, writes outputs in order, counts and reports."""

    def __init__(self, settings: Settings, jobs: int, audit_path: Path | None,
                 report: Callable[[str], None], progress: Any = None, per_file: bool = True) -> None:
        self.settings = settings
        self.jobs = jobs
        self.audit_path = audit_path
        self.report = report
        self.progress = progress
        self.per_file = per_file
        self.totals = Totals()

    def finish(self, outcome: Outcome, out: IO[str] | None, audit: IO[str] | None,
               per_document_line: bool) -> None:
        """Write and count one outcome, reporting its error or its summary line."""
        self.totals.add(outcome)
        if self.progress is not None:
            self.progress.advance()
        if outcome.error is not None:
            self.report("cleaner: " + outcome.error)
            return
        if outcome.output is not None and out is not None:
            out.write(outcome.output)
        if audit is not None:
            audit.writelines(outcome.audit)
        if per_document_line and self.per_file:
            self.report(summary_line(outcome.name, outcome.blocks, Counter(dict(outcome.removed))))

    def clean_files(self, tasks: list[FileTask], jsonl_file: Path | None) -> Totals:
        """Clean files: written by the workers, or in order to stdout or one JSON Lines file."""
        with ExitStack() as stack:
            audit = self.open(stack, self.audit_path)
            out = self.open(stack, jsonl_file) or sys.stdout
            for outcome in outcomes(clean_file, tasks, self.settings, self.jobs):
                self.finish(outcome, out, audit, per_document_line=True)
        sys.stdout.flush()
        return self.totals

    def clean_shards(self, shards: list[Shard]) -> Totals:
        """Clean JSON Lines inputs record by record, each shard's output in input order."""
        with ExitStack() as stack:
            audit = self.open(stack, self.audit_path)
            for shard in shards:
                try:
                    self.clean_shard(shard, audit)
                except CleanerError as error:
                    self.totals.failed += 1
                    self.report(f"cleaner: {error}")
        sys.stdout.flush()
        return self.totals

    def clean_shard(self, shard: Shard, audit: IO[str] | None) -> None:
        """Clean one JSON Lines input into its destination, which appears only when complete."""
        tasks = (RecordTask(shard.source.path, number, line)
                 for number, line in jsonl_lines(shard.source.path) if line.strip())
        with ExitStack() as stack:
            out = self.open(stack, shard.destination) or sys.stdout
            for outcome in outcomes(clean_record, tasks, self.settings, self.jobs):
                self.finish(outcome, out, audit, per_document_line=False)

    @staticmethod
    def open(stack: ExitStack, path: Path | None) -> IO[str] | None:
        """Return an atomic writer for `path` that lives as long as `stack`, or None."""
        return None if path is None else stack.enter_context(atomic_writer(path))


def summary_line(source: str, blocks: int, removed: Counter[str]) -> str:
    """Return the one-line summary of one cleaned input."""
    kinds = ", ".join(f"{label} {n}" for label, n in sorted(removed.items()))
    return f"{source}: {blocks} blocks, {sum(removed.values())} removed" + (
        f" ({kinds})" if kinds else "")


def closing_line(totals: Totals) -> str:
    """Return the one-line summary of a whole run."""
    body = summary_line(f"{totals.documents} documents", totals.blocks, totals.removed)
    return (f"cleaner: {body}; {totals.skipped} skipped (up to date), {totals.failed} failed")


@dataclass(frozen=True, slots=True)
class Plan:
    """Where each input's output goes; JSON Lines inputs become shards, files become tasks."""

    tasks: list[FileTask]
    shards: list[Shard]
    jsonl_file: Path | None
    mirrored: bool  # outputs mirror the inputs under an -o directory: skip-if-fresh applies


def plan_outputs(sources: list[Source], output: Path | None, output_format: str,
                 several: bool, jsonl_input: bool) -> Plan:
    """Return where each output goes; raise ValueError for an impossible combination.

    `several` says the inputs were several paths or a directory: their outputs mirror into -o.
    """
    mirrored = output is not None and (several or output.is_dir())
    if jsonl_input:
        places = [output / s.relative if mirrored and output else output for s in sources]
        return Plan([], [Shard(s, p) for s, p in zip(sources, places, strict=True)], None, mirrored)
    if output_format == "jsonl":
        return Plan([FileTask(s, None) for s in sources], [], output, False)
    if output is None and several:
        raise ValueError("several inputs need an output directory (-o DIR) or --format jsonl")
    places = [output / output_name(s.relative) if mirrored and output else output
              for s in sources]
    return Plan([FileTask(s, p) for s, p in zip(sources, places, strict=True)], [], None, mirrored)


def skip_fresh(plan: Plan, model_path: Path, force: bool) -> tuple[Plan, int]:
    """Return the plan without the mirrored outputs newer than their input and the model, and
    how many were skipped (`--force` skips none)."""
    if force or not plan.mirrored:
        return plan, 0
    model_files = [model_path, model_path.with_suffix(".json")]

    def stale(source: Source, destination: Path | None) -> bool:
        return (destination is None or source.path == STDIN
                or not is_fresh(destination, [Path(source.path), *model_files]))

    tasks = [t for t in plan.tasks if stale(t.source, t.destination)]
    shards = [s for s in plan.shards if stale(s.source, s.destination)]
    skipped = len(plan.tasks) + len(plan.shards) - len(tasks) - len(shards)
    return Plan(tasks, shards, plan.jsonl_file, plan.mirrored), skipped


class ProgressBar:
    """A rich progress bar on stderr: documents done, documents/s, and the ETA when known."""

    def __init__(self, total: int | None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            ProgressColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.text import Text

        class RateColumn(ProgressColumn):
            def render(self, task: Any) -> Text:
                return Text(f"{task.speed or 0:,.0f} docs/s")

        self.progress = Progress(BarColumn(), MofNCompleteColumn(), RateColumn(),
                                 TimeElapsedColumn(), TimeRemainingColumn(),
                                 console=Console(stderr=True), transient=True)
        self.task = self.progress.add_task("cleaning", total=total)

    def __enter__(self) -> ProgressBar:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def advance(self) -> None:
        """Count one more document done."""
        self.progress.advance(self.task)

    def say(self, line: str) -> None:
        """Print one line above the bar."""
        self.progress.console.print(line, markup=False, highlight=False, soft_wrap=True)
