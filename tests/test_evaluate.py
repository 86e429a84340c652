"""Scores: the metrics are right, and the shipped model stays above its pinned floors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cleaner.blocks import Label
from cleaner.cli import app
from cleaner.evaluate import c4_keeps, score
from cleaner.model import DEFAULT_MODEL

from .conftest import ROOT

B, P, N = Label.BODY, Label.PROMO, Label.OTHER


def test_scores_count_content_kept_and_noise_removed() -> None:
    report = score("t", [[B, B, P, P], [B, N]], [[B, B, P, B], [B, P]])
    assert report.content_kept == 1.0
    assert report.noise_removed == 2 / 3
    assert report.documents_perfect == 0.5
    assert report.per_label["promo"].precision == 0.5
    assert report.per_label["promo"].recall == 0.5


def test_c4_rules_keep_sentences_and_drop_chrome() -> None:
    assert c4_keeps("The council said the road would reopen on Friday.")
    assert not c4_keeps("DON’T MISS:")
    assert not c4_keeps("This site uses cookies to improve your experience today.")


def test_cross_validation_keeps_content_at_the_tuned_target() -> None:
    manifest = json.loads(DEFAULT_MODEL.with_suffix(".json").read_text())
    assert manifest["cross_validation"]["hand_labeled"]["content_kept"] >= 0.995


def test_held_out_scores_are_above_the_pinned_floors(shared_corpus: Path) -> None:
    result = CliRunner().invoke(app, ["evaluate", str(ROOT / "fixtures" / "eval"), "--check",
                                      "--corpus", str(shared_corpus), "--corpus-labels",
                                      str(ROOT / "fixtures" / "corpus" / "fakenewsnet-eval"),
                                      "--floors", str(ROOT / "fixtures" / "eval" / "floors.json"),
                                      "--json"])
    assert result.exit_code == 0, result.stderr
    reports = {r["name"]: r for r in json.loads(result.stdout)}
    assert reports["fundus"]["content_kept"] >= 0.99
    assert reports["fixtures-eval"]["content_kept"] >= 0.99
    assert reports["corpus-eval"]["documents"] >= 150
    assert reports["corpus-eval"]["content_kept"] >= 0.99
    assert reports["fundus"]["noise_removed"] > reports["fundus [keep-all baseline]"][
        "noise_removed"]
