"""Segmentation: one block per visible line, nothing lost, offsets that point into the source."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.segment import INVISIBLE, segment_text, visible_spans, visible_spans_in_python

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
