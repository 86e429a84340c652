"""Fuzz `cleaner clean` with hostile files and JSON Lines records through the real CLI (`make fuzz`).

Random bytes, NULs, broken encodings, 10 MB lines, HTML nested 10,000 deep, truncated gzip and
malformed JSON Lines are generated under a temporary directory and cleaned in batches (a few
hundred files per call). Every call must exit 0 or 1 without a traceback, print nothing on stdout
and only error or summary lines on stderr, account for every input (an output, or an error line
naming it or its line) and write nothing outside -o. A crashing batch is split by kind, and then
in halves, down to one input that crashes. Exits 1 when any check fails.

Example: .venv/bin/python tests/fuzz.py --seed 7 --cases 2000 --keep
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

CLI = Path(sys.executable).parent / "cleaner"
RUN_TIMEOUT_S = 600.0  # a batch of 500 small files takes seconds; only a hang comes near this
CLOSING = re.compile(r"cleaner: \d+ documents: \d+ blocks, \d+ removed( \(.*\))?; \d+ flagged, "
                     r"\d+ skipped \(up to date\), \d+ failed")
SUMMARY = re.compile(r"(?P<source>.+?): \d+ blocks, \d+ removed( \([a-z]+ \d+(, [a-z]+ \d+)*\))?"
                     r"(?P<notes>; .+)?")
HTML_SUFFIXES = (".html", ".htm", ".html.gz", ".htm.gz")
NO_ID = object()  # a record whose id we cannot know (not an object, or no id field)


def say(line: str = "") -> None:
    """Print one line of the report on stdout."""
    print(shown(line), flush=True)  # noqa: T201 (a script's report)


# ---- generated text (the project's own words, never the shared corpus) --------------------------

WORDS = ("the council said on tuesday that its budget for schools would rise after months of talks "
         "with teachers parents and local business owners who had warned that the new rules could "
         "close three libraries before the winter while a spokesman for the mayor declined to "
         "comment on the report published by the regional paper last week").split()
NOISE = ("Share this article", "Sign up for our daily newsletter", "Advertisement",
         "We use cookies to improve your experience. Accept all", "Read more: council news",
         "Follow us on Twitter", "Photo: staff photographer", "© 2024 The Daily Example")
ACCENTED = ("café", "naïve", "Zürich", "señor", "crème brûlée", "façade", "Ångström", "déjà vu")
CP1252_ONLY = ("“quoted”", "it’s", "— a dash", "€5", "…", "‰", "Œuvre")


def sentence(rng: random.Random) -> str:
    """Return one made-up sentence."""
    words = [rng.choice(WORDS) for _ in range(rng.randint(4, 18))]
    return " ".join(words).capitalize() + rng.choice(".!?")


def article(rng: random.Random, extra: tuple[str, ...] = ()) -> str:
    """Return a made-up article: a title, paragraphs, some noise lines, `extra` words sprinkled in."""
    lines = [sentence(rng).rstrip(".!?").title()]
    for _ in range(rng.randint(2, 10)):
        words = " ".join(sentence(rng) for _ in range(rng.randint(1, 4))).split(" ")
        for _ in range(len(extra) and rng.randint(1, 3)):
            words.insert(rng.randrange(len(words) + 1), rng.choice(extra))
        lines.append(" ".join(words))
        if rng.random() < 0.3:
            lines.append(rng.choice(NOISE))
    return "\n".join(lines) + "\n"


def html_page(rng: random.Random, body: bool = True) -> str:
    """Return a made-up news page with navigation, an article, an aside and a footer."""
    text = article(rng).splitlines()
    paragraphs = "".join(f"<p class='{rng.choice(['lead', 'body', 'x'])}'>{t}</p>" for t in text[1:])
    nav = "".join(f"<li><a href='/s{i}'>{rng.choice(WORDS)}</a></li>" for i in range(rng.randint(0, 8)))
    inner = (f"<nav><ul>{nav}</ul></nav><article><h1>{text[0]}</h1>{paragraphs}</article>"
             f"<aside class='related'>{rng.choice(NOISE)}</aside><footer>{NOISE[-1]}</footer>"
             "<script>var x = '<p>not text</p>';</script>")
    return (f"<!DOCTYPE html><html><head><title>{text[0]}</title><style>p{{}}</style></head>"
            + (f"<body>{inner}</body>" if body else "") + "</html>")


# ---- hostile files: each maker returns (relative name, bytes) pairs named from `stem` ------------

def random_bytes(rng: random.Random, stem: str) -> list[tuple[str, bytes]]:
    """Return random bytes named as text or a page."""
    return [(stem + rng.choice([".txt", ".txt", ".html", ".htm"]), rng.randbytes(rng.randint(1, 3000)))]


def binary_nul(rng: random.Random, stem: str) -> list[tuple[str, bytes]]:
    """Return binary data with NUL bytes (also text with a NUL past the first 8 KB)."""
    text = article(rng).encode()
    choices = [rng.randbytes(2000).replace(b"\x01", b"\0") + b"\0",
               text[: len(text) // 2] + b"\0" + text[len(text) // 2:],
               text * (9000 // len(text) + 1) + b"\0\0\0 past the first 8 KB\n",  # beyond a sniff window
               b"\0" * rng.randint(1, 500)]
    return [(stem + rng.choice([".txt", ".html"]), rng.choice(choices))]


def empty(rng: random.Random, stem: str) -> list[tuple[str, bytes]]:
    """Return an empty file."""
    return [(stem + rng.choice([".txt", ".html", ".htm"]), b"")]


def whitespace_only(rng: random.Random, stem: str) -> list[tuple[str, bytes]]:
    """Return a file of spaces, blank lines, NBSP and zero-width characters only."""
    chars = " \t\n\r\x0b\x0c\u00a0\u200b\u3000\u2028\ufeff\u00ad"
    text = "".join(rng.choice(chars) for _ in range(rng.randint(1, 400)))
    return [(stem + rng.choice([".txt", ".html"]), text.encode())]


def odd_unicode_text(rng: random.Random, stem: str) -> list[tuple[str, bytes]]:
    """Return text with zero-width characters, NBSP, CRLF and lone CR line ends."""
    lines = article(rng).splitlines()
    odd = ["\u200b", "\u200c", "\u200d", "\u2060", "\u00a0", "\ufeff", "\u00ad", "\t", "\u2028", " "]
    mangled = ["".join(c + (rng.choice(odd) if rng.random() < 0.05 else "") for c in line)
               for line in lines]
    text = "".join(line + rng.choice(["\n", "\r\n", "\r", "\r\r\n", "\n\u00a0\n"]) for line in mangled)
    return [(stem + ".txt", (rng.choice(["", "\ufeff"]) + text).encode())]


def cp1252(rng: random.Random, stem: str) -> list[tuple[str, bytes]]:
    """Return text in windows-1252 (curly quotes, euro sign, accents)."""
    return [(stem + ".txt", article(rng, ACCENTED + CP1252_ONLY).encode("cp1252"))]


def latin_1(rng: random.Random, stem: str) -> list[tuple[str, bytes]]:
    """Return text in latin-1."""
    return [(stem + ".txt", article(rng, ACCENTED[:5]).encode("latin-1"))]


def utf16_bom(rng: random.Random, stem: str) -> list[tuple[str, bytes]]:
    """Return text in UTF-16 or UTF-32 with a byte order mark."""
    codec = rng.choice(["utf-16", "utf-32"])
    return [(stem + ".txt", article(rng, ACCENTED).encode(codec))]


def utf16_no_bom(rng: random.Random, stem: str) -> list[tuple[str, bytes]]:
    """Return text in UTF-16 LE or BE without a byte order mark."""
    return [(stem + ".txt", article(rng, ACCENTED).encode(rng.choice(["utf-16-le", "utf-16-be"])))]


def utf8_invalid(rng: random.Random, stem: str) -> list[tuple[str, bytes]]:
    """Return UTF-8 text with invalid byte sequences spliced in."""
    data = bytearray(article(rng, ACCENTED).encode())
    for _ in range(rng.randint(1, 8)):
        bad = rng.choice([b"\xff", b"\xc3", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80"])
        data[rng.randrange(len(data) + 1):0] = bad
    return [(stem + ".txt", bytes(data if rng.random() < 0.8 else data[:-1]))]


def html_valid(rng: random.Random, stem: str) -> list[tuple[str, bytes]]:
    """Return an ordinary news page."""
    return [(stem + rng.choice([".html", ".htm"]), html_page(rng).encode())]


def html_no_body(rng: random.Random, stem: str) -> list[tuple[str, bytes]]:
    """Return a page without a body (head only, doctype only, frameset)."""
    pages = [html_page(rng, body=False), "<!DOCTYPE html>", "<html></html>", "<head><title>T</title></head>",
             "<html><frameset><frame src='a.html'></frameset></html>", "<body></body>"]
    return [(stem + ".html", rng.choice(pages).encode())]


def html_comment_only(rng: random.Random, stem: str) -> list[tuple[str, bytes]]:
    """Return a page that is only a comment, script, style, CDATA or noscript."""
    pages = [f"<!-- {article(rng)} -->", f"<script>{article(rng)}</script>", "<style>p {}</style>",
             f"<?xml version='1.0'?><!-- {sentence(rng)} -->", f"<![CDATA[{sentence(rng)}]]>",
             f"<!-- unterminated {sentence(rng)}",
             f"<html><body><noscript>{sentence(rng)}</noscript></body></html>"]
    return [(stem + ".html", rng.choice(pages).encode())]


def html_broken(rng: random.Random, stem: str) -> list[tuple[str, bytes]]:
    """Return tag soup: unclosed tags, bad entities, stray CDATA."""
    parts = ["<p", "<div class=", "</", "&#xD800;", "&#0;", "&bogus;", "<![CDATA[", "<table><tr><td>",
             "</body>", "<html>", "<a href='", "\"", ">", "<br/>", "<svg><p>x</p></svg>", "&#x110000;"]
    text = "".join(rng.choice(parts) + (sentence(rng) if rng.random() < 0.5 else "") for _ in range(60))
    return [(stem + rng.choice([".html", ".htm"]), text.encode())]


def html_bad_charset(rng: random.Random, stem: str) -> list[tuple[str, bytes]]:
    """Return a page declaring an unknown or wrong charset."""
    charset = rng.choice(["klingon", "utf-16", "utf-32", "x-unknown", "ebcdic-cp-us", "utf-7", "", "utf-8\0"])
    head = rng.choice([f"<meta charset='{charset}'>",
                       f"<meta http-equiv='Content-Type' content='text/html; charset={charset}'>"])
    page = html_page(rng).replace("<head>", "<head>" + head)
    if rng.random() < 0.3:
        page = f"<?xml version='1.0' encoding='{charset}'?>" + page
    return [(stem + ".html", page.encode("utf-8", "surrogatepass"))]


def html_utf16(rng: random.Random, stem: str) -> list[tuple[str, bytes]]:
    """Return a page in UTF-16."""
    return [(stem + ".html", html_page(rng).encode(rng.choice(["utf-16", "utf-16-le"])))]


def html_gz(rng: random.Random, stem: str) -> list[tuple[str, bytes]]:
    """Return a gzipped page."""
    return [(stem + rng.choice([".html.gz", ".htm.gz"]), gzip.compress(html_page(rng).encode(), mtime=0))]


def html_gz_broken(rng: random.Random, stem: str) -> list[tuple[str, bytes]]:
    """Return a .html.gz that is truncated, not gzip, or gzip with trailing bytes."""
    packed = gzip.compress(html_page(rng).encode(), mtime=0)
    choices = [packed[: rng.randrange(len(packed))], packed[:10], html_page(rng).encode(), b"",
               packed + rng.randbytes(20), gzip.compress(rng.randbytes(500))]
    return [(stem + ".html.gz", rng.choice(choices))]


def weird_name(rng: random.Random, stem: str) -> list[tuple[str, bytes]]:
    """Return a file whose name has spaces, glob characters, dots, case or subdirectories."""
    names = [f"{stem} with spaces.txt", f"{stem}[x]*?.txt", f"-{stem}.txt", f".{stem}.txt",
             f"{stem}.TXT", f"{stem}.HTM", f"{stem}é中.txt", f"{stem}.txt.txt", f"{stem}.html.txt",
             f"{stem}:colon.txt", f"{stem}'quote\".txt", f"sub dir/{stem}.txt", f"d.txt/{stem}.txt",
             f"a/b/c/d/e/{stem}.html", f"{stem};rm -rf.txt", f"{stem}.txt.html"]
    name = rng.choice(names)
    return [(name, (html_page(rng) if name.lower().endswith(("htm", "html")) else article(rng)).encode())]


def non_utf8_name(rng: random.Random, stem: str) -> list[tuple[str, bytes]]:
    """Return a text file whose name is not valid UTF-8."""
    return [(os.fsdecode(stem.encode() + rng.choice([b"\xff", b"\xe9t\xe9", b"\xc3"]) + b".txt"),
             article(rng).encode())]


def name_collision(rng: random.Random, stem: str) -> list[tuple[str, bytes]]:
    """Two inputs whose outputs share a name: a page x.html and a text x.txt both become x.txt."""
    other = rng.choice([".html", ".htm", ".html.gz"])
    page = html_page(rng).encode()
    return [(stem + ".txt", article(rng).encode()),
            (stem + other, gzip.compress(page, mtime=0) if other.endswith(".gz") else page)]


FILE_MAKERS = {
    "random-bytes": random_bytes, "binary-nul": binary_nul, "empty": empty,
    "whitespace-only": whitespace_only, "zero-width/nbsp/cr": odd_unicode_text,
    "windows-1252": cp1252, "latin-1": latin_1, "utf-16/32-bom": utf16_bom,
    "utf-16-no-bom": utf16_no_bom, "utf-8-invalid": utf8_invalid, "html-page": html_valid,
    "html-no-body": html_no_body, "html-comment/script-only": html_comment_only,
    "html-tag-soup": html_broken, "html-bad-charset": html_bad_charset, "html-utf-16": html_utf16,
    "html.gz-valid": html_gz, "html.gz-truncated": html_gz_broken, "weird-name": weird_name,
    "non-utf8-name": non_utf8_name, "name-collision": name_collision,
}


def big_files(rng: random.Random) -> list[tuple[str, str, bytes]]:
    """Return the few big inputs as (kind, name, bytes): 10 MB lines, 100,000 lines, deep HTML."""
    line = " ".join(sentence(rng) for _ in range(40))
    ten_mb = (line * (10_000_000 // len(line) + 1))[:10_000_000].encode()
    lines = "".join(sentence(rng)[:60] + "\n" for _ in range(100_000))
    deep = "<html><body>" + "<div>" * 10_000 + "deep text" + "</div>" * 10_000 + "</body></html>"
    mixed = ("<html><body>" + "<div><span><p>x" * 3_334 + "deep" + "</p></span></div>" * 3_334
             + "</body></html>")
    # 'deep' sits 10,000 elements down: a parser's depth limit must not drop it silently
    return [("10mb-line", "line-a.txt", ten_mb),
            ("10mb-line", "line-b.txt", ten_mb.replace(b"e ", "é ".encode())),
            ("100k-lines", "lines-a.txt", lines.encode()),
            ("100k-lines", "lines-b.txt", lines.replace("\n", "\r\n").encode()),
            ("html-10000-deep", "deep-a.html", deep.encode()),
            ("html-10000-deep", "deep-b.html", mixed.encode())]


# ---- hostile JSON Lines records: each maker returns (line bytes, the record's id) ----------------

PATH_IDS: tuple[Any, ...] = ("../x", "/etc/passwd", "../../escape", "a/../../b", "./dup-1", "", " ", "~",
                             "C:\\x", "..", ".", "x/", "dup\\1", "nul\0id", "line\nbreak", 12345, True,
                             1.5, None, ["list"], "x" * 300, "sub/dir/ok", "/abs/in/work")
DUP_IDS = ("dup-1", "dup-2", "dup/1", "./dup-1", "dup\\1")  # the last two alias the first and third


def record(rng: random.Random, number: int, **fields: Any) -> bytes:
    """Return one JSON line: a record numbered `number` (its `fz` field) with `fields`."""
    base: dict[str, Any] = {"fz": number, "id": f"r{number}-{rng.randrange(10**6)}", "text": article(rng)}
    text = json.dumps(base | fields, ensure_ascii=rng.random() < 0.5)
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate: as a JSON escape, the way a JSON writer sends it
        return json.dumps(base | fields).encode()


def record_line(kind: str, rng: random.Random, n: int) -> tuple[bytes, Any]:
    """Return a line of the given kind for line number `n`, and the id it carries (NO_ID: none)."""
    ident: Any = f"r{n}-{rng.randrange(10**9):09d}"  # unique: shared ids come from DUP_IDS only
    if kind == "valid":
        return record(rng, n, id=ident), ident
    if kind == "malformed":
        bad = [b'{"fz": %d, "text": "unterminated', b'{"fz": %d "text": "x"}', b"{'fz': %d}",
               b'{"fz": %d, "text": "a",}', b"}{%d", b'{"fz": %d, "text": "raw \x01 control"}',
               b'{"fz": %d, "text": "a"} trailing', b"[%d", b"{", rng.randbytes(200).replace(b"\n", b" ")]
        line = rng.choice(bad)
        return (line % n if b"%d" in line else line), NO_ID
    if kind == "non-object":
        lines = [b"[1, 2]", b'"text"', b"42", b"null", b"true", b'[{"text": "a"}]', b"1e400"]
        return rng.choice(lines), NO_ID
    if kind == "missing-text":
        return json.dumps({"fz": n, "id": ident, "body": article(rng)}).encode(), ident
    if kind == "non-string-text":
        return record(rng, n, id=ident, text=rng.choice([None, 5, 3.5, True, ["a"], {"a": "b"}])), ident
    if kind in ("duplicate-id", "path-id"):
        ident = rng.choice(DUP_IDS if kind == "duplicate-id" else PATH_IDS)
        return record(rng, n, id=ident), ident
    if kind == "invalid-utf8":
        line = record(rng, n, id=ident, text=article(rng) + "@@BAD@@ tail")
        return line.replace(b"@@BAD@@", rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80\x80"])), ident
    if kind == "lone-cr":  # a CR between JSON tokens is whitespace, not a line break
        return record(rng, n, id=ident).replace(b', "id"', b',\r"id"', 1), ident
    return tricky_line(kind, rng, n, ident)


def tricky_line(kind: str, rng: random.Random, n: int, ident: str) -> tuple[bytes, Any]:
    """Return a valid-looking line that stresses the JSON reader (deep, huge numbers, NaN...)."""
    if kind == "deep-json":
        depth = 100_000 if rng.random() < 0.05 else rng.choice([1_500, 5_000])  # the C parser's limit
        return record(rng, n, id=ident)[:-1] + b', "meta": ' + b"[" * depth + b"]" * depth + b"}", ident
    if kind == "big-int":
        return record(rng, n, id=ident)[:-1] + b', "views": 1' + b"0" * 5_000 + b"}", ident
    if kind == "lone-surrogate":  # in the text, or in the id (which names a file under --format text)
        if rng.random() < 0.5:
            return record(rng, n, id=ident + "\udc00"), ident + "\udc00"
        return record(rng, n, id=ident, text=article(rng) + "\ud800 end"), ident
    if kind == "nan-inf":
        return record(rng, n, id=ident)[:-1] + b', "score": NaN, "rank": -Infinity}', ident
    if kind == "duplicate-keys":
        return b'{"text": 5, ' + record(rng, n, id=ident)[1:], ident
    if kind == "empty-text":
        return record(rng, n, id=ident, text=rng.choice(["", " ", "\n\n", "\u200b\u00a0", "\r"])), ident
    if kind == "huge-record":
        return record(rng, n, id=ident, text=article(rng) * (2_000_000 // 800)), ident
    if kind == "html-missing":  # text but no html field, under --html-field html
        return record(rng, n, id=ident), ident
    if kind == "html-record":
        page = rng.choice([html_valid, html_no_body, html_comment_only, html_broken])(rng, "p")[0][1]
        return record(rng, n, id=ident, html=page.decode("utf-8", "replace")), ident
    raise ValueError(kind)


RECORD_KINDS = ("valid", "malformed", "non-object", "missing-text", "non-string-text", "duplicate-id",
                "path-id", "invalid-utf8", "lone-cr", "deep-json", "big-int", "lone-surrogate",
                "nan-inf", "duplicate-keys", "empty-text")
PACKINGS = ("plain", "plain", "plain", "gz", "gz-truncated", "crlf", "bom", "no-final-newline", "utf-16")


@dataclass(frozen=True)
class Line:
    """One line of a generated JSON Lines file."""

    kind: str  # "blank" lines are not cases: a reader may skip them
    data: bytes
    ident: Any = NO_ID


@dataclass(frozen=True)
class Case:
    """One generated input file: a text/HTML file, or a JSON Lines file made of `lines`."""

    kind: str
    rel: str
    data: bytes = b""
    lines: tuple[Line, ...] = ()
    packing: str = "plain"
    must_keep: str = ""  # article text the clean output must still hold

    def payload(self) -> bytes:
        """Return the file's bytes (a JSON Lines file is packed from its lines)."""
        if not self.lines:
            return self.data
        sep = b"\r\n" if self.packing == "crlf" else b"\n"
        body = sep.join(line.data for line in self.lines)
        body += b"" if self.packing == "no-final-newline" else sep
        if self.packing == "bom":
            return b"\xef\xbb\xbf" + body
        if self.packing == "utf-16":
            return body.decode("utf-8", "replace").encode("utf-16")
        if self.packing.startswith("gz"):
            packed = gzip.compress(body, mtime=0)
            return packed[: len(packed) * 2 // 3] if self.packing == "gz-truncated" else packed
        return body

    def cases(self) -> Counter[str]:
        """Return how many cases of each kind this file holds."""
        if not self.lines:
            return Counter({self.kind: 1})
        return Counter("jsonl:" + line.kind for line in self.lines if line.kind != "blank")


def jsonl_case(rng: random.Random, theme: str, serial: int, records: int, packing: str) -> Case:
    """Return a JSON Lines file of `records` records: valid ones mixed with the `theme` kind."""
    lines = []
    for _ in range(records):
        if rng.random() < 0.05:
            lines.append(Line("blank", rng.choice([b"", b"  ", b"\t"])))
            continue
        kind = (rng.choice(RECORD_KINDS) if theme == "mixed" else rng.choice([theme, "html-missing"])
                if theme == "html-record" else rng.choice(["valid", theme]))
        data, ident = record_line(kind, rng, len(lines) + 1) if kind in RECORD_KINDS else tricky_line(
            kind, rng, len(lines) + 1, f"r{len(lines) + 1}-{serial}-{theme}")
        lines.append(Line(kind, data, ident))
    suffix = ".jsonl.gz" if packing.startswith("gz") else rng.choice([".jsonl", ".jsonl", ".ndjson"])
    return Case(theme, f"{theme}/{packing}-{serial:05d}{suffix}", lines=tuple(lines), packing=packing)


# ---- batches: one CLI call each, and the checks on what it did ----------------------------------

@dataclass(frozen=True)
class Batch:
    """One call of the CLI: its inputs and how it is run (mode: files, jsonl, records, html-field)."""

    name: str
    mode: str
    cases: tuple[Case, ...]
    jobs: int = 1
    audit: bool = False

    def args(self, indir: Path, outdir: Path, audit: Path) -> list[str]:
        """Return the arguments of `cleaner clean` for this batch."""
        extra = {"files": [], "jsonl": ["--jsonl"], "records": ["--jsonl", "--format", "text"],
                 "html-field": ["--jsonl", "--html-field", "html"]}[self.mode]
        return [*extra, str(indir), "-o", str(outdir), "--jobs", str(self.jobs),
                *(["--removed", str(audit)] if self.audit else [])]


@dataclass
class Result:
    """What one CLI call did."""

    returncode: int
    stdout: bytes
    stderr: str
    seconds: float
    timed_out: bool = False

    def crash(self) -> str | None:
        """Return why this run counts as a crash (a traceback, a signal, a hang), or None."""
        if self.timed_out:
            return f"no answer after {RUN_TIMEOUT_S:.0f} s"
        if "Traceback" in self.stderr or self.returncode not in (0, 1):
            lines = [x for x in self.stderr.splitlines() if x.strip()]
            last = next((x for x in reversed(lines) if re.match(r"\w+(\.\w+)*(Error|Exception|Exit)", x)),
                        lines[-1] if lines else "")
            return f"exit {self.returncode}: {last[:200]}"
        return None


def run_cli(args: list[str], cwd: Path) -> Result:
    """Run `cleaner clean args` in its own process group; kill the whole group if it hangs."""
    started = time.monotonic()
    with subprocess.Popen([str(CLI), "clean", *args], cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, start_new_session=True) as proc:
        try:
            out, err = proc.communicate(timeout=RUN_TIMEOUT_S)
            timed_out = False
        except subprocess.TimeoutExpired:
            out, err, timed_out = b"", b"", True
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # workers a crashed run left behind
        except ProcessLookupError:
            pass
        if timed_out:
            out, err = proc.communicate()
    return Result(proc.returncode, out, err.decode("utf-8", "replace"), time.monotonic() - started, timed_out)


def shown(path: Path | str) -> str:
    """Return a path as it appears on stderr (undecodable bytes shown as \\udcff escapes)."""
    return str(path).encode("utf-8", "backslashreplace").decode("utf-8")


def output_path(outdir: Path, rel: str, mode: str) -> Path:
    """Return where a mirrored input's output should be: pages become .txt, other names stay."""
    lower = rel.lower()
    if mode == "files":
        for suffix in HTML_SUFFIXES:
            if lower.endswith(suffix):
                return outdir / (rel[: -len(suffix)] + ".txt")
    return outdir / rel


def snapshot(root: Path, skip: set[Path]) -> dict[str, tuple[int, int]]:
    """Return size and mtime of every file under `root`, leaving out the `skip` trees and files."""
    found: dict[str, tuple[int, int]] = {}
    for top, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if Path(top, d) not in skip]
        for name in files:
            path = Path(top, name)
            if path not in skip:
                stat = path.lstat()
                found[str(path)] = (stat.st_size, stat.st_mtime_ns)
    return found


