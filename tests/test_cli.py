"""The command line as users run it: Typer's runner for behaviour, a real subprocess for pipes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cleaner.cli import app

ARTICLE = ("Storm closes coastal road\n"
           "We use your sign-up to provide content in ways you’ve consented to and to improve "
           "our understanding of you. This may include adverts from us and 3rd parties based on "
           "our understanding. You can unsubscribe at any time. More info\n"
           "The coastal road was closed on Monday after waves damaged the sea wall, the council "
           "said.\n"
           "Engineers will inspect the damage this week before deciding when it can reopen.\n"
           "Source: Read Full Article\n")
runner = CliRunner()


def run(*args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), input=stdin)


def test_clean_one_file_prints_the_article_to_stdout(tmp_path: Path) -> None:
    source = tmp_path / "a.txt"
    source.write_text(ARTICLE)
    result = run("clean", str(source), "-q")
    assert result.exit_code == 0
    assert "Source: Read Full Article" not in result.stdout
    assert "sign-up" not in result.stdout
    assert result.stdout.startswith("Storm closes coastal road\nThe coastal road was closed")
    assert result.stderr == ""


def test_clean_directory_mirrors_relative_names_and_reports_each_file(tmp_path: Path) -> None:
    (tmp_path / "raw" / "uk").mkdir(parents=True)
    (tmp_path / "raw" / "uk" / "a.txt").write_text(ARTICLE)
    (tmp_path / "raw" / "b.txt").write_text(ARTICLE)
    (tmp_path / "raw" / "notes.md").write_text("not an article")
    result = run("clean", str(tmp_path / "raw"), "-o", str(tmp_path / "clean"))
    assert result.exit_code == 0
    written = sorted(p.relative_to(tmp_path / "clean").as_posix()
                     for p in (tmp_path / "clean").rglob("*"))
    assert written == ["b.txt", "uk", "uk/a.txt"]
    assert result.stderr.count("5 blocks, 2 removed (consent 1, footer 1)") == 2


def test_directory_with_one_file_still_mirrors_into_the_output_directory(tmp_path: Path) -> None:
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "only.txt").write_text(ARTICLE)
    result = run("clean", str(tmp_path / "raw"), "-o", str(tmp_path / "clean"), "-q")
    assert result.exit_code == 0
    assert (tmp_path / "clean" / "only.txt").read_text().startswith("Storm closes coastal road")


def test_removed_audit_accounts_for_every_removed_block(tmp_path: Path) -> None:
    source = tmp_path / "a.txt"
    source.write_text(ARTICLE)
    audit = tmp_path / "removed.jsonl"
    result = run("clean", str(source), "--removed", str(audit), "-q")
    *records, note = [json.loads(line) for line in audit.read_text().splitlines()]
    assert result.exit_code == 0
    assert [(r["block"], r["label"], r["text"][:9]) for r in records] == [
        (1, "consent", "We use yo"), (4, "footer", "Source: R")]
    assert all(r["source"] == str(source) and 0 < r["probability"] <= 1 for r in records)
    # Most of this short text was a banner: the audit flags the document for a person to check.
    assert note == {"source": str(source), "note": "cut 57% of its text"}


def test_vv_lists_each_removed_block_on_stderr_and_stdout_stays_the_article(tmp_path: Path) -> None:
    source = tmp_path / "a.txt"
    source.write_text(ARTICLE)
    result = run("clean", str(source), "-vv")
    lines = result.stderr.splitlines()
    assert result.exit_code == 0
    assert lines[0] == f"{source}: 5 blocks, 2 removed (consent 1, footer 1); cut 57% of its text"
    assert [line.split(": ", 1)[0] for line in lines[1:]] == ["  block 1", "  block 4"]
    assert lines[1].startswith("  block 1: consent 0.")
    assert lines[1].endswith(": We use your sign-up to provide content in ways you’ve consented to "
                             "and to improve our understanding…")  # 100 characters of the banner
    assert lines[2].endswith(": Source: Read Full Article")
    assert result.stdout == run("clean", str(source), "-q").stdout


def test_v_gives_a_line_per_record_and_vv_never_adds_fields_to_the_records(tmp_path: Path) -> None:
    source = tmp_path / "dump.jsonl"
    more = "".join(f"Residents said paragraph {i} of the story was the longest yet, and the "
                   "council agreed to print it in full.\n" for i in range(3))
    longer = ARTICLE.replace("Source: Read Full Article", more + "Source: Read Full Article")
    source.write_text("".join(json.dumps({"id": name, "text": longer}) + "\n" for name in "ab"))
    plain, once, twice, quiet = (run("clean", "--jsonl", str(source), *flags)
                                 for flags in ([], ["-v"], ["-vv"], ["-vv", "-q"]))
    assert len(plain.stderr.splitlines()) == 1  # the closing line only
    assert once.stderr.splitlines()[:-1] == ["a: 8 blocks, 2 removed (consent 1, footer 1)",
                                             "b: 8 blocks, 2 removed (consent 1, footer 1)"]
    assert [line[:9] for line in twice.stderr.splitlines()[:-1]] == [
        "a: 8 bloc", "  block 1", "  block 7", "b: 8 bloc", "  block 1", "  block 7"]
    assert quiet.stderr == ""
    assert plain.stdout == once.stdout == twice.stdout == quiet.stdout
    assert all(set(json.loads(line)) == {"id", "text", "clean_text"}
               for line in twice.stdout.splitlines())


def test_a_bad_file_fails_alone_and_the_rest_of_the_batch_is_written(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "good.txt").write_text(ARTICLE)
    (raw / "latin1.txt").write_bytes("Café owners say the council’s new rules will cost them dear.\n"
                                      .encode("cp1252"))
    (raw / "binary.txt").write_bytes(b"\x00\x01\x02")
    result = run("clean", str(raw), "-o", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"cleaner: {raw / 'binary.txt'}: binary file (NUL bytes), not text")
    assert result.stderr.splitlines()[2] == (
        f"{raw / 'latin1.txt'}: 1 blocks, 0 removed; decoded as cp1252")
    assert (tmp_path / "out" / "good.txt").read_text().startswith("Storm closes")
    assert (tmp_path / "out" / "latin1.txt").read_text().startswith("Café owners say")
    assert not (tmp_path / "out" / "binary.txt").exists()


def test_missing_input_is_one_line_and_exit_1(tmp_path: Path) -> None:
    result = run("clean", str(tmp_path / "absent.txt"))
    assert result.exit_code == 1
    assert result.stderr == f"cleaner: {tmp_path / 'absent.txt'}: no such file\n"


def test_several_inputs_without_output_directory_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE)
    result = run("clean", str(tmp_path / "a.txt"), str(tmp_path / "a.txt"))
    assert result.exit_code == 2
    assert "several inputs need an output directory" in result.stderr


def test_unknown_format_is_a_usage_error() -> None:
    assert run("clean", "--format", "xml").exit_code == 2


def test_jsonl_format_writes_one_record_per_input(tmp_path: Path) -> None:
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(ARTICLE)
    result = run("clean", str(tmp_path), "--format", "jsonl", "-q")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.exit_code == 0
    assert [Path(r["id"]).name for r in records] == ["a.txt", "b.txt"]
    assert all(r["text"].startswith("Storm closes coastal road\n") for r in records)


@pytest.mark.parametrize("jobs", ["1", "2"])  # at 2 the parent only checks, workers load
def test_tampered_model_is_refused_with_the_fix(tmp_path: Path, jobs: str) -> None:
    model = tmp_path / "m.joblib"
    original = Path(__file__).resolve().parent.parent / "models" / "cleaner.joblib"
    model.write_bytes(original.read_bytes() + b"tampered")
    model.with_suffix(".json").write_text(original.with_suffix(".json").read_text())
    result = run("clean", "-", "--model", str(model), "--jobs", jobs, stdin=ARTICLE)
    assert result.exit_code == 1
    assert result.stderr == (f"cleaner: {model}: SHA-256 differs from its manifest (changed or "
                             "untrusted file); run 'make model'\n")


@pytest.mark.parametrize("command", ["clean", "train", "evaluate", "explain", "segment"])
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "Example: cleaner" in result.stdout


def test_explain_lists_every_block_with_its_label(tmp_path: Path) -> None:
    source = tmp_path / "a.txt"
    source.write_text(ARTICLE)
    result = run("explain", str(source), "--width", "40")
    assert result.exit_code == 0
    assert "consent" in result.stdout
    assert "footer" in result.stdout


def test_stdin_pipe_in_a_real_process_and_exit_codes(tmp_path: Path) -> None:
    cleaner = [sys.executable, "-m", "cleaner"]
    ok = subprocess.run([*cleaner, "clean", "-", "-q"], input=ARTICLE, capture_output=True,
                        text=True, check=False)
    assert ok.returncode == 0
    assert ok.stdout.splitlines()[0] == "Storm closes coastal road"
    assert "Source: Read Full Article" not in ok.stdout
    missing = subprocess.run([*cleaner, "clean", str(tmp_path / "nope.txt")],
                             capture_output=True, text=True, check=False)
    assert (missing.returncode, missing.stdout) == (1, "")
    assert missing.stderr == f"cleaner: {tmp_path / 'nope.txt'}: no such file\n"
    usage = subprocess.run([*cleaner, "clean", "--bogus"], capture_output=True, text=True,
                           check=False)
    assert usage.returncode == 2


def test_interrupted_run_leaves_no_partial_audit(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import cleaner.task

    raw = tmp_path / "raw"
    raw.mkdir()
    for name in ("a.txt", "b.txt"):
        (raw / name).write_text(ARTICLE)
    real_clean = cleaner.task.clean_document
    calls = []

    def interrupt_on_second(doc, model):  # type: ignore[no-untyped-def]
        calls.append(doc.id)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_clean(doc, model)

    monkeypatch.setattr(cleaner.task, "clean_document", interrupt_on_second)
    audit = tmp_path / "removed.jsonl"
    run("clean", str(raw), "-o", str(tmp_path / "out"), "--removed", str(audit), "-q")
    assert not audit.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    assert (tmp_path / "out" / "a.txt").exists()
    assert not (tmp_path / "out" / "b.txt").exists()


class InterruptedImport:
    """A meta path finder that raises KeyboardInterrupt when `cleaner.cli` is imported, as a
    Ctrl-C arriving while the command line's heavy imports still run would."""

    def find_spec(self, name: str, path: object, target: object = None) -> None:
        if name == "cleaner.cli":
            raise KeyboardInterrupt


