"""Build, train, save, load and run the block classifier."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from cleaner.blocks import KEPT_LABELS, Document, Label
from cleaner.context import (
    NeighbourKey,
    PlaceKey,
    features_of_neighbour,
    features_of_place,
    is_promo_header,
    key_of_summary,
    offsets,
    place_keys,
    span_of,
)
from cleaner.features import BlockFeaturizer, array_from_state, array_state
from cleaner.ngrams import COLUMNS_CACHE_ENTRIES
from cleaner.shape import CACHED_BLOCK_MAX_CHARS, is_prose, is_short, summary_of

try:  # see shape.py: the compiled loops are optional
    from cleaner import _own as compiled_own
except ImportError:  # pragma: no cover - exercised on machines without a compiler
    compiled_own = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

SEED = 20261125
LABELS = tuple(Label)
KEPT_COLUMNS = np.array([label in KEPT_LABELS for label in LABELS])
KEPT_MASS = KEPT_COLUMNS.astype(np.float64)
# The estimators compared by grouped cross-validation (`cleaner train --compare`).
CANDIDATES: dict[str, dict[str, Any]] = {
    "logreg-C0.025": {"C": 0.025},
    "logreg-C0.05": {"C": 0.05},
    "logreg-C0.1": {"C": 0.1},
    "logreg-C0.25": {"C": 0.25},
    "logreg-C1": {"C": 1.0},
    "logreg-C4": {"C": 4.0},
    "logreg-C1-balanced": {"C": 1.0, "class_weight": "balanced"},
}
# Chosen by `cleaner train --compare` (grouped CV): noise removed at 99.5 % content kept on
# hand-labeled unseen sites. 2026-12-04, on today's training data: C0.025 0.632, C0.05 0.647,
# C0.1 0.631, C0.25 0.610, C1 0.553, C4 0.434, C1-balanced 0.385 (C0.025 and C0.05, new that
# day, were run with --estimator). On 2026-11-25, with less data, C0.25 had led (0.648, C0.1 0.635).
DEFAULT_ESTIMATOR = "logreg-C0.05"


@dataclass(frozen=True, slots=True)
class LinearBlockModel:
    """The fitted pipeline in the form cleaning runs: vocabulary, weights, keep threshold.

    Cleaning needs only numpy: scikit-learn's import alone costs more than the whole cold start
    budget, so the fitted LogisticRegression is exported to its coefficients.
    """

    featurizer: BlockFeaturizer
    weights: np.ndarray  # (n_features, n_labels), columns in LABELS order
    bias: np.ndarray  # (n_labels,)
    keep_threshold: float
    # The second stage reads the first stage's probabilities of each block and its neighbours
    # (a run of teasers under a promo header, a short quote line between quoted paragraphs).
    context_weights: np.ndarray | None = None  # (CONTEXT_COLUMNS, n_labels)
    context_bias: np.ndarray | None = None
    # What a place adds (by key, in `sums`), what is read of a text (by text, in `facts`) and
    # what a neighbour adds (by key, in `shown`): worked out once, never pickled.
    sums: dict[Hashable, np.ndarray] = field(default_factory=dict, repr=False, compare=False)
    facts: RowTable = field(default_factory=lambda: RowTable(), repr=False, compare=False)
    shown: RowTable = field(default_factory=lambda: RowTable(), repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        """Return the fields to pickle, arrays as plain bytes (see `load_model`)."""
        return {name: array_state(value) if isinstance(value, np.ndarray) else value
                for name, value in ((f.name, getattr(self, f.name)) for f in fields(self))
                if name not in UNPICKLED}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore the fields written by __getstate__."""
        object.__setattr__(self, "sums", {})  # the dataclass is frozen
        object.__setattr__(self, "facts", RowTable())
        object.__setattr__(self, "shown", RowTable())
        for name, value in state.items():
            restored = array_from_state(value) if isinstance(value, tuple) else value
            object.__setattr__(self, name, restored)

    def first_stage(self, doc: Document) -> np.ndarray:
        """Return the first stage's label probabilities, one row per block."""
        if not doc.blocks:
            return np.zeros((0, len(LABELS)))
        texts = [block.text for block in doc.blocks]
        return self.first_from(texts, self.facts_of(texts))

    def first_from(self, texts: list[str], facts: np.ndarray) -> np.ndarray:
        """Return `first_stage` of the blocks with these texts and `facts_of` them."""
        return softmax(self.summed_from(texts, facts) + self.bias)

    def summed_weights(self, doc: Document) -> np.ndarray:
        """Return per block the sum of the weights of its columns in `featurizer.encode(doc)`."""
        texts = [block.text for block in doc.blocks]
        return self.summed_from(texts, self.facts_of(texts))

    def summed_from(self, texts: list[str], facts: np.ndarray) -> np.ndarray:
        """Return `summed_weights` of the blocks with these texts and `facts_of` them.

        A block's columns are its own, those each neighbour shows it and those of its place.
        Each group's summed weights are cached (own by text, the others by their few-valued
        keys), so a block costs a few table rows instead of gathering and summing about 100
        weight rows; only the order of the floating-point additions differs.
        """
        window = self.featurizer.window
        total = facts[:, :OWN_END]  # a copy already: `facts` came from a gather
        total += neighbour_sums(facts[:, SHOWN_ROW].astype(np.intp), self.shown.table,
                                offsets(window))
        places = place_keys(texts, (facts[:, IS_PROSE] > 0).tolist(),
                            (facts[:, IS_HEADER] > 0).tolist(), window)
        total += np.array([self.place_sum(place) for place in places])
        return total

    def facts_of(self, texts: list[str]) -> np.ndarray:
        """Return one row of TEXT_FACTS per text, worked out once per distinct text.

        Cleaning reads every block again on each pass and sites repeat their boilerplate, so a
        text's own sums, neighbour key and flags cost one table row after the first time.
        """
        if self.facts.full_for(texts):
            self.facts.clear()
        # Far fewer neighbour keys than texts occur (3,195 in the corpus's 140,026 texts), so
        # `shown` outlives many refills of `facts`; when it fills, the facts' rows naming its
        # rows go too. Emptied with every refill, it cost 6 % of cleaning to rebuild.
        if self.shown.full_for(texts):
            self.shown.clear()
            self.facts.clear()
        rows = self.facts.rows(texts, self.new_facts, cached=cacheable)  # may grow the table
        facts: np.ndarray = self.facts.table[rows]
        return facts

    def new_facts(self, texts: list[str]) -> np.ndarray:
        """Return the TEXT_FACTS rows of texts not seen yet."""
        summaries = [summary_of(text) for text in texts]
        own = self.featurizer.own_lookup().summed(texts, summaries, self.weights)
        if own is None:  # no compiled module
            own = self.column_sums([self.featurizer.own_columns(text) for text in texts])
        keys = [key_of_summary(summary) for summary in summaries]
        shown = self.shown.rows(keys, self.shown_sums)
        flags = [(is_prose(text), is_short(text), is_promo_header(summary))
                 for text, summary in zip(texts, summaries, strict=True)]
        return np.hstack([own, shown[:, None], np.array(flags, dtype=np.float64)])

    def column_sums(self, columns: list[list[int]]) -> np.ndarray:
        """Return one row per list of columns: the sum of their weight rows (zero if none)."""
        lengths = np.array([len(row) for row in columns], dtype=np.int64)
        flat = [column for row in columns for column in row]
        summed = np.zeros((len(columns), len(LABELS)))
        if flat:
            # reduceat sums from each start to the next, so only the non-empty runs are given
            # (an empty run would get its start's row, and at the end a start past the data).
            filled = lengths > 0
            starts = (np.cumsum(lengths) - lengths)[filled]
            summed[filled] = np.add.reduceat(self.weights[flat], starts, axis=0)
        return summed

    def place_sum(self, place: PlaceKey) -> np.ndarray:
        """Return the summed weights of the columns of a place (see features_of_place)."""
        found = self.sums.get(place)
        if found is None:
            feats = features_of_place(place, self.featurizer.window)
            found = self.weights[self.featurizer.known_columns(feats)].sum(axis=0)
            self.remember(place, found)
        return found

    def shown_sums(self, keys: list[NeighbourKey]) -> np.ndarray:
        """Return what a neighbour with each key adds at each offset: (keys, offsets, labels)."""
        return np.array([[self.weights[self.featurizer.known_columns(
            features_of_neighbour(offset, key))].sum(axis=0)
            for offset in offsets(self.featurizer.window)] for key in keys])

    def remember(self, key: Hashable, value: np.ndarray) -> None:
        """Cache a sum, emptying the cache when full (it refills within a few documents)."""
        if len(self.sums) >= 2 * COLUMNS_CACHE_ENTRIES:
            self.sums.clear()
        self.sums[key] = value

    def probabilities(self, doc: Document) -> np.ndarray:
        """Return one row of label probabilities (LABELS order) per block of `doc`."""
        if not doc.blocks:
            return np.zeros((0, len(LABELS)))
        texts = [block.text for block in doc.blocks]
        facts = self.facts_of(texts)
        scores = self.summed_from(texts, facts)
        if self.context_weights is None or self.context_bias is None:
            return softmax(scores + self.bias)
        return two_stages(scores, self.bias, facts[:, IS_PROSE] > 0, facts[:, IS_SHORT] > 0,
                          self.context_weights, self.context_bias)


