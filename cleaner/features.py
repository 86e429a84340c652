"""What the model sees: each block's words, characters and shape, and those of its neighbours."""

from __future__ import annotations

import re
import string
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from cleaner.rules import CASED_RULES, CLOSE_QUOTES, OPEN_QUOTES, RULES, Branch
from cleaner.segment import INVISIBLE

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
# Noise markers sit at a block's ends; searching only there bounds the cost of long paragraphs.
RULE_HEAD_CHARS = 160
RULE_TAIL_CHARS = 80
HEAD_SHAPE_CHARS = 120
TITLE_CASE_CHARS = 200  # the share of capitalized words is read among these first characters
LENGTH_BINS_CHARS = (12, 25, 40, 60, 90, 140, 220, 400)
# Article paragraphs in fixtures/ and the labeled corpus are rarely shorter than this.
PROSE_MIN_CHARS = 80
SHORT_BLOCK_CHARS = 40
# Blocks whose per-text work is cached: enough for a long document's repeated passes and a
# site's boilerplate. Longer blocks are not cached, which bounds the caches to a few MB (the
# cost of featurizing a long block hardly grows with its length anyway).
SUMMARY_CACHE_BLOCKS = 4096
CACHED_BLOCK_MAX_CHARS = 2000
COLUMNS_CACHE_ENTRIES = 5 * SUMMARY_CACHE_BLOCKS  # own columns, and those seen at 4 offsets
CONTEXT_FLAGS = ("dont_miss_header", "promo_prefix", "bracket_tag", "any_bracket_tail",
                 "consent_banner", "source_footer", "media", "ad", "social", "newsletter", "meta",
                 "byline")
Encoded = tuple[np.ndarray, np.ndarray]
# A label of one to four words before a colon at a block's start.
LEAD_LABEL = re.compile(r"^([^\W\d_][\w'’&.-]*(?: [\w'’&.-]+){0,3}):(?:\s|$)")
SAID = re.compile(r"\b(said|says|added|told|wrote|explained|continued|tweeted|posted)\b", re.I)
# Runs of blocks outside the prose: one line between paragraphs is a subheading or a short
# quote; lists of teasers, links and credits come several in a row.
RUN_BINS_BLOCKS = (2, 3, 5, 9)
ASCII_LETTERS = string.ascii_letters.encode()
ASCII_CAPITALS = string.ascii_uppercase.encode()
# Set in the meta of a training document that copies another's blocks (train.cleaned_copy):
# `fit` counts a feature's documents without such copies.
COPY_OF = "copy_of"
# What a featurizer derives from its vocabulary while encoding: never pickled, dropped by fit.
CACHES = ("_columns_cache", "_keyed_cache", "_own_columns")
TEXT_PREFIXES = ("w:", "t:", "b:", "c:", "e:", "w0:", "w$:")


def bin_of(value: float, edges: Sequence[float]) -> int:
    """Return the index of the first edge above `value` (len(edges) when none is), for edges in
    increasing order: the number of edges at or below it, which bisection finds in C."""
    return bisect_right(edges, value)


# The parts of a block's shape, in the order `shape_of` returns them.
SHAPE_KEYS = ("len", "end", "first", "caps", "quote", "sentences", "titlecase", "lead")
Shape = tuple[str, str, str, str, str, str, str, str]
DIGITS = "0123456789"  # a bin's name: one character, which Python keeps interned


def shape_of(text: str) -> Shape:
    """Return the coarse shape of one block (SHAPE_KEYS): length, ends, case, quotes."""
    letters, capitals, words, capitalized, end, first, opens, closes, sentences = \
        shape_parts(text)
    upper = capitals / letters if letters else 0.0
    title_case = capitalized / words if words else 0.0
    return (DIGITS[bin_of(len(text), LENGTH_BINS_CHARS)], end, first,
            DIGITS[bin_of(upper, (0.05, 0.2, 0.5, 0.9))],
            "open" if opens > closes else "closed" if opens else "none", DIGITS[sentences],
            DIGITS[bin_of(title_case, (0.3, 0.6, 0.85))], lead_of(text))


