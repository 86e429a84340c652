"""Batch ETL as a Makefile runs it: JSON Lines records, --jobs, skip-if-fresh, interrupted runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cleaner.cli import app
from cleaner.io import SETTINGS_STAMP
from tests.conftest import ROOT
from tests.test_cli import ARTICLE

runner = CliRunner()
OTHER = ("Council approves new bridge\n"
         "The council voted seven to two on Tuesday to approve the new river bridge.\n"
         "Share this article\n"
         "Construction is expected to begin next spring and last two years, officials said.\n")


def run(*args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), input=stdin)


def write_records(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def test_jsonl_records_keep_their_fields_and_order_and_gain_clean_text(tmp_path: Path) -> None:
    records = [{"id": f"r{i}", "text": text, "url": f"https://example.com/{i}", "rank": i}
               for i, text in enumerate([ARTICLE, OTHER, ARTICLE])]
    source = tmp_path / "dump.jsonl"
    write_records(source, [json.dumps(r, ensure_ascii=False) for r in records])
    result = run("clean", "--jsonl", str(source), "-o", str(tmp_path / "clean.jsonl"))
    assert result.exit_code == 0, result.stderr
    out = [json.loads(line) for line in (tmp_path / "clean.jsonl").read_text().splitlines()]
    assert [r["id"] for r in out] == ["r0", "r1", "r2"]
    assert all(r["url"] == f"https://example.com/{r['rank']}" for r in out)
    assert out[0]["text"] == ARTICLE  # the input field is passed through untouched
    assert out[0]["clean_text"].startswith("Storm closes coastal road\n")
    assert "Source: Read Full Article" not in out[0]["clean_text"]
    assert "removed" not in out[0]
    # ARTICLE's consent banner is most of its text: an archivist is told, record by record.
    assert result.stderr.splitlines()[0] == (
        "r0: 5 blocks, 2 removed (consent 1, footer 1); cut 57% of its text")
    assert result.stderr.endswith("2 flagged, 0 skipped (up to date), 0 failed\n")


def test_malformed_record_is_reported_with_its_line_and_every_other_record_written(
        tmp_path: Path) -> None:
    source = tmp_path / "dump.jsonl"
    write_records(source, [json.dumps({"id": "a", "text": ARTICLE}), "{not json",
                           json.dumps({"id": "b", "body": "no text field"}), "",
                           json.dumps(["a list"]), json.dumps({"id": "c", "text": OTHER})])
    result = run("clean", "--jsonl", str(source), "-q")
    assert result.exit_code == 1
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["a", "c"]
    assert result.stderr.splitlines() == [
        (f"cleaner: {source}:2: not valid JSON (Expecting property name enclosed in double quotes"
         " at column 2)"),
        f"cleaner: {source}:3: no string field 'text'",
        f"cleaner: {source}:5: not a JSON object"]


def test_removed_adds_each_records_removed_blocks(tmp_path: Path) -> None:
    source = tmp_path / "dump.jsonl"
    write_records(source, [json.dumps({"id": "a", "text": ARTICLE})])
    audit = tmp_path / "removed.jsonl"
    result = run("clean", "--jsonl", str(source), "--removed", str(audit), "-q")
    record = json.loads(result.stdout)
    labels = {entry["label"] for entry in record["removed"]}
    assert {"consent", "footer"} <= labels
    audited = [a for a in map(json.loads, audit.read_text().splitlines()) if "block" in a]
    assert [a["source"] for a in audited] == ["a"] * len(record["removed"])


def test_text_field_and_id_field_choose_the_fields(tmp_path: Path) -> None:
    source = tmp_path / "dump.jsonl"
    write_records(source, [json.dumps({"key": "k1", "body": ARTICLE})])
    audit = tmp_path / "removed.jsonl"
    result = run("clean", "--jsonl", str(source), "--text-field", "body", "--id-field", "key",
                 "--removed", str(audit), "-q")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["clean_text"].startswith("Storm closes coastal road")
    assert json.loads(audit.read_text().splitlines()[0])["source"] == "k1"


def test_jsonl_directory_mirrors_shards_and_gzip_stays_gzip(tmp_path: Path) -> None:
    import gzip

    raw = tmp_path / "raw"
    (raw / "2024").mkdir(parents=True)
    write_records(raw / "a.jsonl", [json.dumps({"id": "a", "text": ARTICLE})])
    with gzip.open(raw / "2024" / "b.jsonl.gz", "wt", encoding="utf-8") as packed:
        packed.write(json.dumps({"id": "b", "text": OTHER}) + "\n")
    result = run("clean", "--jsonl", str(raw), "-o", str(tmp_path / "clean"), "-q")
    assert result.exit_code == 0, result.stderr
    with gzip.open(tmp_path / "clean" / "2024" / "b.jsonl.gz", "rt", encoding="utf-8") as packed:
        assert json.loads(packed.read())["id"] == "b"
    assert json.loads((tmp_path / "clean" / "a.jsonl").read_text())["id"] == "a"


def test_two_jobs_write_what_one_job_writes(tmp_path: Path) -> None:
    source = tmp_path / "dump.jsonl"
    # More records than one chunk of work (batch.TEXT_RECORDS_PER_CHUNK), the last chunk short,
    # a bad line inside a chunk and one at the end.
    records = [json.dumps({"id": str(i), "text": [ARTICLE, OTHER][i % 2]}) for i in range(600)]
    write_records(source, [*records[:300], "oops", *records[300:], "oops"])
    one = run("clean", "--jsonl", str(source), "-o", str(tmp_path / "one.jsonl"), "-q")
    two = run("clean", "--jsonl", str(source), "-o", str(tmp_path / "two.jsonl"), "-q", "-j", "2")
    assert (one.exit_code, two.exit_code) == (1, 1)
    expected = "".join(f"cleaner: {source}:{line}: not valid JSON (Expecting value at column 1)\n"
                       for line in (301, 602))
    assert one.stderr == two.stderr == expected
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes()


def test_jobs_workers_clean_with_the_model_loaded_before_they_start(tmp_path: Path) -> None:
    # Workers are forked after the model is loaded: none of them reads the model file again
    # (loky's fresh interpreters each did, 0.6 s of a 200-file run).
    from cleaner.batch import outcomes
    from cleaner.task import RecordTask, Settings, clean_record, load_once, model_at

    model = tmp_path / "m.joblib"
    for suffix in (".joblib", ".json"):
        model.with_suffix(suffix).write_bytes((ROOT / "models" / f"cleaner{suffix}").read_bytes())
    tasks = [RecordTask("dump.jsonl", i, json.dumps({"id": str(i), "text": ARTICLE}).encode())
             for i in range(1, 41)]
    try:
        model_at(model)  # as the first chunk would
        model.unlink()
        results = list(outcomes(clean_record, tasks, Settings(model, "jsonl"), jobs=2,
                               chunk_size=4))
    finally:
        load_once.cache_clear()
    assert [r.error for r in results] == [None] * 40
    assert [json.loads(r.output or b"")["id"] for r in results] == [str(i) for i in range(1, 41)]


def alive(pid: int) -> bool:
    """Return True while `pid` runs (a zombie, dead but not yet reaped, is not alive)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_workers_exit_when_their_run_is_killed(tmp_path: Path) -> None:
    # A SIGKILL gives the parent no chance to stop its workers; they notice it is gone.
    process, _ = start_jobs_run(tmp_path, 3000)
    workers = both_workers(process)
    process.kill()
    process.wait()
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in workers)


