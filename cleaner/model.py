"""Build, train, save, load and run the block classifier."""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cleaner.blocks import KEPT_LABELS, CleanerError, Document, Label
from cleaner.features import FEATURE_VERSION, BlockFeaturizer
from cleaner.fixtures import Labeled

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

MODEL_FORMAT = 1
SEED = 20261125
DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "cleaner.joblib"
LABELS = tuple(Label)
KEPT_COLUMNS = np.array([label in KEPT_LABELS for label in LABELS])
# The estimators compared by grouped cross-validation (`cleaner train --compare`).
CANDIDATES: dict[str, dict[str, Any]] = {
    "logreg-C1": {"C": 1.0},
    "logreg-C4": {"C": 4.0},
    "logreg-C16": {"C": 16.0},
    "logreg-C4-balanced": {"C": 4.0, "class_weight": "balanced"},
}
DEFAULT_ESTIMATOR = "logreg-C4"
REPRODUCED_PACKAGES = ("scikit-learn", "numpy", "joblib")
# Losing article text is worse than keeping noise: the threshold is tuned to keep this share of
# content blocks on sites the model never saw (grouped cross-validation).
TARGET_CONTENT_RECALL = 0.995
MIN_KEEP_THRESHOLD = 0.02


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

    def probabilities(self, doc: Document) -> np.ndarray:
        """Return one row of label probabilities (LABELS order) per block of `doc`."""
        if not doc.blocks:
            return np.zeros((0, len(LABELS)))
        starts, columns = self.featurizer.encode(doc)
        scores = np.add.reduceat(self.weights[columns], starts, axis=0) + self.bias
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)


def decide(probabilities: np.ndarray, keep_threshold: float) -> tuple[list[Label], np.ndarray]:
    """Return each block's label and its probability under the keep-biased decision.

    A block is kept when the kept labels together reach `keep_threshold`, which sits well
    below one half because losing article text costs more than keeping a line of noise.
    """
    kept_mass = probabilities[:, KEPT_COLUMNS].sum(axis=1)
    keep = kept_mass >= keep_threshold
    masked = np.where(KEPT_COLUMNS[None, :] == keep[:, None], probabilities, -1.0)
    best = masked.argmax(axis=1)
    return [LABELS[i] for i in best], probabilities[np.arange(len(best)), best]


def build_pipeline(estimator: str = DEFAULT_ESTIMATOR) -> Pipeline:
    """Return the unfitted scikit-learn pipeline: block featurizer, then a linear classifier."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    classifier = LogisticRegression(max_iter=2000, random_state=SEED, **CANDIDATES[estimator])
    return Pipeline([("features", BlockFeaturizer(window=2, min_df=2)),
                     ("classify", classifier)])


def export(pipeline: Pipeline, keep_threshold: float) -> LinearBlockModel:
    """Return the fitted pipeline's linear form, with every label a column (absent: never)."""
    featurizer = pipeline.named_steps["features"]
    classifier = pipeline.named_steps["classify"]
    n_features = len(featurizer.vocabulary_)
    weights = np.zeros((n_features, len(LABELS)), dtype=np.float64)
    bias = np.full(len(LABELS), -1e9)
    for row, name in enumerate(classifier.classes_):
        column = LABELS.index(Label(name))
        weights[:, column] = classifier.coef_[row]
        bias[column] = classifier.intercept_[row]
    return LinearBlockModel(featurizer, weights, bias, keep_threshold)


def manifest_path(model_path: Path) -> Path:
    """Return where the manifest of a model file lives."""
    return model_path.with_suffix(".json")


def library_versions() -> dict[str, str]:
    """Return the versions of Python and of the libraries a saved model depends on."""
    found = {"python": platform.python_version()}
    for package in REPRODUCED_PACKAGES:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found


def save_model(model: LinearBlockModel, path: Path, record: dict[str, Any]) -> dict[str, Any]:
    """Write the model and its manifest atomically; return the manifest."""
    import joblib

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    joblib.dump(model, partial, compress=3)
    manifest = {
        "format": MODEL_FORMAT,
        "labels": [label.value for label in LABELS],
        "kept_labels": sorted(label.value for label in KEPT_LABELS),
        "feature_version": FEATURE_VERSION,
        "keep_threshold": model.keep_threshold,
        "versions": library_versions(),
        "model_sha256": sha256_of(partial),
        **record,
    }
    manifest_partial = path.with_name(manifest_path(path).name + ".partial")
    manifest_partial.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    partial.replace(path)
    manifest_partial.replace(manifest_path(path))
    return manifest