ShapeParts = tuple[int, int, int, int, str, str, int, int, int]


def shape_parts(text: str) -> ShapeParts:
    """Return what a block's shape is made from: the letters and capitals near its start, its
    first words and those of them that start with a capital, the classes of its last and first
    characters, its opening and closing quotes, and its sentence breaks (". ", up to 3).
    One compiled pass when cleaner/_own.c is built: 6 us less a block."""
    if compiled_own is not None:
        return compiled_own.shape_parts(text, HEAD_SHAPE_CHARS, TITLE_CASE_CHARS)
    return shape_parts_in_python(text)


def shape_parts_in_python(text: str) -> ShapeParts:
    """Return `shape_parts(text)` without the compiled module."""
    words = text[:TITLE_CASE_CHARS].split()
    opens = text.count("“") + text.count("«") + (text[:1] in OPEN_QUOTES)
    closes = text.count("”") + text.count("»") + (text[-1:] in CLOSE_QUOTES)
    return (*letter_counts(text[:HEAD_SHAPE_CHARS]), len(words),
            sum(1 for w in words if w[0].isupper()), char_class(text[-1]), char_class(text[0]),
            opens, closes, min(text.count(". "), 3))


def letter_counts(text: str) -> tuple[int, int]:
    """Return how many letters and how many capitals `text` holds.

    ASCII text, most of it, is counted by deleting letters from its bytes, in C: counting
    character by character in Python cost 10 us a block.
    """
    if not text.isascii():
        return sum(map(str.isalpha, text)), sum(map(str.isupper, text))
    raw = text.encode()
    return (len(raw) - len(raw.translate(None, ASCII_LETTERS)),
            len(raw) - len(raw.translate(None, ASCII_CAPITALS)))


def lead_of(text: str) -> str:
    """Return how a block opens: with a short label and a colon ("Outfit: ...", "READ MORE:"),
    after a speaker ("She said: ..."), or plainly. Daily Mail captions and promo prefixes open
    with a label; quotes open after a speaker."""
    match = LEAD_LABEL.match(text) if ":" in text else None  # `in` is far cheaper than a match
    if match is None:
        return "plain"
    return "said" if SAID.search(match.group(1)) else "label"




def is_prose(text: str) -> bool:
    """Return True for a block that reads like an article paragraph (long, ends a sentence)."""
    return len(text) >= PROSE_MIN_CHARS and text.rstrip(CLOSE_QUOTES + ")」")[-1:] in ".!?。！？"


def char_class(char: str) -> str:
    """Return a coarse class name for one character."""
    if char.isupper():
        return "U"
    if char.isalpha():
        return "l"
    if char.isdigit():
        return "9"
    if char in OPEN_QUOTES or char in CLOSE_QUOTES:
        return "q"
    return char if char in ".,:;!?)]-|>…" else "o"


class RuleChecks:
    """The rules of one case (RULES or CASED_RULES), each branch with its hints as bits.

    A branch none of whose hints is present cannot match, so its regex is not run. Compiled
    (cleaner/_own.c), a block's hints are found in one pass and the branches to run come back
    as a list. Most lines are prose
    and hold few hints: looking for each of about 100 hints with `in` cost most of the rules' time.
    """

    def __init__(self, rules: dict[str, list[Branch]]) -> None:
        self.hints = sorted({hint for branches in rules.values() for _, hints in branches
                             for hint in hints})
        bit = {hint: 1 << i for i, hint in enumerate(self.hints)}
        self.checks = [(name, [(sum(bit[hint] for hint in set(hints)), re.compile(regex))
                               for regex, hints in branches])
                       for name, branches in rules.items()]
        # The same branches in one list, for the compiled path: it returns the candidates.
        self.branches = [(name, mask, regex) for name, branches in self.checks
                         for mask, regex in branches]
        self.table = hint_table(self.hints, [mask for _, mask, _ in self.branches])


    def matching(self, text: str) -> list[str]:
        """Return the names of the rules with a branch matching `text`."""
        if self.table is not None:
            names: list[str] = []
            for branch in compiled_own.candidates(self.table, text):
                name, _, regex = self.branches[branch]
                if (not names or names[-1] != name) and regex.search(text):
                    names.append(name)  # a rule's branches are consecutive
            return names
        return self.matching_in_python(text)

    def matching_in_python(self, text: str) -> list[str]:
        """Return `matching(text)` without the compiled module."""
        present = sum(1 << i for i, hint in enumerate(self.hints) if hint in text)
        names = []
        for name, branches in self.checks:
            for mask, regex in branches:
                if mask and not present & mask:
                    continue
                if regex.search(text):
                    names.append(name)
                    break
        return names


