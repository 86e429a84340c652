"""HTML pages to article text: the page parsed, its furniture pruned, the article extracted by
trafilatura (tuned for recall), and its headline put first."""

from __future__ import annotations

import functools
import itertools
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from cleaner.prune import (
    NOISE_NAME,
    drop_blocks_named_as_noise,
    drop_link_lists,
    drop_table_captions,
    drop_what_trafilatura_deletes,
    drop_what_trafilatura_prunes_first,
    paragraph_chars,
    without_end_notes,
    without_trailing_links,
)
from cleaner.segment import VISIBLE_LINE
from cleaner.shape import is_prose


@dataclass(frozen=True, slots=True)
class PageText:
    """A page as scraped text: its headline line, then the article; and the document's meta."""

    text: str
    meta: dict[str, str]


# HTML pages go through trafilatura's extraction tuned for recall (fast mode, no comments),
# which keeps paragraphs as lines; the classifier then removes what it leaves in, as in text.
def page_text(data: bytes) -> PageText:
    """Return an HTML page's headline and article as text (empty for what is no HTML)."""
    tree = parse_html(data)
    if tree is None:
        return PageText("", {"title": ""})
    h1s = [" ".join("".join(h1.itertext()).split()) for h1 in tree.iter("h1")]
    title = headline_of(tree, h1s)  # read before extraction, which prunes the tree
    if cut_by_depth_limit(tree):
        return PageText(f"{title}\n{flat_text(data)}", {"title": title, "extraction": DEEP_PAGE_NOTE})
    drop_table_captions(tree)
    drop_what_trafilatura_deletes(tree)
    drop_blocks_named_as_noise(tree)
    drop_link_lists(tree)
    drop_what_trafilatura_prunes_first(tree)
    text = with_rest_of_split_body(tree, extract_article(tree))
    text = without_trailing_links(tree, without_end_notes(tree, text))
    title, text = headline_first(title, h1s, text)
    return PageText(text, {"title": title})


# trafilatura.load_html, done faster for the common page (valid UTF-8, not compressed, none of
# the noncharacters U+FFFE/U+FFFF): lxml parses the bytes as they are instead of a decoded
# copy, and XML-invalid control bytes go through bytes.translate instead of a regex over the
# decoded text. On the 181 scrapinghub pages that takes 1.17 ms a page instead of 1.75 ms
# (fastest of 5, with the class lookup below), for the same tree. Any other page goes through
# load_html itself.
XML_INVALID_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
NONCHARACTERS = ("\ufffe", "\uffff")  # found faster in the decoded text than in bytes
COMPRESSED_MAGIC = (b"\x1f\x8b", b"\x28\xb5\x2f\xfd")  # gzip, zstd (load_html unpacks them)
# load_html's repairs of the first line, as bytes patterns (both patterns are ASCII).
DOCTYPE_WITH_SLASH = re.compile(rb"^< ?! ?DOCTYPE[^>]*/[^<>]*>", re.IGNORECASE)
SELF_CLOSED_HTML = re.compile(rb"(<html.*?)\s*/>", re.IGNORECASE)


def parse_html(data: bytes) -> Any:
    """Return the page's lxml tree as trafilatura.load_html would, or None if it is no HTML."""
    import lxml.etree
    import lxml.html
    import trafilatura

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return trafilatura.load_html(data)  # it guesses the encoding
    if data.startswith(COMPRESSED_MAGIC) or any(mark in text for mark in NONCHARACTERS):
        return trafilatura.load_html(data)
    data = data.translate(None, XML_INVALID_BYTES)
    beginning = text[:50].lower()  # characters, as load_html reads them
    if "doctype" in beginning:
        first_line, newline, rest = data.partition(b"\n")
        data = DOCTYPE_WITH_SLASH.sub(b"", first_line, count=1) + newline + rest
    for line in data[:4096].splitlines()[:4]:
        if b"<html" in line and line.endswith(b"/>"):
            data = SELF_CLOSED_HTML.sub(rb"\1>", data, count=1)
            break
    try:
        tree = lxml.html.fromstring(data, parser=html_parser())
    except (ValueError, lxml.etree.LxmlError):  # an empty or unparsable document
        return None
    if tree is None or ("html" not in beginning and len(tree) < 2):  # load_html's rejection
        return None
    return tree


@functools.cache
def html_parser() -> Any:
    """Return a copy of trafilatura's HTML parser with a faster element class lookup.

    lxml.html picks each element's Python class (form, input, label...) in Python code, every
    time Python touches an element: 1,400 calls a page here. trafilatura needs only the
    HtmlElement methods, so every element gets that class through lxml's C lookup.
    """
    import lxml.etree
    import lxml.html
    from trafilatura.utils import HTML_PARSER

    parser = HTML_PARSER.copy()  # its settings: UTF-8, no comments, no processing instructions
    parser.set_element_class_lookup(lxml.etree.ElementDefaultClassLookup(
        element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment,
        pi=lxml.html.HtmlProcessingInstruction, entity=lxml.html.HtmlEntity))
    return parser


