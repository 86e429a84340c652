"""HTML pages to text: parsing as trafilatura would, the article extracted and made whole, its
headline first and said once (the furniture pruned before extraction: test_prune.py)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from cleaner.extract import headline_first, parse_html
from cleaner.segment import segment_html, segment_text

ROOT = Path(__file__).resolve().parent.parent


HEADLINE = "Council approves the new river bridge"
PARAGRAPH = "The council voted 7 to 2 on Tuesday to fund the bridge, ending a decade of debate."
ARTICLE = "".join(f"<p>{PARAGRAPH} Paragraph {i}.</p>" for i in range(5))


def test_a_headline_the_text_already_opens_with_is_said_once() -> None:
    title, text = headline_first(f"{HEADLINE} | Town News", [HEADLINE], f"{HEADLINE}\n{PARAGRAPH}")
    assert (title, text) == (HEADLINE, f"{HEADLINE}\n{PARAGRAPH}")


def test_a_headline_repeated_under_a_kicker_moves_first() -> None:
    title, text = headline_first(HEADLINE, [], f"Politics\n“{HEADLINE.upper()}”\n{PARAGRAPH}")
    assert title == f"“{HEADLINE.upper()}”"
    assert text.split("\n") == [title, "Politics", PARAGRAPH]


def test_a_repeat_after_the_first_paragraph_stays_where_it_is() -> None:
    title, text = headline_first(HEADLINE, [HEADLINE], f"{PARAGRAPH}\n{HEADLINE}\nMore text.")
    assert (title, text) == (HEADLINE, f"{HEADLINE}\n{PARAGRAPH}\n{HEADLINE}\nMore text.")


def test_a_first_paragraph_opening_with_the_headline_words_is_not_the_headline() -> None:
    opening = f"{HEADLINE}, the mayor said, after years of delays and two failed votes on it"
    title, text = headline_first(HEADLINE, [], f"{opening}\n{PARAGRAPH}")
    assert (title, text) == (HEADLINE, f"{HEADLINE}\n{opening}\n{PARAGRAPH}")


def test_an_html_page_has_its_headline_once_and_first() -> None:
    body = "".join(f"<p>{PARAGRAPH} Paragraph {i}.</p>" for i in range(6))
    page = (f"<html><head><meta property='og:title' content='{HEADLINE} | Town News'>"
            f"</head><body><article><h1>{HEADLINE}</h1>{body}</article></body></html>")
    doc = segment_html(page.encode())
    texts = [block.text for block in doc.blocks]
    assert texts[0] == HEADLINE
    assert doc.meta["title"] == HEADLINE
    assert texts.count(HEADLINE) == 1
    assert f"{HEADLINE} | Town News" not in texts


def test_a_moved_headline_is_named_as_its_block_reads() -> None:
    title, text = headline_first(HEADLINE, [], f"Politics\n\u200b {HEADLINE}\u00a0\n{PARAGRAPH}")
    doc = segment_text(text)
    assert title == HEADLINE
    assert doc.blocks[0].text == title


# parse_html is trafilatura.load_html on a faster path: the tree must be the same one, for the
# pages it parses itself and for those it hands to load_html.
PARSE_CASES = [
    b"<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\">\n<html><body><p>x</p></body></html>",
    b"<html/>\n<body><p>self-closed html</p></body>",
    b"<?xml version='1.0' encoding='utf-8'?>\n<html><body><p>an XML prolog</p></body></html>",
    b"<html><body><p>bell\x07 and\x00 nul\x1f</p></body></html>",
    "<html><body><p>noncharacter \uffff here</p></body></html>".encode(),
    "<html><body><p>caf\u00e9 in cp1252</p></body></html>".encode("cp1252"),
    gzip.compress(b"<html><body><p>gzipped page</p></body></html>"),
    b"<meta charset='iso-8859-1'><html><body><p>" + "d\u00e9j\u00e0".encode() + b"</p></body></html>",
    b"\xef\xbb\xbf<html><body><p>after a byte order mark</p></body></html>",
    # "html" within the first 50 characters but past the first 50 bytes
    ("\u20ac" * 16 + " html? <p>a fragment</p>").encode(),
    b"<p>only a fragment</p>", b"<div><p>one</p><p>two</p></div>", b"just text", b"", b"   ",
]


def same_tree(data: bytes) -> bool:
    import trafilatura

    return serialized(parse_html(data)) == serialized(trafilatura.load_html(data))


def serialized(tree: Any) -> bytes:
    """Return the tree as bytes (b"" for no tree: a parsed page never serializes to that)."""
    import lxml.etree

    return b"" if tree is None else bytes(lxml.etree.tostring(tree))


def test_parse_html_gives_load_htmls_tree_for_awkward_pages() -> None:
    assert [same_tree(data) for data in PARSE_CASES] == [True] * len(PARSE_CASES)


def test_parse_html_gives_load_htmls_tree_for_every_project_and_corpus_page(
        shared_corpus: Path) -> None:
    pages = [*(ROOT / "fixtures" / "examples").glob("*.html"),
             *(shared_corpus / "html").rglob("*.html.gz")]
    differ = [page.name for page in pages if not same_tree(read_page(page))]
    assert len(pages) > 400
    assert differ == []


def read_page(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def segment_with_fake_extract(monkeypatch: pytest.MonkeyPatch, fast_text: str,
                              full_text: str) -> tuple[list[str], list[bool]]:
    """Segment a five-paragraph page with the fast pass answering `fast_text` and the whole
    cascade `full_text`; return the blocks' texts and the fast setting of each call."""
    calls: list[bool] = []

    def main_text(tree: Any) -> str:  # the fast pass
        calls.append(True)
        return fast_text

    def extract(tree: Any, options: Any) -> str:  # the whole cascade
        calls.append(options.fast)
        return full_text

    monkeypatch.setattr("cleaner.extract.main_text", main_text)
    monkeypatch.setattr("trafilatura.extract", extract)
    page = f"<html><body><article>{ARTICLE}</article></body></html>"
    return [block.text for block in segment_html(page.encode()).blocks], calls


