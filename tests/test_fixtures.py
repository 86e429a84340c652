"""The label-file parser: every fixture loads, and bad lines are reported as file:line: reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cleaner.blocks import CleanerError, Label
from cleaner.features import BlockFeaturizer
from cleaner.fixtures import (
    fixture_paths,
    read_fixture,
    read_fixtures,
    read_gold_blocks,
    with_reviewed_labels,
)
from cleaner.train import gather_training_data

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, content: str) -> Path:
    path = tmp_path / "site.example" / "article.tsv"
    path.parent.mkdir()
    path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize(("content", "problem"), [
    ("body\tFine.\nbdy\tTypo label.\n",
     (":2: unknown label 'bdy' (known: body, title, consent, promo, footer, newsletter, social, "
     "media, ad, meta, other)")),
    ("body\tFine.\nno tab here\n", ":2: expected 'label<TAB>text'"),
    ("body\t\n", ":1: empty block text"),
    ("body\t  padded\n", ":1: block text has leading or trailing spaces"),
    ("body\tone\ttwo\n", ":1: more than one TAB; a block's text cannot hold a TAB"),
    ("", ": fixture has no blocks"),
])
def test_bad_fixture_lines_name_file_line_and_reason(tmp_path: Path, content: str,
                                                     problem: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(CleanerError) as raised:
        read_fixture(path)
    assert str(raised.value) == f"{path}{problem}"


def test_fixture_reads_labels_in_order_and_site_from_folder(tmp_path: Path) -> None:
    item = read_fixture(write(tmp_path, "title\tHeadline\nconsent\tWe use cookies.\n"))
    assert item.labels == (Label.TITLE, Label.CONSENT)
    assert [b.text for b in item.doc.blocks] == ["Headline", "We use cookies."]
    assert item.site == "site.example"


def review(tmp_path: Path, *records: object) -> Path:
    folder = tmp_path / "review"
    folder.mkdir()
    (folder / "part.jsonl").write_text("".join(json.dumps(r) + "\n" if not isinstance(r, str)
                                               else r + "\n" for r in records))
    return folder


def test_reviewed_labels_replace_the_string_matched_ones_and_nothing_else(tmp_path: Path) -> None:
    page = read_fixture(write(tmp_path, "body\tHeadline\nbody\tRelated: Another story\n"
                                        "other\tThe mayor said the road would reopen.\n"))
    folder = review(tmp_path, {"id": page.doc.id, "block": 1, "label": "promo"},
                    {"id": page.doc.id, "block": 2, "label": "body"})
    [reviewed] = with_reviewed_labels([page], folder)
    assert reviewed.labels == (Label.BODY, Label.PROMO, Label.BODY)
    assert reviewed.doc == page.doc
    assert page.labels[1] == Label.BODY  # the original is left alone


@pytest.mark.parametrize(("record", "problem"), [
    ("{not json", "part.jsonl:1: not a review line"),
    ({"id": "x", "block": 0, "label": "bdy"}, "part.jsonl:1: not a review line"),
    ({"id": "no-such-page", "block": 0, "label": "body"},
     "part.jsonl:1: no-such-page: no such page or block"),
])
def test_a_bad_review_line_names_its_file_and_line(tmp_path: Path, record: object,
                                                    problem: str) -> None:
    page = read_fixture(write(tmp_path, "body\tHeadline\n"))
    with pytest.raises(CleanerError, match=problem):
        with_reviewed_labels([page], review(tmp_path, record))


def test_a_review_folder_without_review_files_is_an_error(tmp_path: Path) -> None:
    page = read_fixture(write(tmp_path, "body\tHeadline\n"))
    with pytest.raises(CleanerError, match="no review files"):
        with_reviewed_labels([page], tmp_path / "typo")


def test_project_fixtures_are_plentiful_varied_and_split_by_site() -> None:
    train = read_fixtures([ROOT / "fixtures" / "train"])
    held_out = read_fixtures([ROOT / "fixtures" / "eval"])
    held_back = read_fixtures([ROOT / "fixtures" / "held-back"])
    assert len(train) + len(held_out) >= 80
    assert len({i.site for i in train} | {i.site for i in held_out}) >= 25
    assert not {i.site for i in train} & {i.site for i in held_out}
    assert not {i.site for i in train} & {i.site for i in held_back}
    assert {label for i in train for label in i.labels} == set(Label)


def label_file_sites(folder: Path) -> set[str]:
    """Return the sites of the corpus articles labeled in a folder of *.jsonl label files."""
    return {json.loads(line)["site"] for path in folder.glob("*.jsonl")
            for line in path.read_text(encoding="utf-8").splitlines()}


def test_held_out_corpus_labels_share_no_site_with_training() -> None:
    trained = label_file_sites(ROOT / "fixtures" / "corpus" / "fakenewsnet")
    held_out = label_file_sites(ROOT / "fixtures" / "corpus" / "fakenewsnet-eval")
    assert len(held_out) >= 150
    assert not trained & held_out


def test_missing_fixture_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CleanerError, match="no such fixture file or directory"):
        fixture_paths([tmp_path / "absent"])


def test_training_adds_each_hand_labeled_article_as_perfectly_cleaned(tmp_path: Path) -> None:
    write(tmp_path, "title\tHeadline\nconsent\tWe use cookies.\nbody\tThe vote was 7 to 2.\n")
    items, inventory = gather_training_data([tmp_path], None, None)
    copy = next(item for item in items if item.origin == "cleaned")
    assert [b.text for b in copy.doc.blocks] == ["Headline", "The vote was 7 to 2."]
    assert [b.index for b in copy.doc.blocks] == [0, 1]
    assert copy.labels == (Label.TITLE, Label.BODY)
    assert copy.site == "site.example"  # same CV group as its original
    assert inventory["documents"] == {"fixture": 1, "cleaned": 1}


def test_cleaned_copies_do_not_let_once_seen_words_into_the_vocabulary(tmp_path: Path) -> None:
    write(tmp_path, "body\tZebracorns graze at dawn.\nconsent\tWe use cookies.\n")
    items, _ = gather_training_data([tmp_path], None, None)
    vocabulary = BlockFeaturizer(min_df=2).fit([item.doc for item in items]).vocabulary_
    assert "w:zebracorns" not in vocabulary  # one block holds it; its copy does not count


def test_training_takes_the_reviewed_labels_of_scrapinghub_pages(tmp_path: Path,
                                                                  shared_corpus: Path) -> None:
    write(tmp_path, "title\tHeadline\nbody\tThe vote was 7 to 2.\n")
    _, plain_inventory = gather_training_data([tmp_path], None, shared_corpus)
    page = read_gold_blocks("scrapinghub-aeb", shared_corpus)[0]
    relabeled = Label.PROMO if page.labels[0] in (Label.BODY, Label.TITLE) else Label.BODY
    folder = review(tmp_path, {"id": page.doc.id, "block": 0, "label": relabeled.value})
    items, inventory = gather_training_data([tmp_path], None, shared_corpus, folder)
    reviewed = next(item for item in items if item.doc.id == page.doc.id)
    assert reviewed.labels == (relabeled, *page.labels[1:])
    assert "review_sha256" in inventory["html_gold_blocks"]  # the manifest says what went in
    assert "review_sha256" not in plain_inventory["html_gold_blocks"]