# trafilatura's fast mode skips its fallback extractors (readability, jusText), which on a few
# pages find the article its main extractor missed (it took a one-line summary for the
# article). When the fast pass comes back short and holds under a fifth of the page's <p> text
# (trafilatura's own escalation test and figures, with the <p> text as the measure), the page
# goes through the whole cascade, whose text is taken when it is half as long again. On the
# bench pages that is 4 of 258 fundus pages (recall 0.955 -> 0.962) and 1 of 181 scrapinghub
# pages (no change).
RETRY_BELOW_CHARS = 3000
RETRY_PAGE_SHARE = 0.2
RETRY_ACCEPT_RATIO = 1.5


def extract_article(tree: Any) -> str:
    """Return the article text trafilatura finds in `tree` (which it copies, not changes)."""
    import trafilatura

    text = main_text(tree)
    if len(text) >= RETRY_BELOW_CHARS or len(text) >= RETRY_PAGE_SHARE * paragraph_chars(tree):
        return text
    retry: str = trafilatura.extract(tree, options=extraction_options(fast=False)) or ""
    return retry if len(retry) >= RETRY_ACCEPT_RATIO * len(text) else text


# trafilatura.extract's steps for our options, one by one: its raw-page XPath passes run in
# Python (prune.drop_what_trafilatura_prunes_first), without its copy of the page or the one it
# keeps for fallback extractors that fast mode never runs. On the scrapinghub pages the cleaner
# went from 1.82x to 2.07x and 2.10x trafilatura's pages/s (2026-12-07). These are the steps of
# trafilatura 2.3.1, pinned: tests/test_extract.py compares the texts on all 439 bench pages.
def main_text(tree: Any) -> str:
    """Return trafilatura.extract(tree, options=extraction_options()) of a tree pruned by
    prune.drop_what_trafilatura_prunes_first."""
    import unicodedata
    from copy import copy

    from trafilatura.baseline import baseline
    from trafilatura.htmlprocessing import convert_tags, tree_cleaning
    from trafilatura.main_extractor import extract_content
    from trafilatura.xml import xmltotxt

    options = extraction_options()
    try:
        body, text = extract_content(convert_tags(tree_cleaning(copy(tree), options), options),
                                     options)
        if len(text) < options.min_extracted_size:  # extract()'s rescue, in recall mode
            rescued, rescued_text, rescued_length = baseline(tree)
            if rescued_length > len(text):
                body, text = rescued, rescued_text
    except (TypeError, ValueError):  # where extract() returns None
        return ""
    if len(text) < options.min_output_size:
        return ""
    return unicodedata.normalize("NFC", xmltotxt(body, options.formatting).strip())


@functools.cache
def extraction_options(fast: bool = True) -> Any:
    """Return trafilatura's settings for our extraction, built once: extract() would build
    them anew for every page (0.15 ms of a 10 ms page)."""
    from trafilatura.settings import Extractor

    return Extractor(fast=fast, recall=True, comments=False, tables=True, images=False,
                     links=False, dedup=False)


# Some sites cut an article's body into several containers of one kind (WIRED's "grid--item
# body" chunks, Politico's, the New Yorker's), and trafilatura takes the first only: on the
# bench pages, 2 scrapinghub pages kept 35 % and 45 % of their article, 3 fundus pages 13 to
# 47 % and a fourth 72 %. So after extraction, a <p> left in another container of a kind (the tag and class of
# its parent and grandparent) that gave the text at least two paragraphs goes back in, after
# the extracted paragraph before it, for the classifier to judge. A kind named as furniture
# (NOISE_NAME, teasers, comments, captions) is not followed, nor a paragraph inside a link (a
# teaser card): one teaser or comment that trafilatura took must not bring its siblings. On
# the bench pages (2026-12-06): scrapinghub F1 0.9729 -> 0.9759 (recall 0.9789 -> 0.9852),
# fundus 0.9532 -> 0.9565 (recall 0.9619 -> 0.9687, precision 0.9446 -> 0.9445). 7 of 439
# pages changed: recall rose on all 7, precision fell on 5 by 0.002 to 0.017.
SPLIT_BODY_MIN_CHARS = 40
SPLIT_BODY_MIN_EXTRACTED = 2
FURNITURE_KIND = re.compile(rf"{NOISE_NAME.pattern}|teaser|comment|caption|credit|paywall")
SAME_WORDS = 6  # a paragraph is in the text when its first or last words are (see WordWindows)
WORD = re.compile(r"\w+")

