"""Forked workers: results in input order, errors raised in the parent, no worker left over."""

from __future__ import annotations

import multiprocessing
import os
import time

import pytest

from cleaner.workers import ordered_results


def our_workers() -> list[multiprocessing.process.BaseProcess]:
    """Return this process's live --jobs workers (training tests leave joblib's behind)."""
    return [p for p in multiprocessing.active_children() if p.name == "cleaner-worker"]


def slow_square(number: int) -> int:
    # Later chunks finish first on the other worker: the order must still be the input's.
    time.sleep(0.02 if number % 3 == 0 else 0.0)
    return number * number


def fail_on_seven(number: int) -> int:
    if number == 7:
        raise ValueError("seven")
    return number


def own_pid(_: int) -> int:
    return os.getpid()


def test_results_come_back_in_input_order() -> None:
    assert list(ordered_results(slow_square, range(40), jobs=3)) == [n * n for n in range(40)]


def test_fewer_chunks_than_workers_and_no_chunks() -> None:
    assert list(ordered_results(slow_square, [4], jobs=2)) == [16]
    assert list(ordered_results(slow_square, [], jobs=2)) == []


def test_chunks_are_spread_over_every_worker() -> None:
    pids = set(ordered_results(own_pid, range(20), jobs=2))
    assert len(pids) == 2
    assert os.getpid() not in pids


def test_an_error_in_a_worker_is_raised_here_and_every_worker_stops() -> None:
    with pytest.raises(ValueError, match="seven"):
        list(ordered_results(fail_on_seven, range(20), jobs=2))
    assert not our_workers()


def test_stopping_early_stops_every_worker() -> None:
    results = ordered_results(slow_square, range(1000), jobs=2)
    assert next(results) == 0
    results.close()
    assert not our_workers()


def die_on_three(number: int) -> int:
    if number == 3:
        os._exit(3)  # as if the kernel's OOM killer had taken the worker
    return number


def test_a_worker_that_dies_is_an_error_here_not_a_hang() -> None:
    with pytest.raises(RuntimeError, match=r"a --jobs worker stopped \(exit code 3\)"):
        list(ordered_results(die_on_three, range(10), jobs=2))
    assert not our_workers()
