"""What the model sees: each block's words, characters and shape (shape.py), what its neighbours
and its place show it (context.py), as one sparse row per block."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from cleaner.context import (
    PlaceKey,
    document_place_features,
    document_place_keys,
    features_of_neighbour,
    features_of_place,
    neighbour_features,
    neighbour_key,
    offsets,
)
from cleaner.segment import INVISIBLE
from cleaner.shape import (
    CACHED_BLOCK_MAX_CHARS,
    SHAPE_KEYS,
    SUMMARY_CACHE_BLOCKS,
    Summary,
    bin_of,
    summary_of,
)

try:  # compiled from cleaner/_own.c at install when a C compiler is there; optional
    from cleaner import _own as compiled_own
except ImportError:  # pragma: no cover - exercised on machines without a compiler
    compiled_own = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

    from cleaner.blocks import Document

# Bump whenever a feature changes meaning: a saved model built with another version is refused.
FEATURE_VERSION = 8

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
Encoded = tuple[np.ndarray, np.ndarray]
# Set in the meta of a training document that copies another's blocks (train.cleaned_copy):
# `fit` counts a feature's documents without such copies.
COPY_OF = "copy_of"
# What a featurizer derives from its vocabulary while encoding: never pickled, dropped by fit.
CACHES = ("_columns_cache", "_keyed_cache", "_own_columns")
TEXT_PREFIXES = ("w:", "t:", "b:", "c:", "e:", "w0:", "w$:")


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


def document_features(texts: Sequence[str], window: int) -> list[list[str]]:
    """Return the feature names of every block of one document.

    A block's features are its own (from its text alone), its neighbours' (each from the
    neighbour's text and offset) and its place's; no name occurs in two of these groups, which
    lets `BlockFeaturizer.encode` cache the first two by text.
    """
    n = len(texts)
    return [own_features(text)
            + [f for o in offsets(window) if 0 <= i + o < n
               for f in neighbour_features(o, texts[i + o])]
            + place for i, (text, place)
            in enumerate(zip(texts, document_place_features(texts, window), strict=True))]


ArrayState = tuple[str, tuple[int, ...], bytes]


def array_state(array: np.ndarray) -> ArrayState:
    """Return an array as plain values (dtype, shape, bytes) that any unpickler reads."""
    return array.dtype.str, tuple(array.shape), array.tobytes()


def array_from_state(state: ArrayState) -> np.ndarray:
    """Return the (read-only) array that `array_state` described."""
    dtype, shape, data = state
    return np.frombuffer(data, dtype=np.dtype(dtype)).reshape(shape)


class BlockFeaturizer:
    """Turns documents into one sparse row per block (scikit-learn transformer contract).

    It does not subclass scikit-learn's BaseEstimator so that cleaning, which only calls
    `encode`, never pays scikit-learn's import time; `get_params`/`set_params` keep `clone` working.
    """

    def __init__(self, window: int = 2, min_df: int = 2, structure_weight: float = 3.0) -> None:
        self.window = window
        self.min_df = min_df
        self.structure_weight = structure_weight

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the constructor arguments."""
        return {"window": self.window, "min_df": self.min_df,
                "structure_weight": self.structure_weight}

    def set_params(self, **params: Any) -> BlockFeaturizer:
        """Set constructor arguments and return self."""
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def fit(self, docs: Iterable[Document], y: object = None) -> BlockFeaturizer:
        """Learn the vocabulary: every feature seen in at least `min_df` blocks."""
        counts: Counter[str] = Counter()
        for doc in docs:
            if COPY_OF in doc.meta:
                continue  # its blocks are its original's: counting them again would pass them all
            for feats in document_features([b.text for b in doc.blocks], self.window):
                counts.update(set(feats))
        kept = sorted(f for f, c in counts.items() if c >= self.min_df)
        self.vocabulary_ = {f: i for i, f in enumerate(kept)}
        for cache in CACHES:  # their columns belong to the old vocabulary
            self.__dict__.pop(cache, None)
        # Shape, rule and context features are few among many n-grams; a larger value lets them
        # carry weight under the same regularisation (3.0 chosen by grouped CV, fixtures+corpus).
        self.scale_ = np.array([1.0 if f.startswith(TEXT_PREFIXES) else self.structure_weight
                                for f in kept], dtype=np.float64)
        return self

    def __getstate__(self) -> dict[str, Any]:
        """Return the state to pickle: the vocabulary as one string, arrays as bytes.

        One joined string unpickles in a few milliseconds where 50,000 dict entries took 0.3 s
        under joblib's pure-Python unpickler; without array objects the model file is a plain
        pickle stream (see `store.load_model`).
        """
        state = dict(self.__dict__)
        for cache in CACHES:
            state.pop(cache, None)
        if "vocabulary_" in state:
            # Feature names come from single lines of text, so none contains a newline.
            state["vocabulary_"] = "\n".join(sorted(state["vocabulary_"],
                                                     key=state["vocabulary_"].__getitem__))
        if "scale_" in state:
            state["scale_"] = array_state(state["scale_"])
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore the state written by __getstate__."""
        if isinstance(state.get("vocabulary_"), str):
            names = state["vocabulary_"].split("\n") if state["vocabulary_"] else []
            state["vocabulary_"] = dict(zip(names, range(len(names)), strict=True))
        if isinstance(state.get("scale_"), tuple):
            state["scale_"] = array_from_state(state["scale_"])
        self.__dict__.update(state)

    def encode(self, doc: Document) -> Encoded:
        """Return (row starts, column indices) of the document's blocks, one row per block."""
        texts = [b.text for b in doc.blocks]
        n = len(texts)
        reach = offsets(self.window)
        starts: list[int] = []
        columns: list[int] = []
        for i, place in enumerate(document_place_keys(texts, self.window)):
            starts.append(len(columns))
            columns.extend(self.cached_columns(0, texts[i]))
            for offset in reach:
                if 0 <= i + offset < n:
                    columns.extend(self.cached_columns(offset, texts[i + offset]))
            columns.extend(self.place_columns(place))
        return np.asarray(starts, dtype=np.int64), np.asarray(columns, dtype=np.int64)

    def cached_columns(self, offset: int, text: str) -> list[int]:
        """Return the distinct columns of a block's own features (offset 0) or of what it shows
        the block `offset` places away, cached by text: each cleaning pass reads every
        remaining block again, and each block is read by its neighbours too."""
        cache: dict[tuple[int, str], list[int]] = self.__dict__.setdefault("_columns_cache", {})
        found = cache.get((offset, text))
        if found is None:
            if offset == 0:
                found = self.own_columns(text)
            else:
                found = self.keyed_columns((offset, neighbour_key(text)),
                                           lambda key: features_of_neighbour(*key))
            if len(text) <= CACHED_BLOCK_MAX_CHARS:
                if len(cache) >= COLUMNS_CACHE_ENTRIES:
                    cache.clear()  # cheaper than LRU bookkeeping; refills within a few documents
                cache[offset, text] = found
        return found

    def own_columns(self, text: str) -> list[int]:
        """Return the distinct columns of `own_features(text)`."""
        return self.own_lookup().of(text)

    def own_lookup(self) -> OwnColumns:
        """Return the lookup of own-feature columns, built on first use."""
        lookup: OwnColumns | None = self.__dict__.get("_own_columns")
        if lookup is None:
            lookup = self.__dict__["_own_columns"] = OwnColumns(self.vocabulary_)
        return lookup

    def place_columns(self, key: PlaceKey) -> list[int]:
        """Return the columns of a block's place features, cached by their key."""
        return self.keyed_columns(key, lambda place: features_of_place(place, self.window))

    def keyed_columns(self, key: Hashable, features: Callable[[Any], list[str]]) -> list[int]:
        """Return the columns of `features(key)`, cached by key. A neighbour's columns and a
        place's columns depend on a handful of values, which repeat across all documents.
        Both share one cache: a neighbour's key is a pair (offset, NeighbourKey) and a place's
        a 9-tuple, so the two never collide."""
        cache: dict[Hashable, list[int]] = self.__dict__.setdefault("_keyed_cache", {})
        found = cache.get(key)
        if found is None:
            if len(cache) >= COLUMNS_CACHE_ENTRIES:
                cache.clear()
            found = cache[key] = self.known_columns(features(key))
        return found

    def known_columns(self, feats: list[str]) -> list[int]:
        """Return the distinct vocabulary columns of `feats` (features are binary).

        set(map(dict.get)) then discarding None does in C what a filtering set comprehension
        did in Python (about a tenth of the cleaning time under cProfile, 2026-11-28)."""
        known = set(map(self.vocabulary_.get, feats))
        known.discard(None)  # a feature not in the vocabulary
        return list(known)  # type: ignore[arg-type]  # None is gone

    def transform(self, docs: Iterable[Document]) -> csr_matrix:
        """Return the binary block-by-feature matrix of all blocks of `docs`, in order."""
        from scipy.sparse import csr_matrix

        row_starts: list[np.ndarray] = []
        indices: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
        offset = 0
        for doc in docs:
            starts, columns = self.encode(doc)
            row_starts.append(starts + offset)  # each document's rows follow the previous ones
            indices.append(columns)
            offset += len(columns)
        indptr = np.concatenate([*row_starts, [offset]])
        flat = np.concatenate(indices)
        return csr_matrix((self.scale_[flat], flat, indptr),
                          shape=(len(indptr) - 1, len(self.vocabulary_)))

    def fit_transform(self, docs: Sequence[Document], y: object = None) -> csr_matrix:
        """Fit, then transform the same documents."""
        return self.fit(docs).transform(docs)
