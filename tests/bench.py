"""Benchmark the cleaner: throughput and memory beside a regex line filter, cold start, --jobs,
and HTML pages/s beside trafilatura's.

Example: python tests/bench.py --limit 500 --json bench.json (MB means 10^6 bytes throughout)
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path
from typing import Any, NoReturn

from cleaner import Cleaner, CleanerError

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
CORPUS = SHARED / "corpus" / "text" / "fakenewsnet.jsonl.gz"
SEED_ARTICLE = SHARED / "seed" / "express-ricketts.txt"
COLD_RUNS = 7
BATCH_JOBS = (1, 2)
BATCH_PASSES = 3
HTML_PASSES = 3
# The baseline: boilerplate lines a hand-written filter drops, as seen in the FakeNewsNet scrapes.
BOILERPLATE = re.compile(r"^\s*(?:advertisement\s*$|scroll down for video|read more|share this"
                         r"|don[’']?t miss|source:)|newsletter|sign up|cookies", re.IGNORECASE)


def fail(message: str, code: int = 1) -> NoReturn:
    """Exit with one error line on stderr."""
    sys.stderr.write(f"bench: {message}\n")
    raise SystemExit(code)


def run_quietly(command: list[str]) -> str:
    """Return the stdout of `command`, or fail with the last line of its stderr."""
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["failed"])[-1]
        command_name = " ".join(Path(part).name for part in command[:2])
        fail(last[len("bench: "):] if last.startswith("bench: ") else f"{command_name}: {last}")
    return done.stdout


def load_corpus(limit: int | None) -> list[str]:
    """Return the article texts of the corpus, only the first `limit` if given."""
    with gzip.open(CORPUS, "rt", encoding="utf-8") as lines:
        return [json.loads(line)["text"] for line in islice(lines, limit)]


def peak_mb() -> float:
    """Return this process's peak resident memory so far (ru_maxrss counts KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def run_cleaner(texts: list[str]) -> dict[str, float]:
    """Return the seconds to load the model and to clean every text, and the bytes kept."""
    started = time.perf_counter()
    try:
        cleaner = Cleaner()
    except CleanerError as error:
        fail(str(error))
    loaded = time.perf_counter()
    kept = sum(len(cleaner.clean_text(text).text.encode()) for text in texts)
    return {"load_s": loaded - started, "seconds": time.perf_counter() - loaded, "kept_bytes": kept}


def run_baseline(texts: list[str]) -> dict[str, float]:
    """Return the seconds for the regex line filter over every text, and the bytes kept."""
    started = time.perf_counter()
    kept = sum(len("".join(line + "\n" for line in text.splitlines()
                           if not BOILERPLATE.search(line)).encode()) for text in texts)
    return {"seconds": time.perf_counter() - started, "kept_bytes": kept}


def with_rates(run: dict[str, float], articles: int, size: int) -> dict[str, float]:
    """Return the run with articles/s, MB/s and the kept share of the input bytes added."""
    return {**run, "articles_per_s": articles / run["seconds"],
            "mb_per_s": size / 1e6 / run["seconds"], "kept_share": run["kept_bytes"] / size}


def cleaner_memory_mb(limit: int | None) -> float:
    """Return how much a fresh process's peak memory grows over its cleaner run."""
    limit_args = [f"--limit={limit}"] if limit else []
    child = json.loads(run_quietly([sys.executable, __file__, "--only-cleaner", *limit_args]))
    return float(child["after_mb"] - child["before_mb"])


def median_wall_s(command: list[str]) -> float:
    """Return the median wall time of `command` over COLD_RUNS runs after one warm-up."""
    times = []
    for _ in range(COLD_RUNS + 1):
        started = time.perf_counter()
        run_quietly(command)
        times.append(time.perf_counter() - started)
    return statistics.median(times[1:])


def cold_start(scratch: Path) -> dict[str, Any]:
    """Return median wall seconds of `cleaner clean`, bare Python and importing scikit-learn."""
    cleaner = Path(sys.executable).parent / "cleaner"
    if not cleaner.is_file():
        fail(f"{cleaner}: no cleaner executable; run 'pip install -e .' in the virtualenv", 2)
    article = SEED_ARTICLE if SEED_ARTICLE.is_file() else scratch / "small.txt"
    if not article.exists():
        article.write_text("Council approves bridge\nThe vote was 7 to 2.\nAdvertisement\n")
    return {"input": str(article),
            "python_pass_s": median_wall_s([sys.executable, "-c", "pass"]),
            "import_sklearn_s": median_wall_s([sys.executable, "-c", "import sklearn"]),
            "cleaner_clean_s": median_wall_s([str(cleaner), "clean", str(article)])}


