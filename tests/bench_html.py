"""Score HTML article extraction on Zyte's benchmark pages and on Fundus's news pages.

Example: python tests/bench_html.py --set fundus --only trafilatura-nocomments --json bench-html.json

Two page sets, each scored and tabled on its own (--set picks them):

- scrapinghub: the 181 pages of Zyte's article-extraction-benchmark, truth its articleBody. The
  cleaner's model is trained on these pages, so its row there is labeled "seen in training".
- fundus: the news pages (41 countries, most of them not in English) of the Fundus scraper's test
  data, truth the body its per-site parsers return: the summary lines, then each section's
  headline and paragraphs, one a line. A publisher's JSON entries (V1, V1_1, V2, ...) map in
  file order onto its pages sorted by date. A page whose truth cannot be built is skipped and
  counted. The cleaner never trained on these pages (some of their sites are in the other set).

The metric is the benchmark's own evaluate.py (github.com/scrapinghub/article-extraction-benchmark),
reproduced here:

- Tokens are `\\w+` matches. The case is kept: the benchmark compiles the pattern with
  re.IGNORECASE, which changes nothing for `\\w+` and lowercases nothing, so "The" and "the"
  are different tokens.
- A text's shingles are a bag (Counter) of 4-token tuples. A text of 1 to 3 tokens gives one
  shorter shingle (all its tokens); an empty text gives none.
- Per page, tp/fp/fn count shared, extra and missing shingles. Precision is tp / (tp + fp) and
  recall tp / (tp + fn); both are 1 when fp = fn = 0 (identical bags). The benchmark divides
  the three counts by their sum first, which changes neither ratio, so that step is left out.
- Precision is averaged over the pages with output (tp + fp > 0), recall over the pages with a
  true article (tp + fn > 0: all 181), and F1 is the harmonic mean of the two averages.
- An extractor that returns None, or raises, has empty output for that page: it lowers recall
  and leaves precision alone. The benchmark's bootstrap error bars are not computed; its
  "accuracy" (identical token lists) is written to --json only.

Pages are decoded as UTF-8 (the benchmark's README says they are; an invalid byte becomes U+FFFD
and the page is counted as not UTF-8) and each system gets the same str, as the benchmark's
extractor scripts pass it. Pages/s is the wall time of the extraction loop alone: reading,
decompressing, imports, model loading and one warm-up call come before it. The loop runs
--passes times, round the systems in turn, each pass with the systems made anew, and the
fastest pass counts; scores come from the first.
The systems are called as the benchmark's extractors/run_*.py call them: its trafilatura row is
trafilatura-nocomments, readability's HTML becomes text through html-text, and jusText runs with
run_justext.py's parameters and English stoplist rather than the library defaults, on both
sets. Line breaks never change a score. CLEANER_MODEL, when set, names the cleaner's model file.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

SHARED_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
# Each page set's folder inside the shared corpus (or $CLEANER_CORPUS).
SET_FOLDERS = {"scrapinghub": Path("html") / "scrapinghub-aeb", "fundus": Path("html") / "fundus"}
# The cleaner's row says whether its model was trained on the set's pages (see cleaner/train.py).
CLEANER_SEEN = {"scrapinghub": "seen in training", "fundus": "never trained on"}
FUNDUS_PAGE = re.compile(r"(?P<publisher>.+)_(?P<date>\d{4}_\d{2}_\d{2})\.html\.gz")
SHINGLE_TOKENS = 4
TOKEN = re.compile(r"\w+")
BASE_SYSTEM = "trafilatura"  # the pages/s ratio is to this system, measured in the same run
# jusText as the benchmark's run_justext.py calls it (positionally there).
JUSTEXT_OPTIONS: dict[str, Any] = {
    "length_low": 50, "length_high": 200, "stopwords_low": 0.1, "stopwords_high": 0.2,
    "max_link_density": 0.2, "max_heading_distance": 200, "no_headings": True,
}

# Leftover noise: an output line that is not in the page's true article and looks like
# boilerplate. Written from the kinds of noise the project's own rules name (consent, newsletter,
# promo headers, source footers, ads, share prompts, copyright, photo credits); the patterns are
# searched in the lower-cased line. Words that also occur in article prose are anchored to the
# start of the line or word-bounded: every match on this benchmark's trafilatura, readability and
# jusText output was read, and "subscriber" and "an email inbox" in article text were the only
# false hits, hence the bounded forms.
NOISE_LINE = re.compile(
    r"cookie|consent|privacy (policy|notice|settings)|terms of (use|service)"
    r"|sign(ed)? ?up\b|newsletter|\b(un)?subscri(be|bing|ption)s?\b|\b(your|to) inbox\b"
    r"|^\W*(don['’]?t miss|read more|see more|more from|related|recommended|read next|watch"
    r"|also read|see also|most read|trending)\b"
    r"|^\W*(source|credit|photo|image|picture|video)s? ?:|\((image|photo|picture|credit)s?:"
    r"|^\W*(advertisement|sponsored|ad|story continues below)\W*$"
    r"|^\W*(share|follow|like us|tweet|email|print)\b|share (this|on)|follow (us|@)"
    r"|click here|tap here|copyright|©|\(c\) ?\d{4}|all rights reserved"
    r"|getty|shutterstock|\bafp\b|reuters/|\bap photo\b|scroll down for video",
)


class Skipped(Exception):
    """A system that cannot run in this environment; the message says why."""


Extract = Callable[[str], str | None]


@dataclass(frozen=True, slots=True)
class Page:
    """One benchmark page: its id, decoded HTML and true article body."""

    id: str
    html: str
    truth: str


def fail(message: str, code: int = 1) -> NoReturn:
    """Exit with one error line on stderr."""
    sys.stderr.write(f"bench_html: {message}\n")
    raise SystemExit(code)


@dataclass(frozen=True, slots=True)
class PageSet:
    """The pages of one set, the ones skipped as 'id: reason' and how many were not UTF-8."""

    pages: list[Page]
    skipped: list[str]
    not_utf8: int


def set_dir(name: str) -> Path:
    """Return a page set's folder, under $CLEANER_CORPUS when that is set."""
    return Path(os.environ.get("CLEANER_CORPUS") or SHARED_CORPUS) / SET_FOLDERS[name]