def hint_table(hints: list[str], masks: list[int]) -> bytes | None:
    """Return the compiled lookup of `hints` and of the branches with these masks of them, or
    None without the compiled module."""
    if compiled_own is None:
        return None
    halves = [(mask & (2**64 - 1), mask >> 64) for mask in masks]
    try:
        table: bytes = compiled_own.hint_table(hints, halves)
    except ValueError:  # more than it holds, or not ASCII: the Python path reads them all
        return None
    return table


LOWER_CHECKS = RuleChecks(RULES)
CASED_CHECKS = RuleChecks(CASED_RULES)


def flags_of(text: str) -> list[str]:
    """Return the names of the rules matching near a block's start or end."""
    if len(text) > RULE_HEAD_CHARS + RULE_TAIL_CHARS:
        text = text[:RULE_HEAD_CHARS] + " … " + text[-RULE_TAIL_CHARS:]
    return LOWER_CHECKS.matching(text.lower()) + CASED_CHECKS.matching(text)


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


def span_columns(texts: Sequence[str]) -> np.ndarray:
    """Return per block: outside the prose span, before it, after it, is prose, is short."""
    return span_of(np.array([is_prose(text) for text in texts], dtype=bool),
                   np.array([is_short(text) for text in texts], dtype=bool))


def is_short(text: str) -> bool:
    """Return True for a block short enough to be a label, a link or a credit."""
    return len(text) < SHORT_BLOCK_CHARS


def span_of(prose: np.ndarray, short: np.ndarray) -> np.ndarray:
    """Return `span_columns` from the blocks' prose and short flags (boolean arrays).

    The blocks ahead of the prose are those before its first block, the blocks behind it those
    after its last (all of them when there is none): filled as two slices, a quarter of the
    cost of counting prose on either side of every block, which each pass of cleaning pays.
    """
    n = len(prose)
    span = np.zeros((n, 5))
    where = np.flatnonzero(prose)
    first, end = (where[0], where[-1] + 1) if len(where) else (n, 0)
    span[:first, 0:2] = 1.0  # outside, ahead
    span[end:, 0:3:2] = 1.0  # outside, behind
    span[:, 3] = prose
    span[:, 4] = short
    return span


Summary = tuple[Shape, tuple[str, ...]]


def summary_of(text: str) -> Summary:
    """Return a block's shape and rule flags, which its neighbours read too.

    Cached by text (short blocks only): cleaning reads every block again on each pass, and
    sites repeat their boilerplate lines across articles. Callers must not modify the result.
    """
    if len(text) > CACHED_BLOCK_MAX_CHARS:
        return shape_of(text), tuple(flags_of(text))
    return cached_summary(text)


@lru_cache(maxsize=SUMMARY_CACHE_BLOCKS)
def cached_summary(text: str) -> Summary:
    """Return `summary_of(text)`, remembered."""
    return shape_of(text), tuple(flags_of(text))


NeighbourKey = tuple[str, str, str, str, str, tuple[str, ...]]


