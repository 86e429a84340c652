"""The model: its manifest guards loading, its exported form equals the fitted pipeline."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone

from cleaner.blocks import CleanerError
from cleaner.features import BlockFeaturizer
from cleaner.fixtures import fingerprint, fixture_paths, read_fixtures
from cleaner.model import LABELS, export
from cleaner.store import DEFAULT_MODEL, FAVOR_CONTENT_KEPT, load_model, save_model
from cleaner.train import fit_pipeline

from .conftest import ROOT


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    path = tmp_path / "cleaner.joblib"
    shutil.copy(DEFAULT_MODEL, path)
    shutil.copy(DEFAULT_MODEL.with_suffix(".json"), path.with_suffix(".json"))
    return path


def edit_manifest(path: Path, **changes: object) -> None:
    manifest = json.loads(path.with_suffix(".json").read_text())
    manifest.update(changes)
    path.with_suffix(".json").write_text(json.dumps(manifest))


def test_committed_model_loads() -> None:
    assert load_model().keep_threshold > 0


def test_saved_model_round_trips_through_joblib_and_loads_without_it(tmp_path: Path) -> None:
    import joblib

    items = read_fixtures([ROOT / "fixtures" / "train"])[:12]
    model = export(fit_pipeline(items), keep_threshold=0.3)
    path = tmp_path / "m.joblib"
    save_model(model, path, {})
    loaded, by_joblib = load_model(path), joblib.load(path)
    for other in (loaded, by_joblib):
        np.testing.assert_array_equal(other.weights, model.weights)
        assert other.featurizer.vocabulary_ == model.featurizer.vocabulary_
        assert other.keep_threshold == model.keep_threshold
    # Loading is on the path of every cold start: it must not pay for importing joblib.
    code = ("import sys, pathlib; from cleaner.store import load_model; "
            f"load_model(pathlib.Path({str(path)!r})); print('joblib' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "False\n"


def test_other_scikit_learn_release_is_refused_with_the_fix(model_copy: Path) -> None:
    manifest = json.loads(model_copy.with_suffix(".json").read_text())
    edit_manifest(model_copy, versions={**manifest["versions"], "scikit-learn": "0.24.2"})
    with pytest.raises(CleanerError) as raised:
        load_model(model_copy)
    assert str(raised.value) == (f"{model_copy}: built with scikit-learn 0.24.2, found "
                                 f"{manifest['versions']['scikit-learn']}; run 'make model'")


def test_other_feature_version_is_refused(model_copy: Path) -> None:
    edit_manifest(model_copy, feature_version=-1)
    with pytest.raises(CleanerError, match="feature version -1.*run 'make model'"):
        load_model(model_copy)


def test_changed_model_bytes_are_refused_before_unpickling(model_copy: Path) -> None:
    model_copy.write_bytes(b"cos\nsystem\n(S'echo pwned'\ntR.")
    with pytest.raises(CleanerError, match="SHA-256 differs from its manifest"):
        load_model(model_copy)


def test_missing_manifest_is_refused(model_copy: Path) -> None:
    model_copy.with_suffix(".json").unlink()
    with pytest.raises(CleanerError, match="no manifest cleaner.json; run 'make model'"):
        load_model(model_copy)


def test_favor_loads_the_keep_threshold_the_manifest_holds_for_it(model_copy: Path) -> None:
    edit_manifest(model_copy, keep_thresholds={"recall": 0.1, "balanced": 0.2, "precision": 0.35})
    assert load_model(model_copy, "precision").keep_threshold == 0.35
    assert load_model(model_copy, "balanced").keep_threshold == 0.2
    assert load_model(model_copy, "recall").keep_threshold == load_model(model_copy).keep_threshold


def test_committed_model_holds_a_higher_threshold_for_each_trade_off_towards_precision() -> None:
    manifest = json.loads(DEFAULT_MODEL.with_suffix(".json").read_text())
    thresholds = [manifest["keep_thresholds"][favor] for favor in FAVOR_CONTENT_KEPT]
    assert thresholds[0] == manifest["keep_threshold"] == load_model().keep_threshold
    assert thresholds == sorted(thresholds)
    scores = manifest["cross_validation"]
    assert scores["hand_labeled_precision"]["content_kept"] >= FAVOR_CONTENT_KEPT["precision"]
    assert (scores["hand_labeled_precision"]["noise_removed"]
            > scores["hand_labeled"]["noise_removed"])


def test_favor_missing_from_the_manifest_is_refused_with_the_fix(model_copy: Path) -> None:
    manifest = json.loads(model_copy.with_suffix(".json").read_text())
    del manifest["keep_thresholds"]
    model_copy.with_suffix(".json").write_text(json.dumps(manifest))
    with pytest.raises(CleanerError) as raised:
        load_model(model_copy, "precision")
    assert str(raised.value) == (f"{model_copy}: its manifest has no 'precision' threshold "
                                 f"(trained before --favor); run 'make model'")
    assert load_model(model_copy).keep_threshold == manifest["keep_threshold"]


def test_unknown_favor_is_refused_naming_the_choices(model_copy: Path) -> None:
    with pytest.raises(CleanerError, match="no trade-off 'speed'; use one of recall, balanced, "
                                           "precision$"):
        load_model(model_copy, "speed")


def test_committed_model_was_trained_on_the_committed_fixtures() -> None:
    manifest = json.loads(DEFAULT_MODEL.with_suffix(".json").read_text())
    paths = fixture_paths([ROOT / "fixtures" / "train"])
    assert manifest["training_data"]["fixtures"]["sha256"] == fingerprint(paths), (
        "fixtures changed since the model was trained: run 'make model'")
    labels = sorted((ROOT / "fixtures" / "corpus" / "fakenewsnet").glob("*.jsonl"))
    assert manifest["training_data"]["corpus_labels"]["sha256"] == fingerprint(labels)


def test_exported_model_predicts_what_the_pipeline_predicts() -> None:
    items = read_fixtures([ROOT / "fixtures" / "train"])[:30]
    pipeline = fit_pipeline(items)
    exported = export(pipeline, keep_threshold=0.5)
    docs = [item.doc for item in items[:5]]
    expected = pipeline.predict_proba(docs)
    got = np.vstack([exported.first_stage(doc) for doc in docs])
    columns = [LABELS.index(label) for label in map(type(LABELS[0]), pipeline.classes_)]
    np.testing.assert_allclose(got[:, columns], expected, atol=1e-9)


def test_featurizer_follows_the_estimator_contract() -> None:
    featurizer = BlockFeaturizer(window=1, min_df=3)
    copy = clone(featurizer)
    assert copy.get_params() == featurizer.get_params()
    assert not hasattr(copy, "vocabulary_")