def batch_runs(scratch: Path, limit: int | None) -> dict[str, float]:
    """Return the wall seconds of `cleaner clean --jsonl` over the corpus at 1 and 2 jobs, and
    of two 1-job runs over its two halves at the same time: what this machine gives two busy
    processes that share nothing (cores, memory bandwidth, steal time). It was the ceiling of
    --jobs 2 while each worker loaded its own model; forked workers that share the parent's
    model and start-up beat it (113 % and 117 % of it in two runs, 2026-12-06).

    Each is timed BATCH_PASSES times, round the three in turn, and its fastest run counts: other
    tenants of this machine take the cores for seconds at a time, and a single run of each put
    --jobs 2 anywhere from 75 % to 93 % of the ceiling.
    """
    with gzip.open(CORPUS, "rt", encoding="utf-8") as lines:
        records = list(islice(lines, limit))
    source = CORPUS
    if limit:
        source = scratch / "corpus.jsonl.gz"
        write_gzip(source, records)
    halves = [scratch / "first-half.jsonl.gz", scratch / "second-half.jsonl.gz"]
    middle = len(records) // 2
    write_gzip(halves[0], records[:middle])
    write_gzip(halves[1], records[middle:])
    cleaner = str(Path(sys.executable).parent / "cleaner")
    seconds: dict[str, float] = {}
    for _ in range(BATCH_PASSES):
        for jobs in BATCH_JOBS:
            started = time.perf_counter()
            run_quietly([cleaner, "clean", "--jsonl", str(source), "-o", str(scratch / "out.jsonl"),
                         "-q", "--jobs", str(jobs)])
            keep_fastest(seconds, f"jobs_{jobs}_s", time.perf_counter() - started)
        keep_fastest(seconds, "halves_together_s", halves_at_once(cleaner, halves))
    return seconds


def keep_fastest(seconds: dict[str, float], key: str, value: float) -> None:
    """Record `value` under `key` unless a faster run is already there."""
    seconds[key] = min(value, seconds.get(key, value))


