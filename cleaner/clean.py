"""The driver: segment, featurize and predict, decide, assemble."""

from __future__ import annotations

from cleaner.blocks import Cleaned, Document, Verdict
from cleaner.model import LinearBlockModel, decide
from cleaner.segment import segment_text


def verdicts_for(doc: Document, model: LinearBlockModel) -> list[Verdict]:
    """Return the model's verdict on every block of `doc`."""
    labels, confidences = decide(model.probabilities(doc), model.keep_threshold)
    return [Verdict(block.index, label, round(float(confidence), 4))
            for block, label, confidence in zip(doc.blocks, labels, confidences, strict=True)]


def clean_document(doc: Document, model: LinearBlockModel) -> Cleaned:
    """Return the document's kept blocks joined by newlines, and the verdicts on the rest."""
    verdicts = verdicts_for(doc, model)
    kept = tuple(v.block_index for v in verdicts if v.label.is_kept)
    removed = tuple(v for v in verdicts if not v.label.is_kept)
    text = "".join(doc.blocks[i].text + "\n" for i in kept)
    return Cleaned(doc_id=doc.id, text=text, kept=kept, removed=removed)


def clean_text(text: str, model: LinearBlockModel, doc_id: str = "-") -> Cleaned:
    """Return the clean article of one scraped text."""
    return clean_document(segment_text(text, doc_id=doc_id), model)