def test_stdin_among_inputs_is_cleaned_with_jobs_too(tmp_path: Path) -> None:
    # Workers are other processes: they cannot read this one's stdin, and cleaned it as empty.
    other = tmp_path / "other.txt"
    other.write_text(OTHER, encoding="utf-8")
    outputs = [subprocess.run([sys.executable, "-m", "cleaner", "clean", "-", str(other), "-q",
                               "--format", "jsonl", "-j", jobs], input=ARTICLE,
                              capture_output=True, text=True, check=True).stdout
               for jobs in ("1", "2")]
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[1].splitlines()[0])["text"].startswith("Storm closes coastal road\n")


def make_tree(root: Path, count: int) -> None:
    for i in range(count):
        folder = root / f"day{i % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"a{i}.txt").write_text(ARTICLE if i % 2 else OTHER, encoding="utf-8")


def test_directory_with_jobs_mirrors_every_file(tmp_path: Path) -> None:
    make_tree(tmp_path / "raw", 12)
    result = run("clean", str(tmp_path / "raw"), "-o", str(tmp_path / "clean"), "-j", "2")
    assert result.exit_code == 0, result.stderr
    written = sorted(p.relative_to(tmp_path / "clean").as_posix()
                     for p in (tmp_path / "clean").rglob("*.txt"))
    assert written == sorted(p.relative_to(tmp_path / "raw").as_posix()
                             for p in (tmp_path / "raw").rglob("*.txt"))
    assert len(result.stderr.splitlines()) == 13  # one line per file, then the closing summary