UNPICKLED = ("sums", "facts", "shown")  # caches, worked out while cleaning
# The columns of a row of `LinearBlockModel.facts`: a text's own summed weights, one per label;
# the row of its neighbour key in `shown`; then 1.0 or 0.0 for prose, short and promo header.
OWN_END = len(LABELS)
SHOWN_ROW, IS_PROSE, IS_SHORT, IS_HEADER = range(OWN_END, OWN_END + 4)


def cacheable(text: str) -> bool:
    """Return True for a text whose facts are kept: long ones would hold megabytes of keys."""
    return len(text) <= CACHED_BLOCK_MAX_CHARS


class RowTable:
    """Rows of one growing table, found by key: a document's rows are then one gather.

    Looking up each block's sums in dictionaries cost several lookups of nested tuples a block.
    Keys not kept (`cached` false) get rows past the kept ones, which the next call reuses.
    """

    def __init__(self) -> None:
        self.ids: dict[Hashable, int] = {}
        self.table = np.zeros((0, 0))

    def full_for(self, keys: list[Any]) -> bool:
        """Return True when adding these keys could take the table past its size."""
        return len(self.ids) + len(keys) > COLUMNS_CACHE_ENTRIES

    def clear(self) -> None:
        """Forget every row (a full cache starts again: it refills within a few documents)."""
        self.ids.clear()

    def rows(self, keys: list[Any], rows_of: Callable[[list[Any]], np.ndarray],
             cached: Callable[[Any], bool] = lambda key: True) -> np.ndarray:
        """Return the table row of each key, adding the keys not in it (their rows from
        `rows_of`, given the new keys in a list)."""
        ids = self.ids
        new = [key for key in dict.fromkeys(keys) if key not in ids]
        if not new:
            return np.array([ids[key] for key in keys], dtype=np.intp)
        kept = [key for key in new if cached(key)]
        passing = [key for key in new if not cached(key)]
        added = rows_of(kept + passing)
        start = len(ids)
        if start + len(added) > len(self.table):  # grow by doubling: few copies in all
            grown = np.zeros((max(64, 2 * (start + len(added))), *added.shape[1:]))
            if start:
                grown[:start] = self.table[:start]
            self.table = grown
        self.table[start:start + len(added)] = added
        ids.update((key, start + i) for i, key in enumerate(kept))
        if not passing:
            return np.array([ids[key] for key in keys], dtype=np.intp)
        scratch = {key: start + len(kept) + i for i, key in enumerate(passing)}
        return np.array([scratch[key] if key in scratch else ids[key] for key in keys],
                        dtype=np.intp)


