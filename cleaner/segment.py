"""Split scraped text into blocks: one block per line that has visible characters."""

from __future__ import annotations

import re
from typing import Any

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


# HTML: one block per run of text between block-level element boundaries, like a browser's
# paragraphs. Each block keeps its element's tag, the class/id words of its ancestors and the
# share of its characters inside links, which the featurizer reads.
BLOCK_TAGS = frozenset(
    "address article aside blockquote body caption dd details div dl dt fieldset figcaption figure"
    " footer form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table tbody td"
    " tfoot th thead tr ul br".split())
SKIPPED_TAGS = frozenset("script style noscript template svg iframe select option button head"
                         " object embed canvas video audio map".split())
# Landmarks a block can sit in; the featurizer reads them from the block's tag path.
LANDMARKS = frozenset("article aside nav header footer figure form main blockquote table li"
                      " ul ol".split())
CLASS_WORD = re.compile(r"[a-z]{3,}")
SPACES = re.compile(rf"[\s{INVISIBLE}]+")
MAX_CLASS_WORDS = 12


def segment_html(data: bytes, doc_id: str = "-") -> Document:
    """Return the document whose blocks are the visible text runs of an HTML page, in order."""
    from lxml import etree

    root = parse_html(data, doc_id)
    if root is None:
        return Document(id=doc_id, blocks=())
    title = " ".join((root.findtext(".//title") or "").split())
    # Removed in C before the walk: their text is never shown (scripts) or not the page's (frames).
    etree.strip_elements(root, *SKIPPED_TAGS, with_tail=False)
    builder = BlockBuilder()
    for event, element in etree.iterwalk(root, events=("start", "end")):
        tag = element.tag
        if not isinstance(tag, str):
            continue  # an entity or processing instruction left by the parser
        if event == "start":
            builder.open(element, tag)
        else:
            builder.close(element, tag)
    builder.flush()
    return Document(id=doc_id, blocks=tuple(builder.blocks), meta={"title": title})


def parse_html(data: bytes, doc_id: str) -> Any:
    """Return the root element of an HTML page, or None for a page with no markup at all."""
    from lxml import etree, html

    if not data.strip():
        return None
    parser = html.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=True,
                             encoding=None if data.lstrip()[:1] == b"<" and b"charset" in data[:4096]
                             else "utf-8")
    try:
        return html.document_fromstring(data, parser=parser)
    except (etree.ParserError, ValueError) as error:
        from cleaner.blocks import CleanerError

        raise CleanerError(doc_id, f"not an HTML page ({error})") from None


class BlockBuilder:
    """Collects text runs into blocks while the page's elements open and close."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.parts: list[str] = []
        self.link_chars = 0
        self.path: list[str] = []  # one entry per open block-level element: "tag.classwords"
        self.links = 0
        self.offset = 0

    def open(self, element: object, tag: str) -> None:
        """Start an element: a block-level one ends the current block."""
        if tag in BLOCK_TAGS:
            self.flush()
            self.path.append(tag + "".join("." + w for w in class_words(element)))
        elif tag == "a":
            self.links += 1
        self.add(element.text, link=self.links > 0)  # type: ignore[attr-defined]

    def close(self, element: object, tag: str) -> None:
        """End an element: its tail text belongs to the enclosing element."""
        if tag in BLOCK_TAGS:
            self.flush()
            if self.path:
                self.path.pop()
        elif tag == "a":
            self.links -= 1
        self.add(element.tail, link=self.links > 0)  # type: ignore[attr-defined]

    def add(self, text: str | None, link: bool) -> None:
        """Add a piece of text to the block being built."""
        if text:
            self.parts.append(text)
            if link:
                self.link_chars += len(text.strip())

    def flush(self) -> None:
        """End the block being built, keeping it when it has visible text."""
        if not self.parts:
            return
        text = SPACES.sub(" ", "".join(self.parts)).strip()
        if text:
            kind = self.path[-1].split(".", 1)[0] if self.path else "body"
            tag_path = ">".join(self.path[-6:])
            share = min(1.0, self.link_chars / len(text))
            self.blocks.append(Block(index=len(self.blocks), text=text, start=self.offset,
                                     end=self.offset + len(text), kind=kind, tag_path=tag_path,
                                     link_share=round(share, 3)))
            self.offset += len(text) + 1
        self.parts = []
        self.link_chars = 0


def class_words(element: object) -> list[str]:
    """Return the words of an element's class and id, e.g. 'related-stories' -> related, stories."""
    get = element.get  # type: ignore[attr-defined]
    words = CLASS_WORD.findall(f"{get('class') or ''} {get('id') or ''}".lower())
    return words[:MAX_CLASS_WORDS]
