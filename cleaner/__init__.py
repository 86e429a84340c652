"""cleaner: turn scraped news text into clean article bodies.

The library API shared by the CLI, the tests and batch workers. Importing it is cheap: the model
loads only when asked for.
"""

from __future__ import annotations

from pathlib import Path

from cleaner.blocks import Block, Cleaned, CleanerError, Document, Label, Verdict
from cleaner.clean import clean_document
from cleaner.clean import clean_text as _clean_text
from cleaner.model import DEFAULT_MODEL, LinearBlockModel, load_model
from cleaner.segment import segment_html, segment_text

__all__ = ["Block", "Cleaned", "Cleaner", "CleanerError", "Document", "Label", "Verdict",
           "clean_document", "clean_html", "clean_text", "load_model", "segment_html",
           "segment_text"]


class Cleaner:
    """A loaded model, ready to clean many documents."""

    def __init__(self, model_path: Path = DEFAULT_MODEL) -> None:
        self.model_path = model_path
        self.model: LinearBlockModel = load_model(model_path)

    def clean_text(self, text: str, doc_id: str = "-") -> Cleaned:
        """Return the clean article of one scraped text."""
        return _clean_text(text, self.model, doc_id)

    def clean_html(self, html: bytes | str, doc_id: str = "-") -> Cleaned:
        """Return the clean article of one HTML page (bytes as fetched, or decoded text)."""
        data = html.encode("utf-8") if isinstance(html, str) else html
        return clean_document(segment_html(data, doc_id=doc_id), self.model)


def clean_text(text: str, model_path: Path = DEFAULT_MODEL) -> str:
    """Return the clean article of one scraped text, loading the model each call (use Cleaner)."""
    return Cleaner(model_path).clean_text(text).text


def clean_html(html: bytes | str, model_path: Path = DEFAULT_MODEL) -> str:
    """Return the clean article of one HTML page, loading the model each call (use Cleaner)."""
    return Cleaner(model_path).clean_html(html).text
