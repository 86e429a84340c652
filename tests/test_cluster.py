"""Cleaning on a real Dask cluster (distributed.LocalCluster, 2 workers) gives the local bytes."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cleaner.cli import app
from cleaner.store import DEFAULT_MODEL
from cleaner.task import RecordTask, Settings, clean_record

distributed = pytest.importorskip("distributed")
dask_bag = pytest.importorskip("dask.bag")
runner = CliRunner()
ARTICLES = 300


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    with distributed.Client(cluster) as connected:
        yield connected
    cluster.close()


@pytest.fixture(scope="module")
def corpus_lines(shared_corpus: Path) -> list[str]:
    with gzip.open(shared_corpus / "text" / "fakenewsnet.jsonl.gz", "rt", encoding="utf-8") as f:
        return list(islice(f, ARTICLES))


def test_cli_on_a_local_cluster_writes_the_local_output_byte_for_byte(
        tmp_path: Path, corpus_lines: list[str]) -> None:
    source = tmp_path / "dump.jsonl"
    lines = corpus_lines[:150] + ["{broken\n"] + corpus_lines[150:]
    source.write_text("".join(lines), encoding="utf-8")
    local = runner.invoke(app, ["clean", "--jsonl", str(source), "-o", str(tmp_path / "local.jsonl"),
                                "--removed", str(tmp_path / "local-removed.jsonl")])
    remote = runner.invoke(app, ["clean", "--jsonl", str(source), "-o", str(tmp_path / "dask.jsonl"),
                                 "--removed", str(tmp_path / "dask-removed.jsonl"),
                                 "--scheduler", "local:2"])
    assert (local.exit_code, remote.exit_code) == (1, 1)
    assert (f"cleaner: {source}:151: not valid JSON (Expecting property name enclosed in double "
            "quotes at column 2)") in remote.stderr.splitlines()
    assert local.stderr == remote.stderr
    assert (tmp_path / "local.jsonl").read_bytes() == (tmp_path / "dask.jsonl").read_bytes()
    assert ((tmp_path / "local-removed.jsonl").read_bytes()
            == (tmp_path / "dask-removed.jsonl").read_bytes())
    assert len((tmp_path / "dask.jsonl").read_text().splitlines()) == ARTICLES


@pytest.mark.parametrize("favor", ["recall", "precision"])
def test_clean_bag_adds_clean_text_as_local_cleaning_does(client: Any, corpus_lines: list[str],
                                                          favor: str) -> None:
    from cleaner.cluster import clean_bag

    records = [json.loads(line) for line in corpus_lines[:60]] + [{"id": "x", "text": 3}]
    bag = dask_bag.from_sequence(records, npartitions=4)
    cleaned = clean_bag(bag, favor=favor).compute()
    settings = Settings(DEFAULT_MODEL, "jsonl", favor=favor)
    expected = [clean_record(RecordTask("local", 1, json.dumps(r).encode()), settings) for r in records[:60]]
    assert [r["clean_text"] for r in cleaned[:60]] == [
        json.loads(e.output or "")["clean_text"] for e in expected]
    assert cleaned[60]["text"] == 3
    assert cleaned[60]["clean_error"].endswith(": no string field 'text'")


def test_clean_dataframe_adds_a_clean_text_column(client: Any, corpus_lines: list[str]) -> None:
    import dask.dataframe as dd
    import pandas as pd

    from cleaner.cluster import clean_dataframe

    frame = pd.DataFrame([json.loads(line) for line in corpus_lines[:40]])
    cleaned = clean_dataframe(dd.from_pandas(frame, npartitions=3)).compute()
    assert list(cleaned.columns) == [*frame.columns, "clean_text", "clean_error"]
    assert (cleaned["clean_error"] == "").all()
    assert cleaned["clean_text"].str.len().gt(0).sum() >= 38


def test_unreachable_scheduler_is_one_line_and_exit_1(tmp_path: Path) -> None:
    source = tmp_path / "a.txt"
    source.write_text("Hello there, this is a short article.\n")
    result = runner.invoke(app, ["clean", str(source), "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 1
    assert result.stderr.startswith("cleaner: tcp://127.0.0.1:9: cannot connect to the scheduler")
    assert len(result.stderr.splitlines()) == 1