def test_a_short_fast_extraction_of_a_long_page_goes_through_the_whole_cascade(
        monkeypatch: pytest.MonkeyPatch) -> None:
    texts, calls = segment_with_fake_extract(monkeypatch, "A summary.", "The whole article.")
    assert texts == ["The whole article."]
    assert calls == [True, False]


def test_a_fast_extraction_that_covers_the_page_is_kept_without_a_second_pass(
        monkeypatch: pytest.MonkeyPatch) -> None:
    whole = "\n".join(f"{PARAGRAPH} Paragraph {i}." for i in range(5))
    texts, calls = segment_with_fake_extract(monkeypatch, whole, "other")
    assert len(texts) == 5
    assert calls == [True]


def test_a_cascade_no_longer_than_the_fast_pass_leaves_the_fast_text(
        monkeypatch: pytest.MonkeyPatch) -> None:
    texts, calls = segment_with_fake_extract(monkeypatch, "A summary of it.", "A summary.")
    assert texts == ["A summary of it."]
    assert calls == [True, False]


def chunk(kind: str, texts: list[str], wrap: str = "{}") -> str:
    """Return a container of class `kind`, inside a div of class 'grid', holding paragraphs."""
    paragraphs = "".join(wrap.format(f"<p>{text}</p>") for text in texts)
    return f"<div class='grid'><div class='{kind}'>{paragraphs}</div></div>"


STORY = ["The council voted 7 to 2 on Tuesday to fund the bridge, ending a decade of debate.",
         "Work on the foundations starts in March, weather permitting, the engineers said.",
         "Residents of the east bank have waited for a crossing since the ferry stopped in 2015.",
         "The opposition called the cost, 40 million pounds, a burden on the next generation.",
         "A public inquiry last year found no better site along the whole of the river."]


