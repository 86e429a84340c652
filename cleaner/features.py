"""What the model sees, as one sparse row per block: the words and characters of its text
(ngrams.py) with its shape and rule flags (shape.py), and what its neighbours and its place in
the document show it (context.py)."""

from __future__ import annotations

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
from cleaner.ngrams import COLUMNS_CACHE_ENTRIES, OwnColumns, own_features
from cleaner.shape import CACHED_BLOCK_MAX_CHARS

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

    from cleaner.blocks import Document

# Bump whenever a feature changes meaning: a saved model built with another version is refused.
FEATURE_VERSION = 10

Encoded = tuple[np.ndarray, np.ndarray]
# Set in the meta of a training document that copies another's blocks (train.cleaned_copy):
# `fit` counts a feature's documents without such copies.
COPY_OF = "copy_of"
# What a featurizer derives from its vocabulary while encoding: never pickled, dropped by fit.
CACHES = ("_columns_cache", "_keyed_cache", "_own_columns")
TEXT_PREFIXES = ("w:", "t:", "b:", "c:", "e:", "w0:", "w$:")


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
