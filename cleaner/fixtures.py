"""Read and validate labeled examples: project fixtures (.tsv) and labels of the shared corpus."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cleaner.blocks import CleanerError, Document, Label
from cleaner.rules import whole_patterns
from cleaner.segment import segment_text

SHARED_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
FAKENEWSNET = "text/fakenewsnet.jsonl.gz"
GOLD_BLOCKS = "blocks/html-gold-blocks.jsonl.gz"


@dataclass(frozen=True, slots=True)
class Labeled:
    """A document with one gold label per block, and the site it came from (the CV group)."""

    doc: Document
    labels: tuple[Label, ...]
    site: str
    origin: str


def read_fixture(path: Path) -> Labeled:
    """Return the labeled article in a `label<TAB>text` file; raise CleanerError on a bad line."""
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CleanerError(str(path), f"cannot read fixture ({error})") from error
    labels: list[Label] = []
    texts: list[str] = []
    for number, line in enumerate(raw.splitlines(), 1):
        label, text = parse_fixture_line(line, str(path), number)
        labels.append(label)
        texts.append(text)
    if not texts:
        raise CleanerError(str(path), "fixture has no blocks")
    doc = segment_text("\n".join(texts) + "\n", doc_id=str(path))
    return Labeled(doc, tuple(labels), site=path.parent.name, origin="fixture")


def parse_fixture_line(line: str, source: str, number: int) -> tuple[Label, str]:
    """Return the label and text of one fixture line."""
    name, tab, text = line.partition("\t")
    if not tab:
        raise CleanerError(source, "expected 'label<TAB>text'", number)
    if "\t" in text:
        raise CleanerError(source, "more than one TAB; a block's text cannot hold a TAB", number)
    try:
        label = Label(name.strip())
    except ValueError:
        known = ", ".join(label.value for label in Label)
        raise CleanerError(source, f"unknown label {name!r} (known: {known})", number) from None
    blocks = segment_text(text).blocks
    if not blocks:
        raise CleanerError(source, "empty block text", number)
    if len(blocks) != 1 or blocks[0].text != text:
        raise CleanerError(source, "block text has leading or trailing spaces", number)
    return label, text


def fixture_paths(roots: list[Path]) -> list[Path]:
    """Return every .tsv file under the given files or directories, sorted."""
    found: list[Path] = []
    for root in roots:
        if root.is_dir():
            found += sorted(root.rglob("*.tsv"))
        elif root.is_file():
            found.append(root)
        else:
            raise CleanerError(str(root), "no such fixture file or directory")
    return found


def read_fixtures(roots: list[Path]) -> list[Labeled]:
    """Return the labeled articles under `roots`."""
    return [read_fixture(path) for path in fixture_paths(roots)]


# A corpus article's meta key naming the file and line that hold its labels.
LABELED_AT = "labeled_at"


def read_corpus_labels(label_dir: Path, corpus: Path = SHARED_CORPUS) -> list[Labeled]:
    """Return the hand-labeled corpus articles: labels from `label_dir`, text from the corpus."""
    wanted: dict[str, tuple[list[str], str, str]] = {}
    for path in sorted(label_dir.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            record = json.loads(line)
            if not record.get("article", True):
                continue  # pages of other stories' teasers contradict article labels; not trained
            wanted[record["id"]] = (record["labels"], record["site"], f"{path}:{number}")
    found: list[Labeled] = []
    for record in read_jsonl_gz(corpus / FAKENEWSNET):
        if record["id"] not in wanted:
            continue
        names, site, where = wanted[record["id"]]
        doc = segment_text(record["text"], doc_id=record["id"],
                           meta={"url": record["url"], LABELED_AT: where})
        if len(doc.blocks) != len(names):
            raise CleanerError(where, f"{len(names)} labels for {len(doc.blocks)} blocks")
        found.append(Labeled(doc, tuple(Label(n) for n in names), site, origin="fakenewsnet"))
    return found


def read_gold_blocks(source: str, corpus: Path = SHARED_CORPUS) -> list[Labeled]:
    """Return the html-gold-blocks pages of one source, noise kinds guessed by the rules."""
    pages: list[Labeled] = []
    for page in read_jsonl_gz(corpus / GOLD_BLOCKS):
        if page["source"] != source:
            continue
        texts = [b["text"] for b in page["blocks"]]
        doc = segment_text("\n".join(texts) + "\n", doc_id=page["page_id"],
                           meta={"url": page["url"]})
        if len(doc.blocks) != len(texts):
            continue  # a block holding a line break cannot be aligned; 0 pages do today
        labels = tuple(Label.BODY if b["label"] == "content" else guess_noise_kind(b["text"])
                       for b in page["blocks"])
        pages.append(Labeled(doc, labels, site=site_of(page["url"]), origin=source))
    return pages


def with_reviewed_labels(items: list[Labeled], review_dir: Path) -> list[Labeled]:
    """Return the documents with the labels a person gave their blocks on review in place of
    the string-matched ones: `review_dir/*.jsonl` holds one {"id", "block", "label"} per
    corrected block (no text: the pages stay in the shared corpus)."""
    paths = sorted(review_dir.glob("*.jsonl"))
    if not paths:
        raise CleanerError(str(review_dir), "no review files (*.jsonl)")
    sizes = {item.doc.id: len(item.labels) for item in items}
    fixes: dict[str, dict[int, Label]] = {}
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            where = f"{path}:{number}"
            try:
                record = json.loads(line)
                doc_id, block, label = record["id"], int(record["block"]), Label(record["label"])
            except (ValueError, KeyError, TypeError) as error:
                raise CleanerError(where, f"not a review line ({error})") from error
            if not 0 <= block < sizes.get(doc_id, 0):
                raise CleanerError(where, f"{doc_id}: no such page or block")
            fixes.setdefault(doc_id, {})[block] = label
    return [dataclasses.replace(item, labels=tuple(
        fixes.get(item.doc.id, {}).get(i, label) for i, label in enumerate(item.labels)))
        for item in items]


def guess_noise_kind(text: str) -> Label:
    """Return a weak noise label for a block known only to be noise."""
    for flag, label in WEAK_KINDS:
        if whole_patterns()[flag].search(text.lower()):
            return label
    return Label.OTHER


# Order matters: the first matching pattern names the kind (tuned on html-gold-blocks noise).
WEAK_KINDS = (("consent_banner", Label.CONSENT), ("dont_miss_header", Label.PROMO),
              ("promo_header", Label.PROMO), ("promo_prefix", Label.PROMO),
              ("source_footer", Label.FOOTER), ("ad", Label.AD), ("newsletter", Label.NEWSLETTER),
              ("media", Label.MEDIA), ("social", Label.SOCIAL), ("meta", Label.META))


def site_of(url: str) -> str:
    """Return the host of a URL without 'www.', looking through web.archive.org captures."""
    match = re.search(r"^(?:https?://)?(?:web\.archive\.org/web/\d+\w*/(?:https?://)?)?([^/:]+)",
                      url)
    host = match.group(1) if match else url
    return host.lower().removeprefix("www.")


def read_jsonl_gz(path: Path) -> Iterator[dict[str, Any]]:
    """Yield the records of a gzip JSON Lines file."""
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def fingerprint(paths: list[Path]) -> str:
    """Return a SHA-256 over the names and bytes of the given files."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