@dataclass
class Findings:
    """What the checks of one run found."""

    reported: Counter[str] = field(default_factory=Counter)  # failures the cleaner reported, by kind
    unreported: list[str] = field(default_factory=list)  # inputs with neither output nor error line
    problems: list[str] = field(default_factory=list)  # every other failed check
    flagged: set[str] = field(default_factory=set)  # sources whose summary line carries a flag


def error_lines(result: Result, findings: Findings) -> list[str]:
    """Return the error lines of a run, noting stray stderr lines, stdout output and exit codes."""
    errors = []
    for line in result.stderr.splitlines():
        if line.startswith("cleaner: ") and not CLOSING.fullmatch(line):
            errors.append(line[len("cleaner: "):])
        elif (summary := SUMMARY.fullmatch(line)) and summary.group("notes"):
            findings.flagged.add(summary.group("source"))  # e.g. "; cut 100% of its text"
        elif not (CLOSING.fullmatch(line) or summary):
            findings.problems.append(f"stderr line neither error nor summary: {line[:160]!r}")
    if result.stdout:
        findings.problems.append(f"{len(result.stdout)} bytes on stdout with -o: {result.stdout[:80]!r}")
    if (result.returncode == 1) != bool(errors):
        findings.problems.append(f"exit {result.returncode} with {len(errors)} error lines")
    return errors


