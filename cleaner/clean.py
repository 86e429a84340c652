"""The driver: segment, featurize and predict, decide, assemble."""

from __future__ import annotations

from cleaner.blocks import KEPT_LABELS, Block, Cleaned, Document, Label, Verdict
from cleaner.model import LinearBlockModel, decide
from cleaner.segment import segment_text


def verdicts_for(doc: Document, model: LinearBlockModel) -> list[Verdict]:
    """Return the model's verdict on every block of `doc`."""
    labels, confidences = decide(model.probabilities(doc), model.keep_threshold)
    return [verdict(block, label, confidence)
            for block, label, confidence in zip(doc.blocks, labels, confidences, strict=True)]


def verdict(block: Block, label: Label, confidence: float) -> Verdict:
    """Return the verdict on one block, its probability rounded as outputs show it."""
    return Verdict(block.index, label, round(float(confidence), 4))


def clean_document(doc: Document, model: LinearBlockModel) -> Cleaned:
    """Return the document's kept blocks joined by newlines, and the verdicts on the rest.

    Removing noise changes the neighbours of what is left, so a line can look different to the
    model once its noise is gone. Cleaning repeats on the kept blocks until nothing more goes:
    the output is then a fixed point, and cleaning it again gives it back unchanged.
    """
    removed: list[Verdict] = []
    kept = list(doc.blocks)
    while kept:
        labels, confidences = decide(model.probabilities(Document(doc.id, tuple(kept), doc.meta)),
                                     model.keep_threshold)
        staying = [label in KEPT_LABELS for label in labels]
        if all(staying):
            break
        # Verdicts only for what goes: most blocks stay, and building theirs cost 5 % of cleaning.
        removed += [verdict(block, label, confidence) for block, label, confidence, stays
                    in zip(kept, labels, confidences, staying, strict=True) if not stays]
        kept = [block for block, stays in zip(kept, staying, strict=True) if stays]
    text = "".join(block.text + "\n" for block in kept)
    return Cleaned(doc_id=doc.id, text=text, kept=tuple(b.index for b in kept),
                   removed=tuple(sorted(removed, key=lambda v: v.block_index)))


def clean_text(text: str, model: LinearBlockModel, doc_id: str = "-") -> Cleaned:
    """Return the clean article of one scraped text."""
    return clean_document(segment_text(text, doc_id=doc_id), model)
