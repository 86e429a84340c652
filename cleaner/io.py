"""Inputs and outputs: files, directories and `-`, decoding, atomic writes, skip-if-fresh, audit."""

from __future__ import annotations

import codecs
import functools
import gzip
import json
import os
import re
import sys
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

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


# Byte order marks name their encoding outright (UTF-32 first: its LE mark starts like UTF-16's).
BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"))
# charset-normalizer often names a Central European code page for short Western text whose
# bytes are valid windows-1252 ("crème" read as "crčme"); scraped news in Latin script is
# far more often windows-1252, so it wins among these.
LATIN_CODE_PAGES = frozenset({"cp1250", "cp1252", "latin_1", "iso8859_2", "iso8859_15",
                              "iso8859_9", "cp1254", "mac_roman", "iso8859_16", "cp1257",
                              "mac_latin2", "iso8859_3", "iso8859_4", "iso8859_10", "iso8859_13",
                              "iso8859_14", "cp850", "cp437"})
# A well-formed two- to four-byte UTF-8 sequence: legacy code pages rarely produce one.
MULTIBYTE_UTF8 = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}"
                            rb"|[\xf0-\xf4][\x80-\xbf]{3}")


@dataclass(frozen=True, slots=True)
class Decoded:
    """Text decoded from bytes, and a note when it needed more than plain UTF-8."""

    text: str
    note: str | None = None


def decode_text(data: bytes, source: str) -> Decoded:
    """Return the text of scraped bytes in whatever encoding they use; raise CleanerError for
    binary data. Bytes no encoding explains become U+FFFD, and the note says how many."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return decode_with(data, encoding, f"decoded as {encoding} (byte order mark)")
    if b"\0" in data[:8192]:  # UTF-16/32 text without a byte order mark, or binary data
        from charset_normalizer import from_bytes

        best = from_bytes(data[:MAX_DETECT_BYTES]).best()
        if best is None or not best.encoding.startswith(("utf_16", "utf_32")):
            raise CleanerError(source, "binary file (NUL bytes), not text")
        return decode_with(data, best.encoding, f"decoded as {best.encoding}")
    try:
        return Decoded(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    if MULTIBYTE_UTF8.search(data):  # UTF-8 with some broken bytes, not a legacy code page
        return decode_with(data, "utf-8", "not valid UTF-8")
    from charset_normalizer import from_bytes

    best = from_bytes(data[:MAX_DETECT_BYTES]).best()
    if best is None:
        return decode_with(data, "utf-8", "not valid UTF-8")
    encoding = best.encoding
    if encoding in LATIN_CODE_PAGES and is_cp1252(data):
        encoding = "cp1252"
    return decode_with(data, encoding, f"decoded as {encoding}")


MAX_DETECT_BYTES = 200_000  # detection reads this much; enough to tell, bounded for 10 MB lines


def is_cp1252(data: bytes) -> bool:
    """Return True when every byte of `data` has a meaning in windows-1252."""
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True


def decode_with(data: bytes, encoding: str, note: str) -> Decoded:
    """Return `data` decoded, bad bytes replaced, the note saying how many were."""
    text = data.decode(encoding, errors="replace")
    replaced = text.count("\ufffd") - data.decode(encoding, errors="ignore").count("\ufffd")
    return Decoded(text, f"{note}, {replaced} bad bytes replaced" if replaced else note)


def read_text(source: str) -> str:
    """Return the text of a file or of stdin; raise CleanerError when it is not text."""
    return decode_text(read_bytes(source), source).text


@contextmanager
def atomic_writer(path: Path) -> Iterator[IO[bytes]]:
    """Yield a binary file that appears at `path` only when the block completes (gzip for *.gz).

    Until then it is a hidden temporary file beside `path`, removed on any error or interrupt,
    so no reader ever sees a half-written output. It takes bytes: workers encode what they
    return, so the parent of a --jobs run only moves bytes.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    for leftover in path.parent.glob(f".{glob_escape(path.name)}.*.tmp"):
        leftover.unlink(missing_ok=True)  # from a run that was killed (SIGKILL) while writing
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private (0600); the output gets the mode open() would give it.
        os.chmod(temporary, new_file_mode())
        with os.fdopen(handle, "wb") as raw:
            if path.name.endswith(".gz"):
                with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as packed:
                    yield cast(IO[bytes], packed)  # closing it writes the gzip trailer and leaves `raw` open
            else:
                yield raw
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@functools.cache
def new_file_mode() -> int:
    """Return the mode a newly created file gets: 0o666 less the process's umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def encoded(text: str) -> bytes:
    """Return `text` as UTF-8; a lone surrogate (from a JSON escape) is written as `\\udxxx`
    rather than aborting the write."""
    return text.encode("utf-8", "backslashreplace")


def glob_escape(name: str) -> str:
    """Return `name` with the characters glob treats as patterns escaped."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that no half-written file can ever exist there."""
    with atomic_writer(path) as out:
        out.write(data)