def segment_extracting(monkeypatch: pytest.MonkeyPatch, body: str, extracted: list[str]) -> list[str]:
    """Return the blocks of a page whose extraction gives `extracted`, as trafilatura gives
    the first chunk of a split body only."""
    monkeypatch.setattr("cleaner.extract.main_text", lambda tree: "\n".join(extracted))
    page = f"<html><body><article>{body}</article></body></html>"
    return [block.text for block in segment_html(page.encode()).blocks]


def test_paragraphs_left_in_other_chunks_of_a_split_body_go_back_in_their_place(
        monkeypatch: pytest.MonkeyPatch) -> None:
    closing = "The council meets again in June to decide on the tolls for the new bridge."
    body = (chunk("body-chunk", STORY[:2]) + "<div class='ad'>Advertisement</div>"
            + chunk("body-chunk", STORY[2:4]) + f"<div><p>{closing}</p></div>")
    texts = segment_extracting(monkeypatch, body, [*STORY[:2], closing])
    assert texts == [*STORY[:4], closing]


def test_a_paragraph_cut_at_a_line_break_counts_as_extracted(
        monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = STORY[1].split(", ", 1)
    body = chunk("body-chunk", [STORY[0], f"{first},<br>{second}"]) + chunk("body-chunk", STORY[2:3])
    texts = segment_extracting(monkeypatch, body, [STORY[0], first + ",", second])
    assert texts == [STORY[0], first + ",", second, STORY[2]]


def test_a_kind_that_gave_one_paragraph_is_not_followed(monkeypatch: pytest.MonkeyPatch) -> None:
    body = chunk("body-chunk", STORY[:1]) + chunk("body-chunk", STORY[1:3])
    assert segment_extracting(monkeypatch, body, STORY[:1]) == STORY[:1]


def test_comments_teasers_and_linked_cards_do_not_bring_their_siblings(
        monkeypatch: pytest.MonkeyPatch) -> None:
    for kind, wrap in (("comment-content", "{}"), ("teasertext", "{}"),
                       ("card-body", "<a href='/next'>{}</a>")):
        body = chunk(kind, STORY[:2], wrap) + chunk(kind, STORY[2:4], wrap)
        assert segment_extracting(monkeypatch, body, STORY[:2]) == STORY[:2], kind


def test_a_real_article_cut_into_chunks_comes_out_whole(shared_corpus: Path) -> None:
    # a WIRED page of the scrapinghub benchmark: trafilatura alone returns its first chunk,
    # 5 of its 15 paragraphs
    folder = shared_corpus / "html" / "scrapinghub-aeb"
    page_id = "d48aeb9cf2f2ff15769a57513249b4a6a669159f3e50b335e741d4206a824e88"
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))[page_id]
    doc = segment_html(read_page(folder / "html" / f"{page_id}.html.gz"))
    texts = {" ".join(block.text.split()) for block in doc.blocks}
    paragraphs = [" ".join(line.split()) for line in truth["articleBody"].splitlines() if line.strip()]
    assert len(paragraphs) > 10
    assert [paragraph in texts for paragraph in paragraphs[-5:]] == [True] * 5


def test_paragraphs_before_the_first_extracted_one_go_below_the_headline(
        monkeypatch: pytest.MonkeyPatch) -> None:
    body = f"<h1>{HEADLINE}</h1>" + chunk("body-chunk", STORY[:1]) + chunk("body-chunk", STORY[1:3])
    texts = segment_extracting(monkeypatch, body, [HEADLINE, *STORY[1:3]])
    assert texts == [HEADLINE, *STORY[:3]]


