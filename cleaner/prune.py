"""The page's furniture, pruned. Before trafilatura runs: captions in table cells, what it would
delete anyway, blocks whose class or id names them as noise, lists made mostly of links, and the
comment sections and infinite-scroll containers it prunes first. After it: italic end notes and
the link lines that end the text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

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


# trafilatura.extract prunes two kinds of container from the raw page before its own cleaning:
# infinite-scroll containers holding whole other articles, and comment sections (unless the
# page is a forum thread, whose posts are its content). It finds them with XPath whose EXSLT
# regex tests call back into Python for every div, section and list: 1 ms of a scrapinghub
# page's 10 ms. The same tests in Python loops take 0.3 ms, and extract.main_text runs
# trafilatura's other steps itself. The patterns are trafilatura 2.3.1's (RAW_TREE_PRUNE_XPATH
# and REMOVE_COMMENTS_AND_LISTS_XPATH in its xpaths.py), tried as re:test tries them (search).
SCROLL_NAME = re.compile(r"mvp-post-add-(?:box|wrap)|infinite-?scroll")
APPENDED_POSTS_NAME = re.compile(r"mvp-post-add-(?:box|wrap)")
SHARE_BUTTONS_CLASS = "elementor-share-buttons"
COMMENTS_ID = re.compile(r"^(?:[Cc]omment(?!ary)|comol)")
COMMENTS_BOX_ID = re.compile(r"^(?:[Cc]omment(?!ary)|comol|disqus_thread|dsq-comments)")
COMMENTS_CLASS = re.compile(r"^[Cc]omment(?!ary)|(?:article|post)-comments")
FORUM_POSTING = re.compile(r'"@type"\s*:\s*"DiscussionForumPosting"'
                           r'|"@type"\s*:\s*\[[^\]]*"DiscussionForumPosting"')


def drop_what_trafilatura_prunes_first(tree: Any) -> None:
    """Delete from `tree` what trafilatura.extract prunes from a raw page, as it does: each
    kind found in the whole tree, then deleted with its tail kept."""
    from trafilatura.xml import delete_element

    containers = ("div", "section", "aside")
    scrolls = [element for element in tree.iter(*containers) if is_named(element, SCROLL_NAME)
               and (element.find(".//h1") is None or is_named(element, APPENDED_POSTS_NAME))]
    shares = [element for element in tree.iter(*containers)
              if SHARE_BUTTONS_CLASS in (element.get("class") or "")]
    for element in [*scrolls, *shares]:
        delete_element(element)
    if is_forum_thread(tree):
        return
    comments = [element for element in tree.iter("div", "list", "section", "details", "ol", "ul")
                if is_comment_section(element)]
    for element in comments:
        delete_element(element)


def is_named(element: Any, pattern: re.Pattern[str]) -> bool:
    """Tell whether `pattern` is found in the element's id or in its class."""
    return bool(pattern.search(element.get("id") or "") or pattern.search(element.get("class") or ""))


def is_comment_section(element: Any) -> bool:
    """Tell whether trafilatura takes `element` for a comment section (a list only by its own
    name: disqus_thread and dsq-comments name the box around it)."""
    if COMMENTS_CLASS.search(element.get("class") or ""):
        return True
    pattern = COMMENTS_ID if element.tag in ("ol", "ul") else COMMENTS_BOX_ID
    return bool(pattern.search(element.get("id") or ""))


def is_forum_thread(tree: Any) -> bool:
    """Tell whether the page says in JSON-LD that it is a forum thread (trafilatura's test)."""
    return any(script.text and FORUM_POSTING.search(script.text)
               for script in tree.iterfind('.//script[@type="application/ld+json"]'))


# Pages laid out with tables put a picture and its caption in one cell: <td><img>The core stage
# of the first SLS ... (credit: NASA)</td>. Such a cell goes when its text reads like a sentence
# (at least CAPTION_MIN_WORDS words) and is short (at most CAPTION_MAX_CHARS characters): a
# results table with flags or logos holds names and numbers, not sentences. When such cells
# hold TABLE_CAPTIONS_MAX_SHARE of the page's <p> text or more, they are the article (a recipe
# laid out as a table of steps with pictures) and all stay. Run before the pictures go. Of the
# 439 bench pages (2026-12-07) one has such a cell, a scrapinghub page whose caption then left
# the output (leftover noise lines 4 -> 3, F1 0.9769 -> 0.9770); no other output changed.
CAPTION_MIN_WORDS = 8
CAPTION_MAX_CHARS = 400
TABLE_CAPTIONS_MAX_SHARE = 0.25


def drop_table_captions(tree: Any) -> None:
    """Delete from `tree` the table cells that hold a picture and a caption of a sentence."""
    captions = {cell: text for cell in tree.iter("td", "th") if cell.find(".//img") is not None
                and is_caption_text(text := " ".join(cell.text_content().split()))}
    if not captions:
        return
    if sum(map(len, captions.values())) >= TABLE_CAPTIONS_MAX_SHARE * paragraph_chars(tree):
        return
    for cell in captions:
        cell.drop_tree()


def is_caption_text(text: str) -> bool:
    """Tell whether a cell's text (spaces normalised) is short and a sentence long."""
    return len(text) <= CAPTION_MAX_CHARS and len(text.split()) >= CAPTION_MIN_WORDS


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
    """Return how many non-space characters of text `element` holds.

    Joined first, then counted: a quarter faster than counting piece by piece (0.38 against
    0.56 ms a scrapinghub page over its lists and their links, 2026-12-06)."""
    text = "".join(element.itertext())
    return len(text) - text.count(" ") - text.count("\n") - text.count("\t")


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


