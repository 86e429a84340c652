"""The command line: parse, call the library, report. Nothing imports this module."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import click
import typer

from cleaner.blocks import CleanerError
from cleaner.fixtures import SHARED_CORPUS as DEFAULT_CORPUS
from cleaner.model import LinearBlockModel
from cleaner.store import DEFAULT_FAVOR, FAVOR_CONTENT_KEPT
from cleaner.store import DEFAULT_MODEL as DEFAULT_MODEL_PATH

if TYPE_CHECKING:
    from cleaner.batch import Totals
    from cleaner.evaluate import Report
    from cleaner.io import Plan
    from cleaner.task import Settings

app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False, add_completion=False,
                  help="Turn scraped news text into clean article bodies.")
ModelOption = Annotated[Path, typer.Option("--model", "-m", envvar="CLEANER_MODEL",
                                           help="Model file (its .json manifest sits beside it).")]
FavorOption = Annotated[str, typer.Option(
    envvar="CLEANER_FAVOR", click_type=click.Choice(list(FAVOR_CONTENT_KEPT)),
    help="What to favor: recall keeps 99.5 % of article lines on sites never trained on; "
         "balanced 99 %; precision 98 %, and removes more noise.")]


def fail(error: CleanerError) -> None:
    """Print one error line on stderr."""
    typer.echo(f"cleaner: {error}", err=True)


@contextmanager
def connect_or_exit(scheduler: str | None) -> Iterator[Any]:
    """Yield a Dask client for `scheduler` (None: no cluster), or exit 1 saying why not."""
    if scheduler is None:
        yield None
        return
    try:
        from cleaner.cluster import connect

        client = connect(scheduler)
    except ImportError:
        fail(CleanerError(scheduler, "Dask is not installed; pip install 'cleaner[dask]'"))
        raise typer.Exit(1) from None
    except (OSError, ValueError) as error:
        fail(CleanerError(scheduler, f"cannot connect to the scheduler ({error})"))
        raise typer.Exit(1) from None
    try:
        yield client
    finally:
        client.close()
        if client.cluster is not None:
            client.cluster.close()


def load_or_exit(path: Path, favor: str = DEFAULT_FAVOR) -> LinearBlockModel:
    """Return the loaded model deciding as `favor` asks, or exit 1 with the reason on one line."""
    from cleaner.task import model_at

    try:
        return model_at(path, favor)
    except CleanerError as error:
        fail(error)
        raise typer.Exit(1) from None


@app.command()
def clean(
    inputs: Annotated[list[str] | None, typer.Argument(help="Files, directories or - (stdin).")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Output file or directory.")] = None,
    removed: Annotated[Path | None, typer.Option(help="Write one JSON line per removed block here.")] = None,
    output_format: Annotated[str | None, typer.Option("--format", help="text or jsonl (default: text; jsonl with --jsonl, where text writes one <id>.txt per record into -o DIR).")] = None,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="Inputs are JSON Lines records (*.jsonl[.gz]).")] = False,
    text_field: Annotated[str, typer.Option(help="With --jsonl: the field holding scraped text.")] = "text",
    html_field: Annotated[str | None, typer.Option(help="With --jsonl: the field holding HTML instead.")] = None,
    id_field: Annotated[str, typer.Option(help="With --jsonl: the field naming a record.")] = "id",
    glob: Annotated[list[str] | None, typer.Option(help="Files to take from directories, e.g. '*.txt' (repeatable).")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", envvar="CLEANER_JOBS", help="Processes to use (0: all cores).")] = 1,
    force: Annotated[bool, typer.Option(help="Clean again even when an output is up to date.")] = False,
    scheduler: Annotated[str | None, typer.Option(envvar="CLEANER_SCHEDULER", help="Dask scheduler (tcp://HOST:8786), or local:N for N local workers; needs cleaner[dask].")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary lines on stderr.")] = False,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More on stderr: -v a summary line per JSON Lines record too, -vv each removed block as well.")] = 0,
    favor: FavorOption = DEFAULT_FAVOR,
    model_path: ModelOption = DEFAULT_MODEL_PATH,
) -> None:
    """Clean scraped articles (text or HTML): keep the article's own lines, drop the noise.

    Example: cleaner clean raw/ -o clean/ -j 2 --removed removed.jsonl

    Records: zcat dump.jsonl.gz | cleaner clean --jsonl - -j 2 > clean.jsonl

    What went from one page, and why: cleaner clean page.html -vv > page.txt
    """
    import os

    from cleaner.batch import closing_line
    from cleaner.io import skip_fresh, stamp_settings
    from cleaner.task import Settings

    output_format = output_format or ("jsonl" if jsonl else "text")
    if output_format not in ("text", "jsonl"):
        raise typer.BadParameter("must be 'text' or 'jsonl'", param_hint="--format")
    if jobs < 0:
        raise typer.BadParameter("must be 0 (all cores) or more", param_hint="--jobs")
    plan = planned_outputs(inputs or ["-"], output, output_format, jsonl, glob)
    # A refused model is one error line, not one per document. Loaded here in every case: this
    # process cleans, forks --jobs workers that inherit it, or ships it to a cluster.
    load_or_exit(model_path, favor)
    stamp = (stamp_settings(output, {"favor": favor}, {"favor": DEFAULT_FAVOR})
             if plan.mirrored and output else None)
    plan, skipped = skip_fresh(plan, model_path, force, stamp)
    verbosity = -1 if quiet else verbose
    settings = Settings(model_path, output_format, removed is not None, text_field, html_field,
                        id_field, list_removed=verbosity >= 2, favor=favor)
    with connect_or_exit(scheduler) as client:
        totals = run_plan(plan, settings, jobs or os.cpu_count() or 1, removed, verbosity, client,
                          jsonl)
    totals.skipped = skipped
    for collision in plan.collisions:
        typer.echo(f"cleaner: {collision}", err=True)
    totals.failed += len(plan.collisions)
    if not quiet and (jsonl or totals.documents + totals.failed + skipped > 1):
        typer.echo(closing_line(totals), err=True)
    raise typer.Exit(1 if totals.failed else 0)


def planned_outputs(names: list[str], output: Path | None, output_format: str, jsonl: bool,
                    glob: list[str] | None) -> Plan:
    """Return where each input's output goes; a usage error (exit 2) when -o cannot take them."""
    from cleaner.io import HTML_SUFFIXES, JSONL_SUFFIXES, TEXT_SUFFIXES, expand_inputs, plan_outputs

    suffixes = JSONL_SUFFIXES if jsonl else TEXT_SUFFIXES + HTML_SUFFIXES
    sources = list(expand_inputs(names, suffixes, glob))
    # A directory mirrors into -o even when it holds a single file.
    several = len(names) > 1 or any(Path(name).is_dir() for name in names)
    try:
        return plan_outputs(sources, output, output_format, several, jsonl_input=jsonl)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="-o") from None


