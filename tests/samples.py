"""Texts the feature tests read: every fixture block, the shared corpus's first lines, and
odd pieces of text (apostrophes, scripts, combining marks, invisible characters)."""

from __future__ import annotations

import gzip
import json
from itertools import islice

from cleaner.fixtures import read_fixtures

from .conftest import ROOT, SHARED

CORPUS_TEXT = SHARED / "corpus" / "text" / "fakenewsnet.jsonl.gz"
CORPUS_ARTICLES = 1500
ODD_PIECES = ["don’t", "rock'n'roll", "'tis", "it's'", "İstanbul", "ß", "ǅ", "😀", "👍🏽",
              "snake_case", "_x_", "3.5", "x²", "٣", "中文字", "…", "\u00a0", "\u200b", "'", "’",
              "DON'T MISS", "[REPORT]", "a", "A B C", "é", "e\u0301", "“", "”", "«", "»", '"',
              "‘", "End.", ".", "Ⅻ"]


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
