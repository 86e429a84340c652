"""Kill `cleaner clean` again and again mid-batch and check no partial output ever appears (`make kill-test`).

Builds 400 text files and one JSON Lines file of 2,000 records from the first articles of the
shared corpus and cleans them once without interruption for a reference (with --jobs 1, and with
--jobs 2, which must give the same bytes). Then it runs the same ETL step (the text directory,
then the JSON Lines directory) into one output tree, killing each run after a seeded random
delay: SIGINT and SIGKILL in turn, to the whole process group, with --jobs 1 and 2 in turn.
After every kill each final-named output must equal the reference byte
for byte; the next run goes on from there (skip-if-fresh). A run that finishes before its kill
starts a new round by touching the inputs. Finally one run completes: the outputs must equal the
reference and no temporary file may remain. Exits 1 on any failure.

Example: .venv/bin/python tests/kill_test.py --kills 20 --seed 3
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

CLI = Path(sys.executable).parent / "cleaner"
ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "text" / "fakenewsnet.jsonl.gz"
ARTICLES = 400
RECORDS = 2_000
MIN_DELAY_S = 0.3
SIGINT_GRACE_S = 20.0  # an interrupted run exits well within a second; by then it hangs
# A Ctrl-C in the first milliseconds of a run lands in Python's own start-up (site, the .pth
# files, the console script importing cleaner.__main__), before cleaner's code can set its
# handler, and any Python program prints a traceback then. Such a traceback comes from the
# console script (or from the interpreter's own initialisation, which then reports a fatal
# "init_" error: its streams, site), and cleaner's only frames in it are the module level of
# cleaner/__init__.py and cleaner/__main__.py. It is counted apart; any other is a failure.
CLEANER_FRAME = re.compile(r'File "[^"]*(?:/bin/cleaner|/cleaner/[^"]*)", line \d+, in \S+')
START_UP_FRAME = re.compile(r'File "[^"]*(?:/bin/cleaner|/cleaner/__init__\.py'
                            r'|/cleaner/__main__\.py)", line \d+, in <module>')


def say(line: str) -> None:
    """Print one line of the report on stdout."""
    print(line, flush=True)  # noqa: T201 (a script's report)


def build_inputs(corpus: Path, inputs: Path) -> None:
    """Write `texts/NNN.txt` (one article each) and `shard/records.jsonl` (articles repeated)."""
    with gzip.open(corpus, "rt", encoding="utf-8") as lines:
        articles = [json.loads(line) for line in islice(lines, ARTICLES)]
    if len(articles) < ARTICLES:
        sys.exit(f"kill-test: {corpus}: only {len(articles)} articles, need {ARTICLES}")
    (inputs / "texts").mkdir(parents=True)
    (inputs / "shard").mkdir()
    for number, item in enumerate(articles):
        (inputs / "texts" / f"{number:03d}.txt").write_text(item["text"], encoding="utf-8")
    with open(inputs / "shard" / "records.jsonl", "w", encoding="utf-8") as shard:
        for number in range(RECORDS):
            item = articles[number % ARTICLES]
            record = {"id": f"{item['id']}#{number // ARTICLES}", "text": item["text"]}
            shard.write(json.dumps(record, ensure_ascii=False) + "\n")


def step(inputs: Path, out: Path, jobs: int) -> list[list[str]]:
    """Return the commands of one ETL step: the text directory, then the JSON Lines directory."""
    common = ["-q", "--jobs", str(jobs)]
    return [[str(CLI), "clean", str(inputs / "texts"), "-o", str(out / "texts"), *common],
            [str(CLI), "clean", "--jsonl", str(inputs / "shard"), "-o", str(out / "shard"), *common]]


def group_members(pgid: int) -> list[int]:
    """Return the ids of the live processes in process group `pgid` (zombies excluded)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


@dataclass
class Attempt:
    """How one interrupted step went."""

    killed: bool  # False: the step finished before its delay ran out
    returncodes: list[int] = field(default_factory=list)
    command: str = ""  # the command that was running when the signal came
    orphans: int = 0  # processes of a killed run still alive after it exited
    tracebacks: list[str] = field(default_factory=list)  # the last lines of each one
    startup_tracebacks: int = 0  # from Python's start-up, before cleaner's handler (see above)


