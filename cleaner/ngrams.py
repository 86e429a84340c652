"""A block's own features: the words and character n-grams at its two ends, with its shape and
rule flags. As names for training (`own_features`), and as vocabulary columns found without
building those names for cleaning (`OwnColumns`)."""

from __future__ import annotations

import re
from bisect import bisect_left

import numpy as np

from cleaner.segment import INVISIBLE
from cleaner.shape import SHAPE_KEYS, SUMMARY_CACHE_BLOCKS, Summary, bin_of, summary_of

try:  # compiled from cleaner/_own.c at install when a C compiler is there; optional
    from cleaner import _own as compiled_own
except ImportError:  # pragma: no cover - exercised on machines without a compiler
    compiled_own = None  # type: ignore[assignment]

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
# Curly quotes read as straight ones, NBSP as a space; invisible characters are dropped.
NORMALIZE = (("’", "'"), ("‘", "'"), ("“", '"'), ("”", '"'), ("\u00a0", " "),
             *((c, "") for c in INVISIBLE))
# Boilerplate is recognisable from how a line starts and ends; reading only the ends of long
# paragraphs keeps the cost per block bounded (a 10 kB paragraph costs what a 60-char one does).
HEAD_CHARS = 28
TAIL_CHARS = 12
HEAD_WORDS = 24
TAIL_WORDS = 6
PAIR_WORDS = 8  # word pairs are read among the first words only
NWORDS_BINS = (2, 4, 7, 12, 20, 35, 60)
COLUMNS_CACHE_ENTRIES = 5 * SUMMARY_CACHE_BLOCKS  # own columns, and those seen at 4 offsets


def normalized(text: str) -> str:
    """Return `text` with NORMALIZE applied.

    str.translate with a mapping costs 15 us on a paragraph; a few replace() calls, skipped for
    ASCII text (isascii() is a flag lookup, and every character NORMALIZE maps is non-ASCII),
    cost about 1 us.
    """
    if text.isascii():
        return text
    for character, replacement in NORMALIZE:
        if character in text:
            text = text.replace(character, replacement)
    return text


def own_features(text: str) -> list[str]:
    """Return the feature names read from one block's own text."""
    norm = normalized(text).lower()
    words = WORD.findall(norm)
    head = words[:HEAD_WORDS]
    tail = words[-TAIL_WORDS:] if len(words) > HEAD_WORDS else []
    feats = ["w:" + w for w in head] + ["t:" + w for w in tail]
    feats += ["b:" + a + " " + b for a, b in zip(head[:PAIR_WORDS], head[1:PAIR_WORDS], strict=False)]
    if words:
        feats += ["w0:" + words[0], "w$:" + words[-1]]
    lead = "^" + norm[:HEAD_CHARS]
    feats += ["c:" + lead[i:i + 4] for i in range(len(lead) - 3)]
    end = norm[-TAIL_CHARS:] + "$"
    feats += ["e:" + end[i:i + 3] for i in range(len(end) - 2)]
    feats += ["nwords:" + str(bin_of(len(words), NWORDS_BINS))]
    shape, flags = summary_of(text)
    feats += [f"s:{k}={v}" for k, v in zip(SHAPE_KEYS, shape, strict=True)] + ["r:" + f for f in flags]
    return feats


# The prefixes of own_features' names.
OWN_PREFIXES = ("nwords:", "w0:", "w$:", "w:", "t:", "b:", "c:", "e:", "s:", "r:")
LEAD_GRAMS = [slice(i, i + 4) for i in range(HEAD_CHARS + 1 - 3)]
END_GRAMS = [slice(i, i + 3) for i in range(TAIL_CHARS + 1 - 2)]
# The feature kinds the compiled lookup (cleaner/_own.c) finds itself, in its order.
COMPILED_KINDS = ("w:", "t:", "b:", "w0:", "w$:", "c:", "e:", "nwords:")