def read_html(path: Path) -> tuple[str, bool]:
    """Return a gzipped page as str, invalid UTF-8 bytes replaced, and whether it was valid."""
    raw = gzip.decompress(path.read_bytes())
    try:
        return raw.decode("utf-8"), True
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace"), False


def load_scrapinghub(folder: Path, limit: int | None) -> PageSet:
    """Return the benchmark pages in id order, only the first `limit` if given."""
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    pages, not_utf8 = [], 0
    for page_id in sorted(truth)[:limit]:
        html, valid = read_html(folder / "html" / f"{page_id}.html.gz")
        not_utf8 += not valid
        pages.append(Page(page_id, html, truth[page_id].get("articleBody") or ""))
    return PageSet(pages, [], not_utf8)


def text_lines(value: Any) -> list[str]:
    """Return the non-blank strings in a gold field: a string, a list of them, or nothing."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, list):
        return [line for item in value for line in text_lines(item)]
    raise ValueError(f"a {type(value).__name__} where text was expected")


def fundus_truth(entry: Any) -> str:
    """Return a Fundus entry's article body: summary, then each section's headline and paragraphs."""
    body = entry.get("body") if isinstance(entry, dict) else None
    if not isinstance(body, dict):
        raise ValueError("no body object")
    sections = body.get("sections") or []
    lines = text_lines(body.get("summary"))
    for section in [sections] if isinstance(sections, dict) else sections:
        if not isinstance(section, dict):
            raise ValueError("a section that is not an object")
        lines += text_lines(section.get("headline")) + text_lines(section.get("paragraphs"))
    if not lines:
        raise ValueError("an empty body")
    return "\n".join(lines)


def fundus_entries(gold: Path, count: int) -> list[Any]:
    """Return a publisher's gold entries in file order, which is its pages' date order."""
    entries = json.loads(gold.read_text(encoding="utf-8"))
    if not isinstance(entries, dict):
        raise ValueError(f"{gold.name} is not an object")
    if len(entries) != count:
        raise ValueError(f"{gold.name} has {len(entries)} entries for {count} pages")
    return list(entries.values())


def load_fundus(folder: Path, limit: int | None) -> PageSet:
    """Return the Fundus pages in country, publisher and date order, only the first `limit`."""
    publishers: dict[Path, list[Path]] = {}
    for path in sorted(folder.glob("*/*.html.gz")):  # YYYY_MM_DD names sort by date
        match = FUNDUS_PAGE.fullmatch(path.name)
        gold = path.parent / f"{match['publisher'] if match else path.name}.json"
        publishers.setdefault(gold, []).append(path)
    found: list[tuple[str, Path, str]] = []
    skipped: list[str] = []
    for gold, paths in publishers.items():
        ids = [str(path.relative_to(folder)).removesuffix(".html.gz") for path in paths]
        try:
            entries = fundus_entries(gold, len(paths))
        except (OSError, ValueError) as error:  # no usable gold: none of its pages can be scored
            skipped += [f"{page_id}: {error}" for page_id in ids]
            continue
        for page_id, path, entry in zip(ids, paths, entries, strict=True):
            try:
                truth = fundus_truth(entry)
            except ValueError as error:
                skipped.append(f"{page_id}: {error}")
                continue
            found.append((page_id, path, truth))
    pages, not_utf8 = [], 0
    for page_id, path, truth in found[:limit]:
        html, valid = read_html(path)
        not_utf8 += not valid
        pages.append(Page(page_id, html, truth))
    return PageSet(pages, skipped, not_utf8)


LOADERS: dict[str, Callable[[Path, int | None], PageSet]] = {
    "scrapinghub": load_scrapinghub, "fundus": load_fundus,
}


def shingles(text: str) -> Counter[tuple[str, ...]]:
    """Return the bag of 4-token shingles of `text`, as the benchmark builds it."""
    tokens = TOKEN.findall(text)
    if not tokens:
        return Counter()
    count = max(1, len(tokens) - SHINGLE_TOKENS + 1)
    return Counter(tuple(tokens[i:i + SHINGLE_TOKENS]) for i in range(count))


def match_counts(true: str, pred: str) -> tuple[int, int, int]:
    """Return the shared, extra and missing shingles (tp, fp, fn) of one page."""
    true_bag, pred_bag = shingles(true), shingles(pred)
    tp = sum((true_bag & pred_bag).values())
    return tp, pred_bag.total() - tp, true_bag.total() - tp


def page_precision(tp: int, fp: int, fn: int) -> float:
    """Return one page's precision, 1 for identical bags as in the benchmark."""
    return 1.0 if fp == fn == 0 else tp / (tp + fp)