Kind = tuple[str, str, str, str]
Words = tuple[str, ...]


def with_rest_of_split_body(tree: Any, text: str) -> str:
    """Return `text` with the paragraphs trafilatura left in other chunks of a split body."""
    paragraphs = split_candidates(tree)
    if not paragraphs:
        return text
    lines = text.split("\n")
    words_of_lines = [words_of(line) for line in lines]
    line_of = {words: i for i, words in reversed(list(enumerate(words_of_lines)))}
    found = [(p, kind, words, line_of.get(words)) for p, kind, words in paragraphs]
    given = {kind for _, kind, _, line in found if line is not None}
    if all(line is not None for _, kind, _, line in found if kind in given):
        return text  # most pages: no kind of container left a paragraph out of the text
    # Paragraphs not a line of their own may still be in the text, cut at a <br> or short of a
    # word: looked up by their first and last words.
    line_of_word = [i for i, words in enumerate(words_of_lines) for _ in words]
    windows = WordWindows(tuple(itertools.chain.from_iterable(words_of_lines)))
    for n, (p, kind, words, line) in enumerate(found):
        if line is None and kind in given and (at := windows.last_word_of(words)) is not None:
            found[n] = (p, kind, words, line_of_word[at])
    extracted = Counter(kind for _, kind, _, line in found if line is not None)
    followed = {kind for kind, count in extracted.items() if count >= SPLIT_BODY_MIN_EXTRACTED}
    return with_paragraphs_put_back(lines, found, followed)


def with_paragraphs_put_back(lines: list[str], found: list[tuple[Any, Kind, Words, int | None]],
                             followed: set[Kind]) -> str:
    """Return the lines with each missing paragraph of a followed kind after the line where
    the found paragraph before it ends; those before the first found paragraph go just above
    its line, below a headline trafilatura put first."""
    giving = {p.getparent() for p, _, _, line in found if line is not None}
    around: dict[tuple[int, int], list[str]] = {}  # (line, -1 above or 1 below) -> paragraphs
    place = None
    for p, kind, _, line in found:
        if line is not None:
            place = (line, 1)
            if (-1, -1) in around:
                around[(line, -1)] = around.pop((-1, -1))
        elif (kind in followed and p.getparent() not in giving
              and next(p.iterancestors("a"), None) is None):
            around.setdefault(place or (-1, -1), []).append(" ".join(p.text_content().split()))
    return "\n".join(piece for i, line in enumerate(lines)
                     for piece in (*around.get((i, -1), []), line, *around.get((i, 1), [])))


def split_candidates(tree: Any) -> list[tuple[Any, Kind, Words]]:
    """Return (p, kind, words) for every long <p> whose kind of container occurs twice or more
    and is not named as furniture."""
    parents_of_kind: dict[Kind, set[Any]] = {}
    kinds = []
    for p in tree.iter("p"):
        parent = p.getparent()
        grandparent = parent.getparent() if parent is not None else None
        if grandparent is None or not parent.get("class"):
            continue
        kind = (parent.tag, parent.get("class"), grandparent.tag, grandparent.get("class") or "")
        parents_of_kind.setdefault(kind, set()).add(parent)
        kinds.append((p, kind))
    split = {kind for kind, parents in parents_of_kind.items() if len(parents) > 1
             and not FURNITURE_KIND.search(" ".join(kind).lower())}
    return [(p, kind, words) for p, kind in kinds if kind in split
            and len(" ".join(words := words_of(p.text_content()))) >= SPLIT_BODY_MIN_CHARS]


def words_of(text: str) -> Words:
    """Return the words of `text`, lower-cased."""
    return tuple(WORD.findall(text.lower()))


class WordWindows:
    """Finds a paragraph in a text by words: whole, or by its last or first SAME_WORDS words,
    since trafilatura may split a paragraph at a <br> or drop a word with its inline element.

    Runs of words are looked up in a table, not searched for in the text: searching took
    26 s on a 3.6 MB page of 40,000 paragraphs (every paragraph scanned the whole text)."""

    def __init__(self, words: Words) -> None:
        self.words = words
        self.tables: dict[int, dict[Words, int]] = {}  # run length -> run -> its last word

    def last_word_of(self, paragraph: Words) -> int | None:
        """Return the position of the last word the text shares with `paragraph`'s closing
        (else opening) words, or None when the paragraph is not in the text."""
        size = min(len(paragraph), SAME_WORDS)
        table = self.table(size)
        at = table.get(paragraph[-size:])
        return at if at is not None else table.get(paragraph[:size])

    def table(self, size: int) -> dict[Words, int]:
        """Return every run of `size` words in the text, each with where its first copy ends."""
        if size not in self.tables:
            runs: dict[Words, int] = {}
            for end in range(size - 1, len(self.words)):
                runs.setdefault(self.words[end - size + 1:end + 1], end)
            self.tables[size] = runs
        return self.tables[size]