class OwnColumns:
    """Finds the vocabulary columns of `own_features(text)` without building those names.

    Building about 75 names a block ("w:" + word, "c:" + four characters, ...) and hashing each
    new string to look it up was half of the cleaning time. Here the vocabulary is split by
    prefix, so a block's words and character slices are looked up as they are: by the compiled
    lookup (cleaner/_own.c) when it is built, else by one dictionary per prefix. A shape
    feature is found by its (key, value). `tests/test_features.py` checks that the columns are
    exactly those of own_features.
    """

    def __init__(self, vocabulary: dict[str, int]) -> None:
        # fit numbers the features in sorted order, so each prefix's names form one run of
        # columns, found by bisection: going through all 66,000 names cost 70 ms of each start.
        names = list(vocabulary)
        runs = {prefix: prefix_run(names, prefix) for prefix in OWN_PREFIXES}
        if any(vocabulary[names[lo]] != lo for lo, hi in runs.values() if hi > lo):
            raise ValueError("the vocabulary's columns are not in the order of its names")
        shapes = {tuple(name[2:].split("=", 1)): column
                  for column, name in enumerate(names[slice(*runs["s:"])], runs["s:"][0])}
        self.shape = shapes.get
        self.flag = {name[2:]: column for column, name
                     in enumerate(names[slice(*runs["r:"])], runs["r:"][0])}.get
        self.table = compiled_table(names, runs)
        self.names, self.runs = names, runs
        self.tables: dict[str, dict[str, int]] | None = None  # built if the Python path runs
        self.summaries: dict[Summary, list[int]] = {}

    def python_tables(self) -> dict[str, dict[str, int]]:
        """Return one dictionary per prefix, from the text after the prefix to the column."""
        if self.tables is None:
            self.tables = {prefix: {name[len(prefix):]: column for column, name
                                    in enumerate(self.names[lo:hi], lo)}
                           for prefix, (lo, hi) in self.runs.items()}
        return self.tables

    def of(self, text: str) -> list[int]:
        """Return the distinct columns of the block's own features (see own_features)."""
        if self.table is None:
            return self.of_in_python(text)
        return compiled_own.columns(self.table, normalized(text).lower()) + self.summary_columns(
            summary_of(text))

    def summary_columns(self, summary: Summary) -> list[int]:
        """Return the columns of a block's shape and rule flags (its `summary_of`), cached by
        summary: far fewer summaries occur than texts."""
        found = self.summaries.get(summary)
        if found is None:
            shape, flags = summary
            known = set(map(self.shape, zip(SHAPE_KEYS, shape, strict=True)))
            known.update(map(self.flag, flags))
            known.discard(None)
            if len(self.summaries) >= COLUMNS_CACHE_ENTRIES:
                self.summaries.clear()
            found = self.summaries[summary] = list(known)  # type: ignore[arg-type]  # no None
        return found

    def summed(self, texts: list[str], summaries: list[Summary],
               weights: np.ndarray) -> np.ndarray | None:
        """Return one row per text: the summed `weights` rows of `of(text)`, found and summed
        in one compiled call (None without the compiled module); `summaries` are the texts'
        `summary_of`."""
        if self.table is None:
            return None
        labels = weights.shape[1]
        raw = compiled_own.row_sums(self.table, [normalized(text).lower() for text in texts],
                                    [self.summary_columns(summary) for summary in summaries],
                                    np.ascontiguousarray(weights, dtype=np.float64), labels)
        return np.frombuffer(raw).reshape(len(texts), labels)

    def of_in_python(self, text: str) -> list[int]:
        """Return `of(text)` without the compiled lookup."""
        tables = self.python_tables()
        norm = normalized(text).lower()
        words = WORD.findall(norm)
        head = words[:HEAD_WORDS]
        found: set[int | None] = set(map(tables["w:"].get, head))
        if len(words) > HEAD_WORDS:
            found.update(map(tables["t:"].get, words[-TAIL_WORDS:]))
        pairs = zip(head[:PAIR_WORDS], head[1:PAIR_WORDS], strict=False)
        found.update(map(tables["b:"].get, map(" ".join, pairs)))
        if words:
            found.add(tables["w0:"].get(words[0]))
            found.add(tables["w$:"].get(words[-1]))
        lead = "^" + norm[:HEAD_CHARS]
        found.update(map(tables["c:"].get, map(lead.__getitem__, LEAD_GRAMS[:len(lead) - 3])))
        end = norm[-TAIL_CHARS:] + "$"
        found.update(map(tables["e:"].get, map(end.__getitem__, END_GRAMS[:len(end) - 2])))
        found.add(tables["nwords:"].get(str(bin_of(len(words), NWORDS_BINS))))
        shape, flags = summary_of(text)
        found.update(map(self.shape, zip(SHAPE_KEYS, shape, strict=True)))
        found.update(map(self.flag, flags))
        found.discard(None)  # a feature not in the vocabulary
        return list(found)  # type: ignore[arg-type]  # None is gone


def prefix_run(names: list[str], prefix: str) -> tuple[int, int]:
    """Return the slice of the sorted `names` that start with `prefix`."""
    after = prefix[:-1] + chr(ord(prefix[-1]) + 1)  # the first string past every such name
    return bisect_left(names, prefix), bisect_left(names, after)


def compiled_table(names: list[str], runs: dict[str, tuple[int, int]]) -> bytes | None:
    """Return the compiled lookup's table of these features, or None without the compiled
    module (a machine without a C compiler at install) or if two features share a hash."""
    if compiled_own is None:
        return None
    ranges = [(kind, names[slice(*runs[prefix])], len(prefix), runs[prefix][0])
              for kind, prefix in enumerate(COMPILED_KINDS)]
    try:
        table: bytes = compiled_own.table(ranges, HEAD_WORDS, TAIL_WORDS, PAIR_WORDS, HEAD_CHARS,
                                          TAIL_CHARS, NWORDS_BINS)
    except ValueError:
        return None
    return table
