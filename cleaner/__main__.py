"""`python -m cleaner` and the `cleaner` command run the command line."""

import sys


def run() -> None:
    """Run the command line; a Ctrl-C during start-up exits 130 with one line, no traceback.

    Importing numpy, typer and the stages takes a few hundred milliseconds before click's own
    Ctrl-C handling exists; an ETL job stopped in that window deserves the same quiet exit.
    """
    try:
        from cleaner.cli import main

        main()  # typer builds the click command before click's own handler exists
    except KeyboardInterrupt:
        sys.stderr.write("Aborted!\n")
        raise SystemExit(130) from None


if __name__ == "__main__":
    run()
