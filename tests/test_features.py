"""The fast feature paths (hinted rule branches, cached columns) see what the plain ones see."""

from __future__ import annotations

import gzip
import json
import re
import shutil
from itertools import islice
from typing import TYPE_CHECKING

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cleaner.features import (
    CACHED_BLOCK_MAX_CHARS,
    CASED_CHECKS,
    LOWER_CHECKS,
    RULE_HEAD_CHARS,
    RULE_TAIL_CHARS,
    BlockFeaturizer,
    OwnColumns,
    cohesion_bins,
    cohesion_bins_in_python,
    compiled_own,
    document_features,
    flags_of,
    own_features,
    shape_parts,
    shape_parts_in_python,
    span_of,
    summary_of,
)
from cleaner.features import is_prose as reads_as_prose
from cleaner.fixtures import read_fixtures
from cleaner.model import (
    CONTEXT_OFFSETS,
    IS_PROSE,
    IS_SHORT,
    LABELS,
    LinearBlockModel,
    load_model,
    neighbour_sums,
    neighbour_sums_in_python,
    two_stages,
    two_stages_in_python,
)
from cleaner.rules import CASED_RULES, RULES, whole_patterns
from cleaner.segment import segment_text

from .conftest import ROOT, SHARED

if TYPE_CHECKING:
    from pathlib import Path

    from cleaner.blocks import Document

CORPUS_TEXT = SHARED / "corpus" / "text" / "fakenewsnet.jsonl.gz"
CORPUS_ARTICLES = 1500


def plain_flags(text: str) -> list[str]:
    """Return the flags by searching every rule's whole pattern, with no hints."""
    if len(text) > RULE_HEAD_CHARS + RULE_TAIL_CHARS:
        text = text[:RULE_HEAD_CHARS] + " … " + text[-RULE_TAIL_CHARS:]
    return ([name for name, pattern in whole_patterns().items() if pattern.search(text.lower())]
            + [name for name, pattern in whole_patterns(cased=True).items()
               if pattern.search(text)])


def fixture_blocks() -> list[str]:
    """Return the text of every block of every labeled fixture."""
    items = read_fixtures([ROOT / "fixtures"])
    return [block.text for item in items for block in item.doc.blocks]


def corpus_lines() -> list[str]:
    """Return the non-blank lines of the first articles of the shared corpus (none without it)."""
    if not CORPUS_TEXT.exists():
        return []
    with gzip.open(CORPUS_TEXT, "rt", encoding="utf-8") as lines:
        texts = [json.loads(line)["text"] for line in islice(lines, CORPUS_ARTICLES)]
    return [line.strip() for text in texts for line in text.splitlines() if line.strip()]


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


def assert_encoding_matches_training_features(featurizer: BlockFeaturizer, doc: Document) -> None:
    """Check that `encode` gives each block exactly the columns of its training features."""
    vocab = featurizer.vocabulary_
    starts, columns = featurizer.encode(doc)
    rows = [set(row) for row in np.split(columns, starts[1:])] if len(starts) else []
    expected = [{vocab[f] for f in feats if f in vocab}
                for feats in document_features([b.text for b in doc.blocks], featurizer.window)]
    assert rows == expected
    assert sum(len(row) for row in rows) == len(columns)  # no column counted twice


def test_cached_encoding_equals_the_training_features() -> None:
    docs = [item.doc for item in read_fixtures([ROOT / "fixtures"])][:60]
    featurizer = BlockFeaturizer(min_df=1).fit(docs)
    for _ in range(2):  # the second round reads the cache filled by the first
        for doc in docs:
            assert_encoding_matches_training_features(featurizer, doc)


def test_long_blocks_are_encoded_alike_but_never_cached() -> None:
    docs = [item.doc for item in read_fixtures([ROOT / "fixtures"])][:20]
    featurizer = BlockFeaturizer(min_df=1).fit(docs)
    long_block = "The council said the rules would change. " * 200  # 8,200 characters
    doc = segment_text(f"A headline\n{long_block}\nRead more: another story\n")
    for _ in range(2):
        assert_encoding_matches_training_features(featurizer, doc)
    cached = featurizer.__dict__.get("_columns_cache", {})
    assert len(cached) == 2 * 3  # each short block: its own columns, and as seen at 2 offsets
    assert max(len(text) for _, text in cached) <= CACHED_BLOCK_MAX_CHARS


def test_the_compiled_lookups_are_built_where_a_compiler_is() -> None:
    # Without a C compiler the package installs without cleaner/_own.c and cleaning is about
    # 1.7x slower; with one, a build that silently failed would go unnoticed but for this test.
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        pytest.skip("no C compiler on this machine")
    assert compiled_own is not None
    assert OwnColumns(load_model().featurizer.vocabulary_).table is not None
    assert LOWER_CHECKS.table is not None
    assert CASED_CHECKS.table is not None