def is_fresh(output: Path, inputs: list[Path]) -> bool:
    """Return True when `output` exists and is newer than every one of `inputs` (make's rule)."""
    try:
        built = output.stat().st_mtime_ns
        return all(built >= path.stat().st_mtime_ns for path in inputs)
    except OSError:
        return False


def safe_relative(name: str) -> Path | None:
    """Return `<name>.txt` as a path that stays inside an output directory, or None if it would
    leave it (absolute, `..`) or cannot be a file name (empty, NUL)."""
    parts = name.replace("\\", "/").split("/")
    if not name.strip() or "\0" in name or name.startswith(("/", "~")) or ":" in parts[0] or any(
            part in ("", "..") for part in parts):
        return None
    return Path(*parts[:-1], parts[-1] + ".txt")


def removed_entries(doc: Document, cleaned: Cleaned) -> list[dict[str, Any]]:
    """Return one entry per removed block: index, label, probability, text."""
    return [{"block": v.block_index, "label": v.label.value, "probability": v.confidence,
             "text": doc.blocks[v.block_index].text} for v in cleaned.removed]


def audit_lines(source: str, entries: list[dict[str, Any]]) -> str:
    """Return the removal audit's JSON lines for one document."""
    return "".join(json_line({"source": source, **entry}) for entry in entries)


def jsonl_record(source: str, cleaned: Cleaned) -> str:
    """Return the JSON Lines record of one clean document."""
    return json_line({"id": source, "text": cleaned.text})


def json_line(value: Any) -> str:
    """Return `value` as one JSON line, escaping what UTF-8 cannot hold (lone surrogates from
    undecodable file names or JSON escapes)."""
    line = json.dumps(value, ensure_ascii=False) + "\n"
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value) + "\n"
    return line


def jsonl_lines(source: str) -> Iterator[tuple[int, bytes]]:
    """Yield (line number, raw line) of a JSON Lines file or stdin, streamed in constant memory.

    Lines stay bytes, split at \\n only (a lone \\r inside a record must not split it): the
    worker that cleans a record decodes it, not the parent that reads the file.
    """
    if source == STDIN:
        stream: IO[bytes] = sys.stdin.buffer
    else:
        try:
            stream = cast(IO[bytes], gzip.open(source, "rb")) if source.lower().endswith(
                ".gz") else open(source, "rb")  # noqa: SIM115
        except OSError as error:
            raise CleanerError(source, f"cannot read ({error.strerror or error})") from None
    with stream:
        try:
            yield from enumerate(stream, 1)
        except (EOFError, OSError, zlib.error) as error:
            raise CleanerError(source, f"broken gzip file ({error})") from None


@dataclass(frozen=True, slots=True)
class FileTask:
    """One file to clean; `destination` None means the parent writes the result in order."""

    source: Source
    destination: Path | None
    data: bytes | None = None  # stdin, read by the parent: a worker process cannot read it


@dataclass(frozen=True, slots=True)
class Shard:
    """A JSON Lines input and where its records go (None: standard output)."""

    source: Source
    destination: Path | None


