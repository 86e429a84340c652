"""cleaner: turn scraped news text into clean article bodies.

The library API shared by the CLI, the tests and batch workers. Importing it is cheap: its names
are imported from their stage modules on first use (numpy and the rest load then), and the model
loads only when asked for. That also keeps `cleaner.__main__.run` able to catch a Ctrl-C that
arrives while the heavy imports are still running.
"""

from __future__ import annotations

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (18 ms) at start-up
if TYPE_CHECKING:  # the names exist for type checkers at once, for everyone else on first use
    from pathlib import Path
    from typing import Any

    from cleaner.blocks import Block, Cleaned, CleanerError, Document, Label, Verdict
    from cleaner.clean import clean_document
    from cleaner.model import LinearBlockModel
    from cleaner.segment import segment_html, segment_text
    from cleaner.store import load_model

# Name -> the module that defines it.
LAZY_NAMES = {
    **dict.fromkeys(["Block", "Cleaned", "CleanerError", "Document", "Label", "Verdict"],
                    "cleaner.blocks"),
    "clean_document": "cleaner.clean",
    "load_model": "cleaner.store",
    "segment_html": "cleaner.segment",
    "segment_text": "cleaner.segment",
}

__all__ = ["Block", "Cleaned", "Cleaner", "CleanerError", "Document", "Label", "Verdict",
           "clean_document", "clean_html", "clean_text", "load_model", "segment_html",
           "segment_text"]


def __getattr__(name: str) -> Any:
    """Return a library name, importing its module on first use."""
    from importlib import import_module  # here: importing importlib (and warnings) at start-up
    # lengthened the window in which a Ctrl-C comes before cleaner.__main__ sets its handler

    if name not in LAZY_NAMES:
        raise AttributeError(f"module 'cleaner' has no attribute {name!r}")
    value = getattr(import_module(LAZY_NAMES[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


class Cleaner:
    """A loaded model, ready to clean many documents."""

    def __init__(self, model_path: Path | None = None, favor: str = "recall") -> None:
        """Load the model; `favor` picks its keep threshold (see `cleaner clean --favor`)."""
        from cleaner.store import DEFAULT_MODEL, load_model

        self.model_path = model_path or DEFAULT_MODEL
        self.model: LinearBlockModel = load_model(self.model_path, favor)

    def clean_text(self, text: str, doc_id: str = "-") -> Cleaned:
        """Return the clean article of one scraped text."""
        from cleaner.clean import clean_text

        return clean_text(text, self.model, doc_id)

    def clean_html(self, html: bytes | str, doc_id: str = "-") -> Cleaned:
        """Return the clean article of one HTML page (bytes as fetched, or decoded text)."""
        from cleaner.clean import clean_document
        from cleaner.segment import segment_html

        data = html.encode("utf-8") if isinstance(html, str) else html
        return clean_document(segment_html(data, doc_id=doc_id), self.model)


def clean_text(text: str, model_path: Path | None = None) -> str:
    """Return the clean article of one scraped text, loading the model each call (use Cleaner)."""
    return Cleaner(model_path).clean_text(text).text


def clean_html(html: bytes | str, model_path: Path | None = None) -> str:
    """Return the clean article of one HTML page, loading the model each call (use Cleaner)."""
    return Cleaner(model_path).clean_html(html).text
