"""Where a block sits (cleaner/context.py): the prose span around it, and the topic words it
shares with the article, in the compiled and the Python forms."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.context import cohesion_bins, cohesion_bins_in_python, compiled_own, span_of
from cleaner.shape import is_prose as reads_as_prose

from .samples import ODD_PIECES, corpus_lines

if TYPE_CHECKING:
    from pathlib import Path


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans()), max_size=30))
def test_span_columns_say_which_blocks_sit_ahead_of_or_behind_the_prose(
        flags: list[tuple[bool, bool]]) -> None:
    prose = np.array([p for p, _ in flags], dtype=bool)
    short = np.array([s for _, s in flags], dtype=bool)
    expected = []
    for i, (is_prose, is_short) in enumerate(flags):
        ahead = not is_prose and not prose[:i].any()
        behind = not is_prose and not prose[i + 1:].any()
        expected.append([ahead or behind, ahead, behind, is_prose, is_short])
    assert span_of(prose, short).tolist() == np.array(expected, dtype=float).reshape(-1, 5).tolist()


COHESION_WORDS = ["Harrow", "harrow", "HARROW", "council", "bridge", "İstanbul", "istanbul", "Straße",
                  "strasse", "that", "with", "x²yz", "٣٤٥٦", "abc_defg", "naïve", "Ärger", "ärger",
                  "東京都の天気", "e\u0301tude", "Σίσυφος", "ΣΊΣΥΦΟΣ"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.lists(st.one_of(st.sampled_from(COHESION_WORDS + ODD_PIECES),
                                             st.text(max_size=10)), max_size=80),
                          st.booleans()), max_size=12))
def test_compiled_cohesion_equals_the_python_form(blocks: list[tuple[list[str], bool]]) -> None:
    texts = [" ".join(words) for words, _ in blocks]
    prose = [flag for _, flag in blocks]
    assert compiled_own is not None
    assert cohesion_bins(texts, prose) == cohesion_bins_in_python(texts, prose)


def test_compiled_cohesion_equals_the_python_form_on_the_corpus(shared_corpus: Path) -> None:
    lines = corpus_lines()
    documents = [lines[start:start + 30] for start in range(0, len(lines), 30)]
    differing = [texts for texts in documents
                 if cohesion_bins(texts, [reads_as_prose(t) for t in texts])
                 != cohesion_bins_in_python(texts, [reads_as_prose(t) for t in texts])]
    assert len(documents) > 500
    assert differing == []


def test_a_teaser_for_another_story_shares_no_topic_with_the_article() -> None:
    texts = [("Harrow council approved the new river bridge on Tuesday after a long and heated "
             "debate in the town hall."),
             "Wendy Peters insists her rival singer is not well",
             ("The Harrow bridge will cost the council twelve million pounds, officials told "
             "reporters after the vote."),
             "Council leader Jo Bright said the bridge would open in 2027."]
    prose = [reads_as_prose(text) for text in texts]
    assert prose == [True, False, True, False]
    bins = cohesion_bins(texts, prose)
    assert bins[1] == 0  # none of its five topic words is in the article's paragraphs
    assert bins[3] == 2  # council and bridge are: 2 of 5, the 0.4-0.6 bin