def sha256_of(path: Path) -> str:
    """Return the hex SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_manifest(path: Path) -> dict[str, Any]:
    """Return the manifest of a model file, or raise why the model must not be loaded."""
    fix = "run 'make model'"
    try:
        manifest: dict[str, Any] = json.loads(manifest_path(path).read_text())
    except FileNotFoundError:
        raise CleanerError(str(path), f"no manifest {manifest_path(path).name}; {fix}") from None
    except (OSError, ValueError) as error:
        raise CleanerError(str(path), f"unreadable manifest ({error}); {fix}") from None
    if manifest.get("format") != MODEL_FORMAT or manifest.get("labels") != [x.value for x in LABELS]:
        raise CleanerError(str(path), f"model format or label set differs from this cleaner; {fix}")
    if manifest.get("feature_version") != FEATURE_VERSION:
        raise CleanerError(str(path), f"built with feature version {manifest.get('feature_version')}"
                                      f", this cleaner has {FEATURE_VERSION}; {fix}")
    installed = library_versions()
    for package in REPRODUCED_PACKAGES:
        built = manifest.get("versions", {}).get(package)
        if not same_release(built, installed[package]):
            raise CleanerError(str(path), f"built with {package} {built}, found "
                                          f"{installed[package]}; {fix}")
    if not path.is_file():
        raise CleanerError(str(path), f"model file missing; {fix}")
    if sha256_of(path) != manifest.get("model_sha256"):
        raise CleanerError(str(path), f"SHA-256 differs from its manifest (changed or untrusted "
                                      f"file); {fix}")
    return manifest


def same_release(built: str | None, installed: str) -> bool:
    """Return True when two versions share major and minor (a patch release keeps the format)."""
    from packaging.version import InvalidVersion, Version

    try:
        return built is not None and Version(built).release[:2] == Version(installed).release[:2]
    except InvalidVersion:
        return built == installed


def load_model(path: Path = DEFAULT_MODEL) -> LinearBlockModel:
    """Return the saved model after its manifest checks pass; unpickle nothing otherwise."""
    import joblib

    check_manifest(path)
    model = joblib.load(path)
    if not isinstance(model, LinearBlockModel):
        raise CleanerError(str(path), "not a cleaner model; run 'make model'")
    return model


def fit_pipeline(items: list[Labeled], estimator: str = DEFAULT_ESTIMATOR) -> Pipeline:
    """Return the pipeline fitted on the labeled documents."""
    pipeline = build_pipeline(estimator)
    pipeline.fit([item.doc for item in items], [label.value for item in items
                                                for label in item.labels])
    return pipeline


def out_of_fold_probabilities(items: list[Labeled], estimator: str = DEFAULT_ESTIMATOR,
                              folds: int = 5) -> list[np.ndarray]:
    """Return each document's block probabilities from a model that never saw its site."""
    from sklearn.model_selection import GroupKFold

    groups = [item.site for item in items]
    result: list[np.ndarray] = [np.zeros(0)] * len(items)
    for train_rows, test_rows in GroupKFold(n_splits=folds).split(items, groups=groups):
        model = export(fit_pipeline([items[i] for i in train_rows], estimator), 0.5)
        for i in test_rows:
            result[i] = model.probabilities(items[i].doc)
    return result


def tune_keep_threshold(items: list[Labeled], probabilities: list[np.ndarray],
                        content_recall: float = TARGET_CONTENT_RECALL) -> float:
    """Return the highest keep threshold whose held-out content recall reaches the target."""
    gold_kept = np.concatenate([[label in KEPT_LABELS for label in item.labels] for item in items])
    kept_mass = np.concatenate([p[:, KEPT_COLUMNS].sum(axis=1) for p in probabilities])
    content_mass = np.sort(kept_mass[gold_kept])
    allowed_losses = int(np.floor((1 - content_recall) * len(content_mass)))
    # Keep every content block above the allowed losses, with a small margin below it.
    threshold = float(content_mass[allowed_losses]) * 0.999
    return min(max(threshold, MIN_KEEP_THRESHOLD), 0.5)


def labels_of(probabilities: list[np.ndarray], keep_threshold: float) -> list[list[Label]]:
    """Return the decided labels of every document."""
    return [decide(p, keep_threshold)[0] for p in probabilities]


def gather_training_data(fixture_roots: list[Path], corpus_labels: Path | None,
                         corpus: Path | None) -> tuple[list[Labeled], dict[str, Any]]:
    """Return every labeled document to train on, and the inventory the manifest records."""
    from cleaner.fixtures import (FAKENEWSNET, GOLD_BLOCKS, fingerprint, fixture_paths,
                                  read_corpus_labels, read_fixtures, read_gold_blocks)

    paths = fixture_paths(fixture_roots)
    items = read_fixtures(fixture_roots)
    inventory: dict[str, Any] = {"fixtures": {"files": len(paths), "sha256": fingerprint(paths)}}
    if corpus is not None and corpus.is_dir():
        label_files = sorted(corpus_labels.glob("*.jsonl")) if corpus_labels else []
        if label_files and corpus_labels is not None:
            items += read_corpus_labels(corpus_labels, corpus)
            inventory["corpus_labels"] = {"files": len(label_files),
                                          "sha256": fingerprint(label_files),
                                          "corpus_sha256": sha256_of(corpus / FAKENEWSNET)}
        items += read_gold_blocks("scrapinghub-aeb", corpus)
        inventory["html_gold_blocks"] = {"source": "scrapinghub-aeb",
                                         "sha256": sha256_of(corpus / GOLD_BLOCKS)}
    counts: dict[str, int] = {}
    for item in items:
        counts[item.origin] = counts.get(item.origin, 0) + 1
    inventory["documents"] = counts
    inventory["blocks"] = sum(len(item.labels) for item in items)
    inventory["sites"] = len({item.site for item in items})
    return items, inventory


def train_and_save(items: list[Labeled], inventory: dict[str, Any], path: Path,
                   estimator: str = DEFAULT_ESTIMATOR) -> tuple[dict[str, Any], Any]:
    """Cross-validate by site, tune the keep threshold, fit on everything, save; return both."""
    from cleaner.evaluate import score

    probabilities = out_of_fold_probabilities(items, estimator)
    threshold = tune_keep_threshold(items, probabilities)
    report = score("grouped cross-validation", [item.labels for item in items],
                   labels_of(probabilities, threshold))
    model = export(fit_pipeline(items, estimator), threshold)
    record = {"estimator": estimator, "estimator_params": CANDIDATES[estimator], "seed": SEED,
              "training_data": inventory, "cross_validation": report.as_dict(),
              "trained_at": datetime.now(UTC).strftime("%Y-%m-%d"), "git_commit": git_commit()}
    return save_model(model, path, record), report


def git_commit() -> str:
    """Return the current git commit of the working tree, or 'unknown'."""
    import subprocess

    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).parent, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return result.stdout.strip()