# An article's last lines are often a note set in italics with a link in it: a follow prompt
# ("Follow @BGRDeals on Twitter ..."), the author's book plug, a newsletter pitch, "First
# published in The Conversation". Such a paragraph goes when it is among the last END_NOTE_LINES
# lines of the extracted text, at least END_NOTE_ITALIC_SHARE of its characters in <em> or <i>,
# and holds a link. On the 439 bench pages (2026-12-06) this took 7 lines off 6 scrapinghub
# pages and 10 off 10 fundus pages (one of which then kept its "Quelle: ntv.de" line); the
# leftover noise lines went from 8 to 5 and from 19 to 15, F1 from 0.9759 to 0.9764 and from
# 0.9565 to 0.9569. Three of the lines are article text to the benchmarks' truth and footers to
# this project's labels: "This article was reprinted on Wired.com.", a "Dear Abby is written
# by ..." bio and a pointer to a gallery's website. Italic end lines without a link stay: on
# scrapinghub most are "(Reporting by ...; Editing by ...)" and "Contributing:" lines, which
# its truth counts as article text. It costs 0.12 to 0.17 ms of a page's 14 to 20 ms.
END_NOTE_LINES = 3
END_NOTE_ITALIC_SHARE = 0.9
END_NOTE_BLOCK_TAGS = frozenset(("p", "div", "li", "blockquote", "td", "dd", "section", "article",
                                 "aside", "h1", "h2", "h3", "h4", "h5", "h6"))


def without_end_notes(tree: Any, text: str) -> str:
    """Return `text` without the italic notes with a link among its last END_NOTE_LINES lines.

    Nothing goes from a text of END_NOTE_LINES lines or fewer, nor when such a note also stands
    before the last lines: that site sets some of its article text this way.
    """
    lines = text.split("\n")
    notes = italic_notes_with_a_link(tree) if len(lines) > END_NOTE_LINES else set()
    if not notes:
        return text
    is_note = [" ".join(line.removeprefix("- ").split()) in notes for line in lines]
    tail = len(lines) - END_NOTE_LINES
    if any(is_note[:tail]):
        return text
    return "\n".join(line for line, note in zip(lines, is_note, strict=True) if not note)


def italic_notes_with_a_link(tree: Any) -> set[str]:
    """Return the text (spaces normalised) of the blocks that are set in italics and hold a
    link: the nearest block around an <em> or <i>, when that block is one."""
    blocks = {block for italic in tree.iter("em", "i")
              if (block := next(italic.iterancestors(*END_NOTE_BLOCK_TAGS), None)) is not None}
    return {" ".join(block.text_content().split()) for block in blocks
            if block.find(".//a") is not None and is_mostly_italic(block)}


def is_mostly_italic(block: Any) -> bool:
    """Tell whether at least END_NOTE_ITALIC_SHARE of `block`'s visible characters sit in <em>
    or <i> elements (an italic element inside another counted once, with the outer one)."""
    italic = sum(visible_chars(element) for element in block.iter("em", "i")
                 if not any(outer.tag in ("em", "i") for outer in ancestors_below(element, block)))
    total = visible_chars(block)
    return total > 0 and italic >= END_NOTE_ITALIC_SHARE * total


def ancestors_below(element: Any, block: Any) -> Iterator[Any]:
    """Yield the ancestors of `element` up to, and without, `block`."""
    for ancestor in element.iterancestors():
        if ancestor is block:
            return
        yield ancestor


# The text can also end in lines that are links and nothing else: related headlines under the
# article, a pitch set as one big link (Moneycontrol Pro), a lone "Suscribete". That run of
# lines goes when each is the whole text of a link of the page; a text made only of such lines
# stays. On the 439 bench pages (2026-12-07, after the end notes) this took 5 lines off 3
# scrapinghub pages and 7 off 6 fundus pages: the leftover noise lines went from 5 to 4 and
# stayed 15, F1 from 0.9764 to 0.9769 and from 0.9569 to 0.9572. One of the 12 lines is in the
# benchmarks' truth: a bare amzn.to link ending a deals post. Blocks made mostly of links,
# looked for as well, changed nothing more but cost 1 ms a page; this costs 0.15 ms.
IS_LINK_TEXT = "boolean(//a[normalize-space(.) = $line])"
# Each line looked at searches all the page's links, so at most this many are: a page of
# thousands of links costs what a page of ten does. A run that long is no longer a rail under an
# article but a text that lists links, and stays (the longest run on the bench pages was 3).
MAX_TRAILING_LINKS = 10


def without_trailing_links(tree: Any, text: str) -> str:
    """Return `text` without the run of lines at its end that are each the text of a link."""
    lines = text.split("\n")
    end, last_looked_at = len(lines), max(len(lines) - MAX_TRAILING_LINKS, 0)
    while end > last_looked_at and is_link_text(
            tree, " ".join(lines[end - 1].removeprefix("- ").split())):
        end -= 1
    if end in (last_looked_at, len(lines)):  # no link lines, or a text that lists links
        return text
    return "\n".join(lines[:end])


def is_link_text(tree: Any, line: str) -> bool:
    """Tell whether `line` (spaces normalised) is the whole text of a link in `tree`."""
    try:
        return bool(line) and bool(tree.xpath(IS_LINK_TEXT, line=line))
    except ValueError:  # lxml refuses a string XML cannot hold (a control character)
        return False