def named(errors: list[str], source: str) -> list[str]:
    """Return what follows `source: ` in the error lines that name `source`."""
    prefix = shown(source) + ":"
    return [e[len(prefix):] for e in errors if e.startswith(prefix)]


def check_files(batch: Batch, indir: Path, outdir: Path, errors: list[str], findings: Findings) -> None:
    """Check that every input file has its output or an error line, and no output is shared."""
    said = {case.rel: bool(named(errors, str(indir / case.rel))) for case in batch.cases}
    owners: dict[Path, list[str]] = {}  # output -> the unreported inputs that claim it
    for case in batch.cases:
        if not said[case.rel]:
            owners.setdefault(output_path(outdir, case.rel, "files"), []).append(case.rel)
    for case in batch.cases:
        out = output_path(outdir, case.rel, "files")
        if said[case.rel]:
            findings.reported[case.kind] += 1
            if out.exists() and out not in owners:
                findings.problems.append(f"{case.kind}: {shown(case.rel)}: reported but has an output")
        elif not out.is_file():
            findings.unreported.append(f"{case.kind}: {shown(case.rel)}: no output, no error line")
        elif (case.must_keep and shown(str(indir / case.rel)) not in findings.flagged
              and case.must_keep not in out.read_text(encoding="utf-8", errors="replace")):
            findings.unreported.append(f"{case.kind}: {shown(case.rel)}: '{case.must_keep}' lost, exit "
                                       "status and summary line say nothing")
        elif owners[out][0] != case.rel:
            findings.unreported.append(f"{case.kind}: {shown(case.rel)}: output {out.name} also claimed "
                                       f"by {shown(owners[out][0])}, one overwrote the other silently")


