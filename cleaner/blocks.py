"""The data types passed between pipeline stages, and the one error type."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class CleanerError(Exception):
    """A problem with an input, a fixture or a model, reported as one line by the CLI."""

    def __init__(self, source: str, problem: str, line: int | None = None) -> None:
        self.source = source
        self.problem = problem
        self.line = line
        where = source if line is None else f"{source}:{line}"
        super().__init__(f"{where}: {problem}")


class Label(StrEnum):
    """What a block is. The order is part of the model format: append only, then retrain."""

    BODY = "body"
    TITLE = "title"
    CONSENT = "consent"
    PROMO = "promo"
    FOOTER = "footer"
    NEWSLETTER = "newsletter"
    SOCIAL = "social"
    MEDIA = "media"
    AD = "ad"
    META = "meta"
    OTHER = "other"

    @property
    def is_kept(self) -> bool:
        """Return True for the labels whose blocks stay in the clean article."""
        return self in KEPT_LABELS


KEPT_LABELS = frozenset({Label.BODY, Label.TITLE})


@dataclass(frozen=True, slots=True)
class Block:
    """One line of the source: its text and where it sits in the source."""

    index: int
    text: str
    start: int
    end: int
    kind: str = "line"
    tag_path: str | None = None


@dataclass(frozen=True, slots=True)
class Document:
    """A source split into blocks, with its id and where it came from."""

    id: str
    blocks: tuple[Block, ...]
    meta: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The model's decision about one block."""

    block_index: int
    label: Label
    confidence: float


@dataclass(frozen=True, slots=True)
class Cleaned:
    """The clean article and the audit trail of what was removed."""

    doc_id: str
    text: str
    kept: tuple[int, ...]
    removed: tuple[Verdict, ...]