def test_rerun_skips_up_to_date_outputs_and_cleans_only_new_files(tmp_path: Path) -> None:
    raw, clean = tmp_path / "raw", tmp_path / "clean"
    make_tree(raw, 6)
    assert run("clean", str(raw), "-o", str(clean), "-q").exit_code == 0
    (raw / "day0" / "new.txt").write_text(OTHER, encoding="utf-8")
    again = run("clean", str(raw), "-o", str(clean))
    assert again.stderr.splitlines() == [
        f"{raw / 'day0' / 'new.txt'}: 4 blocks, 1 removed (social 1)",
        "cleaner: 1 documents: 4 blocks, 1 removed (social 1); 0 flagged, 6 skipped (up to date), 0 failed"]
    forced = run("clean", str(raw), "-o", str(clean), "--force", "-q")
    assert forced.exit_code == 0


def test_another_favor_cleans_every_output_again_and_then_skips_them(tmp_path: Path) -> None:
    raw, clean = tmp_path / "raw", tmp_path / "clean"
    make_tree(raw, 3)

    def skipped(*options: str) -> str:
        result = run("clean", str(raw), "-o", str(clean), *options)
        assert result.exit_code == 0, result.stderr
        return result.stderr.splitlines()[-1].split("flagged, ")[1]

    assert skipped() == "0 skipped (up to date), 0 failed"
    assert not (clean / SETTINGS_STAMP).exists()  # the default writes no stamp
    assert skipped("--favor", "precision") == "0 skipped (up to date), 0 failed"
    assert skipped("--favor", "precision") == "3 skipped (up to date), 0 failed"
    assert skipped() == "0 skipped (up to date), 0 failed"  # back to the default: all again
    assert skipped() == "3 skipped (up to date), 0 failed"
    assert json.loads((clean / SETTINGS_STAMP).read_text()) == {"favor": "recall"}


def test_an_input_newer_than_its_output_is_cleaned_again(tmp_path: Path) -> None:
    raw, clean = tmp_path / "raw", tmp_path / "clean"
    make_tree(raw, 2)
    run("clean", str(raw), "-o", str(clean), "-q")
    changed = raw / "day1" / "a1.txt"
    changed.write_text(OTHER, encoding="utf-8")
    later = time.time() + 5
    os.utime(changed, (later, later))
    again = run("clean", str(raw), "-o", str(clean))
    assert again.stderr.splitlines()[-1].endswith("0 flagged, 1 skipped (up to date), 0 failed")
    assert (clean / "day1" / "a1.txt").read_text().startswith("Council approves new bridge")