# main_text takes trafilatura.extract's steps one by one, its raw-page XPath passes done in
# Python: the same elements must go, and main_text must give extract()'s text, on every page.
STORY_HTML = "".join(f"<p>{text}</p>" for text in STORY)
COMMENTS = "<p>Great article, thanks for writing it up in such detail for us all.</p>" * 3
FORUM = '<script type="application/ld+json">{"@type": "DiscussionForumPosting"}</script>'
# Each page, and whether trafilatura prunes something from it before extracting.
PRUNED_FIRST_CASES = [
    (f"<article>{STORY_HTML}</article><div id='comments'>{COMMENTS}</div>", True),
    (f"<article>{STORY_HTML}</article><section class='post-comments'>{COMMENTS}</section>", True),
    (f"<article>{STORY_HTML}</article><ol id='commentlist'><li>{COMMENTS}</li></ol>", True),
    (f"<article>{STORY_HTML}</article><ol id='disqus_thread'><li>{COMMENTS}</li></ol>", False),
    (f"<article>{STORY_HTML}</article><div id='commentary'>{COMMENTS}</div>", False),
    (f"<article>{STORY_HTML}</article><div class='commentary'>{COMMENTS}</div>", False),
    (f"<article>{STORY_HTML}</article><ul class='comments'><li>{COMMENTS}</li></ul>", True),
    (f"<article>{STORY_HTML}</article><div id='dsq-comments'>{COMMENTS}</div>", True),
    (f"{FORUM}<article>{STORY_HTML}</article><div id='comments'>{COMMENTS}</div>", False),
    (f"<article>{STORY_HTML}</article><div class='infinite-scroll'>{STORY_HTML}</div>", True),
    (f"<div class='infinite-scroll'><h1>{HEADLINE}</h1>{STORY_HTML}</div>", False),
    (f"<div class='mvp-post-add-box'><h1>{HEADLINE}</h1>{STORY_HTML}</div>{STORY_HTML}", True),
    (f"<article>{STORY_HTML}<div class='elementor-share-buttons'>Share</div>tail</article>", True),
    (f"<p>{STORY[0]}</p>", False),  # short: extract()'s rescue
    ("<div><span>Menu</span></div>", False),  # nothing to extract
]


def pruned_both_ways(data: bytes) -> tuple[Any, Any]:
    """Return the page's tree pruned by trafilatura's raw-page XPath passes and by ours."""
    from trafilatura.core import _forum_thread_page
    from trafilatura.htmlprocessing import prune_unwanted_nodes
    from trafilatura.xpaths import RAW_TREE_PRUNE_XPATH, REMOVE_COMMENTS_AND_LISTS_XPATH

    from cleaner.prune import drop_what_trafilatura_prunes_first

    theirs, ours = parse_html(data), parse_html(data)
    if theirs is None:
        return None, None
    prune_unwanted_nodes(theirs, RAW_TREE_PRUNE_XPATH)
    if not _forum_thread_page(theirs):
        prune_unwanted_nodes(theirs, REMOVE_COMMENTS_AND_LISTS_XPATH)
    drop_what_trafilatura_prunes_first(ours)
    return theirs, ours


def test_the_raw_page_passes_prune_what_trafilaturas_xpath_prunes() -> None:
    for page, pruned in PRUNED_FIRST_CASES:
        data = f"<html><body>{page}</body></html>".encode()
        theirs, ours = pruned_both_ways(data)
        assert serialized(ours) == serialized(theirs), page
        assert (serialized(ours) != serialized(parse_html(data))) == pruned, page


def test_main_text_gives_trafilaturas_text() -> None:
    import trafilatura

    from cleaner.extract import extraction_options, main_text
    from cleaner.prune import drop_what_trafilatura_prunes_first

    for page, _ in PRUNED_FIRST_CASES:
        tree = parse_html(f"<html><body>{page}</body></html>".encode())
        theirs = trafilatura.extract(tree, options=extraction_options()) or ""
        drop_what_trafilatura_prunes_first(tree)
        assert main_text(tree) == theirs, page


def test_every_bench_page_is_pruned_and_extracted_as_trafilatura_does(shared_corpus: Path) -> None:
    import trafilatura

    from cleaner.extract import extraction_options, main_text

    pages = sorted((shared_corpus / "html").rglob("*.html.gz"))
    prune_differs, text_differs = [], []
    for path in pages:
        theirs, ours = pruned_both_ways(read_page(path))
        if serialized(ours) != serialized(theirs):
            prune_differs.append(path.name)
        elif ours is not None and main_text(ours) != (
                trafilatura.extract(theirs, options=extraction_options()) or ""):
            text_differs.append(path.name)
    assert len(pages) > 400
    assert (prune_differs, text_differs) == ([], [])