def page_recall(tp: int, fp: int, fn: int) -> float:
    """Return one page's recall, 1 for identical bags as in the benchmark."""
    return 1.0 if fp == fn == 0 else tp / (tp + fn)


def score(pages: list[Page], outputs: list[str]) -> dict[str, float]:
    """Return the benchmark's precision, recall, F1 and accuracy of `outputs`."""
    counts = [match_counts(page.truth, pred) for page, pred in zip(pages, outputs, strict=True)]
    precisions = [page_precision(*c) for c in counts if c[0] + c[1] > 0]
    recalls = [page_recall(*c) for c in counts if c[0] + c[2] > 0]
    precision = statistics.mean(precisions) if precisions else 0.0
    recall = statistics.mean(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    exact = statistics.mean(TOKEN.findall(page.truth) == TOKEN.findall(pred)
                            for page, pred in zip(pages, outputs, strict=True))
    return {"precision": precision, "recall": recall, "f1": f1, "accuracy": exact}


def normalise(text: str) -> str:
    """Return `text` lower-cased with every whitespace run made one space."""
    return " ".join(text.lower().split())


# trafilatura writes a list item as "- item"; the truth has the item without the bullet.
LIST_BULLET = re.compile(r"^- ")


def noise_lines(truth: str, pred: str) -> list[str]:
    """Return the lines of `pred` that are not in `truth` and look like boilerplate."""
    true_text = normalise(truth)
    lines = (LIST_BULLET.sub("", normalise(line)) for line in pred.splitlines())
    return [line for line in lines if line and line not in true_text and NOISE_LINE.search(line)]


def html_text_of(fragment: str) -> str:
    """Return the text of an HTML fragment with one line per paragraph, as the benchmark does."""
    import html_text

    return str(html_text.extract_text(fragment))


def trafilatura_system(**options: Any) -> Extract:
    """Return trafilatura.extract with `options`."""
    import trafilatura

    return lambda html: trafilatura.extract(html, **options)


def readability_system() -> Extract:
    """Return readability-lxml's main content as text."""
    from readability import Document

    return lambda html: html_text_of(Document(html).summary(html_partial=True))


def justext_system() -> Extract:
    """Return jusText's non-boilerplate paragraphs, one a line, with the English stoplist."""
    import justext

    stoplist = justext.get_stoplist("English")
    return lambda html: "\n".join(paragraph.text for paragraph in
                                  justext.justext(html, stoplist, **JUSTEXT_OPTIONS)
                                  if not paragraph.is_boilerplate)


def cleaner_system(favor: str = "recall") -> Extract:
    """Return the project's HTML cleaner (`--favor` as given), its output without the headline
    line it adds.

    The benchmark's truth is the article body without its headline, as trafilatura's text
    output is; `cleaner clean` puts the page's headline first, so it is left out here.
    """
    from cleaner import Cleaner, CleanerError, clean_document, segment_html

    try:
        model_path = os.environ.get("CLEANER_MODEL")
        model = Cleaner(Path(model_path) if model_path else None, favor).model
    except CleanerError as error:
        raise Skipped(str(error)) from None

    def extract(html: str) -> str:
        doc = segment_html(html.encode("utf-8"))
        kept = [doc.blocks[i] for i in clean_document(doc, model).kept]
        if kept and kept[0].index == 0 and kept[0].text == doc.meta.get("title"):
            kept = kept[1:]
        return "".join(block.text + "\n" for block in kept)

    return extract


SYSTEMS: dict[str, Callable[[], Extract]] = {
    "trafilatura": trafilatura_system,
    "trafilatura-nocomments": lambda: trafilatura_system(include_comments=False),
    "readability": readability_system,
    "justext": justext_system,
    "cleaner": cleaner_system,
    "cleaner-precision": lambda: cleaner_system("precision"),
}


def fresh_system(name: str, first_page: str) -> Extract:
    """Return system `name` made anew and called once on `first_page` (first-call setup is no
    page's cost); raise Skipped if it cannot run here."""
    extract = SYSTEMS[name]()
    with contextlib.suppress(Exception):
        extract(first_page)
    return extract


def run_system(extract: Extract, pages: list[Page]) -> tuple[list[str], list[str], float]:
    """Return each page's output, the failures as 'id: error' and the wall seconds taken."""
    outputs, failures = [], []
    started = time.perf_counter()
    for page in pages:
        try:
            outputs.append(extract(page.html) or "")
        except Exception as error:  # any crash counts as empty output, and is reported
            outputs.append("")
            failures.append(f"{page.id}: {type(error).__name__}: {error}")
    return outputs, failures, time.perf_counter() - started


def figures_of(name: str, pages: list[Page], outputs: list[str], failures: list[str],
               seconds: float) -> dict[str, Any]:
    """Return the scores, noise lines, failures and speed of one system."""
    noise = sum(len(noise_lines(page.truth, pred)) for page, pred in zip(pages, outputs, strict=True))
    if failures:
        sys.stderr.write(f"bench_html: {name}: {len(failures)} pages raised; first {failures[0]}\n")
    return {**score(pages, outputs), "noise_lines": noise, "failures": len(failures),
            "seconds": seconds, "pages_per_s": len(pages) / seconds}


def benchmark(names: list[str], page_set: PageSet, passes: int) -> dict[str, Any]:
    """Return every figure of one set's run: one entry per system measured and the skipped ones.

    The passes go round the systems (each system's first pass, then each one's second, ...):
    this machine's speed drifts over minutes, and each system's fastest pass then comes from
    the same stretch of time as the others', so the pages/s ratios do not drift with it.
    Each pass gets its systems made anew (untimed), so none starts it knowing the pages: the
    cleaner keeps what it has read of each text for the rest of a run, and on a second pass
    over the same pages its cleaning took 0.2 ms a page instead of 1 ms, a speed no run over
    new pages has (until 2026-12-07 the fastest pass was such a second pass). trafilatura's
    own caches keep 1,024 lines each, fewer than a pass reads, and are left as they are.
    """
    pages = page_set.pages
    skipped: dict[str, str] = {}
    first: dict[str, tuple[list[str], list[str]]] = {}
    seconds: dict[str, float] = {}
    for _ in range(passes):
        for name in (name for name in names if name not in skipped):
            try:
                extract = fresh_system(name, pages[0].html)
            except Skipped as reason:
                skipped[name] = str(reason)
                continue
            outputs, failures, taken = run_system(extract, pages)
            first.setdefault(name, (outputs, failures))  # scores come from the first pass
            # Load from other processes only ever slows a pass down: the fastest one counts.
            seconds[name] = min(seconds.get(name, taken), taken)
    systems = {name: figures_of(name, pages, outputs, failures, seconds[name])
               for name, (outputs, failures) in first.items()}
    base = systems.get(BASE_SYSTEM)
    for figures in systems.values():
        figures["speed_ratio"] = figures["pages_per_s"] / base["pages_per_s"] if base else None
    return {"pages": len(pages), "pages_skipped": len(page_set.skipped),
            "skipped_pages": page_set.skipped,
            "pages_not_utf8": page_set.not_utf8, "passes": passes, "systems": systems,
            "skipped": skipped}


def set_header(set_name: str, figures: dict[str, Any]) -> str:
    """Return the line that names a set, its page count and the pages it had to leave out."""
    notes = [f"{figures['pages_skipped']} skipped, gold body unusable"] if figures["pages_skipped"] else []
    notes += [f"{figures['pages_not_utf8']} not valid UTF-8"] if figures["pages_not_utf8"] else []
    extra = f" ({'; '.join(notes)})" if notes else ""
    return (f"set {set_name}: {figures['pages']} pages of {SET_FOLDERS[set_name].name}{extra}, "
            "scored with the article-extraction-benchmark's 4-token shingle metric")


def format_table(set_name: str, figures: dict[str, Any]) -> str:
    """Return one set's figures as a plain aligned table, with a line for each skipped system."""
    lines = [set_header(set_name, figures),
             (f"{'system':28}{'precision':>10}{'recall':>8}{'F1':>7}{'noise':>7}{'failed':>8}"
              f"{'pages/s':>9}{'x ' + BASE_SYSTEM:>15}")]
    label = {"cleaner": f"cleaner ({CLEANER_SEEN[set_name]})"}
    for name, run in figures["systems"].items():
        ratio = "-" if run["speed_ratio"] is None else f"{run['speed_ratio']:.2f}"
        lines.append(f"{label.get(name, name):28}{run['precision']:10.3f}{run['recall']:8.3f}"
                     f"{run['f1']:7.3f}{run['noise_lines']:7d}{run['failures']:8d}"
                     f"{run['pages_per_s']:9.1f}{ratio:>15}")
    lines += [f"{label.get(name, name):28}skipped: {reason}" for name, reason in figures["skipped"].items()]
    lines.append("noise: output lines not in the true article that match NOISE_LINE")
    return "\n".join(lines)


def parse_args() -> argparse.Namespace:
    """Return the command-line options, checked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=list(SYSTEMS), metavar="NAME",
                        help=f"run only this system (repeatable): {', '.join(SYSTEMS)}")
    parser.add_argument("--set", choices=[*SET_FOLDERS, "both"], default="both", dest="page_set",
                        help="score the scrapinghub pages, the fundus pages or both (default both)")
    parser.add_argument("--limit", type=int, metavar="N",
                        help="use only the first N pages of each set")
    parser.add_argument("--passes", type=int, default=3, metavar="N",
                        help="time N passes over the pages and keep the fastest (default 3)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    args = parser.parse_args()
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    if args.passes < 1:
        parser.error("--passes must be at least 1")
    args.sets = list(SET_FOLDERS) if args.page_set == "both" else [args.page_set]
    for name in args.sets:
        if not set_dir(name).is_dir():
            fail(f"{set_dir(name)}: corpus not found; set CLEANER_CORPUS to the shared corpus", 2)
    if args.json and not args.json.parent.is_dir():
        fail(f"{args.json}: no such directory; pick a --json path in an existing one", 2)
    return args


def main() -> None:
    """Parse the options, run the systems and report them."""
    args = parse_args()
    names = [name for name in SYSTEMS if name in (args.only or SYSTEMS)]
    figures: dict[str, Any] = {"passes": args.passes, "sets": {}}
    for set_name in args.sets:
        try:
            page_set = LOADERS[set_name](set_dir(set_name), args.limit)
        except (OSError, ValueError) as error:
            fail(f"{set_dir(set_name)}: unreadable corpus ({error})", 2)
        if not page_set.pages:
            fail(f"{set_dir(set_name)}: no page has a usable gold body; check the corpus", 2)
        if page_set.skipped:
            sys.stderr.write(f"bench_html: {set_name}: {len(page_set.skipped)} pages skipped; "
                             f"first {page_set.skipped[0]}\n")
        figures["sets"][set_name] = benchmark(names, page_set, args.passes)
        if len(figures["sets"]) > 1:
            print()  # noqa: T201  # a benchmark script's report is its output
        print(format_table(set_name, figures["sets"][set_name]))  # noqa: T201  # as above
    try:
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    except OSError as error:
        fail(f"{args.json}: cannot write ({error.strerror})")


if __name__ == "__main__":
    main()