def test_glob_chooses_which_files_a_directory_gives(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (raw / "b.text").write_text(OTHER, encoding="utf-8")
    result = run("clean", str(raw), "-o", str(tmp_path / "clean"), "--glob", "*.text", "-q")
    assert result.exit_code == 0
    assert [p.name for p in (tmp_path / "clean").iterdir()] == ["b.text"]


def test_killed_run_leaves_no_partial_file_and_a_rerun_finishes_the_job(tmp_path: Path) -> None:
    source = tmp_path / "dump.jsonl"
    write_records(source, [json.dumps({"id": str(i), "text": ARTICLE * 3}) for i in range(600)])
    destination = tmp_path / "out" / "clean.jsonl"
    command = [sys.executable, "-m", "cleaner", "clean", "--jsonl", str(source), "-o",
               str(destination), "-q"]
    process = subprocess.Popen(command)
    while not list(destination.parent.glob(".*.tmp")):  # killed while writing, not before
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not destination.exists()  # never half a file under the final name
    assert subprocess.run(command, check=False).returncode == 0
    assert len(destination.read_text().splitlines()) == 600
    assert [p.name for p in destination.parent.iterdir()] == ["clean.jsonl"]  # leftovers gone


def blocked_signals(pid: int) -> int:
    """Return the mask of signals a Linux process blocks."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigBlk")), 16)


def worker_processes(parent: int) -> list[int]:
    """Return the pids of the live child processes of `parent` (its --jobs workers)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # it ended meanwhile
            continue
        if int(fields[1]) == parent and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def both_workers(process: subprocess.Popen[bytes]) -> list[int]:
    """Return the pids of a `-j 2` run's two workers, once both are running."""
    while len(workers := worker_processes(process.pid)) < 2 and process.poll() is None:
        time.sleep(0.05)
    assert len(workers) == 2
    return workers


def start_jobs_run(tmp_path: Path, records: int) -> tuple[subprocess.Popen[bytes], Path]:
    """Start `cleaner clean --jsonl -j 2` on `records` articles in its own process group."""
    source = tmp_path / "dump.jsonl"
    write_records(source, [json.dumps({"id": str(i), "text": ARTICLE * 3}) for i in range(records)])
    destination = tmp_path / "out" / "clean.jsonl"
    process = subprocess.Popen([sys.executable, "-m", "cleaner", "clean", "--jsonl", str(source),
                                "-o", str(destination), "-j", "2", "-q"],
                               stderr=subprocess.PIPE, start_new_session=True)
    return process, destination


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_ctrl_c_to_a_jobs_run_is_left_to_the_main_process(tmp_path: Path) -> None:
    # A terminal's Ctrl-C reaches the whole process group; a worker it caught while importing
    # printed a traceback (found by make kill-test). Workers block SIGINT; the parent stops them.
    process, destination = start_jobs_run(tmp_path, 3000)
    workers = both_workers(process)
    assert all(blocked_signals(pid) & 1 << (signal.SIGINT - 1) for pid in workers)
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert b"Traceback" not in err
    assert not destination.exists()


def test_ctrl_c_in_the_middle_of_a_jobs_run_prints_no_traceback(tmp_path: Path) -> None:
    # Stopped while chunks are in flight, loky's manager thread failed as joblib tore the pool
    # down (make kill-test): the user asked to stop, and should see no traceback.
    process, destination = start_jobs_run(tmp_path, 6000)
    # The first chunks are written (to the temporary file) before the Ctrl-C.
    while process.poll() is None and not any(p.stat().st_size > 100_000
                                             for p in (tmp_path / "out").glob("*")):
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert b"Traceback" not in err
    assert b"Exception" not in err
    assert not destination.exists()


def test_unwritable_output_is_one_error_per_file_and_the_rest_is_written(tmp_path: Path) -> None:
    raw, clean = tmp_path / "raw", tmp_path / "clean"
    make_tree(raw, 6)
    clean.mkdir()
    (clean / "day0").write_text("a file where a directory should be")  # works even as root
    result = run("clean", str(raw), "-o", str(clean), "-q")
    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 2  # a0 and a3 live in day0
    assert all(": cannot write (" in line for line in result.stderr.splitlines())
    assert sorted(p.name for p in clean.rglob("*.txt")) == ["a1.txt", "a2.txt", "a4.txt", "a5.txt"]


def test_full_disk_fails_the_jsonl_output_cleanly(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    import cleaner.io

    source = tmp_path / "dump.jsonl"
    write_records(source, [json.dumps({"id": "a", "text": ARTICLE})])

    def disk_full(*args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cleaner.io.os, "replace", disk_full)
    out = tmp_path / "out" / "clean.jsonl"
    result = run("clean", "--jsonl", str(source), "-o", str(out), "-q")
    assert result.exit_code == 1
    assert result.stderr == f"cleaner: {out}: cannot write (No space left on device)\n"
    assert list(out.parent.iterdir()) == []


def test_records_to_text_files_refuse_ids_that_escape_and_duplicates(tmp_path: Path) -> None:
    source = tmp_path / "dump.jsonl"
    write_records(source, [json.dumps({"id": "2024/a", "text": ARTICLE}),
                           json.dumps({"id": "../x", "text": OTHER}),
                           json.dumps({"id": "/etc/passwd", "text": OTHER}),
                           json.dumps({"id": "2024/a", "text": OTHER}),
                           json.dumps({"text": OTHER}),
                           json.dumps({"id": 7, "text": OTHER})])
    out = tmp_path / "out"
    result = run("clean", "--jsonl", str(source), "--format", "text", "-o", str(out), "-q")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"cleaner: {source}:2: id '../x' would be written outside {out}",
        f"cleaner: {source}:3: id '/etc/passwd' would be written outside {out}",
        f"cleaner: {source}:4: duplicate id '2024/a' (first on {source}:1)",
        f"cleaner: {source}:5: no id field 'id' to name its output file"]
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.txt")) == [
        "out/2024/a.txt", "out/7.txt"]
    assert (out / "2024" / "a.txt").read_text().startswith("Storm closes coastal road")


