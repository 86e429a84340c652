"""Shared test fixtures: the committed model, the shared corpus, golden-file updating."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from cleaner import Cleaner

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SEED = SHARED / "seed" / "express-ricketts.txt"
GOLDEN = Path(__file__).resolve().parent / "golden"

# The Ctrl-C tests signal this process and the cleaners it starts. A shell starts a background
# job (`make test &`) with SIGINT ignored, and the children inherit that across exec: no Ctrl-C
# would reach them, and three tests failed so (2026-12-07). Python's own handler instead, as
# in a terminal, so that the suite runs the same however it is started.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="Rewrite tests/golden/*.out.txt from the committed model.")


@pytest.fixture(scope="session")
def cleaner() -> Cleaner:
    return Cleaner()


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def shared_corpus() -> Path:
    corpus = SHARED / "corpus"
    if not corpus.is_dir():
        pytest.skip("../shared/corpus is not present")
    return corpus
