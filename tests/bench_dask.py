"""Benchmark cleaning the corpus on Dask: 1 and 2 workers beside local --jobs 1 and 2, one run.

Example: python tests/bench_dask.py --limit 2000 (needs cleaner[dask])
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
CORPUS = SHARED / "corpus" / "text" / "fakenewsnet.jsonl.gz"
RUNS = (("local --jobs 1", ["--jobs", "1"]), ("local --jobs 2", ["--jobs", "2"]),
        ("dask local:1", ["--scheduler", "local:1"]), ("dask local:2", ["--scheduler", "local:2"]))


def timed(command: list[str]) -> float:
    """Return the wall seconds of `command`, failing loudly if it fails."""
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"bench-dask: {' '.join(command[:3])}: {done.stderr.strip()[-300:]}")
    return time.perf_counter() - started


def cluster_start_s() -> float:
    """Return the seconds to start and stop a 2-worker LocalCluster with a client."""
    code = ("import time; t = time.perf_counter(); from cleaner.cluster import connect; "
            "c = connect('local:2'); c.close(); c.cluster.close(); print(time.perf_counter() - t)")
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True).stdout)


def main() -> None:
    """Run every configuration on the same input and print seconds, rates and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, metavar="N", help="use only the first N articles")
    args = parser.parse_args()
    if not CORPUS.is_file():
        sys.exit(f"bench-dask: {CORPUS}: corpus not found")
    cleaner = str(Path(sys.executable).parent / "cleaner")
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "corpus.jsonl"
        with gzip.open(CORPUS, "rt", encoding="utf-8") as lines:
            source.write_text("".join(islice(lines, args.limit)), encoding="utf-8")
        articles = sum(1 for _ in source.open(encoding="utf-8"))
        seconds = {name: timed([cleaner, "clean", "--jsonl", str(source), "-o",
                                str(Path(scratch) / f"{i}.jsonl"), "-q", *options])
                   for i, (name, options) in enumerate(RUNS)}
        outputs = {(Path(scratch) / f"{i}.jsonl").read_bytes() for i in range(len(RUNS))}
    startup = cluster_start_s()
    base = seconds["local --jobs 1"]
    print(f"{articles} articles, wall time of the whole `cleaner clean --jsonl` process")  # noqa: T201
    for name, value in seconds.items():
        print(f"  {name:16}{value:8.2f} s {articles / value:8.0f} articles/s "  # noqa: T201
              f"{base / value:6.2f}x local --jobs 1")
    overhead = (seconds["dask local:1"] - base - startup) / articles * 1000
    print(f"  cluster start+stop (2 workers): {startup:.2f} s; dask overhead per document "  # noqa: T201
          f"beyond that (local:1 vs --jobs 1): {overhead:.2f} ms")
    print(f"  outputs identical across runs: {len(outputs) == 1}")  # noqa: T201
    print(json.dumps({"articles": articles, "seconds": seconds, "cluster_start_s": startup,  # noqa: T201
                      "overhead_ms_per_document": overhead}))


if __name__ == "__main__":
    main()
