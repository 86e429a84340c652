"""HTML pages to article text: the page parsed, its furniture pruned, the article extracted by
trafilatura (tuned for recall), and its headline put first."""

from __future__ import annotations

import functools
import itertools
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from cleaner.segment import VISIBLE_LINE
from cleaner.shape import is_prose


@dataclass(frozen=True, slots=True)
class PageText:
    """A page as scraped text: its headline line, then the article; and the document's meta."""

    text: str
    meta: dict[str, str]


# HTML pages go through trafilatura's extraction tuned for recall (fast: no fallback extractors
# unless it comes back short; comments left out), which keeps paragraphs as lines; the
# classifier then removes what it leaves in (teasers, sign-up boxes, credits), as it does for
# scraped text.
def page_text(data: bytes) -> PageText:
    """Return an HTML page's headline and article as text (empty for what is no HTML)."""
    tree = parse_html(data)
    if tree is None:
        return PageText("", {"title": ""})
    h1s = [" ".join("".join(h1.itertext()).split()) for h1 in tree.iter("h1")]
    title = headline_of(tree, h1s)  # read before extraction, which prunes the tree
    if cut_by_depth_limit(tree):
        return PageText(f"{title}\n{flat_text(data)}", {"title": title, "extraction": DEEP_PAGE_NOTE})
    drop_what_trafilatura_deletes(tree)
    drop_blocks_named_as_noise(tree)
    drop_link_lists(tree)
    text = with_rest_of_split_body(tree, extract_article(tree))
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


# Elements trafilatura deletes in any case, deleted before it runs: its XPath passes (regex
# tests on every div's class and id) then visit fewer nodes, and lxml's drop_tree keeps the text
# that follows an element, where trafilatura loses the price after an inline <svg> icon. That
# holds while a paragraph lies outside all of them: otherwise trafilatura's recall mode puts
# the deleted elements back (an article only in <noscript>, or in an <aside>), so then only
# what holds no paragraph goes. On the 439 bench pages this took parsing and extraction from
# 12.6 to 9.3 ms a page; the output stayed the same on 435 of them, one gained the prices its
# SVG icons had cost, and three lost 1 to 4 teaser or pull-quote lines.
NO_PARAGRAPH_TAGS = ("style", "meta", "img")  # raw text or void; trafilatura strips the last two
INERT_TAGS = ("svg", "noscript", "template", "link", "iframe", "embed", "object", "canvas", "map",
              "audio", "video", "source", "track", "picture", "input", "select", "textarea",
              "option", "button")
FURNITURE_TAGS = ("nav", "aside", "footer", "menu")  # and a <figure> without a table


def drop_what_trafilatura_deletes(tree: Any) -> None:
    """Delete from `tree` the elements trafilatura would delete, keeping their tails."""
    import lxml.etree
    from trafilatura.settings import MANUALLY_CLEANED

    for script in list(tree.iter("script")):
        if "json" not in (script.get("type") or ""):  # JSON-LD may hold the article body
            script.drop_tree()
    lxml.etree.strip_elements(tree, *NO_PARAGRAPH_TAGS, with_tail=False)
    deleted_anyway = [tag for tag in MANUALLY_CLEANED if tag != "form"]  # see tree_cleaning
    if not any(next(p.iterancestors(deleted_anyway), None) is None for p in tree.iter("p")):
        return
    lxml.etree.strip_elements(tree, *INERT_TAGS, *FURNITURE_TAGS, with_tail=False)
    for figure in list(tree.iter("figure")):
        if figure.find(".//table") is None:
            figure.drop_tree()


# A page names its boilerplate: a sign-up box sits in <div class="Newsletter">, print links in
# <ul class="print-tools">. trafilatura looks for such names case-sensitively, and in recall
# mode skips some. A block element whose class or id holds one of these words goes before
# extraction while it holds little text (a container named "share-wrapper" around a whole
# article does not). Inline elements stay: a link named "related" inside a sentence is part of
# the sentence. On the bench pages this removed 3 of scrapinghub's 14 leftover noise lines and
# 1 of fundus's 24, with no lower recall on either set (fundus recall rose 0.954 -> 0.955);
# "copyright", added last, took 2 more fundus lines. "caption" and "credit" changed nothing;
# "byline", "comments", "widget" and "sidebar" cost fundus recall.
NOISE_NAME = re.compile(
    r"(?<![a-z])(?:newsletter|subscribe|subscription|signup|print|tools|share|sharing|social"
    r"|related|promo|trending|popular|rail|recirc|outbrain|taboola|advert|sponsored|copyright)"
    r"(?![a-z])")
NAMED_NOISE_TAGS = ("div", "section", "ul", "ol", "li", "p", "h2", "h3", "h4", "aside", "header")
MAX_NAMED_NOISE_CHARS = 400


