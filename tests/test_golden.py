"""Golden outputs of the committed model: the seed, every fixture and every bundled example."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cleaner import Cleaner
from cleaner.fixtures import fixture_paths

from .conftest import GOLDEN, ROOT, SEED

FIXTURES = fixture_paths([ROOT / "fixtures" / "train", ROOT / "fixtures" / "eval"])
EXAMPLES = sorted((ROOT / "fixtures" / "examples").glob("*.txt"))
PAGES = sorted((ROOT / "fixtures" / "examples").glob("*.html"))


def raw_text_of(fixture: Path) -> str:
    return "".join(line.split("\t", 1)[1] + "\n" for line in fixture.read_text().splitlines())


def check_golden(case: str, produced: str, update: bool) -> None:
    golden = GOLDEN / f"{case}.out.txt"
    if update:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(produced, encoding="utf-8")
    assert golden.exists(), f"{golden} missing: run pytest --update-golden"
    assert produced == golden.read_text(encoding="utf-8")


def test_seed_cleans_to_the_expected_article(cleaner: Cleaner) -> None:
    if not SEED.exists():
        pytest.skip("../shared/seed is not present")
    expected = SEED.with_name("express-ricketts.expected.txt").read_text(encoding="utf-8")
    assert cleaner.clean_text(SEED.read_text(encoding="utf-8")).text == expected


def test_seed_keeps_the_short_quote_and_drops_banner_promos_and_footer(cleaner: Cleaner) -> None:
    if not SEED.exists():
        pytest.skip("../shared/seed is not present")
    kept = cleaner.clean_text(SEED.read_text(encoding="utf-8")).text.splitlines()
    assert "“Hopefully it won’t come to that.”" in kept
    assert "“Even to someone who is utterly confused.”" in kept
    assert not [line for line in kept if "DON’T MISS" in line or line.endswith("]")]
    assert not [line for line in kept if "sign-up" in line or line.startswith("Source:")]


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fixture_golden(fixture: Path, cleaner: Cleaner, update_golden: bool) -> None:
    case = fixture.relative_to(ROOT / "fixtures").with_suffix("")
    check_golden(str(case), cleaner.clean_text(raw_text_of(fixture)).text, update_golden)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_golden(example: Path, cleaner: Cleaner, update_golden: bool) -> None:
    check_golden(f"examples/{example.stem}", cleaner.clean_text(example.read_text()).text,
                 update_golden)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_html_page_golden(page: Path, cleaner: Cleaner, update_golden: bool) -> None:
    check_golden(f"examples/{page.stem}.html", cleaner.clean_html(page.read_bytes()).text,
                 update_golden)


def test_html_page_keeps_every_article_paragraph_and_drops_the_rails(cleaner: Cleaner) -> None:
    page = ROOT / "fixtures" / "examples" / "tabloid-consent-rail.html"
    kept = cleaner.clean_html(page.read_bytes()).text.splitlines()
    assert not [line for line in kept if "DON'T MISS" in line.replace("’", "'").upper()
                or line.endswith("]")]
    assert not [line for line in kept if "cookie" in line.lower() or "sign-up" in line]
    blog = ROOT / "fixtures" / "examples" / "regional-blog-newsletter.html"
    assert "\"We will not give up.\"" in cleaner.clean_html(blog.read_bytes()).text.splitlines()


def test_output_is_a_subsequence_of_the_input_blocks(cleaner: Cleaner) -> None:
    for fixture in FIXTURES:
        text = raw_text_of(fixture)
        cleaned = cleaner.clean_text(text)
        blocks = text.splitlines()
        assert list(cleaned.kept) == sorted(cleaned.kept)
        assert cleaned.text.splitlines() == [blocks[i] for i in cleaned.kept]
        assert len(cleaned.kept) + len(cleaned.removed) == len(blocks)


# Run in a fresh interpreter where `cleaner._own` cannot be imported, as on a machine without
# a C compiler (the extension is optional): every compiled loop's Python twin is then in use.
WITHOUT_COMPILED = """
import sys
sys.modules["cleaner._own"] = None
import subprocess
import sys
from pathlib import Path
from cleaner import Cleaner, context, model, ngrams, segment, shape
from tests.test_golden import FIXTURES, GOLDEN, ROOT, raw_text_of
assert all(stage.compiled_own is None for stage in (context, model, ngrams, segment, shape))
cleaner = Cleaner()
for fixture in FIXTURES:
    case = fixture.relative_to(ROOT / "fixtures").with_suffix("")
    if cleaner.clean_text(raw_text_of(fixture)).text != (GOLDEN / f"{case}.out.txt").read_text():
        print(case)
"""


def test_fixtures_clean_to_their_golden_outputs_without_the_compiled_module() -> None:
    run = subprocess.run([sys.executable, "-c", WITHOUT_COMPILED], cwd=ROOT, capture_output=True,
                         text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout == ""  # no fixture differs
