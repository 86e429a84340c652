"""What a block's text looks like (cleaner/shape.py): the hinted and compiled rule and shape
paths see exactly what the plain ones see."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cleaner.rules import CASED_RULES, RULES, whole_patterns
from cleaner.shape import (
    CASED_CHECKS,
    LOWER_CHECKS,
    RULE_HEAD_CHARS,
    RULE_TAIL_CHARS,
    flags_of,
    shape_parts,
    shape_parts_in_python,
)

from .samples import ODD_PIECES, corpus_lines, fixture_blocks

if TYPE_CHECKING:
    from pathlib import Path


def plain_flags(text: str) -> list[str]:
    """Return the flags by searching every rule's whole pattern, with no hints."""
    if len(text) > RULE_HEAD_CHARS + RULE_TAIL_CHARS:
        text = text[:RULE_HEAD_CHARS] + " … " + text[-RULE_TAIL_CHARS:]
    return ([name for name, pattern in whole_patterns().items() if pattern.search(text.lower())]
            + [name for name, pattern in whole_patterns(cased=True).items()
               if pattern.search(text)])


def test_hinted_flags_equal_plain_search_on_fixtures_and_corpus(shared_corpus: Path) -> None:
    blocks = fixture_blocks() + corpus_lines()
    differing = [text for text in blocks if flags_of(text) != plain_flags(text)]
    assert len(blocks) > 5000
    assert differing == []


# Strings built from every hint and regex fragment the rules name, so that hinted branches are
# exercised on near-misses (a hint without its match, a match at a cut boundary).
FRAGMENTS = sorted({hint for rules in (RULES, CASED_RULES) for branches in rules.values()
                    for _, hints in branches for hint in hints}
                   | {"DON'T MISS", "Posted by", "10:30", "Jan 5, 2024", "3 pm ET", "(@bob) said 4",
                      "PA", "Reuters", "@x.com", "a@b.co", "[REPORT]", "Getty Images", " 7", "am",
                      "By Jo", "min read", "©", "Source:"})


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), max_size=12))
def test_hinted_flags_equal_plain_search_on_generated_lines(pieces: list[str]) -> None:
    text = " ".join(pieces)
    assert flags_of(text) == plain_flags(text)


# Three branches are written literal first for speed; each must match exactly where its plain
# \b form does (rules.py), on the pieces that sit at a word boundary or just miss one.
PLAIN_FORMS = {
    r"\bpa\b": r"pa(?<!\wpa)(?!\w)",
    r"\b(am|pm|a\.m\.|p\.m\.)\s*(et|est|edt|pt|gmt|bst)?$":
        r"[ap](?<!\w[ap])(?:m|\.m\.)\s*(?:et|est|edt|pt|gmt|bst)?$",
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*\.? \d{1,2},? \d{4}":
        r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
        r"(?<!\w(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec))\w*\.? \d{1,2},? \d{4}",
}
BOUNDARY_PIECES = ["pa", "spa", "pas", "am", "pm", "a.m.", "p.m.", "xam", "et", "gmt", "jan",
                   "ajan", "january", "sept.", "5,", "12", "2024", "1999", "_", "é", "-", " ", "\n"]


def test_the_literal_first_forms_are_the_rules_own_branches() -> None:
    branches = {regex for branches in RULES.values() for regex, _ in branches}
    assert set(PLAIN_FORMS.values()) <= branches


@settings(max_examples=600, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(BOUNDARY_PIECES), st.text(max_size=3)), max_size=10))
def test_literal_first_branches_equal_plain_forms_on_generated_text(pieces: list[str]) -> None:
    text = "".join(pieces)
    for plain, fast in PLAIN_FORMS.items():
        assert bool(re.search(plain, text)) == bool(re.search(fast, text)), (plain, text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(ODD_PIECES), st.text(max_size=12)), min_size=1,
                max_size=60))
def test_compiled_shape_parts_equal_python_parts(pieces: list[str]) -> None:
    text = " ".join(pieces)
    assume(text)
    assert shape_parts(text) == shape_parts_in_python(text)


def test_compiled_shape_parts_equal_python_parts_on_the_corpus(shared_corpus: Path) -> None:
    blocks = fixture_blocks() + corpus_lines()
    assert [text for text in blocks if shape_parts(text) != shape_parts_in_python(text)] == []


def test_an_empty_block_has_no_shape_in_either_path() -> None:
    with pytest.raises(IndexError):
        shape_parts_in_python("")
    with pytest.raises(IndexError):
        shape_parts("")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.sampled_from(ODD_PIECES),
                          st.text(max_size=6)), max_size=12))
def test_compiled_branch_picks_equal_plain_substring_checks(pieces: list[str]) -> None:
    text = "".join(pieces)
    for checks in (LOWER_CHECKS, CASED_CHECKS):
        assert checks.matching(text) == checks.matching_in_python(text)
        assert checks.matching(text.lower()) == checks.matching_in_python(text.lower())


@pytest.mark.parametrize(("line", "flag"), [
    ("Create an account or sign in to continue with your reading experience.", "paywall"),
    ("You have 2 free articles remaining this month. Subscribe for unlimited access.", "paywall"),
    ("Already a subscriber? Log in", "paywall"),
    ("Support local journalism.", "paywall"),
    ("Thanks for signing up! A welcome email is on its way.", "newsletter"),
    ("This advertisement has not loaded yet, but your article continues below.", "ad"),
    ("We may earn commission from links on this page.", "ad"),
    ("Most Popular", "promo_header"),
    ("Editor’s picks", "promo_header"),
    ("RELATED STORIES", "promo_header"),
    ("More in Arts", "promo_header"),
    ("Read more", "promo_header"),
])
def test_paywalls_ad_notices_and_teaser_headings_are_flagged(line: str, flag: str) -> None:
    assert flag in flags_of(line)


@pytest.mark.parametrize("line", [
    "The treaty was signed in 1991 and ratified two years later.",
    "Related measures were announced by the council on Tuesday.",
    "More than 200 residents attended the meeting.",
    "Most popular among younger voters was the housing pledge.",
    "The company said it continues to review the advertisement rules.",
])
def test_article_sentences_with_the_same_words_are_not_flagged(line: str) -> None:
    assert not {"paywall", "promo_header", "ad"} & set(flags_of(line))