def neighbour_key(text: str) -> NeighbourKey:
    """Return the parts of a block's summary that its neighbours read (see neighbour_features).

    Far fewer keys than texts occur, so encoding caches a neighbour's columns by its key."""
    return key_of_summary(summary_of(text))


def key_of_summary(summary: Summary) -> NeighbourKey:
    """Return `neighbour_key` of the block with this `summary_of`."""
    shape, flags = summary
    length, end, first, _, quote, _, titlecase, _ = shape
    return (length, end, quote, titlecase, first,
            tuple(f for f in flags if f in CONTEXT_FLAGS))


def neighbour_features(offset: int, text: str) -> list[str]:
    """Return what a block shows to the block `offset` places before or after it."""
    return features_of_neighbour(offset, neighbour_key(text))


def features_of_neighbour(offset: int, key: NeighbourKey) -> list[str]:
    """Return the features a neighbour with this key shows at `offset`."""
    length, end, quote, titlecase, first, flags = key
    feats = [f"{offset}:len={length}", f"{offset}:end={end}", f"{offset}:quote={quote}",
             f"{offset}:tc={titlecase}"]
    feats += [f"{offset}:r:{f}" for f in flags]
    if abs(offset) == 1:
        feats.append(f"{offset}:first={first}")
    return feats


PlaceKey = tuple[int, int, int, int, bool, int, int, int, int | str, int]


def features_of_place(key: PlaceKey, window: int) -> list[str]:
    """Return the features of a block's place in the document: position, the edges of the
    document within reach, a promo header above it, the prose paragraphs around it."""
    before, after, frac, size, repeated, header, prose_in, prose_out, run, cohesion = key
    feats = [f"pos:{min(before, 4)}", f"rpos:{min(after, 4)}", f"frac:{frac}", f"n:{size}", "bias",
             f"coh:{cohesion}"]
    if repeated:
        feats.append("repeated")
    feats += [f"{offset}:none" for offset in offsets(window) if not -before <= offset <= after]
    if header:
        feats.append(f"after_promo_header:{header}")
    feats += [f"prose_before:{prose_in}", f"prose_after:{prose_out}", f"run:{run}"]
    return feats


def offsets(window: int) -> list[int]:
    """Return the offsets of the neighbours a block's features read."""
    return [o for o in range(-window, window + 1) if o]


def is_promo_header(summary: Summary) -> bool:
    """Return True for a block that heads a list of promoted headlines ("DON'T MISS", a short
    "READ MORE:")."""
    shape, flags = summary
    return "dont_miss_header" in flags or ("promo_prefix" in flags and shape[0] in "01")


# A promo header's list is read this many blocks below it, at most.
PROMO_LIST_REACH = 6


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


def document_place_features(texts: Sequence[str], window: int) -> list[list[str]]:
    """Return the place features of every block of one document."""
    return [features_of_place(key, window) for key in document_place_keys(texts, window)]


def document_place_keys(texts: Sequence[str], window: int) -> list[PlaceKey]:
    """Return what the place features of every block are made from (see `features_of_place`).

    Few distinct keys occur, so encoding caches a place's columns by its key. The distances to
    the document's ends are clipped to what the features read: the position bins and the
    edges within `window`."""
    return place_keys(texts, [is_prose(text) for text in texts],
                      [is_promo_header(summary_of(text)) for text in texts], window)


