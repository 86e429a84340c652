"""Segmentation: one block per visible line, nothing lost, offsets that point into the source."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.segment import (
    INVISIBLE,
    headline_first,
    segment_html,
    segment_text,
    visible_spans,
    visible_spans_in_python,
)

PIECES = st.sampled_from([
    "\u00a0", "\r\n", "\r", "\n", "\n\n\n", "\t", " ", "\u200b", "\ufeff", "\u2028",
    "\x85", "\x0b", "\x1c", "\u00ad", "\u3000", "😀",
    "DON’T MISS:", "We use your sign-up to provide content", "Source: Read Full Article",
    "“Hopefully it won’t come to that.”", "x" * 1000, "é", "[REPORT]",
])
TEXTS = st.lists(st.one_of(PIECES, st.text(max_size=40)), max_size=30).map("".join)


@settings(max_examples=500, deadline=None)
@given(TEXTS)
def test_compiled_line_spans_equal_the_regex_spans(text: str) -> None:
    assert visible_spans(text) == visible_spans_in_python(text)


def visible(text: str) -> str:
    return "".join(c for c in text if not c.isspace() and c not in INVISIBLE)


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_segmentation_loses_no_visible_character(text: str) -> None:
    doc = segment_text(text)
    assert visible("".join(b.text for b in doc.blocks)) == visible(text)


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_blocks_are_non_empty_ordered_in_bounds_and_match_their_offsets(text: str) -> None:
    doc = segment_text(text)
    previous_end = 0
    for i, block in enumerate(doc.blocks):
        assert block.index == i
        assert visible(block.text)
        assert previous_end <= block.start < block.end <= len(text)
        assert text[block.start:block.end] == block.text
        previous_end = block.end


@settings(max_examples=200, deadline=None)
@given(TEXTS)
def test_segmenting_the_joined_blocks_gives_the_same_blocks(text: str) -> None:
    first = [b.text for b in segment_text(text).blocks]
    again = [b.text for b in segment_text("\n".join(first)).blocks]
    assert again == first


def test_crlf_nbsp_and_zero_width_lines_are_handled() -> None:
    text = "Title\r\n\u00a0\r\n\u200b\nFirst para.\rSecond\u00a0para.\t\n"
    assert [b.text for b in segment_text(text).blocks] == ["Title", "First para.",
                                                            "Second\u00a0para."]


def test_empty_and_blank_inputs_have_no_blocks() -> None:
    assert segment_text("").blocks == ()
    assert segment_text(" \n\t\r\n\u200b").blocks == ()


HEADLINE = "Council approves the new river bridge"
PARAGRAPH = "The council voted 7 to 2 on Tuesday to fund the bridge, ending a decade of debate."


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
