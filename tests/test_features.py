"""The fast feature paths (hinted rule branches, cached columns) see what the plain ones see."""

from __future__ import annotations

import gzip
import json
from itertools import islice
from typing import TYPE_CHECKING

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.features import (
    CACHED_BLOCK_MAX_CHARS,
    RULE_HEAD_CHARS,
    RULE_TAIL_CHARS,
    BlockFeaturizer,
    document_features,
    flags_of,
)
from cleaner.fixtures import read_fixtures
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
