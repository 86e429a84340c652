"""Cleaning as a function: idempotent, a subsequence of the input, the same on every run."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner import Cleaner, segment_text

LINES = st.sampled_from([
    "Storm closes coastal road",
    "The coastal road was closed on Monday after waves damaged the sea wall, the council said.",
    "“Hopefully it won’t come to that.”",
    "DON’T MISS:", "DON'T MISS", "Prince Harry 'fit plans for UK fame' after Suits [REPORT]",
    ("We use your sign-up to provide content in ways you’ve consented to and to improve our "
     "understanding of you. You can unsubscribe at any time. More info"),
    "Source: Read Full Article", "READ MORE: Council tax to rise again", "Advertisement",
    "Share this article", "(Image: Getty)", "By Jane Smith", "Published 12:04, 3 May 2026",
    "Engineers will inspect the damage this week before deciding when it can reopen.",
    "x" * 500, "é", "", "   ",
])
TEXTS = st.lists(st.one_of(LINES, st.text(max_size=60)), max_size=25).map("\n".join)


@settings(max_examples=150, deadline=None)
@given(TEXTS)
def test_cleaning_is_idempotent(cleaner: Cleaner, text: str) -> None:
    once = cleaner.clean_text(text).text
    assert cleaner.clean_text(once).text == once


@settings(max_examples=150, deadline=None)
@given(TEXTS)
def test_output_is_a_subsequence_of_the_input_blocks_and_every_block_is_accounted_for(
        cleaner: Cleaner, text: str) -> None:
    blocks = [block.text for block in segment_text(text).blocks]
    cleaned = cleaner.clean_text(text)
    assert list(cleaned.kept) == sorted(cleaned.kept)
    assert cleaned.text.split("\n")[:-1] == [blocks[i] for i in cleaned.kept]
    assert sorted([*cleaned.kept, *(v.block_index for v in cleaned.removed)]) == list(
        range(len(blocks)))


@settings(max_examples=50, deadline=None)
@given(TEXTS)
def test_the_same_input_gives_the_same_output_every_time(cleaner: Cleaner, text: str) -> None:
    assert cleaner.clean_text(text) == cleaner.clean_text(text)
