"""What one block's text looks like: its shape (length, ends, case, quotes) and the noise rules
it matches. The block's own features read it, and so do its neighbours' (see context.py)."""

from __future__ import annotations

import re
import string
from bisect import bisect_right
from collections.abc import Sequence
from functools import lru_cache

from cleaner.rules import CASED_RULES, CLOSE_QUOTES, OPEN_QUOTES, RULES, Branch

try:  # compiled from cleaner/_own.c at install when a C compiler is there; optional
    from cleaner import _own as compiled_own
except ImportError:  # pragma: no cover - exercised on machines without a compiler
    compiled_own = None  # type: ignore[assignment]

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
HINT_WORDS = 4  # the compiled hint table holds 64 * HINT_WORDS hints (cleaner/_own.c)
# A label of one to four words before a colon at a block's start.
LEAD_LABEL = re.compile(r"^([^\W\d_][\w'’&.-]*(?: [\w'’&.-]+){0,3}):(?:\s|$)")
SAID = re.compile(r"\b(said|says|added|told|wrote|explained|continued|tweeted|posted)\b", re.I)
ASCII_LETTERS = string.ascii_letters.encode()
ASCII_CAPITALS = string.ascii_uppercase.encode()


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
    as a list. Most lines are prose and hold few hints: looking for each of about 150 hints
    with `in` cost most of the rules' time.
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
    words = [tuple((mask >> (64 * w)) & (2**64 - 1) for w in range(HINT_WORDS)) for mask in masks]
    try:
        table: bytes = compiled_own.hint_table(hints, words)
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


def is_short(text: str) -> bool:
    """Return True for a block short enough to be a label, a link or a credit."""
    return len(text) < SHORT_BLOCK_CHARS


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