def run_plan(plan: Plan, settings: Settings, workers: int, removed: Path | None, verbosity: int,
             client: Any, jsonl: bool) -> Totals:
    """Return the totals of cleaning every planned input, with a progress bar on a terminal."""
    import sys

    from cleaner.batch import Run
    from cleaner.progress import ProgressBar

    show_bar = verbosity >= 0 and sys.stderr.isatty()
    with ProgressBar(None if jsonl else len(plan.tasks)) if show_bar else nullcontext() as bar:
        run = Run(settings, workers, removed,
                  report=bar.say if bar else lambda line: typer.echo(line, err=True),
                  progress=bar, verbosity=verbosity, client=client, record_dir=plan.record_dir)
        return run.clean_shards(plan.shards) if jsonl else run.clean_files(plan.tasks, plan.jsonl_file)


@app.command()
def train(
    fixture_paths: Annotated[list[Path] | None, typer.Argument(help="Fixture files or directories.")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Model file to write.")] = DEFAULT_MODEL_PATH,
    corpus: Annotated[Path, typer.Option(envvar="CLEANER_CORPUS", help="Shared corpus, used when present.")] = DEFAULT_CORPUS,
    corpus_labels: Annotated[Path, typer.Option(help="Labels of corpus articles (*.jsonl).")] = Path("fixtures/corpus/fakenewsnet"),
    gold_review: Annotated[Path | None, typer.Option(help="Reviewed labels of scrapinghub blocks (*.jsonl), e.g. fixtures/corpus/scrapinghub-review.")] = None,
    estimator: Annotated[str | None, typer.Option(help="Estimator to fit (default: the one chosen by --compare).")] = None,
    compare: Annotated[bool, typer.Option(help="Cross-validate every candidate estimator, save nothing.")] = False,
) -> None:
    """Train the block classifier, print grouped cross-validation scores, save model + manifest.

    Example: cleaner train fixtures/train -o models/cleaner.joblib
    """
    from cleaner.evaluate import format_report
    from cleaner.model import CANDIDATES, DEFAULT_ESTIMATOR
    from cleaner.train import cross_validate, gather_training_data, train_and_save

    if estimator is not None and estimator not in CANDIDATES:
        raise typer.BadParameter(f"one of {', '.join(CANDIDATES)}", param_hint="--estimator")
    try:
        items, inventory = gather_training_data(fixture_paths or [Path("fixtures/train")],
                                                corpus_labels, corpus, gold_review)
    except CleanerError as error:
        fail(error)
        raise typer.Exit(1) from None
    typer.echo(f"training on {inventory['documents']} documents, {inventory['blocks']} blocks, "
               f"{inventory['sites']} sites", err=True)
    if compare:
        for name in CANDIDATES:
            thresholds, reports = cross_validate(items, name)
            typer.echo(f"{name}: keep threshold {thresholds[DEFAULT_FAVOR]:.3f}; " + "; ".join(
                f"{r.name.split(', ')[-1]}: content kept {r.content_kept:.4f} noise removed "
                f"{r.noise_removed:.4f}" for r in reports))
        return
    manifest, reports = train_and_save(items, inventory, output, estimator or DEFAULT_ESTIMATOR)
    typer.echo("\n\n".join(format_report(report) for report in reports))
    typer.echo(f"wrote {output} (keep thresholds: " + ", ".join(
        f"{favor} {threshold:.3f}" for favor, threshold in manifest["keep_thresholds"].items())
        + ")")


@app.command()
def suspects(
    fixture_paths: Annotated[list[Path] | None, typer.Argument(help="Fixture files or directories.")] = None,
    corpus: Annotated[Path, typer.Option(envvar="CLEANER_CORPUS", help="Shared corpus, used when present.")] = DEFAULT_CORPUS,
    corpus_labels: Annotated[Path, typer.Option(help="Labels of corpus articles (*.jsonl).")] = Path("fixtures/corpus/fakenewsnet"),
    gold_review: Annotated[Path | None, typer.Option(help="Reviewed labels of scrapinghub blocks (*.jsonl), e.g. fixtures/corpus/scrapinghub-review.")] = None,
    top: Annotated[int, typer.Option(min=1, help="How many of the most doubted labels to list.")] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List the hand labels that a model never trained on their site most disagrees with.

    Trains as `cleaner train` does, one model per group of sites, and judges every labeled
    block with the model that did not see its site: most doubted first. Saves nothing.

    Example: cleaner suspects fixtures/train --top 20
    """
    import json

    from cleaner.train import gather_training_data, label_suspects

    try:
        items, _ = gather_training_data(fixture_paths or [Path("fixtures/train")],
                                        corpus_labels, corpus, gold_review)
        found = label_suspects(items)[:top]
    except CleanerError as error:
        fail(error)
        raise typer.Exit(1) from None
    except ValueError as error:  # fewer sites than cross-validation folds
        fail(CleanerError("suspects", str(error).split("\n")[0]))
        raise typer.Exit(1) from None
    for suspect in found:
        if as_json:
            typer.echo(json.dumps({"where": suspect.where, "label": suspect.label.value,
                                   "predicted": suspect.predicted.value,
                                   "kept_probability": suspect.kept_mass,
                                   "text": suspect.text}, ensure_ascii=False))
        else:
            typer.echo(f"{suspect.where}: labeled {suspect.label.value}, model says "
                       f"{suspect.predicted.value} (content {suspect.kept_mass:.3f}): "
                       f"{suspect.text[:SUSPECT_TEXT_CHARS]}")


SUSPECT_TEXT_CHARS = 100


@app.command()
def evaluate(
    fixture_paths: Annotated[list[Path] | None, typer.Argument(help="Held-out fixture files or directories.")] = None,
    model_path: ModelOption = DEFAULT_MODEL_PATH,
    corpus: Annotated[Path, typer.Option(envvar="CLEANER_CORPUS", help="Shared corpus: fundus pages are scored when present.")] = DEFAULT_CORPUS,
    corpus_labels: Annotated[Path, typer.Option(help="Labels of held-out corpus articles (*.jsonl), scored when the corpus is present.")] = Path("fixtures/corpus/fakenewsnet-eval"),
    fundus_review: Annotated[Path, typer.Option(help="Reviewed labels of fundus blocks (*.jsonl): the set 'fundus-reviewed'.")] = Path("fixtures/corpus/fundus-review"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the reports as JSON.")] = False,
    baselines: Annotated[bool, typer.Option(help="Also score keep-everything and C4 line rules.")] = True,
    check: Annotated[bool, typer.Option(help="Exit 1 when a score is below its floor.")] = False,
    floors: Annotated[Path, typer.Option(help="Floors for --check.")] = Path("fixtures/eval/floors.json"),
    update: Annotated[bool, typer.Option(help="Raise the floors to today's scores.")] = False,
    allow_regression: Annotated[bool, typer.Option(help="With --update, allow lower floors.")] = False,
    favor: FavorOption = DEFAULT_FAVOR,
) -> None:
    """Score the model on held-out data: per-label P/R/F1, confusion, content kept, noise removed.

    Example: cleaner evaluate fixtures/eval --check
    """
    import json

    from cleaner.evaluate import (
        check_floors,
        evaluation_sets,
        fixture_digests,
        format_report,
        score_sets,
    )

    if favor != DEFAULT_FAVOR and (check or update):
        raise typer.BadParameter(f"the floors are pinned for --favor {DEFAULT_FAVOR}",
                                 param_hint="--favor")
    model = load_or_exit(model_path, favor)
    roots = fixture_paths or [Path("fixtures/eval")]
    try:
        sets = evaluation_sets(roots, corpus, corpus_labels, fundus_review)
        digests = fixture_digests(roots)
    except CleanerError as error:
        fail(error)
        raise typer.Exit(1) from None
    reports = score_sets(sets, model, baselines)
    if as_json:
        typer.echo(json.dumps([r.as_dict() for r in reports], indent=2))
    else:
        typer.echo("\n\n".join(format_report(r) for r in reports))
    if update:
        raise_floors_or_exit(reports, floors, allow_regression, digests)
    if check:
        verdicts = check_floors(reports, floors, digests)
        typer.echo("\n".join(line for line, _ in verdicts), err=True)
        raise typer.Exit(0 if all(ok for _, ok in verdicts) else 1)


def raise_floors_or_exit(reports: list[Report], floors: Path, allow_regression: bool,
                         digests: dict[str, str]) -> None:
    """Write today's scores as the floors, or exit 1 naming the floors that would go down."""
    from cleaner.evaluate import update_floors

    lowered = update_floors(reports, floors, allow_regression, digests)
    if lowered:
        typer.echo(f"cleaner: {floors}: would lower {', '.join(lowered)}; "
                   "pass --allow-regression to accept", err=True)
        raise typer.Exit(1)


@app.command()
def explain(
    source: Annotated[str, typer.Argument(help="A scraped text or HTML file, or - for stdin.")],
    model_path: ModelOption = DEFAULT_MODEL_PATH,
    width: Annotated[int, typer.Option(help="Characters of each block to show.")] = 100,
    favor: FavorOption = DEFAULT_FAVOR,
) -> None:
    """Show every block with its predicted label and probability; noise is highlighted.

    Example: cleaner explain ../shared/seed/express-ricketts.txt
    """
    from rich.console import Console
    from rich.table import Table

    from cleaner.batch import shorten
    from cleaner.clean import verdicts_for
    from cleaner.io import Source
    from cleaner.task import load_document

    model = load_or_exit(model_path, favor)
    try:
        doc = load_document(Source(source, Path(source)))
    except CleanerError as error:
        fail(error)
        raise typer.Exit(1) from None
    table = Table("#", "label", "p", "text", title=source, show_lines=False)
    for block, verdict in zip(doc.blocks, verdicts_for(doc, model), strict=True):
        style = "" if verdict.label.is_kept else "bold red"
        table.add_row(str(block.index), verdict.label.value, f"{verdict.confidence:.2f}",
                      shorten(block.text, width), style=style)
    Console(soft_wrap=False).print(table)


@app.command()
def segment(
    source: Annotated[str, typer.Argument(help="A scraped text or HTML file, or - for stdin.")] = "-",
) -> None:
    """Print the blocks of a text as JSON lines (index, start, end, text), for debugging.

    Example: cleaner segment article.txt | head
    """
    import json

    from cleaner.io import Source
    from cleaner.task import load_document

    try:
        doc = load_document(Source(source, Path(source)))
    except CleanerError as error:
        fail(error)
        raise typer.Exit(1) from None
    for block in doc.blocks:
        typer.echo(json.dumps({"index": block.index, "start": block.start, "end": block.end,
                               "text": block.text}, ensure_ascii=False))


def main() -> None:
    """Run the command line."""
    app()