def softmax(scores: np.ndarray) -> np.ndarray:
    """Return row-wise probabilities from scores."""
    scores = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    probabilities: np.ndarray = exp / exp.sum(axis=1, keepdims=True)
    return probabilities


CONTEXT_OFFSETS = (0, -1, 1, -2, 2, -3, 3)


def context_matrix(first: np.ndarray, span: np.ndarray) -> np.ndarray:
    """Return, per block, the first-stage probabilities of itself and its neighbours.

    Positions outside the document read as zeros, plus one column per offset saying so. The
    block's place relative to the article's prose (`span_columns`) is added, alone and
    crossed with its own probabilities, since a noise-like line outside the prose is noise
    far more often than one between two paragraphs. Cleaning reads these columns in place
    (`two_stages`, in cleaner/_own.c): a change here is a change there too, and
    tests/test_features.py checks that both give the same probabilities.
    """
    n, k = first.shape
    padded = np.zeros((n + 6, k + 1))
    padded[:, k] = 1.0
    padded[3:n + 3, :k] = first
    padded[3:n + 3, k] = 0.0
    outside = span[:, :1]
    return np.hstack([padded[3 + o:n + 3 + o] for o in CONTEXT_OFFSETS]
                     + [span, first * outside])


def neighbour_sums(rows: np.ndarray, table: np.ndarray, reach: list[int]) -> np.ndarray:
    """Return per block what its neighbours show it: the sum over the offsets j of
    `table[rows[i + reach[j]], j]`, for the neighbours inside the document (one compiled
    call a pass when cleaner/_own.c is built)."""
    if compiled_own is None:
        return neighbour_sums_in_python(rows, table, reach)
    raw = compiled_own.neighbour_sums(np.ascontiguousarray(rows, dtype=np.intp),
                                      np.ascontiguousarray(table, dtype=np.float64), reach)
    return np.frombuffer(raw).reshape(len(rows), table.shape[-1])