def reap(proc: subprocess.Popen[bytes], sig: signal.Signals, attempt: Attempt) -> None:
    """Wait for a signalled run to end, then count and kill what is left of its process group."""
    try:
        proc.wait(timeout=SIGINT_GRACE_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        attempt.returncodes.append(-999)  # ignored the signal
    deadline = time.monotonic() + (5.0 if sig == signal.SIGINT else 1.0)
    while group_members(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    attempt.orphans += len(group_members(proc.pid))
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # never let orphaned workers pile up
    except ProcessLookupError:
        pass


def from_python_start_up(stderr: str) -> bool:
    """Tell whether a traceback comes from Python's start-up, before cleaner's handler is set."""
    frames = [line.strip() for line in stderr.splitlines() if line.strip().startswith('File "')]
    ours = [frame for frame in frames if CLEANER_FRAME.fullmatch(frame)]
    in_interpreter_init = "Fatal Python error: init_" in stderr  # streams, site, ...
    started_by_us = in_interpreter_init or any("/bin/cleaner" in f for f in ours)
    return bool(frames) and started_by_us and all(START_UP_FRAME.fullmatch(f) for f in ours)


def run_step(commands: list[list[str]], delay: float | None, sig: signal.Signals) -> Attempt:
    """Run the commands in order, each in its own process group; after `delay` s signal the group."""
    started = time.monotonic()
    attempt = Attempt(killed=False)
    for command in commands:
        with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              start_new_session=True) as proc:
            left = None if delay is None else delay - (time.monotonic() - started)
            try:
                _, err = proc.communicate(timeout=left if left is None else max(left, 0.001))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, sig)
                attempt.killed, attempt.command = True, " ".join(Path(c).name for c in command[1:4])
                reap(proc, sig, attempt)
                _, err = proc.communicate()
            if b"Traceback" in err and from_python_start_up(err.decode(errors="replace")):
                attempt.startup_tracebacks += 1
            elif b"Traceback" in err:
                attempt.tracebacks.append(" | ".join(err.decode(errors="replace").splitlines()[-4:]))
            attempt.returncodes.append(proc.returncode)
        if attempt.killed:
            return attempt
    return attempt


def final_files(tree: Path) -> dict[str, bytes]:
    """Return the final-named files under `tree` (not hidden temporary files) and their bytes."""
    return {str(p.relative_to(tree)): p.read_bytes() for p in sorted(tree.rglob("*"))
            if p.is_file() and not (p.name.startswith(".") and p.name.endswith(".tmp"))}


def temporary_files(tree: Path) -> list[Path]:
    """Return the hidden temporary files under `tree`."""
    return sorted(tree.rglob(".*.tmp"))


def compare(out: Path, reference: dict[str, bytes]) -> list[str]:
    """Return the final-named outputs that differ from the reference or should not exist."""
    return [name for name, data in final_files(out).items() if reference.get(name) != data]


def touch_inputs(inputs: Path) -> None:
    """Make every input newer than its output, as a fresh scrape would: a new round begins."""
    now = time.time_ns() + 1_000_000
    for path in inputs.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(now, now))


def fingerprint() -> str:
    """Return a digest of the cleaner's code and of the model in use (CLEANER_MODEL or shipped)."""
    model = Path(os.environ.get("CLEANER_MODEL", ROOT / "models" / "cleaner.joblib"))
    digest = hashlib.sha256()
    for path in (model, model.with_suffix(".json"), *sorted((ROOT / "cleaner").glob("*.py"))):
        digest.update(path.read_bytes() if path.exists() else b"missing")
    return digest.hexdigest()[:12]


@dataclass
class Tally:
    """What the kills found."""

    kills: Counter[tuple[str, int]] = field(default_factory=Counter)  # (signal, jobs) -> kills
    finished_early: int = 0  # steps that completed before their kill: a new round followed
    partial: list[str] = field(default_factory=list)
    orphans: int = 0
    tracebacks: list[str] = field(default_factory=list)
    startup_tracebacks: int = 0
    sigint_exit_0: int = 0  # interrupted runs that still claimed success
    ignored: list[str] = field(default_factory=list)  # runs that outlived SIGINT by SIGINT_GRACE_S


def reference_run(inputs: Path, reference: Path, jobs: int) -> tuple[dict[str, bytes], float]:
    """Clean everything once, uninterrupted; return the outputs and how long it took."""
    started = time.monotonic()
    done = run_step(step(inputs, reference, jobs), None, signal.SIGKILL)
    if any(code != 0 for code in done.returncodes):
        sys.exit(f"kill-test: the reference run failed (exit codes {done.returncodes}); "
                 "check that 'cleaner clean' works, e.g. its model")
    return final_files(reference), time.monotonic() - started