def run_with_import_finder(monkeypatch: pytest.MonkeyPatch, finder: object) -> int | str | None:
    """Return the exit code of `cleaner.__main__.run` with `finder` first on the import path."""
    from cleaner.__main__ import run

    monkeypatch.delitem(sys.modules, "cleaner.cli")
    monkeypatch.setattr(sys, "meta_path", [finder, *sys.meta_path])
    # run() sets the process's SIGINT handler and thread hook: give pytest its own back.
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    previous = signal.getsignal(signal.SIGINT)
    try:
        with pytest.raises(SystemExit) as stopped:
            run()
    finally:
        signal.signal(signal.SIGINT, previous)
    return stopped.value.code


def test_ctrl_c_during_start_up_exits_130_with_one_line(monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert run_with_import_finder(monkeypatch, InterruptedImport()) == 130
    assert capsys.readouterr().err == "Aborted!\n"


class SignalledImport:
    """A meta-path finder that sends this process a SIGINT as cleaner.cli starts to import."""

    def find_spec(self, name: str, path: object, target: object = None) -> None:
        if name == "cleaner.cli":
            os.kill(os.getpid(), signal.SIGINT)


def test_ctrl_c_during_the_imports_lets_them_finish_then_exits_130(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # A KeyboardInterrupt raised inside an import came out as a RuntimeError from a dataclass's
    # __set_name__, or was dropped by importlib: the handler only notes it until they are done.
    assert run_with_import_finder(monkeypatch, SignalledImport()) == 130
    assert "cleaner.cli" in sys.modules  # imported whole, not cut off by the signal
    assert capsys.readouterr().err == "Aborted!\n"


def test_importing_the_library_does_not_load_numpy() -> None:
    # The cheap import is what lets the entry point catch an early Ctrl-C.
    code = "import sys, cleaner; print('numpy' in sys.modules); cleaner.Cleaner; print(cleaner.Label.BODY)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "body"]


def test_progress_bar_runs_no_thread_for_forked_workers_to_inherit() -> None:
    # --jobs forks its workers while the bar is up; a thread holding a lock at that moment
    # (stderr's, while drawing) would leave it held forever in every worker.
    import threading

    from cleaner.progress import ProgressBar

    before = threading.active_count()
    with ProgressBar(3) as bar:
        for _ in range(3):
            bar.advance()
        assert threading.active_count() == before


def removed_entries(audit: Path) -> list[tuple[str, int]]:
    return [(entry["source"], entry["block"])
            for entry in map(json.loads, audit.read_text().splitlines())]


def test_favor_precision_removes_what_recall_removes_and_more(
        tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parent.parent / "fixtures" / "examples"
    removed = {}
    for favor, jobs in (("recall", "1"), ("precision", "1"), ("precision", "2")):
        audit = tmp_path / f"{favor}-{jobs}.jsonl"
        result = run("clean", str(examples), "-o", str(tmp_path / f"{favor}-{jobs}"), "-j", jobs,
                     "--removed", str(audit), "--favor", favor, "-q")
        assert result.exit_code == 0, result.stderr
        removed[favor, jobs] = sorted(removed_entries(audit))
    assert set(removed["recall", "1"]) < set(removed["precision", "1"])
    assert removed["precision", "2"] == removed["precision", "1"]  # forked workers use it too


def unboxed(message: str) -> str:
    """Return a usage error's text without rich's box and line breaks."""
    return " ".join(message.replace("│", " ").split())


def test_favor_outside_the_choices_is_a_usage_error() -> None:
    result = run("clean", "-", "--favor", "speed", stdin=ARTICLE)
    assert result.exit_code == 2
    assert "'speed' is not one of 'recall', 'balanced', 'precision'" in unboxed(result.stderr)
    assert result.stdout == ""


def test_evaluate_refuses_to_check_floors_for_another_trade_off() -> None:
    result = run("evaluate", "--favor", "precision", "--check")
    assert result.exit_code == 2
    assert "the floors are pinned for --favor recall" in unboxed(result.stderr)