def neighbour_sums_in_python(rows: np.ndarray, table: np.ndarray,
                             reach: list[int]) -> np.ndarray:
    """Return `neighbour_sums` without the compiled module."""
    n = len(rows)
    total = np.zeros((n, table.shape[-1]))
    for j, offset in enumerate(reach):  # block i reads block i + offset
        start, stop = max(0, -offset), min(n, n - offset)
        if start < stop:
            total[start:stop] += table[rows[start + offset:stop + offset], j]
    return total


def two_stages(scores: np.ndarray, bias: np.ndarray, prose: np.ndarray, short: np.ndarray,
               context_weights: np.ndarray, context_bias: np.ndarray) -> np.ndarray:
    """Return the second stage's probabilities from the blocks' summed first-stage weights
    (`scores`, without `bias`) and their prose and short flags (boolean arrays).

    Compiled, one call builds no context matrix: a pass of cleaning cost a dozen small numpy
    operations, 15 % of the time, for documents of about 17 blocks.
    """
    if compiled_own is None:
        return two_stages_in_python(scores, bias, prose, short, context_weights, context_bias)
    raw = compiled_own.two_stages(
        np.ascontiguousarray(scores, dtype=np.float64), np.ascontiguousarray(bias, dtype=np.float64),
        np.ascontiguousarray(prose, dtype=bool), np.ascontiguousarray(short, dtype=bool),
        CONTEXT_OFFSETS, np.ascontiguousarray(context_weights, dtype=np.float64),
        np.ascontiguousarray(context_bias, dtype=np.float64))
    return np.frombuffer(raw).reshape(scores.shape)


def two_stages_in_python(scores: np.ndarray, bias: np.ndarray, prose: np.ndarray,
                         short: np.ndarray, context_weights: np.ndarray,
                         context_bias: np.ndarray) -> np.ndarray:
    """Return `two_stages` without the compiled module."""
    stacked = context_matrix(softmax(scores + bias), span_of(prose, short))
    return softmax(stacked @ context_weights + context_bias)


def decide(probabilities: np.ndarray, keep_threshold: float) -> tuple[list[Label], np.ndarray]:
    """Return each block's label and its probability under the keep-biased decision.

    A block is kept when the kept labels together reach `keep_threshold`, which sits well
    below one half because losing article text costs more than keeping a line of noise.
    """
    keep = probabilities @ KEPT_MASS >= keep_threshold  # the kept labels' probabilities, summed
    masked = np.where(KEPT_COLUMNS == keep[:, None], probabilities, -1.0)
    best = masked.argmax(axis=1)
    return list(map(LABELS.__getitem__, best.tolist())), masked[np.arange(len(best)), best]


def build_pipeline(estimator: str = DEFAULT_ESTIMATOR) -> Pipeline:
    """Return the unfitted scikit-learn pipeline: block featurizer, then a linear classifier."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    classifier = LogisticRegression(max_iter=2000, tol=1e-3, random_state=SEED,
                                    **CANDIDATES[estimator])
    return Pipeline([("features", BlockFeaturizer(window=2, min_df=2)),
                     ("classify", classifier)])


def export(pipeline: Pipeline, keep_threshold: float) -> LinearBlockModel:
    """Return the fitted pipeline's linear form, with every label a column (absent: never)."""
    featurizer = pipeline.named_steps["features"]
    weights, bias = coefficients_by_label(pipeline.named_steps["classify"])
    # Fold the featurizer's column scaling into the weights: cleaning sums weights only.
    return LinearBlockModel(featurizer, weights * featurizer.scale_[:, None], bias, keep_threshold)


def coefficients_by_label(classifier: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return a fitted linear classifier's weights and bias with one column per label, in
    LABELS order; a label it never saw gets a bias that rules it out."""
    weights = np.zeros((classifier.coef_.shape[1], len(LABELS)))
    bias = np.full(len(LABELS), -1e9)
    for row, name in enumerate(classifier.classes_):
        column = LABELS.index(Label(name))
        weights[:, column] = classifier.coef_[row]
        bias[column] = classifier.intercept_[row]
    return weights, bias