def kill_once(rng: random.Random, inputs: Path, out: Path, typical_s: dict[int, float],
              reference: dict[str, bytes], tally: Tally) -> None:
    """Run the step into `out`, kill it after a random delay, and check every final output."""
    number = sum(tally.kills.values())  # signals and jobs alternate over kills, not attempts
    sig = signal.SIGINT if number % 2 == 0 else signal.SIGKILL
    jobs = 1 + (number // 2) % 2
    delay = rng.uniform(MIN_DELAY_S, typical_s[jobs])
    attempt = run_step(step(inputs, out, jobs), delay, sig)
    tally.orphans += attempt.orphans
    tally.startup_tracebacks += attempt.startup_tracebacks
    tally.tracebacks += [f"kill {number} ({sig.name}, jobs {jobs}): traceback: {tail}"
                         for tail in attempt.tracebacks]
    if -999 in attempt.returncodes:
        tally.ignored.append(f"kill {number}: {attempt.command} --jobs {jobs}, SIGINT after {delay:.1f} s "
                             f"of the step: still running {SIGINT_GRACE_S:.0f} s later, killed")
    if not attempt.killed:
        tally.finished_early += 1
        touch_inputs(inputs)
        return
    tally.kills[(sig.name, jobs)] += 1
    complete = set(final_files(out)) == set(reference)
    if sig == signal.SIGINT and attempt.returncodes[-1] == 0 and not complete:
        tally.sigint_exit_0 += 1
    tally.partial += [f"kill {number} ({sig.name}, jobs {jobs}): {name}" for name in compare(out, reference)]


def report(tally: Tally, final_ok: bool, leftovers: list[Path], seconds: float) -> None:
    """Print what the kills found."""
    grid = ", ".join(f"{sig} jobs {jobs}: {n}" for (sig, jobs), n in sorted(tally.kills.items()))
    by_signal = Counter(sig for sig, _ in tally.kills.elements())
    say(f"kills: {sum(tally.kills.values())} (SIGINT {by_signal['SIGINT']}, SIGKILL {by_signal['SIGKILL']}; "
        f"{grid}); steps that finished before their kill (new round): {tally.finished_early}")
    say(f"partial files found: {len(tally.partial)}; orphaned processes after a kill: {tally.orphans}; "
        f"runs that outlived SIGINT: {len(tally.ignored)}; SIGINT runs exiting 0 unfinished: "
        f"{tally.sigint_exit_0}; runs with a traceback on stderr: {len(tally.tracebacks)} (and "
        f"{tally.startup_tracebacks} from Python's start-up, before cleaner's handler: not failures)")
    say(f"final identical to the reference: {'yes' if final_ok else 'no'}; leftover temp files: "
        f"{len(leftovers)}; wall time: {seconds:.0f} s")
    for line in tally.partial[:20] + tally.ignored + tally.tracebacks[:5] + [f"leftover: {p}" for p in leftovers[:10]]:
        say(f"FAIL {line}")


def main() -> None:
    """Build the inputs, make the reference, kill runs, finish, compare, exit 1 on failure."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="Example: .venv/bin/python tests/kill_test.py --kills 20")
    parser.add_argument("--kills", type=int, default=50, help="kills to perform (default 50)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill delays (default 0)")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="JSON Lines corpus (id, text), gzipped")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    started, rng = time.monotonic(), random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="cleaner-kill-"))
    before = fingerprint()
    build_inputs(args.corpus, work / "in")
    reference, one_job_s = reference_run(work / "in", work / "reference-1", jobs=1)
    with_two, two_jobs_s = reference_run(work / "in", work / "reference-2", jobs=2)
    typical_s = {1: one_job_s, 2: two_jobs_s}
    same = with_two == reference
    say(f"reference: {len(reference)} outputs in {one_job_s:.1f} s (--jobs 1), {two_jobs_s:.1f} s "
        f"(--jobs 2); --jobs 2 output identical to --jobs 1: {'yes' if same else 'no'}")
    tally = Tally()
    while sum(tally.kills.values()) < args.kills and tally.finished_early < 2 * args.kills:
        kill_once(rng, work / "in", work / "out", typical_s, reference, tally)
    finish = run_step(step(work / "in", work / "out", jobs=2), None, signal.SIGKILL)
    final_ok = finish.returncodes == [0, 0] and final_files(work / "out") == reference
    leftovers = temporary_files(work / "out")
    report(tally, final_ok, leftovers, time.monotonic() - started)
    if fingerprint() != before:  # others may edit the tree meanwhile: a difference may come from that
        say("NOTE the cleaner's code or model changed during the test; a difference may come from that")
    if args.keep:
        say(f"work directory kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    failed = (tally.partial or leftovers or not final_ok or tally.orphans or tally.sigint_exit_0
              or tally.tracebacks or not same)
    sys.exit(1 if failed or tally.ignored or sum(tally.kills.values()) < args.kills else 0)


if __name__ == "__main__":
    main()