# Words, apostrophes, cases and scripts on which the compiled word splitting and n-grams must
# agree with the regex and slicing of own_features: curly and straight apostrophes, a dotted
# capital I (two characters once lower-cased), emoji beyond the BMP, underscores, digits.
ODD_PIECES = ["don’t", "rock'n'roll", "'tis", "it's'", "İstanbul", "ß", "ǅ", "😀", "👍🏽",
              "snake_case", "_x_", "3.5", "x²", "٣", "中文字", "…", "\u00a0", "\u200b", "'", "’",
              "DON'T MISS", "[REPORT]", "a", "A B C", "é", "e\u0301", "“", "”", "«", "»", '"',
              "‘", "End.", ".", "Ⅻ"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(ODD_PIECES), st.text(min_size=1, max_size=12)),
                min_size=1, max_size=120))  # beyond 60 words: the compiled tail is read backward
def test_compiled_own_columns_equal_own_features(pieces: list[str]) -> None:
    text = " ".join(pieces).strip() or "x"
    featurizer = own_columns_featurizer()
    lookup = OwnColumns(featurizer.vocabulary_)
    expected = set(featurizer.known_columns(own_features(text)))
    got = lookup.of(text)
    assert set(got) == expected
    assert len(got) == len(expected)  # no column twice
    assert set(lookup.of_in_python(text)) == expected


def own_columns_featurizer() -> BlockFeaturizer:
    """Return a featurizer whose vocabulary holds every feature of the odd pieces and fixtures,
    so that lookups of rare words and characters are exercised, not only misses."""
    global _FEATURIZER
    if _FEATURIZER is None:
        lines = fixture_blocks()[:400] + ODD_PIECES + [" ".join(ODD_PIECES)]
        _FEATURIZER = BlockFeaturizer(min_df=1).fit([segment_text("\n".join(lines))])
    return _FEATURIZER


_FEATURIZER: BlockFeaturizer | None = None


def test_compiled_own_columns_equal_own_features_on_the_corpus(shared_corpus: Path) -> None:
    featurizer = load_model().featurizer
    lookup = OwnColumns(featurizer.vocabulary_)
    blocks = list(dict.fromkeys(fixture_blocks() + corpus_lines()))
    differing = [text for text in blocks
                 if sorted(lookup.of(text)) != sorted(featurizer.known_columns(own_features(text)))]
    assert len(blocks) > 5000
    assert differing == []


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.sampled_from(ODD_PIECES),
                          st.text(max_size=6)), max_size=12))
def test_compiled_branch_picks_equal_plain_substring_checks(pieces: list[str]) -> None:
    text = "".join(pieces)
    for checks in (LOWER_CHECKS, CASED_CHECKS):
        assert checks.matching(text) == checks.matching_in_python(text)
        assert checks.matching(text.lower()) == checks.matching_in_python(text.lower())


def test_summed_weights_equal_the_encoded_columns_summed() -> None:
    model = load_model()
    docs = [item.doc for item in read_fixtures([ROOT / "fixtures"])][:80]
    for _ in range(2):  # the second round reads the sums cached by the first
        for doc in docs:
            starts, columns = model.featurizer.encode(doc)
            expected = np.add.reduceat(model.weights[columns], starts, axis=0)
            np.testing.assert_allclose(model.summed_weights(doc), expected, rtol=0, atol=1e-9)


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


def test_compiled_row_sums_equal_the_columns_summed(shared_corpus: Path) -> None:
    model = load_model()
    lookup = model.featurizer.own_lookup()
    texts = list(dict.fromkeys(fixture_blocks() + corpus_lines() + ODD_PIECES))
    summed = lookup.summed(texts, [summary_of(text) for text in texts], model.weights)
    assert summed is not None
    expected = model.column_sums([lookup.of(text) for text in texts])
    np.testing.assert_allclose(summed, expected, rtol=0, atol=1e-12)


def test_compiled_row_sums_refuse_weights_that_do_not_fit() -> None:
    model = load_model()
    table = model.featurizer.own_lookup().table
    assert table is not None
    assert compiled_own is not None
    labels = model.weights.shape[1]
    with pytest.raises(IndexError):  # the table's columns are past these few rows
        compiled_own.row_sums(table, ["the quick brown fox"], [[]], model.weights[:3], labels)
    with pytest.raises(IndexError):
        compiled_own.row_sums(table, [""], [[10**9]], model.weights, labels)
    with pytest.raises(ValueError, match="do not fit"):
        compiled_own.row_sums(table, ["a"], [], model.weights, labels)
    with pytest.raises(TypeError):
        compiled_own.row_sums(table, [b"a"], [[]], model.weights, labels)


