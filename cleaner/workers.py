"""Worker processes for --jobs: forked from the command, each fed chunks over its own pipe,
their results handed back in input order.

Forked rather than started afresh, so that what the command has loaded (the model) is already
in every worker. No thread runs in the parent: multiprocessing.Pool's task thread, blocked
writing a large chunk to workers that a Ctrl-C had stopped, hung `Pool.terminate` in 1 of
about 10 interrupted runs of tests/test_batch.py (2026-12-06).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from queue import SimpleQueue
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

Chunk = TypeVar("Chunk")
Result = TypeVar("Result")

# Chunks queued per worker beyond the one it works on: it starts the next as soon as it has
# sent a result, while the parent is still writing the previous one out.
CHUNKS_AHEAD = 2
# How often a worker checks that the process that forked it is still there (see watch_parent).
PARENT_CHECK_S = 0.2


@dataclass(frozen=True, slots=True)
class Worker:
    """A forked worker process and the parent's end of its pipe."""

    process: BaseProcess
    connection: Connection


def ordered_results(function: Callable[[Chunk], Result], chunks: Iterable[Chunk],
                    jobs: int) -> Iterator[Result]:
    """Yield `function(chunk)` for every chunk, in order, computed on `jobs` forked workers.

    Chunk i goes to worker i % jobs, so each worker's results come back in the order they are
    needed. At most CHUNKS_AHEAD + 1 chunks per worker are in flight: memory stays constant.
    """
    workers = start_workers(function, jobs)
    try:
        pending = iter(chunks)
        sent = 0
        for chunk in islice(pending, (CHUNKS_AHEAD + 1) * jobs):
            send(workers[sent % jobs], chunk)
            sent += 1
        done = 0
        while done < sent:
            result = receive(workers[done % jobs])
            done += 1
            for chunk in islice(pending, 1):  # to the worker just heard from: sent ≡ done
                send(workers[sent % jobs], chunk)
                sent += 1
            yield result
    finally:
        stop_workers(workers)


def can_fork() -> bool:
    """Return True where worker processes can be forked (not on Windows)."""
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def start_workers(function: Callable[[Any], Any], jobs: int) -> list[Worker]:
    """Return `jobs` workers forked from this process, each serving `function`."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    # A Ctrl-C reaches the whole process group. Workers inherit a blocked SIGINT, so only this
    # process handles it, and it stops them (a worker caught while working printed a traceback).
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    workers = []
    try:
        for _ in range(jobs):
            ours, theirs = context.Pipe()
            process = context.Process(target=serve, args=(theirs, function, os.getpid()),
                                      name="cleaner-worker", daemon=True)
            process.start()
            theirs.close()
            workers.append(Worker(process, ours))
    except BaseException:
        stop_workers(workers)
        raise
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
    return workers


def send(worker: Worker, chunk: Any) -> None:
    """Hand the worker a chunk; raise RuntimeError if it has stopped."""
    try:
        worker.connection.send(chunk)
    except OSError:  # a broken pipe: it died
        raise stopped(worker) from None


def receive(worker: Worker) -> Any:
    """Return the worker's next result; raise what the function raised there."""
    try:
        result = worker.connection.recv()
    except (EOFError, OSError):  # closed, or reset when it died with a chunk unread
        raise stopped(worker) from None
    if isinstance(result, Failure):
        raise result.error
    return result


def stopped(worker: Worker) -> RuntimeError:
    """Return the error for a worker that died (killed by the kernel's OOM killer, say)."""
    worker.process.join()
    return RuntimeError(f"a --jobs worker stopped (exit code {worker.process.exitcode})")


def stop_workers(workers: list[Worker]) -> None:
    """Stop the workers at once: at the end they are idle, after a Ctrl-C their work is void."""
    for worker in workers:
        worker.process.kill()
    for worker in workers:
        worker.process.join()
        worker.connection.close()


@dataclass(frozen=True, slots=True)
class Failure:
    """An exception raised by the function in a worker, sent back to be raised in the parent."""

    error: BaseException


def serve(connection: Connection, function: Callable[[Any], Any], parent: int) -> None:
    """Run in a worker: apply `function` to every chunk received, sending back each result."""
    watch_parent(parent)
    # A thread takes chunks off the pipe as they come, so the parent never blocks sending one
    # while this worker blocks sending a result the parent has not yet read.
    chunks: SimpleQueue[Any] = SimpleQueue()
    threading.Thread(target=take_chunks, args=(connection, chunks), daemon=True).start()
    while (chunk := chunks.get()) is not None:
        try:
            result = function(chunk)
        except Exception as error:  # a bug, not a bad input: the parent raises it
            result = Failure(error)
        connection.send(result)


def take_chunks(connection: Connection, chunks: SimpleQueue[Any]) -> None:
    """Move every chunk from the pipe to the queue; None once the parent has closed it."""
    try:
        while True:
            chunks.put(connection.recv())
    except (EOFError, OSError):
        chunks.put(None)


def watch_parent(parent: int) -> None:
    """Make this worker exit once its parent is gone: a SIGKILL gives the parent no chance to
    stop its workers, and its pipe stays open in the workers forked after this one."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_S)
        os._exit(1)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()
