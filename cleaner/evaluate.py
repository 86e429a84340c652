"""Scores and reports: per-label precision/recall/F1, confusion, and what an archivist keeps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from cleaner.blocks import KEPT_LABELS, Label

if TYPE_CHECKING:
    from cleaner.blocks import Document
    from cleaner.fixtures import Labeled
    from cleaner.model import LinearBlockModel

LABELS = tuple(Label)


@dataclass(frozen=True, slots=True)
class LabelScore:
    """Precision, recall and F1 of one label, with its gold count."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True, slots=True)
class Report:
    """How predicted labels compare with gold labels over a set of documents."""

    name: str
    per_label: dict[str, LabelScore]
    confusion: list[list[int]]
    content_kept: float
    noise_removed: float
    documents: int
    blocks: int
    documents_perfect: float
    extra: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """Return the report as plain JSON-ready data."""
        return {
            "name": self.name, "documents": self.documents, "blocks": self.blocks,
            "content_kept": round(self.content_kept, 5),
            "noise_removed": round(self.noise_removed, 5),
            "documents_perfect": round(self.documents_perfect, 5),
            "per_label": {k: {"precision": round(v.precision, 4), "recall": round(v.recall, 4),
                              "f1": round(v.f1, 4), "support": v.support}
                          for k, v in self.per_label.items()},
            "confusion": {"labels": [label.value for label in LABELS], "rows": self.confusion},
            **{k: round(v, 5) for k, v in self.extra.items()},
        }


def score(name: str, gold: Sequence[Sequence[Label]], predicted: Sequence[Sequence[Label]]) -> Report:
    """Return the report comparing predicted with gold labels, document by document."""
    flat_gold = [label for doc in gold for label in doc]
    flat_pred = [label for doc in predicted for label in doc]
    index = {label: i for i, label in enumerate(LABELS)}
    confusion = np.zeros((len(LABELS), len(LABELS)), dtype=np.int64)
    for g, p in zip(flat_gold, flat_pred, strict=True):
        confusion[index[g], index[p]] += 1
    gold_kept = np.array([g in KEPT_LABELS for g in flat_gold])
    pred_kept = np.array([p in KEPT_LABELS for p in flat_pred])
    perfect = [all((g in KEPT_LABELS) == (p in KEPT_LABELS) for g, p in zip(gd, pd, strict=True))
               for gd, pd in zip(gold, predicted, strict=True)]
    return Report(
        name=name,
        per_label=per_label_scores(confusion),
        confusion=confusion.tolist(),
        content_kept=share(pred_kept[gold_kept]),
        noise_removed=share(~pred_kept[~gold_kept]),
        documents=len(gold),
        blocks=len(flat_gold),
        documents_perfect=share(np.array(perfect)),
    )


def share(mask: np.ndarray) -> float:
    """Return the fraction of True in `mask` (1.0 when empty: nothing to get wrong)."""
    return float(mask.mean()) if mask.size else 1.0


def per_label_scores(confusion: np.ndarray) -> dict[str, LabelScore]:
    """Return precision, recall and F1 of every label that occurs in gold or predictions."""
    scores = {}
    for i, label in enumerate(LABELS):
        true_pos = confusion[i, i]
        predicted = confusion[:, i].sum()
        support = confusion[i, :].sum()
        if not predicted and not support:
            continue
        precision = true_pos / predicted if predicted else 0.0
        recall = true_pos / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[label.value] = LabelScore(float(precision), float(recall), float(f1), int(support))
    return scores


def format_report(report: Report) -> str:
    """Return the report as an aligned text table for a terminal."""
    lines = [f"{report.name}: {report.documents} documents, {report.blocks} blocks",
             f"  content kept   {report.content_kept:.4f}",
             f"  noise removed  {report.noise_removed:.4f}",
             f"  docs perfect   {report.documents_perfect:.4f}"]
    lines += [f"  {k:<14} {v:.4f}" for k, v in report.extra.items()]
    lines.append(f"  {'label':<11} {'P':>6} {'R':>6} {'F1':>6} {'n':>6}")
    for label, s in report.per_label.items():
        lines.append(f"  {label:<11} {s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f} {s.support:6d}")
    heads = [label.value[:5] for label in LABELS]
    lines.append("  confusion (rows gold, columns predicted)")
    lines.append("  " + " " * 11 + " ".join(f"{h:>5}" for h in heads))
    for label, row in zip(LABELS, report.confusion, strict=True):
        lines.append(f"  {label.value:<11}" + " ".join(f"{c:5d}" for c in row))
    return "\n".join(lines)