# How far into the extracted text the page's headline may repeat, and how much of a headline
# the other must share. On the 181 scrapinghub pages, 25 repeated it in their first three lines
# (the h1, or og:title with a "| Site" suffix, other quotes or dashes, other case).
HEADLINE_LINES = 3
SAME_HEADLINE_SHARE = 0.75
MAX_HEADLINE_CHARS = 300
HEADLINE_WORD = re.compile(r"\w+")


def headline_first(title: str, h1s: list[str], text: str) -> tuple[str, str]:
    """Return the headline and the text with it as first line, said once.

    The extracted text often opens with the page's own headline (its h1, og:title without the
    site name): that line becomes the headline instead of a second copy of og:title above it.
    """
    lines = text.split("\n")
    for i, line in enumerate(lines[:HEADLINE_LINES]):
        words = " ".join(line.split())
        headline = VISIBLE_LINE.search(line)  # the line as its block will read
        if headline and len(words) <= MAX_HEADLINE_CHARS and (
                same_headline(words, title) or any(same_headline(words, h1) for h1 in h1s)):
            return headline.group(), "\n".join([line, *lines[:i], *lines[i + 1:]])
        if is_prose(words):  # the article has begun: a repeat after it is a subheading
            break
    if title:  # not among the first lines: a paragraph opening with its words is no headline
        text = f"{title}\n{text}"
    return title, text


def same_headline(line: str, headline: str) -> bool:
    """Return True when `line` says `headline`, case, punctuation and a site name aside.

    A line no longer than the headline may be the headline without its site name; a longer one
    must be mostly the headline's words, so a first paragraph that opens with them stays text.
    """
    mine, theirs = HEADLINE_WORD.findall(line.casefold()), HEADLINE_WORD.findall(headline.casefold())
    if not mine or not theirs:
        return False
    shared = sum((Counter(mine) & Counter(theirs)).values())
    if len(mine) <= len(theirs):
        return shared >= SAME_HEADLINE_SHARE * len(theirs) or (
            shared == len(mine) and len(mine) >= SAME_HEADLINE_SHARE * len(theirs) / 2)
    return shared >= SAME_HEADLINE_SHARE * len(mine)


# libxml2, under lxml and trafilatura, stops reading a page at 256 nested elements and drops
# everything after that point without an exception. Such a page (unclosed tags can nest that
# deep) is read instead by Python's own HTML parser, through BeautifulSoup, which has no depth
# limit; its text is every visible string, so the classifier sees the whole page.
LIBXML2_MAX_DEPTH = 256
AT_DEPTH_LIMIT = "/" + "/".join(["*"] * (LIBXML2_MAX_DEPTH - 1))
DEEP_PAGE_NOTE = (f"HTML nested over {LIBXML2_MAX_DEPTH} deep: read without article extraction, "
                  "so page furniture may remain")
INVISIBLE_TAGS = ["script", "style", "noscript", "template", "head"]


def cut_by_depth_limit(tree: Any) -> bool:
    """Return True when the parsed tree reaches the depth at which libxml2 stops reading."""
    return bool(tree.getroottree().xpath(AT_DEPTH_LIMIT + "[1]"))


def flat_text(data: bytes) -> str:
    """Return every visible string of a page, one a line, read with no depth limit."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "html.parser")
    for hidden in soup(INVISIBLE_TAGS):
        hidden.decompose()
    return str(soup.get_text("\n"))


OG_TITLE = ".//meta[@property='og:title']/@content"
TITLE = ".//title/text()"


def headline_of(tree: Any, h1s: list[str]) -> str:
    """Return the page's headline: og:title, else the first of its h1s, else the <title>.

    Each is looked for in <head> first, and in the whole page only when <head> has none: the
    first one in the page is then the same, and searching the whole page for both cost 0.2 ms
    of a scrapinghub page, 0.05 ms searching <head> (2026-12-07)."""
    head = tree.find("head")
    return (first_words(tree, head, OG_TITLE) or first_words_of(h1s[:1])
            or first_words(tree, head, TITLE))


def first_words(tree: Any, head: Any, path: str) -> str:
    """Return the first non-blank value `path` finds in `head`, else in `tree` (spaces normalised)."""
    return (head is not None and first_words_of(head.xpath(path))) or first_words_of(tree.xpath(path))


def first_words_of(values: list[Any]) -> str:
    """Return the first of `values` that holds words, its spaces normalised ("" for none)."""
    for value in values:
        words = " ".join(str(value).split())
        if words:
            return words
    return ""