def read_output_records(path: Path, findings: Findings) -> set[int]:
    """Return the `fz` numbers of the records in a JSON Lines output (noting unreadable ones)."""
    numbers: set[int] = set()
    try:
        raw = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
    except (OSError, EOFError) as error:
        findings.problems.append(f"{path.name}: output unreadable ({error})")
        return numbers
    for line in raw.decode("utf-8", "replace").splitlines():
        try:
            obj = json.loads(line)
        except ValueError as error:
            findings.problems.append(f"{path.name}: output line not JSON ({error})")
            continue
        if "clean_text" not in obj or not isinstance(obj.get("fz"), int):
            findings.problems.append(f"{path.name}: output record without clean_text or fz: {line[:80]}")
        else:
            numbers.add(obj["fz"])
    return numbers


def record_file(outdir: Path, ident: Any) -> Path | None:
    """Return the `<id>.txt` a record may be written to under --format text, or None if none."""
    if not isinstance(ident, str | int) or (isinstance(ident, str) and ("\0" in ident or not ident.strip())):
        return None
    target = os.path.normpath(os.path.join(outdir, str(ident).replace("\\", "/") + ".txt"))
    return Path(target) if target.startswith(str(outdir) + os.sep) else None


def check_jsonl(batch: Batch, indir: Path, outdir: Path, errors: list[str], findings: Findings) -> None:
    """Check that every non-blank JSON line gives an output record (or file) or an error line."""
    claimed: dict[Path, str] = {}
    for case in batch.cases:
        said = named(errors, str(indir / case.rel))
        numbers = {int(m.group(1)) for e in said if (m := re.match(r"(\d+): ", e))}
        whole_file = any(not re.match(r"\d+: ", e) for e in said)
        findings.reported["jsonl-file:" + case.packing] += whole_file
        out = outdir / case.rel
        written = read_output_records(out, findings) if batch.mode != "records" and out.exists() else set()
        last = len(case.lines) + (case.packing == "utf-16")  # UTF-16's final NUL reads as a line
        if wrong := sorted(n for n in numbers if n > last or n in written):
            findings.problems.append(f"jsonl:{case.kind}: {case.rel}: error lines name lines {wrong[:5]} "
                                     f"that do not exist or were written (of {len(case.lines)})")
        for number, line in enumerate(case.lines, 1):
            if line.kind == "blank" and case.packing != "utf-16":
                continue
            where = f"jsonl:{line.kind}: {case.rel}:{number}"
            if number in numbers:
                findings.reported["jsonl:" + line.kind] += 1
            elif batch.mode == "records" and not whole_file:
                claim_record_file(outdir, line, where, claimed, findings)
            elif number not in written and not whole_file:
                findings.unreported.append(f"{where}: no output record, no error line")


