"""`python -m cleaner` and the `cleaner` command run the command line."""

import signal
import sys
import threading

interrupted = threading.Event()  # set by the first Ctrl-C


def on_interrupt(signum: int, frame: object) -> None:
    """Note the Ctrl-C, then stop the main thread as Python's own handler does."""
    interrupted.set()
    raise KeyboardInterrupt


def report_thread_error(args: threading.ExceptHookArgs) -> None:
    """Print a helper thread's error, unless the run is being stopped by a Ctrl-C.

    On a Ctrl-C, joblib tears its worker pool down while loky's manager thread may still be
    handing it work, and that thread then fails (KeyError in add_call_item_to_queue): found by
    make kill-test in 5 of 25 interrupted --jobs 2 runs. The user asked to stop; the error
    says nothing about their data.
    """
    if not interrupted.is_set():
        threading.__excepthook__(args)


def run() -> None:
    """Run the command line; a Ctrl-C exits 130 with one line, no traceback.

    Importing numpy, typer and the stages takes a few hundred milliseconds before click's own
    Ctrl-C handling exists; an ETL job stopped in that window deserves the same quiet exit.
    """
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not ignored (nohup, &)
        signal.signal(signal.SIGINT, on_interrupt)
    threading.excepthook = report_thread_error
    try:
        from cleaner.cli import main

        main()  # typer builds the click command before click's own handler exists
    except KeyboardInterrupt:
        sys.stderr.write("Aborted!\n")
        raise SystemExit(130) from None
    finally:
        # Finished or abandoned, what is left is the interpreter stopping the worker pool: a
        # Ctrl-C then would only print a traceback from threading's shutdown.
        signal.signal(signal.SIGINT, signal.SIG_IGN)


if __name__ == "__main__":
    run()
