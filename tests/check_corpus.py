"""Check idempotence and subsequence on every article of the shared corpus (`make check-corpus`).

For each article x: clean(clean(x)) == clean(x), and the clean lines are a subsequence of x's
blocks. Example: python tests/check_corpus.py --limit 500
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from itertools import islice
from pathlib import Path

from cleaner import Cleaner, segment_text

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "text" / "fakenewsnet.jsonl.gz"


def is_subsequence(lines: list[str], blocks: list[str]) -> bool:
    """Return True when `lines` appear in `blocks` in the same order."""
    remaining = iter(blocks)
    return all(any(line == block for block in remaining) for line in lines)


def check(records: list[dict[str, str]], cleaner: Cleaner) -> tuple[list[str], list[str]]:
    """Return the ids that are not idempotent and those whose output is not a subsequence."""
    unstable, not_subsequence = [], []
    for record in records:
        once = cleaner.clean_text(record["text"]).text
        if cleaner.clean_text(once).text != once:
            unstable.append(record["id"])
        blocks = [block.text for block in segment_text(record["text"]).blocks]
        if not is_subsequence(once.split("\n")[:-1], blocks):
            not_subsequence.append(record["id"])
    return unstable, not_subsequence


def main() -> None:
    """Run the check over the corpus and exit 1 on any failure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, metavar="N", help="check only the first N articles")
    args = parser.parse_args()
    if not CORPUS.is_file():
        sys.exit(f"check-corpus: {CORPUS}: corpus not found")
    with gzip.open(CORPUS, "rt", encoding="utf-8") as lines:
        records = [json.loads(line) for line in islice(lines, args.limit)]
    started = time.perf_counter()
    model = os.environ.get("CLEANER_MODEL")
    unstable, not_subsequence = check(records, Cleaner(Path(model)) if model else Cleaner())
    print(f"{len(records)} articles in {time.perf_counter() - started:.0f} s: "  # noqa: T201
          f"not idempotent {len(unstable)}, not a subsequence {len(not_subsequence)}"
          + (f"; first: {(unstable + not_subsequence)[0]}" if unstable or not_subsequence else ""))
    sys.exit(1 if unstable or not_subsequence else 0)


if __name__ == "__main__":
    main()