def short(value: Any) -> str:
    """Return the repr of a value, cut to 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def is_file(path: Path) -> bool:
    """Return True when `path` is a file (False for a name too long to exist)."""
    try:
        return path.is_file()
    except OSError:
        return False


def claim_record_file(outdir: Path, line: Line, where: str, claimed: dict[Path, str],
                      findings: Findings) -> None:
    """Check an unreported record's `<id>.txt` exists and was not also written by another record."""
    target = record_file(outdir, line.ident)
    if target is None or not is_file(target):
        name = short(target and target.name)
        findings.unreported.append(f"{where}: id {short(line.ident)}: no {name} file, no error line")
    elif target in claimed:
        findings.unreported.append(f"{where}: id {short(line.ident)} wrote {target.relative_to(outdir)}, "
                                   f"as {claimed[target]} did: one overwrote the other silently")
    else:
        claimed[target] = where


# ---- running batches, splitting crashing ones down to one input ---------------------------------

@dataclass
class Tally:
    """Everything found over the whole fuzz run."""

    cases: Counter[str] = field(default_factory=Counter)
    crashed: Counter[str] = field(default_factory=Counter)  # cases in a kind whose run crashed
    unreported: Counter[str] = field(default_factory=Counter)
    reported: Counter[str] = field(default_factory=Counter)
    crash_runs: int = 0
    runs: int = 0
    signatures: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, why) -> example
    isolated: set[str] = field(default_factory=set)  # kinds whose crash was already isolated
    examples: dict[str, list[str]] = field(default_factory=dict)  # by kind: unreported, failed checks
    problems: int = 0