def place_keys(texts: Sequence[str], prose: Sequence[bool], headers: Sequence[bool],
               window: int) -> list[PlaceKey]:
    """Return `document_place_keys` from the blocks' texts and whether each is prose and a
    promo header. One pass over the blocks: per-block helper calls cost 10 % of cleaning."""
    n = len(texts)
    repeats = Counter(texts)
    cohesion = cohesion_bins(texts, prose)
    # Blocks outside the run of prose paragraphs (before the first, after the last) are where
    # bylines, related headlines and footers sit: count prose blocks on either side.
    all_prose = sum(prose)
    before = 0  # prose blocks before block i
    runs = non_prose_runs(prose)
    reach = max(4, window)
    size = bin_of(n, (3, 8, 15, 30, 60))
    keys: list[PlaceKey] = []
    header = -PROMO_LIST_REACH - 1  # the last promo header seen, out of reach at first
    # Clipped with conditionals, not min(), and binned with bisect_right itself: this loop
    # runs for every block on every pass, and the calls were half its cost.
    for i, text in enumerate(texts):
        after = all_prose - before - prose[i]
        run = runs[i]
        keys.append((i if i < reach else reach, n - 1 - i if n - 1 - i < reach else reach,
                     10 * i // n, size, repeats[text] > 1,
                     i - header if i - header <= PROMO_LIST_REACH else 0,
                     before if before < 3 else 3, after if after < 3 else 3,
                     bisect_right(RUN_BINS_BLOCKS, run) if run else "prose", cohesion[i]))
        before += prose[i]
        if headers[i]:
            header = i
    return keys


# Words too common to tie a line to its article.
COMMON_WORDS = frozenset(
    "that this with have from they will said were been their what when which there would "
    "about after more than also into some them then only other over just like could your "
    "says year years first last most very even because where while being those these "
    "here make made many much such back does well still through".split())
COMMON_WORDS_IN_ORDER = tuple(sorted(COMMON_WORDS))
COHESION_BINS = (0.2, 0.4, 0.6, 0.8)
NO_TOPIC_BIN = 9
TOPIC_WORD = re.compile(r"[^\W\d_]{4,}")
# Topic words are read among a block's first characters only, which bounds the work on a huge
# line. Grouped CV on hand-labeled sites, 2026-12-06, noise removed at 99.5 % content kept:
# 0.647 without cohesion, 0.655 reading 240 characters, 0.667 reading 2,000.
TOPIC_CHARS = 2000


@lru_cache(maxsize=SUMMARY_CACHE_BLOCKS)
def topic_words(text: str) -> frozenset[str]:
    """Return the words of a block that can tie it to its article's topic: names, nouns."""
    return frozenset(TOPIC_WORD.findall(text[:TOPIC_CHARS].lower())) - COMMON_WORDS


def cohesion_bins(texts: Sequence[str], prose: Sequence[bool]) -> list[int]:
    """Return per block how many of its topic words occur in the article's other prose
    paragraphs, binned (COHESION_BINS; NO_TOPIC_BIN when it has none to compare): a teaser for
    another story, a menu or a widget shares few words with the article; its own lines many.
    """
    if compiled_own is None:
        return cohesion_bins_in_python(texts, prose)
    return compiled_own.cohesion(list(texts), list(prose), COMMON_WORDS_IN_ORDER, TOPIC_CHARS,
                                 COHESION_BINS, NO_TOPIC_BIN)


def cohesion_bins_in_python(texts: Sequence[str], prose: Sequence[bool]) -> list[int]:
    """Return `cohesion_bins` without the compiled module."""
    words = [topic_words(text) for text in texts]
    in_prose: Counter[str] = Counter()
    for block_words, is_para in zip(words, prose, strict=True):
        if is_para:
            in_prose.update(block_words)
    # A paragraph's own words count once in in_prose: in another paragraph only if twice.
    elsewhere = (frozenset(in_prose), frozenset(w for w, count in in_prose.items() if count > 1))
    return [bisect_right(COHESION_BINS, len(block_words & elsewhere[is_para]) / len(block_words))
            if block_words else NO_TOPIC_BIN
            for block_words, is_para in zip(words, prose, strict=True)]


def non_prose_runs(prose: Sequence[bool]) -> list[int]:
    """Return, per block, the length of the run of non-prose blocks it belongs to (0: prose)."""
    runs = [0] * len(prose)
    start = 0
    for i in range(len(prose) + 1):
        if i == len(prose) or prose[i]:
            for j in range(start, i):
                runs[j] = i - start
            start = i + 1
    return runs


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
        pickle stream (see `model.load_model`).
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
