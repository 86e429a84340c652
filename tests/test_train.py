"""Training: the keep threshold keeps the target share of each origin's content."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_info
from typer.testing import CliRunner

from cleaner import train
from cleaner.blocks import Document, Label
from cleaner.cli import app
from cleaner.fixtures import Labeled
from cleaner.model import LABELS
from cleaner.segment import segment_text
from cleaner.train import cleaned_labels, content_kept_by_origin, tune_for_cleaning


@dataclass(frozen=True)
class KeptMassModel:
    """Stands in for a fitted model: each block's kept probability is looked up by its text."""

    keep_threshold: float
    mass_by_text: dict[str, float] = field(default_factory=dict)

    def probabilities(self, doc: Document) -> np.ndarray:
        rows = np.zeros((len(doc.blocks), len(LABELS)))
        for row, block in zip(rows, doc.blocks, strict=True):
            mass = self.mass_by_text.get(block.text, 0.9)
            row[LABELS.index(Label.BODY)] = mass
            row[LABELS.index(Label.OTHER)] = 1 - mass
        return rows


def article(origin: str, number: int, blocks: int, hard_line: str | None = None) -> Labeled:
    """Return a labeled article of content blocks, optionally ending with one hard content line."""
    texts = [f"{origin} article {number} paragraph {i}." for i in range(blocks)]
    texts += [hard_line] if hard_line else []
    doc = segment_text("\n".join(texts) + "\n", doc_id=f"{origin}-{number}")
    return Labeled(doc, (Label.BODY,) * len(texts), site=f"{origin}.example", origin=origin)


def test_threshold_keeps_the_target_of_each_origin_not_only_of_all_content_pooled() -> None:
    # 101 fixture content blocks, one of them a hard line at kept mass 0.05; 1,000 easy corpus
    # blocks. Pooled, dropping the hard line still keeps 99.9 % of content; the fixtures alone
    # would keep only 99.0 %, below the 99.5 % target.
    items = [article("fixture", 0, 100, hard_line="Team news"),
             *(article("fakenewsnet", n, 100) for n in range(10))]
    model = KeptMassModel(keep_threshold=0.5, mass_by_text={"Team news": 0.05})
    models = [model] * len(items)
    threshold = tune_for_cleaning(items, models, 0.5)
    kept = content_kept_by_origin(items, cleaned_labels(items, models, threshold))
    assert threshold <= 0.05
    assert kept == {"fakenewsnet": 1.0, "fixture": 1.0}


BANNER = ("We use your sign-up to provide content in ways you've consented to and to improve our "
          "understanding of you. You can unsubscribe at any time.")


def write_site(root: Path, site: int, banner_label: str = "consent") -> Path:
    """Write two labeled articles of one site, each with a sign-up banner: labeled `banner_label`
    in the first, `consent` in the second. Return the first article's path."""
    paths = []
    for number in range(2):
        path = root / f"site{site}.example" / f"story-{number}.tsv"
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [f"title\tSite {site} story {number}: the council votes on the new bridge",
                 f"{banner_label if number == 0 else 'consent'}\t{BANNER}"]
        lines += [f"body\tCouncillors in town {site} met on day {number} and spoke for {i} hours "
                  f"about the cost of the bridge and the roads around it." for i in range(4)]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths[0]


def test_suspects_lists_a_banner_labeled_body_first(tmp_path: Path) -> None:
    planted = write_site(tmp_path, 0, banner_label="body")
    for site in range(1, 7):
        write_site(tmp_path, site)
    result = CliRunner().invoke(app, ["suspects", str(tmp_path), "--corpus", str(tmp_path / "none"),
                                      "--top", "3", "--json"])
    assert result.exit_code == 0, result.output
    listed = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(listed) == 3
    assert listed[0]["where"] == f"{planted}:2"
    assert (listed[0]["label"], listed[0]["text"]) == ("body", BANNER)
    assert listed[0]["kept_probability"] < 0.5


def test_suspects_with_too_few_sites_is_one_error_line(tmp_path: Path) -> None:
    write_site(tmp_path, 0)
    result = CliRunner().invoke(app, ["suspects", str(tmp_path), "--corpus", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert result.stderr.startswith("cleaner: suspects: ")
    assert result.stderr.count("\n") == 1


def test_training_fits_with_blas_on_one_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Threaded BLAS sums in a varying order, and two retrains on the same data gave different
    # models. The folds run in this process here, so that the spy sees every fit.
    threads: list[int] = []
    fit_pipeline = train.fit_pipeline

    def spy(*args: object) -> object:
        threads.append(max(pool["num_threads"] for pool in threadpool_info()))
        return fit_pipeline(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(train, "fit_pipeline", spy)
    monkeypatch.setattr(train, "TRAINING_JOBS", 1)
    for site in range(6):
        write_site(tmp_path / "fixtures", site)
    result = CliRunner().invoke(app, ["train", str(tmp_path / "fixtures"), "--corpus",
                                      str(tmp_path / "none"), "-o", str(tmp_path / "m.joblib")])
    assert result.exit_code == 0, result.output
    assert threads  # the spy saw the fits
    assert set(threads) == {1}


def test_two_retrains_on_the_same_fixtures_write_the_same_model(tmp_path: Path) -> None:
    # Separate processes: each has its own hash seed, BLAS threads and worker pool.
    for site in range(6):
        write_site(tmp_path / "fixtures", site)
    hashes = []
    for run in range(2):
        model = tmp_path / f"run{run}" / "cleaner.joblib"
        subprocess.run([sys.executable, "-m", "cleaner", "train", str(tmp_path / "fixtures"),
                        "--corpus", str(tmp_path / "none"), "-o", str(model)],
                       check=True, capture_output=True)
        hashes.append(json.loads(model.with_suffix(".json").read_text())["model_sha256"])
    assert hashes[0] == hashes[1]