def kind_of(case: Case) -> str:
    """Return the kind a case is counted under (a one-line JSON Lines file: that line's kind)."""
    return f"jsonl:{case.lines[0].kind}" if len(case.lines) == 1 else case.kind


class Fuzzer:
    """Runs batches under one work directory and tallies what the checks find."""

    def __init__(self, root: Path, keep: bool) -> None:
        self.root, self.keep, self.tally = root, keep, Tally()
        self.serial = 0
        (root / "cwd").mkdir()

    def execute(self, batch: Batch, check: bool = True) -> tuple[Result, Findings]:
        """Write a batch's inputs, run the CLI on them once and check what it did."""
        self.serial += 1
        base = self.root / f"run-{self.serial:04d}-{batch.name}"
        indir, outdir, audit = base / "in", base / "out", base / "removed.jsonl"
        for case in batch.cases:
            (indir / case.rel).parent.mkdir(parents=True, exist_ok=True)
            (indir / case.rel).write_bytes(case.payload())
        before = snapshot(self.root, {outdir, audit})
        result = run_cli(batch.args(indir, outdir, audit), self.root / "cwd")
        self.tally.runs += 1
        findings = Findings()
        changed = {k for k, v in snapshot(self.root, {outdir, audit}).items() if before.get(k) != v}
        findings.problems += [f"written outside -o: {shown(p)}" for p in sorted(changed)]
        findings.problems += [f"written outside -o: {p}" for p in ("/etc/passwd.txt", "/abs")
                              if Path(p).exists()]
        if check and result.crash() is None:
            errors = error_lines(result, findings)
            (check_files if batch.mode == "files" else check_jsonl)(batch, indir, outdir, errors, findings)
            findings.problems += [f"temporary file left: {shown(p)}" for p in outdir.rglob(".*.tmp")]
        if not self.keep:
            shutil.rmtree(base, ignore_errors=True)
        return result, findings

    def run_batch(self, batch: Batch, top: bool = True) -> None:
        """Run a batch; when it crashes, rerun it kind by kind and isolate one crashing input."""
        result, findings = self.execute(batch)
        why = result.crash()
        if why is None:
            self.record(findings)
            return
        self.tally.crash_runs += top
        kinds = sorted({case.kind for case in batch.cases})
        if len(kinds) > 1:  # kinds known to crash apart from the others, else kind by kind
            known = self.tally.isolated
            groups = [[k for k in kinds if k in known], [k for k in kinds if k not in known]]
            for group in groups if all(groups) else [[k] for k in kinds]:
                cases = tuple(c for c in batch.cases if c.kind in group)
                label = group[0].replace("/", "_") if len(group) == 1 else "group"
                self.run_batch(replace(batch, name=f"{batch.name}-{label}", cases=cases), False)
            return
        self.tally.crashed.update(sum((c.cases() for c in batch.cases), Counter()))
        if kinds[0] not in self.tally.isolated:
            self.tally.isolated.add(kinds[0])
            self.isolate(batch, why)

    def isolate(self, batch: Batch, why: str) -> None:
        """Halve a crashing batch until one input (or one JSON line) still crashes on its own."""
        while parts := halves(batch):
            for part in parts:
                crash = self.execute(part, check=False)[0].crash()
                if crash is not None:
                    batch, why = part, crash
                    break
            else:
                break
        example = batch.cases[0].rel if len(batch.cases) == 1 else f"{len(batch.cases)} inputs together"
        self.tally.signatures[(kind_of(batch.cases[0]), why)] = example

    def record(self, findings: Findings) -> None:
        """Add one checked run's findings to the tally."""
        self.tally.reported.update(findings.reported)
        for line in findings.unreported:
            self.tally.unreported[line.split(":")[0] if not line.startswith("jsonl:")
                                  else ":".join(line.split(":")[:2])] += 1
        self.tally.problems += len(findings.problems)
        for line in findings.unreported + findings.problems:
            kept = self.tally.examples.setdefault(line.split(": ")[0], [])
            if len(kept) < 3:
                kept.append(line)


