"""The fast feature paths (cached columns, compiled lookups and sums) see what the plain ones see."""

from __future__ import annotations

import gzip
import json
import shutil
from itertools import islice
from typing import TYPE_CHECKING

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.features import BlockFeaturizer, document_features
from cleaner.fixtures import read_fixtures
from cleaner.model import (
    CONTEXT_OFFSETS,
    IS_PROSE,
    IS_SHORT,
    LABELS,
    LinearBlockModel,
    neighbour_sums,
    neighbour_sums_in_python,
    two_stages,
    two_stages_in_python,
)
from cleaner.ngrams import OwnColumns, compiled_own, own_features
from cleaner.segment import segment_text
from cleaner.shape import CACHED_BLOCK_MAX_CHARS, CASED_CHECKS, LOWER_CHECKS, summary_of
from cleaner.store import load_model

from .conftest import ROOT
from .samples import CORPUS_TEXT, ODD_PIECES, corpus_lines, fixture_blocks

if TYPE_CHECKING:
    from pathlib import Path

    from cleaner.blocks import Document


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


def test_summed_weights_equal_the_encoded_columns_summed() -> None:
    model = load_model()
    docs = [item.doc for item in read_fixtures([ROOT / "fixtures"])][:80]
    for _ in range(2):  # the second round reads the sums cached by the first
        for doc in docs:
            starts, columns = model.featurizer.encode(doc)
            expected = np.add.reduceat(model.weights[columns], starts, axis=0)
            np.testing.assert_allclose(model.summed_weights(doc), expected, rtol=0, atol=1e-9)


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