# C4's line rules (Raffel et al. 2020): keep a line only if it ends in terminal punctuation, has
# at least five words and mentions none of the phrases of web chrome it filtered.
C4_TERMINAL = (".", "!", "?", '"', "”", "’", "'")
C4_BANNED = ("javascript", "cookie", "privacy policy", "terms of use", "lorem ipsum")
C4_MIN_WORDS = 5


def c4_keeps(text: str) -> bool:
    """Return True when C4's line rules would keep this line."""
    lowered = text.lower()
    return (text.rstrip().endswith(C4_TERMINAL) and len(text.split()) >= C4_MIN_WORDS
            and not any(phrase in lowered for phrase in C4_BANNED))


def baseline_labels(texts_by_doc: Sequence[Sequence[str]], rule: str) -> list[list[Label]]:
    """Return the labels a baseline gives: `keep-all` keeps everything, `c4` applies C4's rules."""
    return [[Label.BODY if rule == "keep-all" or c4_keeps(text) else Label.OTHER for text in texts]
            for texts in texts_by_doc]


def evaluation_sets(fixture_roots: list[Path], corpus: Path, corpus_labels: Path | None = None,
                    fundus_review: Path | None = None) -> dict[str, list[Labeled]]:
    """Return the held-out sets: the eval fixtures and, when the corpus exists, the fundus pages
    (as string matching labeled them, and with the labels of `fundus_review` where a person
    judged otherwise) and the hand-labeled corpus articles of sites never trained on
    (`corpus_labels`)."""
    from cleaner.fixtures import (
        read_corpus_labels,
        read_fixtures,
        read_gold_blocks,
        with_reviewed_labels,
    )

    sets = {fixture_set_name(fixture_roots): read_fixtures(fixture_roots)}
    if corpus.is_dir():
        sets["fundus"] = read_gold_blocks("fundus-testdata", corpus)
        if fundus_review is not None and any(fundus_review.glob("*.jsonl")):
            sets["fundus-reviewed"] = with_reviewed_labels(sets["fundus"], fundus_review)
        if corpus_labels is not None and any(corpus_labels.glob("*.jsonl")):
            sets["corpus-eval"] = read_corpus_labels(corpus_labels, corpus)
    return sets


def fixture_set_name(roots: list[Path]) -> str:
    """Return the name of a set of fixtures: its folder and that folder's parent, joined by a
    dash ("fixtures-eval" for fixtures/eval), so that a report says which fixtures it scored."""
    return "+".join(f"{root.resolve().parent.name}-{root.resolve().name}" if root.is_dir()
                    else root.stem for root in roots)


def fixture_digests(roots: list[Path]) -> dict[str, str]:
    """Return the fixture set's name and a SHA-256 of its files, pinned beside its floors."""
    from cleaner.fixtures import fingerprint, fixture_paths

    return {fixture_set_name(roots): fingerprint(fixture_paths(roots))}


def score_sets(sets: dict[str, list[Labeled]], model: LinearBlockModel,
               baselines: bool) -> list[Report]:
    """Return the model's report on every set, each followed by its baselines' reports."""
    reports = []
    for name, items in sets.items():
        gold = [item.labels for item in items]
        predicted = [predicted_labels(item.doc, model) for item in items]
        reports.append(score(name, gold, predicted))
        if baselines:
            texts = [[block.text for block in item.doc.blocks] for item in items]
            for rule in ("keep-all", "c4"):
                reports.append(score(f"{name} [{rule} baseline]", gold,
                                     baseline_labels(texts, rule)))
    return reports