def halves(batch: Batch) -> list[Batch]:
    """Return a batch split in two (by files, else by the lines of its one JSON Lines file)."""
    if len(batch.cases) > 1:
        mid = len(batch.cases) // 2
        return [replace(batch, name="half", cases=batch.cases[:mid]),
                replace(batch, name="half", cases=batch.cases[mid:])]
    case = batch.cases[0]
    mid = len(case.lines) // 2
    if mid == 0:
        return []
    return [replace(batch, name="half", cases=(replace(case, lines=part),))
            for part in (case.lines[:mid], case.lines[mid:])]


# ---- the plan: which batches, and the report ------------------------------------------------------

def file_batches(rng: random.Random, count: int, size: int) -> list[Batch]:
    """Return batches of about `size` hostile files, `count` in all, plus one batch of big ones."""
    cases: list[Case] = [Case(kind, f"{kind}/{name}", data, must_keep="deep" if "deep" in kind else "")
                         for kind, name, data in big_files(rng)]
    batches = [Batch("big", "files", tuple(cases), jobs=2)]
    makers = list(FILE_MAKERS.items())
    cases = []
    while len(cases) < count:
        kind, maker = makers[len(cases) % len(makers)] if len(cases) < len(makers) else rng.choice(makers)
        stem = f"{kind.replace('/', '_')}-{len(cases):05d}"
        cases += [Case(kind, f"{kind.replace('/', '_')}/{name}", data) for name, data in maker(rng, stem)]
    for start in range(0, len(cases), size):
        n = len(batches)
        batches.append(Batch(f"files{n:02d}", "files", tuple(cases[start:start + size]),
                             jobs=1 + n % 2, audit=n % 3 == 0))
    return batches


