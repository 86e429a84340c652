"""`python -m cleaner` and the `cleaner` command run the command line."""

from __future__ import annotations

# signal's C core: the signal module imports enum first (6 ms), and a Ctrl-C that comes before
# the handler below is set prints a traceback (2 of 50 kills in one make kill-test run).
import _signal  # type: ignore[import-not-found]  # no stubs; the names are signal's own
import sys

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (18 ms) at start-up
if TYPE_CHECKING:
    import threading

INTERRUPTED: list[bool] = []  # holds True once a Ctrl-C came
# While the command line's modules import, a Ctrl-C is only noted, and acted on once they are
# in: a KeyboardInterrupt raised inside an import came out as a RuntimeError (from a dataclass
# field's __set_name__) or was printed and dropped by importlib's lock callbacks ("Exception
# ignored in"), in 2 and 3 of 400 Ctrl-Cs sent in a run's first 120 ms.
IMPORTING: list[bool] = []


def on_interrupt(signum: int, frame: object) -> None:
    """Note the Ctrl-C, then stop the main thread as Python's own handler does (once the
    command line's imports are done)."""
    INTERRUPTED.append(True)
    if not IMPORTING:
        raise KeyboardInterrupt


def report_thread_error(args: threading.ExceptHookArgs) -> None:
    """Print a helper thread's error, unless the run is being stopped by a Ctrl-C.

    On a Ctrl-C, the worker pool is torn down while its helper threads may still be handing
    it work. Under joblib's loky pool (used for --jobs until 2026-12-06) such a thread failed
    (KeyError in add_call_item_to_queue) in 5 of 25 interrupted --jobs 2 runs of make
    kill-test. The user asked to stop; such an error says nothing about their data.
    """
    import threading

    if not INTERRUPTED:
        threading.__excepthook__(args)


def run() -> None:
    """Run the command line; a Ctrl-C exits 130 with one line, no traceback.

    Importing numpy, typer and the stages takes a few hundred milliseconds before click's own
    Ctrl-C handling exists; an ETL job stopped in that window deserves the same quiet exit.
    """
    INTERRUPTED.clear()  # a run of its own, also when called twice in one process (tests)
    if _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler:  # not ignored (nohup, &)
        _signal.signal(_signal.SIGINT, on_interrupt)
    try:
        IMPORTING.append(True)
        import threading

        threading.excepthook = report_thread_error
        from cleaner.cli import main

        IMPORTING.clear()
        if INTERRUPTED:
            raise KeyboardInterrupt
        main()  # typer builds the click command before click's own handler exists
    except KeyboardInterrupt:
        sys.stderr.write("Aborted!\n")
        raise SystemExit(130) from None
    except Exception:
        # Python 3.11 wraps an exception raised while a class is being built in a RuntimeError,
        # as with a Ctrl-C during a later import. After a Ctrl-C, any error is the interruption.
        if not INTERRUPTED:
            raise
        sys.stderr.write("Aborted!\n")
        raise SystemExit(130) from None
    finally:
        IMPORTING.clear()  # also when an import failed
        # Finished or abandoned, what is left is the interpreter stopping the worker pool: a
        # Ctrl-C then would only print a traceback from threading's shutdown.
        _signal.signal(_signal.SIGINT, _signal.SIG_IGN)


if __name__ == "__main__":
    run()
