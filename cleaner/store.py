"""The saved model: written atomically beside its manifest, and loaded only after the manifest
says it was built by this cleaner, with these libraries, from this very file."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import platform
from pathlib import Path
from typing import Any

from cleaner.blocks import KEPT_LABELS, CleanerError
from cleaner.features import FEATURE_VERSION
from cleaner.model import LABELS, LinearBlockModel

MODEL_FORMAT = 1
DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "cleaner.joblib"
# Distribution name -> import name, for the libraries a saved model depends on.
REPRODUCED_PACKAGES = {"scikit-learn": "sklearn", "numpy": "numpy", "joblib": "joblib"}
# The trade-offs `cleaner clean --favor` offers: the share of article lines each keeps on sites
# the model never saw, as training measures it (grouped cross-validation). Training tunes one
# keep threshold per entry and writes them to the manifest. "recall" is the default: losing a
# sentence of the article is worse than leaving a line of noise in.
FAVOR_CONTENT_KEPT = {"recall": 0.995, "balanced": 0.99, "precision": 0.98}
DEFAULT_FAVOR = "recall"


def manifest_path(model_path: Path) -> Path:
    """Return where the manifest of a model file lives."""
    return model_path.with_suffix(".json")


def library_versions() -> dict[str, str]:
    """Return the versions of Python and of the libraries a saved model depends on."""
    found = {"python": platform.python_version()}
    for package, module in REPRODUCED_PACKAGES.items():
        found[package] = installed_version(package, module)
    return found


def installed_version(package: str, module: str) -> str:
    """Return an installed distribution's version without importing it.

    Reads the name of its `.dist-info` folder beside the module: importlib.metadata would cost
    70 ms of every cold start, and importing scikit-learn far more.
    """
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return "not installed"
    site = Path(next(iter(spec.submodule_search_locations))).parent
    prefix = package.replace("-", "_") + "-"
    for info in site.glob(f"{prefix}*.dist-info"):
        return info.name[len(prefix):-len(".dist-info")]
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def save_model(model: LinearBlockModel, path: Path, record: dict[str, Any]) -> dict[str, Any]:
    """Write the model and its manifest atomically; return the manifest."""
    import joblib

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    # Uncompressed: the weights hardly compress (5.5 MB raw, 4.5 MB at zlib level 3), and
    # decompressing them cost 50 ms of every cold start (86 ms -> 35 ms to load, 2026-11-28).
    joblib.dump(model, partial)
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


def load_model(path: Path = DEFAULT_MODEL, favor: str = DEFAULT_FAVOR) -> LinearBlockModel:
    """Return the saved model after its manifest checks pass, deciding with the keep threshold
    trained for `favor`; unpickle nothing otherwise.

    The model holds no array objects (they pickle as bytes), so joblib.dump wrote a plain
    pickle stream, which joblib.load reads too. Python's C unpickler reads it without importing
    joblib, whose import (loky, cloudpickle, asyncio, psutil) and pure-Python unpickler cost
    about 100 ms of every cold start.
    """
    import pickle

    threshold = favored_threshold(path, check_manifest(path), favor)
    with path.open("rb") as stream:
        model = pickle.load(stream)
    if not isinstance(model, LinearBlockModel):
        raise CleanerError(str(path), "not a cleaner model; run 'make model'")
    return model if threshold is None else dataclasses.replace(model, keep_threshold=threshold)


def favored_threshold(path: Path, manifest: dict[str, Any], favor: str) -> float | None:
    """Return the keep threshold the manifest holds for `favor` (None: the model's own)."""
    if favor == DEFAULT_FAVOR:
        return None
    if favor not in FAVOR_CONTENT_KEPT:
        raise CleanerError(str(path), f"no trade-off '{favor}'; use one of "
                                      f"{', '.join(FAVOR_CONTENT_KEPT)}")
    threshold = manifest.get("keep_thresholds", {}).get(favor)
    if not isinstance(threshold, float):
        raise CleanerError(str(path), f"its manifest has no '{favor}' threshold (trained before "
                                      f"--favor); run 'make model'")
    return threshold