def jsonl_batches(rng: random.Random, count: int, size: int) -> list[Batch]:
    """Return JSON Lines batches (records, `<id>.txt` files, HTML records), `count` records in all."""
    plans = [("jsonl", RECORD_KINDS[1:] + ("mixed", "huge-record"), 0.75),
             ("records", ("duplicate-id", "valid", "duplicate-id", "path-id", "lone-surrogate", "mixed"),
              0.15),
             ("html-field", ("html-record",), 0.10)]
    batches: list[Batch] = []
    for mode, themes, share in plans:
        files: list[Case] = []
        wanted, done = round(count * share), 0
        while done < wanted:
            theme = themes[len(files) % len(themes)]
            records = 4 if theme == "huge-record" else min(wanted - done, rng.randint(40, 250))
            first = len(files) < len(themes) or theme == "huge-record"  # each theme once plain
            packing = "plain" if first else rng.choice(PACKINGS)
            files.append(jsonl_case(rng, theme, len(files), records, packing))
            done += sum(files[-1].cases().values())
        per_batch = max(1, size // 150)
        for start in range(0, len(files), per_batch):
            n = len(batches)
            batches.append(Batch(f"{mode}{n:02d}", mode, tuple(files[start:start + per_batch]),
                                 jobs=2 if n % 2 else 1, audit=n % 3 == 1))
    return batches


def preflight(root: Path) -> None:
    """Exit 2 unless the CLI cleans one small file (a refused model would fail every batch)."""
    (root / "preflight.txt").write_text("A short article about the council budget.\n", encoding="utf-8")
    done = run_cli([str(root / "preflight.txt"), "-o", str(root / "preflight-out.txt"), "-q"], root)
    if done.returncode != 0:
        sys.exit(f"fuzz: the cleaner cannot run at all: {done.stderr.strip()[-300:]}")


def report(tally: Tally, seconds: float) -> None:
    """Print the summary table and the crashes, unreported inputs and failed checks found."""
    kinds = sorted(tally.cases)
    width = max(len(k) for k in kinds) + 2
    say(f"{'kind':<{width}}{'cases':>8}{'crashed':>9}{'unreported':>12}{'failures reported':>19}")
    for kind in kinds:
        say(f"{kind:<{width}}{tally.cases[kind]:>8}{tally.crashed[kind]:>9}{tally.unreported[kind]:>12}"
            f"{tally.reported[kind]:>19}")
    whole = sum(v for k, v in tally.reported.items() if k.startswith("jsonl-file:"))
    say(f"{'total':<{width}}{sum(tally.cases.values()):>8}{sum(tally.crashed.values()):>9}"
        f"{sum(tally.unreported.values()):>12}{sum(tally.reported.values()) - whole:>19}")
    say(f"whole JSON Lines files reported failed: {whole}; CLI runs: {tally.runs}; "
        f"crashed batch runs: {tally.crash_runs}; other failed checks: {tally.problems}; "
        f"wall time: {seconds:.0f} s")
    for (kind, why), example in sorted(tally.signatures.items()):
        say(f"CRASH {kind}: {why} (e.g. {shown(example)})")
    for line in [line for lines in tally.examples.values() for line in lines]:
        say(f"FAIL {line}")


def main() -> None:
    """Generate the hostile inputs, run them through the CLI in batches, report, exit 1 on failure."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="Example: .venv/bin/python tests/fuzz.py --seed 7 --cases 2000")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--cases", type=int, default=10_000, help="inputs and records to try (default 10000)")
    parser.add_argument("--batch-size", type=int, default=500, help="files per CLI call (default 500)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files and outputs")
    args = parser.parse_args()
    started = time.monotonic()
    rng = random.Random(args.seed)
    root = Path(tempfile.mkdtemp(prefix="cleaner-fuzz-")).resolve()
    preflight(root)
    batches = file_batches(rng, round(args.cases * 0.6) - 6, args.batch_size)
    batches += jsonl_batches(rng, args.cases - sum(sum(c.cases().values()) for b in batches for c in b.cases),
                             args.batch_size * 3)
    fuzzer = Fuzzer(root, args.keep)
    for batch in batches:
        fuzzer.tally.cases.update(sum((c.cases() for c in batch.cases), Counter()))
        fuzzer.run_batch(batch)
        say(f"{batch.name}: {len(batch.cases)} inputs, jobs {batch.jobs}; runs so far {fuzzer.tally.runs}, "
            f"{time.monotonic() - started:.0f} s")
    report(fuzzer.tally, time.monotonic() - started)
    if args.keep:
        say(f"work directory kept: {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)
    tally = fuzzer.tally
    sys.exit(1 if tally.crash_runs or tally.signatures or tally.unreported or tally.problems else 0)


if __name__ == "__main__":
    main()