PAGE = ("<!DOCTYPE html><html><head><title>Storm closes coastal road</title>"
        "<script>var x = 1;</script></head><body>"
        "<nav><ul><li><a href='/'>Home</a></li><li><a href='/news'>News</a></li></ul></nav>"
        "<article><h1>Storm closes coastal road</h1>"
        "<p>The coastal road was closed on Monday after waves damaged the sea wall, the council "
        "said.</p><p>Engineers will inspect the damage this week before deciding when it can "
        "reopen.</p></article><footer><p>© 2026 Example News. All rights reserved.</p></footer>"
        "</body></html>")


def test_html_pages_are_cleaned_into_text_files_and_stdin_html_is_recognised(
        tmp_path: Path) -> None:
    import gzip

    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.html").write_text(PAGE, encoding="utf-8")
    (raw / "b.html.gz").write_bytes(gzip.compress(PAGE.encode()))
    result = run("clean", str(raw), "-o", str(tmp_path / "clean"), "-q")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "clean").iterdir()) == ["a.txt", "b.txt"]
    text = (tmp_path / "clean" / "a.txt").read_text()
    assert "The coastal road was closed on Monday" in text
    assert "var x" not in text
    piped = run("clean", "-", "-q", stdin=PAGE)
    assert piped.stdout == text


def test_hostile_records_are_reported_on_one_line_each(tmp_path: Path) -> None:
    source = tmp_path / "dump.jsonl"
    source.write_bytes(
        b'{"id": "big", "text": "x", "n": ' + b"9" * 5000 + b"}\n"
        + b"[" * 100_000 + b"]" * 100_000 + b"\n"
        + b'{"id": "sur", "text": "Storm closes road \\udc00 today."}\n'
        + b'{"id": "cr", "text": "one\rtwo"}\n'
        + b"\xc2\xa0\n"
        + b'{"id": "line\\nbreak", "text": 1}\n')
    result = run("clean", "--jsonl", str(source), "-q")
    assert result.exit_code == 1
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["sur"]
    lines = result.stderr.splitlines()  # a raw CR inside a JSON string is invalid JSON (line 4)
    assert [line.split(": ", 2)[1] for line in lines] == [f"{source}:{n}" for n in (1, 2, 4, 5, 6)]
    assert lines[0].endswith("not readable JSON (Exceeds the limit (4300 digits) for integer "
                             "string conversion)")


def test_a_page_and_a_text_that_would_write_the_same_output_are_not_overwritten(
        tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.html").write_text(PAGE, encoding="utf-8")
    (raw / "a.txt").write_text(OTHER, encoding="utf-8")
    result = run("clean", str(raw), "-o", str(tmp_path / "clean"), "-q")
    assert result.exit_code == 1
    assert result.stderr == (f"cleaner: {raw / 'a.txt'}: output {tmp_path / 'clean' / 'a.txt'} is "
                             f"already written from {raw / 'a.html'}; rename one of them\n")
    assert "coastal road" in (tmp_path / "clean" / "a.txt").read_text()


def test_html_field_with_a_lone_surrogate_is_cleaned(tmp_path: Path) -> None:
    source = tmp_path / "dump.jsonl"
    source.write_text('{"id": "s", "html": "<html><body><p>Storm \\udc00 closes the coastal road '
                      'after waves damaged the sea wall, the council said.</p></body></html>"}\n')
    result = run("clean", "--jsonl", str(source), "--html-field", "html", "-q")
    assert result.exit_code == 0, result.stderr
    assert "closes the coastal road" in json.loads(result.stdout)["clean_text"]


def test_an_id_that_cannot_name_a_file_is_reported(tmp_path: Path) -> None:
    source = tmp_path / "dump.jsonl"
    source.write_text('{"id": "a\\udc00b", "text": "Storm closes the coastal road."}\n')
    result = run("clean", "--jsonl", str(source), "--format", "text", "-o", str(tmp_path / "o"))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"cleaner: {source}:1: id 'a\\udc00b' cannot be a file name")


def test_jobs_where_processes_cannot_fork_clean_in_this_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import cleaner.workers

    def no_fork(*_: object) -> None:
        raise AssertionError("a worker was forked")

    monkeypatch.setattr(cleaner.workers, "can_fork", lambda: False)
    monkeypatch.setattr(cleaner.workers, "start_workers", no_fork)
    make_tree(tmp_path / "raw", 4)
    result = run("clean", str(tmp_path / "raw"), "--format", "jsonl", "-q", "-j", "2")
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) == 4
