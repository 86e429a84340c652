"""Clean on a Dask cluster: bags and DataFrames of documents, or the CLI's batch on `--scheduler`.

The model travels once per worker, as the bytes of the model file and its manifest: a worker
writes them to a private directory and loads them through `load_model`, so the manifest's hash
and library checks run on the worker too. Tasks carry only small settings and a reference to
those bytes, never the model itself. Requires the `dask` extra: pip install 'cleaner[dask]'.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from cleaner.model import LinearBlockModel
from cleaner.store import DEFAULT_FAVOR, DEFAULT_MODEL, load_model, manifest_path
from cleaner.task import Outcome, RecordTask, Settings, clean_record, preload_model

Task = TypeVar("Task")
# Tasks are sent in batches: one round trip per this many documents keeps the scheduler's
# per-task overhead (about a millisecond) small beside cleaning (a few ms per document).
TASKS_PER_BATCH = 64
BATCHES_IN_FLIGHT_PER_WORKER = 4


@dataclass(frozen=True, slots=True)
class ModelBlob:
    """A model file and its manifest as bytes, to be shipped once to every worker."""

    name: str
    model: bytes
    manifest: bytes
    sha256: str


def read_blob(model_path: Path = DEFAULT_MODEL) -> ModelBlob:
    """Return the model file and its manifest as one shippable value."""
    model = model_path.read_bytes()
    return ModelBlob(model_path.name, model, manifest_path(model_path).read_bytes(),
                     hashlib.sha256(model).hexdigest())


_LOADED: dict[tuple[str, str], LinearBlockModel] = {}
_LOCK = threading.Lock()


def model_of(blob: ModelBlob, favor: str = DEFAULT_FAVOR) -> LinearBlockModel:
    """Return the model in `blob` deciding as `favor` asks, loaded once per worker process and
    checked like any model."""
    with _LOCK:  # a Dask worker runs tasks on several threads
        if (blob.sha256, favor) not in _LOADED:
            with tempfile.TemporaryDirectory(prefix="cleaner-model-") as folder:
                path = Path(folder) / blob.name
                path.write_bytes(blob.model)
                manifest_path(path).write_bytes(blob.manifest)
                _LOADED[blob.sha256, favor] = load_model(path, favor)
        return _LOADED[blob.sha256, favor]


def clean_partition(records: Iterable[dict[str, Any]], blob: ModelBlob,
                    settings: Settings) -> list[dict[str, Any]]:
    """Return a partition's records with `clean_text` added, or `clean_error` saying why not."""
    import json

    preload_model(settings.model_path, settings.favor, model_of(blob, settings.favor))
    cleaned = []
    for number, record in enumerate(records, 1):
        outcome = clean_record(RecordTask("partition", number, json.dumps(record).encode()), settings)
        if outcome.error is not None:
            cleaned.append({**record, "clean_error": outcome.error})
        else:
            cleaned.append(json.loads(outcome.output or "{}"))
    return cleaned


def clean_bag(bag: Any, model_path: Path = DEFAULT_MODEL, text_field: str = "text",
              html_field: str | None = None, id_field: str = "id", removed: bool = False,
              favor: str = DEFAULT_FAVOR) -> Any:
    """Return a Dask bag of the records of `bag` (dicts) with `clean_text` added.

    Example: clean_bag(db.read_text("raw/*.jsonl").map(json.loads)).map(json.dumps)
    .to_textfiles("clean/*.jsonl")
    """
    from dask.delayed import delayed

    blob = delayed(read_blob(model_path), pure=True)  # one graph key: fetched once per worker
    settings = Settings(model_path, "jsonl", removed, text_field, html_field, id_field,
                        favor=favor)
    return bag.map_partitions(clean_partition, blob, settings)


def clean_dataframe(frame: Any, model_path: Path = DEFAULT_MODEL, text_field: str = "text",
                    html_field: str | None = None, id_field: str = "id",
                    favor: str = DEFAULT_FAVOR) -> Any:
    """Return a Dask DataFrame with a `clean_text` column (and `clean_error`, empty when fine)."""
    from dask.delayed import delayed

    blob = delayed(read_blob(model_path), pure=True)
    settings = Settings(model_path, "jsonl", False, text_field, html_field, id_field,
                        favor=favor)
    meta = frame._meta.assign(clean_text="", clean_error="")
    return frame.map_partitions(clean_frame, blob, settings, meta=meta)


def clean_frame(frame: Any, blob: ModelBlob, settings: Settings) -> Any:
    """Return one pandas partition with `clean_text` and `clean_error` columns added."""
    rows = clean_partition(frame.to_dict("records"), blob, settings)
    return frame.assign(clean_text=[r.get("clean_text", "") for r in rows],
                        clean_error=[r.get("clean_error", "") for r in rows])


def connect(scheduler: str) -> Any:
    """Return a Dask client: `local:N` starts N one-thread worker processes here."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler.startswith("local:"):
        workers = int(scheduler.removeprefix("local:") or "1")
        # The workers' statistical profiler samples every thread's stack every 10 ms, for a
        # dashboard this cluster does not have: off, local:1 cleans the corpus 10 % faster.
        dask.config.set({"distributed.worker.profile.enabled": False})
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        return Client(cluster)
    return Client(scheduler, timeout="5s")


def run_batch(work: Callable[[Any, Settings], Outcome], tasks: list[Any], settings: Settings,
              blob: ModelBlob) -> list[Outcome]:
    """Clean one batch of tasks on a worker, with the model shipped in `blob`."""
    preload_model(settings.model_path, settings.favor, model_of(blob, settings.favor))
    return [work(task, settings) for task in tasks]


def cluster_outcomes(client: Any, work: Callable[[Task, Settings], Outcome],
                     tasks: Iterable[Task], settings: Settings) -> Iterator[Outcome]:
    """Yield the outcome of every task in input order, cleaned on the client's cluster."""
    blob = client.scatter(read_blob(settings.model_path), broadcast=True)
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    pending: deque[Any] = deque()
    iterator = iter(tasks)
    while True:
        while len(pending) < workers * BATCHES_IN_FLIGHT_PER_WORKER:
            batch = list(islice(iterator, TASKS_PER_BATCH))
            if not batch:
                break
            pending.append(client.submit(run_batch, work, batch, settings, blob, pure=False))
        if not pending:
            return
        yield from pending.popleft().result()


__all__ = ["ModelBlob", "clean_bag", "clean_dataframe", "clean_record", "cluster_outcomes",
           "connect", "read_blob"]