def halves_at_once(cleaner: str, halves: list[Path]) -> float:
    """Return the wall seconds of one `cleaner clean` per half, all running at the same time."""
    started = time.perf_counter()
    runs = [subprocess.Popen([cleaner, "clean", "--jsonl", str(half), "-o",
                              str(half.with_name(half.name + ".out")), "-q"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            for half in halves]
    for run in runs:
        _, stderr = run.communicate()
        if run.returncode != 0:
            fail(f"cleaner clean on half the corpus: {stderr.decode().strip()[-200:]}")
    return time.perf_counter() - started


def write_gzip(path: Path, records: list[str]) -> None:
    """Write JSON Lines records gzipped, as the corpus is (level 6, the corpus's own)."""
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=6) as out:
        out.writelines(records)


def html_speed(limit: int | None) -> dict[str, Any] | None:
    """Return pages/s of the cleaner and of trafilatura (default settings) on the scrapinghub
    pages, timed as make bench-html times them (fastest of HTML_PASSES interleaved passes)."""
    import bench_html

    folder = bench_html.set_dir("scrapinghub")
    if not folder.is_dir():
        return None
    page_set = bench_html.load_scrapinghub(folder, limit)
    figures = bench_html.benchmark(["trafilatura", "cleaner"], page_set, HTML_PASSES)
    return {"pages": figures["pages"], **{name: {"pages_per_s": run["pages_per_s"]}
                                          for name, run in figures["systems"].items()}}


def benchmark(limit: int | None) -> dict[str, Any]:
    """Return every figure of one benchmark run."""
    # The child goes first: on Linux a child's ru_maxrss starts at its parent's peak.
    memory = {"cleaner_run_mb": cleaner_memory_mb(limit)}
    texts = load_corpus(limit)
    size = sum(len(text.encode()) for text in texts)
    baseline = with_rates(run_baseline(texts), len(texts), size)
    cleaner = with_rates(run_cleaner(texts), len(texts), size)
    memory["process_peak_mb"] = peak_mb()
    with tempfile.TemporaryDirectory() as scratch:
        cold = cold_start(Path(scratch))
        batch = batch_runs(Path(scratch), limit)
    return {"articles": len(texts), "input_mb": size / 1e6, "cleaner": cleaner,
            "baseline": baseline, "memory": memory, "cold_start": cold, "batch": batch,
            "html": html_speed(limit),
            "speed_ratio": cleaner["articles_per_s"] / baseline["articles_per_s"]}


def format_report(figures: dict[str, Any]) -> str:
    """Return the figures as plain-text tables."""
    lines = [f"throughput, one core: {figures['articles']} articles, {figures['input_mb']:.1f} MB",
             f"{'':10}{'seconds':>9}{'articles/s':>12}{'MB/s':>8}{'kept':>7}"]
    for name in ("cleaner", "baseline"):
        run = figures[name]
        lines.append(f"{name:10}{run['seconds']:9.2f}{run['articles_per_s']:12.0f}"
                     f"{run['mb_per_s']:8.2f}{run['kept_share']:7.0%}")
    memory, cold = figures["memory"], figures["cold_start"]
    lines += [(f"cleaner/baseline speed: {figures['speed_ratio']:.4f}; model load "
               f"{figures['cleaner']['load_s']:.2f} s, not counted above"), "",
              f"peak memory (ru_maxrss) after the cleaner run: {memory['process_peak_mb']:.0f} MB",
              (f"cleaner run alone: +{memory['cleaner_run_mb']:.0f} MB (ru_maxrss of a child "
               "process started before this one loaded the corpus: its peak after model load and "
               "cleaning minus its peak after loading the corpus)"), "",
              f"cold start, median wall time of {COLD_RUNS} runs after 1 warm-up: {cold['input']}"]
    for command, key in (("python -c pass", "python_pass_s"), ("cleaner clean FILE",
                         "cleaner_clean_s"), ("python -c 'import sklearn'", "import_sklearn_s")):
        lines.append(f"  {command:28}{cold[key]:7.3f} s {cold[key] / cold['python_pass_s']:6.1f}x"
                     f" floor {cold[key] / cold['import_sklearn_s']:6.2f}x import sklearn")
    batch = figures["batch"]
    lines += ["", (f"batch: cleaner clean --jsonl CORPUS -o OUT (wall time, whole process, fastest"
                   f" of {BATCH_PASSES} runs taken in turn)")]
    for jobs in BATCH_JOBS:
        seconds = batch[f"jobs_{jobs}_s"]
        lines.append(f"  --jobs {jobs}: {seconds:7.2f} s {figures['articles'] / seconds:8.0f} "
                     f"articles/s  speed-up {batch['jobs_1_s'] / seconds:5.2f}x")
    halves = batch["jobs_1_s"] / batch["halves_together_s"]
    lines += [(f"  two --jobs 1 runs on the two halves at once: {batch['halves_together_s']:7.2f} s,"
               f" speed-up {halves:5.2f}x (two processes that share nothing, on this machine now)"),
              f"  --jobs 2 gives {batch['jobs_1_s'] / batch['jobs_2_s'] / halves:.0%} of that speed-up"]
    html = figures["html"]
    if html is None:
        return "\n".join([*lines, "", "html: scrapinghub pages not found, not measured"])
    lines += ["", (f"html: {html['pages']} scrapinghub pages, page to text in one process, fastest"
                   f" of {HTML_PASSES} interleaved passes (make bench-html scores them)")]
    for name in ("trafilatura", "cleaner"):
        rate = html[name]["pages_per_s"]
        lines.append(f"  {name:12}{rate:7.1f} pages/s {rate / html['trafilatura']['pages_per_s']:6.2f}x"
                     " trafilatura")
    return "\n".join(lines)


def main() -> None:
    """Parse the options, run the benchmark and report it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, metavar="N", help="use only the first N articles")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures here")
    parser.add_argument("--only-cleaner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    if not CORPUS.is_file():
        fail(f"{CORPUS}: corpus not found; the benchmark needs the shared FakeNewsNet corpus", 2)
    if args.json and not args.json.parent.is_dir():
        fail(f"{args.json}: no such directory; pick a --json path in an existing one", 2)
    if args.only_cleaner:  # the child of cleaner_memory_mb: report peak memory around one run
        texts = load_corpus(args.limit)
        before = peak_mb()
        run_cleaner(texts)
        print(json.dumps({"before_mb": before, "after_mb": peak_mb()}))  # noqa: T201  # to parent
        return
    figures = benchmark(args.limit)
    print(format_report(figures))  # noqa: T201  # a benchmark script's report is its output
    try:
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    except OSError as error:
        fail(f"{args.json}: cannot write ({error.strerror})")


if __name__ == "__main__":
    main()