def drop_blocks_named_as_noise(tree: Any) -> None:
    """Delete the block elements of `tree` that are named as noise and hold little text.

    One that holds half the page's <p> text or more stays: that is a short article in a
    container with an unlucky name, not a box beside the article (on a page without <p>
    elements this says nothing, and the name decides).
    """
    named = [element for element in tree.iter(*NAMED_NOISE_TAGS)
             if NOISE_NAME.search(f"{element.get('class') or ''} {element.get('id') or ''}".lower())
             and element.find(".//h1") is None
             and len("".join(element.itertext())) <= MAX_NAMED_NOISE_CHARS]
    for element in held_little(tree, named):
        element.drop_tree()  # an element inside another doomed one goes with it, harmlessly


# A list of links is a list of other pages: related headlines, tags, sections, shop offers.
# trafilatura's link-density test skips lists in recall mode, so they reached the classifier,
# which keeps a headline-like line unless sure. A <ul> or <ol> of three items or more, at
# least half of whose text is link text, goes before extraction unless its <p> elements hold
# half the page's <p> text (as for named noise above). On the bench pages this took
# scrapinghub from F1 0.9712 to 0.9723 (recall 0.9780 -> 0.9790) and fundus from 0.9505 to
# 0.9526 (recall the same): 4 scrapinghub and 23 fundus pages lost related-story, tag, date
# and shop-link lists; on one fundus page recall fell 0.989 -> 0.987, on 5 pages precision
# fell by up to 0.04 (trafilatura then took another box). Guarding with the list's whole text
# instead kept a 2,500-character teaser feed beside a 2,100-character article. Containers
# other than lists, tested the same way, cost recall (scrapinghub 0.979 -> 0.973): a
# paragraph of links is often article text.
LINK_LIST_MIN_ITEMS = 3
LINK_LIST_LINK_SHARE = 0.5


def drop_link_lists(tree: Any) -> None:
    """Delete from `tree` the lists made mostly of links that hold little of the page's text."""
    doomed = held_little(tree, [element for element in tree.iter("ul", "ol")
                                if len(element.findall("li")) >= LINK_LIST_MIN_ITEMS
                                and is_mostly_links(element)])
    headings = [heading for heading in map(heading_just_before, doomed) if heading is not None]
    for element in doomed + headings:
        if element.getparent() is not None:  # not gone already with a list around it
            element.drop_tree()


# A list's own heading ("Related", "More from the BBC", "Auf dieser Seite:") goes with it: left
# alone above nothing, the classifier kept it as a subheading. On the bench pages that took 7
# more lines off 6 fundus pages and changed nothing else.
LIST_HEADING_TAGS = ("h2", "h3", "h4", "h5", "h6", "p", "div", "span", "strong", "b", "header")
LIST_HEADING_MAX_WORDS = 6


def heading_just_before(element: Any) -> Any:
    """Return the short heading right before `element` (no text between them), or None."""
    heading = element.getprevious()
    if heading is None or heading.tag not in LIST_HEADING_TAGS or (heading.tail or "").strip():
        return None
    words = "".join(heading.itertext()).split()
    holds_blocks = any(inner is not heading for inner in heading.iter("p", "li"))
    if not words or len(words) > LIST_HEADING_MAX_WORDS or holds_blocks:
        return None
    return heading


def is_mostly_links(element: Any) -> bool:
    """Tell whether at least LINK_LIST_LINK_SHARE of `element`'s visible characters are links."""
    visible = visible_chars(element)
    linked = sum(visible_chars(link) for link in element.iter("a"))
    return visible > 0 and linked >= LINK_LIST_LINK_SHARE * visible


def visible_chars(element: Any) -> int:
    """Return how many non-space characters of text `element` holds."""
    return sum(len(piece) - piece.count(" ") - piece.count("\n") - piece.count("\t")
               for piece in element.itertext())


def held_little(tree: Any, elements: list[Any]) -> list[Any]:
    """Return the elements whose <p> elements hold less than half the page's <p> text (all of
    them on a page without <p> text). The page is measured only when there is something to
    weigh."""
    if not elements:
        return []
    page_paragraphs = paragraph_chars(tree)
    return [element for element in elements
            if not page_paragraphs or 2 * paragraph_chars(element) < page_paragraphs]


def paragraph_chars(element: Any) -> int:
    """Return how many characters of text the <p> elements in `element` (itself too) hold."""
    return sum(len("".join(p.itertext())) for p in element.iter("p"))


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

    text: str = trafilatura.extract(tree, options=extraction_options()) or ""
    if len(text) >= RETRY_BELOW_CHARS or len(text) >= RETRY_PAGE_SHARE * paragraph_chars(tree):
        return text
    retry: str = trafilatura.extract(tree, options=extraction_options(fast=False)) or ""
    return retry if len(retry) >= RETRY_ACCEPT_RATIO * len(text) else text


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


def headline_of(tree: Any, h1s: list[str]) -> str:
    """Return the page's headline: og:title, else the first of its h1s, else the <title>."""
    candidates = [*tree.xpath(".//meta[@property='og:title']/@content"), *h1s[:1],
                  *tree.xpath(".//title/text()")]
    for candidate in candidates:
        words = " ".join(str(candidate).split())
        if words:
            return words
    return ""