def predicted_labels(doc: Document, model: LinearBlockModel) -> list[Label]:
    """Return the label of every block as `cleaner clean` decides it, later passes included."""
    from cleaner.clean import clean_document
    from cleaner.model import decide

    labels = decide(model.probabilities(doc), model.keep_threshold)[0]
    for verdict in clean_document(doc, model).removed:
        labels[verdict.block_index] = verdict.label
    return labels


# Scores move by a block or two when a fixture's wording changes; a floor is missed only when
# the score falls more than this below it.
FLOOR_EPSILON = 0.005
GATED_SETS = ("fixtures-eval", "fundus", "fundus-reviewed", "corpus-eval")
# Per-label floors only where the noise kinds are hand labels: fundus noise is only known to be
# noise, and its kinds are guessed by cleaner/rules.py, so a per-kind score there measures
# agreement with our own rules, not what an archivist loses or keeps. The corpus-eval
# articles hold few lines of each noise kind (mostly under 30), too few for per-kind floors.
PER_LABEL_GATED_SETS = ("fixtures-eval",)


def current_floors(reports: list[Report]) -> dict[str, dict[str, float]]:
    """Return the scores of the gated sets, rounded down, as candidate floors."""
    floors: dict[str, dict[str, float]] = {}
    for report in reports:
        if report.name not in GATED_SETS:
            continue
        values = {"content_kept": report.content_kept, "noise_removed": report.noise_removed,
                  "documents_perfect": report.documents_perfect}
        for label, s in report.per_label.items():
            if (report.name in PER_LABEL_GATED_SETS and label not in ("body", "title")
                    and s.support >= 5):
                values[f"{label}.precision"] = s.precision
                values[f"{label}.recall"] = s.recall
        floors[report.name] = {k: int(v * 1000) / 1000 for k, v in values.items()}
    return floors


def check_floors(reports: list[Report], path: Path,
                 digests: dict[str, str]) -> list[tuple[str, bool]]:
    """Return one line and verdict per floor in `path` (is the score at or above it?), and per
    pinned fixture set (are its files the ones the floors were pinned on?)."""
    import json

    pinned_file = json.loads(path.read_text())
    measured = current_floors(reports)
    verdicts = []
    for set_name, pinned_digest in pinned_file.get("digests", {}).items():
        same = digests.get(set_name) == pinned_digest
        verdicts.append((f"{set_name} fixtures: " + ("unchanged" if same else
                         "CHANGED since the floors were pinned; check the scores, then run "
                         "'cleaner evaluate --update'"), same))
    for set_name, floors in pinned_file["floors"].items():
        if set_name not in measured:
            verdicts.append((f"{set_name}: NOT EVALUATED (its floors are in {path})", False))
            continue
        for key, floor in floors.items():
            value = measured[set_name].get(key, 0.0)
            ok = value >= floor - FLOOR_EPSILON
            verdicts.append(((f"{set_name} {key}: {value:.3f} (floor {floor:.3f})"
                             f"{'' if ok else ' BELOW FLOOR'}"), ok))
    return verdicts


def update_floors(reports: list[Report], path: Path, allow_regression: bool,
                  digests: dict[str, str]) -> list[str]:
    """Raise the floors in `path` to today's scores, and pin the gated fixture sets' digests;
    return the floors that would go down. The floors and digest of a set not scored this time
    (the fixtures-eval set, when another folder was evaluated) stay as they were."""
    import json

    pinned_file = json.loads(path.read_text()) if path.exists() else {}
    old = pinned_file.get("floors", {})
    new = current_floors(reports)
    lowered = [f"{s}.{k}" for s, values in new.items() for k, v in values.items()
               if v < old.get(s, {}).get(k, 0.0)]
    if lowered and not allow_regression:
        return lowered
    pinned = {**pinned_file.get("digests", {}),
              **{name: digest for name, digest in digests.items() if name in GATED_SETS}}
    path.write_text(json.dumps({"epsilon": FLOOR_EPSILON, "floors": {**old, **new},
                                "digests": pinned}, indent=2, sort_keys=True) + "\n")
    return []
