"""Split scraped text into blocks: one block per line that has visible characters."""

from __future__ import annotations

import re

from cleaner.blocks import Block, Document

# Scrapers end lines with \n, \r\n or a lone \r; other Unicode separators stay inside a line.
LINE = re.compile(r"[^\r\n]+")
# Characters that take no space on screen: a line made only of these (and spaces) is empty.
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
BLANK = re.compile(rf"[\s{INVISIBLE}]*")
LEADING = re.compile(rf"^[\s{INVISIBLE}]+")
TRAILING = re.compile(rf"[\s{INVISIBLE}]+$")


def segment_text(text: str, doc_id: str = "-", meta: dict[str, str] | None = None) -> Document:
    """Return the document whose blocks are the non-blank lines of `text`, trimmed, in order."""
    blocks: list[Block] = []
    for line in LINE.finditer(text):
        raw = line.group()
        if BLANK.fullmatch(raw):
            continue
        lead = LEADING.match(raw)
        trail = TRAILING.search(raw)
        start = line.start() + (lead.end() if lead else 0)
        end = line.end() - (len(trail.group()) if trail else 0)
        blocks.append(Block(index=len(blocks), text=text[start:end], start=start, end=end))
    return Document(id=doc_id, blocks=tuple(blocks), meta=dict(meta or {}))