def test_summed_weights_stay_exact_when_the_neighbour_table_refills(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import cleaner.model

    monkeypatch.setattr(cleaner.model, "COLUMNS_CACHE_ENTRIES", 40)  # refills every few documents
    model = load_model()
    docs = [item.doc for item in read_fixtures([ROOT / "fixtures"])][:40]
    for doc in docs + docs:
        starts, columns = model.featurizer.encode(doc)
        expected = np.add.reduceat(model.weights[columns], starts, axis=0)
        np.testing.assert_allclose(model.summed_weights(doc), expected, rtol=0, atol=1e-9)
    assert len(model.facts.ids) <= 40 + max(len(doc.blocks) for doc in docs)


def test_column_sums_handle_empty_rows_anywhere() -> None:
    model = load_model()
    rows = [[], [3, 5], [], [7], [1, 2, 4], [], []]
    expected = np.array([model.weights[row].sum(axis=0) for row in rows]).reshape(len(rows), -1)
    np.testing.assert_allclose(model.column_sums(rows), expected, rtol=0, atol=1e-12)
    assert model.column_sums([[], []]).shape == (2, model.weights.shape[1])


def test_summed_weights_stay_exact_for_long_blocks_that_are_not_kept() -> None:
    model = load_model()
    long_a = "The council met again. " * (CACHED_BLOCK_MAX_CHARS // 20)
    long_b = "Share this article on Facebook! " * (CACHED_BLOCK_MAX_CHARS // 25)
    for texts in (["Headline", long_a, "READ MORE: other news", long_a, long_b],
                  [long_b, "Short line.", long_a], ["Headline", long_a, "READ MORE: other news"]):
        doc = segment_text("\n".join(texts))
        starts, columns = model.featurizer.encode(doc)
        expected = np.add.reduceat(model.weights[columns], starts, axis=0)
        np.testing.assert_allclose(model.summed_weights(doc), expected, rtol=0, atol=1e-9)
    assert long_a not in model.facts.ids
    assert long_b not in model.facts.ids
    assert "READ MORE: other news" in model.facts.ids


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


def both_stages_both_ways(model: LinearBlockModel, doc: Document) -> tuple[np.ndarray, ...]:
    """Return a document's probabilities through the compiled and the numpy second stage."""
    texts = [block.text for block in doc.blocks]
    facts = model.facts_of(texts)
    scores = model.summed_from(texts, facts)
    assert model.context_weights is not None
    assert model.context_bias is not None
    parts = (scores, model.bias, facts[:, IS_PROSE] > 0, facts[:, IS_SHORT] > 0,
             model.context_weights, model.context_bias)
    return two_stages(*parts), two_stages_in_python(*parts)


def test_compiled_two_stages_equal_the_context_matrix_path(shared_corpus: Path) -> None:
    model = load_model()
    docs = [item.doc for item in read_fixtures([ROOT / "fixtures"])]
    with gzip.open(CORPUS_TEXT, "rt", encoding="utf-8") as lines:
        docs += [segment_text(json.loads(line)["text"]) for line in islice(lines, 300)]
    docs += [segment_text("One line."), segment_text("Short\nA paragraph that reads as prose.")]
    for doc in docs:
        compiled, plain = both_stages_both_ways(model, doc)
        np.testing.assert_allclose(compiled, plain, rtol=0, atol=1e-12)
        assert compiled.shape == (len(doc.blocks), len(LABELS))


def test_compiled_two_stages_refuse_inputs_that_do_not_fit() -> None:
    model = load_model()
    assert compiled_own is not None
    assert model.context_weights is not None
    scores, flags = np.zeros((3, len(LABELS))), np.zeros(3, dtype=bool)
    weights, bias = np.ascontiguousarray(model.context_weights), model.context_bias
    with pytest.raises(ValueError, match="do not fit"):  # four flags for three blocks
        compiled_own.two_stages(scores, model.bias, np.zeros(4, dtype=bool), flags,
                                CONTEXT_OFFSETS, weights, bias)
    with pytest.raises(ValueError, match="do not fit"):  # one offset fewer than the weights
        compiled_own.two_stages(scores, model.bias, flags, flags, CONTEXT_OFFSETS[:-1],
                                weights, bias)
    with pytest.raises(TypeError):
        compiled_own.two_stages(scores, model.bias, flags, flags, 7, weights, bias)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 9), max_size=25), st.integers(1, 3))
def test_compiled_neighbour_sums_equal_the_sliced_sums(rows: list[int], window: int) -> None:
    reach = [o for o in range(-window, window + 1) if o]
    table = np.random.default_rng(len(rows)).normal(size=(10, len(reach), len(LABELS)))
    picked = np.array(rows, dtype=np.intp)
    np.testing.assert_allclose(neighbour_sums(picked, table, reach),
                               neighbour_sums_in_python(picked, table, reach), rtol=0, atol=1e-12)


def test_compiled_neighbour_sums_refuse_rows_past_the_table() -> None:
    assert compiled_own is not None
    table = np.zeros((3, 4, len(LABELS)))
    with pytest.raises(IndexError):
        compiled_own.neighbour_sums(np.array([0, 3], dtype=np.intp), table, [-2, -1, 1, 2])
    with pytest.raises(ValueError, match="do not fit"):  # the table holds 4 offsets, not 3
        compiled_own.neighbour_sums(np.array([0], dtype=np.intp), table, [-1, 1, 2])
    with pytest.raises(ValueError, match="do not fit"):  # not float64
        compiled_own.neighbour_sums(np.array([0], dtype=np.intp), table.astype(np.float32),
                                    [-2, -1, 1, 2])


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