@dataclass(frozen=True, slots=True)
class Plan:
    """Where each input's output goes; JSON Lines inputs become shards, files become tasks."""

    tasks: list[FileTask]
    shards: list[Shard]
    jsonl_file: Path | None
    mirrored: bool  # outputs mirror the inputs under an -o directory: skip-if-fresh applies
    record_dir: Path | None = None  # JSON Lines records written as <id>.txt files here
    collisions: tuple[str, ...] = ()  # inputs left out: their output name was already taken


def plan_outputs(sources: list[Source], output: Path | None, output_format: str,
                 several: bool, jsonl_input: bool) -> Plan:
    """Return where each output goes; raise ValueError for an impossible combination.

    `several` says the inputs were several paths or a directory: their outputs mirror into -o.
    """
    mirrored = output is not None and (several or output.is_dir())
    if jsonl_input and output_format == "text":
        if output is None or output.is_file():
            raise ValueError("--jsonl with --format text writes one <id>.txt per record: "
                             "give an output directory (-o DIR)")
        return Plan([], [Shard(s, None) for s in sources], None, False, record_dir=output)
    if jsonl_input:
        places = [output / s.relative if mirrored and output else output for s in sources]
        return Plan([], [Shard(s, p) for s, p in zip(sources, places, strict=True)], None, mirrored)
    if output_format == "jsonl":
        return Plan([FileTask(s, None) for s in sources], [], output, False)
    if output is None and several:
        raise ValueError("several inputs need an output directory (-o DIR) or --format jsonl")
    places = [output / output_name(s.relative) if mirrored and output else output
              for s in sources]
    tasks: list[FileTask] = []
    collisions: list[str] = []
    taken: dict[Path | None, str] = {}
    for source, place in zip(sources, places, strict=True):
        if mirrored and place in taken:  # a.html and a.txt would both write a.txt
            collisions.append(f"{source.path}: output {place} is already written from "
                              f"{taken[place]}; rename one of them")
            continue
        taken[place] = source.path
        tasks.append(FileTask(source, place))
    return Plan(tasks, [], None, mirrored, collisions=tuple(collisions))


# An -o directory records the settings its outputs were cleaned with (the --favor) in this
# file, rewritten only when they change. Outputs count as up to date only when newer than it
# too, as a Makefile rule that depends on its settings file: a run with another --favor cleans
# everything again, and one interrupted midway leaves its own outputs up to date. A directory
# without the file holds outputs of the default settings: those never write it.
SETTINGS_STAMP = ".cleaner-settings.json"


def stamp_settings(directory: Path, settings: dict[str, str],
                   defaults: dict[str, str]) -> Path | None:
    """Return the settings stamp of an output directory, first written if it records other
    settings (None when there is none, or it cannot be written)."""
    stamp = directory / SETTINGS_STAMP
    try:
        if json.loads(stamp.read_text(encoding="utf-8")) == settings:
            return stamp
    except FileNotFoundError:
        if settings == defaults:
            return None
    except (OSError, ValueError):
        pass  # unreadable: write it anew
    try:
        with atomic_writer(stamp) as out:
            out.write(json.dumps(settings, sort_keys=True).encode() + b"\n")
    except OSError:
        return None  # an unwritable directory: each output's own write reports it
    return stamp


def skip_fresh(plan: Plan, model_path: Path, force: bool,
               stamp: Path | None = None) -> tuple[Plan, int]:
    """Return the plan without the mirrored outputs newer than their input, the model and the
    settings stamp, and how many were skipped (`--force` skips none)."""
    if force or not plan.mirrored:
        return plan, 0
    shared = [model_path, model_path.with_suffix(".json"), *([stamp] if stamp else [])]

    def stale(source: Source, destination: Path | None) -> bool:
        return (destination is None or source.path == STDIN
                or not is_fresh(destination, [Path(source.path), *shared]))

    tasks = [t for t in plan.tasks if stale(t.source, t.destination)]
    shards = [s for s in plan.shards if stale(s.source, s.destination)]
    skipped = len(plan.tasks) + len(plan.shards) - len(tasks) - len(shards)
    return Plan(tasks, shards, plan.jsonl_file, plan.mirrored, plan.record_dir,
                plan.collisions), skipped
