"""The page's furniture pruned before extraction and the end notes after it (cleaner/prune.py),
seen through segment_html: what goes, and the article text that must stay."""

from __future__ import annotations

from cleaner.segment import segment_html

HEADLINE = "Council approves the new river bridge"
PARAGRAPH = "The council voted 7 to 2 on Tuesday to fund the bridge, ending a decade of debate."
ARTICLE = "".join(f"<p>{PARAGRAPH} Paragraph {i}.</p>" for i in range(5))
NAV = "<nav><p>Sections of this site, from news and sport to the weather and the puzzles.</p></nav>"


def test_page_furniture_goes_when_the_article_has_paragraphs_of_its_own() -> None:
    doc = segment_html(f"<html><body>{NAV}<article>{ARTICLE}</article></body></html>".encode())
    assert [block.text for block in doc.blocks] == [f"{PARAGRAPH} Paragraph {i}." for i in range(5)]


def test_paragraphs_that_only_sit_in_furniture_are_kept() -> None:
    # trafilatura's recall mode puts a page's furniture back when it would remove every
    # paragraph; deleting the furniture first must not take that away.
    doc = segment_html(f"<html><body><aside>{ARTICLE}</aside></body></html>".encode())
    assert [block.text for block in doc.blocks] == [f"{PARAGRAPH} Paragraph {i}." for i in range(5)]


def test_the_page_headline_is_read_before_the_furniture_goes() -> None:
    page = f"<html><body><header><nav><h1>{HEADLINE}</h1></nav></header>{ARTICLE}</body></html>"
    assert segment_html(page.encode()).blocks[0].text == HEADLINE


def test_a_small_block_named_as_noise_goes_before_extraction() -> None:
    box = "<div class='Newsletter-stateFail'><h4>There was a problem with your request.</h4></div>"
    tools = "<ul class='print-tools'><li>Print this page</li><li>Text size</li></ul>"
    page = f"<html><body><article>{ARTICLE}{box}{tools}</article></body></html>"
    texts = [block.text for block in segment_html(page.encode()).blocks]
    assert texts == [f"{PARAGRAPH} Paragraph {i}." for i in range(5)]


def test_a_link_named_as_noise_inside_a_sentence_and_a_big_named_container_stay() -> None:
    sentence = ("<p>The plan follows <a class='related-link' href='/x'>last year's flood report</a>,"
                " which the council published in March after the river rose.</p>")
    article = f"<article>{ARTICLE}{sentence}</article>"
    page = f"<html><body><div class='share-wrapper'>{article}</div></body></html>"
    texts = [block.text for block in segment_html(page.encode()).blocks]
    assert texts[-1] == ("The plan follows last year's flood report, which the council published in"
                         " March after the river rose.")
    assert len(texts) == 6


def test_a_short_article_in_a_container_named_as_noise_stays() -> None:
    story = "<p>The bridge opens on Monday, the council said.</p><p>Tolls start in May.</p>"
    page = f"<html><body><div class='social-post'>{story}</div><p>Contact us</p></body></html>"
    texts = [block.text for block in segment_html(page.encode()).blocks]
    assert "The bridge opens on Monday, the council said." in texts
    assert "Tolls start in May." in texts


RELATED = ("<ul><li><a href='/a'>Council votes to close the old bridge for repairs</a></li>"
           "<li><a href='/b'>Ferry timetable changes from Monday</a></li>"
           "<li><a href='/c'>Readers share photos of the flooded river path</a></li></ul>")


def test_a_list_of_links_goes_before_extraction() -> None:
    # trafilatura drops such a list at the end of an article, and keeps it before a paragraph
    closing = "<p>The new bridge is due to open in the spring of next year.</p>"
    page = f"<html><body><article>{ARTICLE}{RELATED}{closing}</article></body></html>"
    texts = [block.text for block in segment_html(page.encode()).blocks]
    assert texts == [*(f"{PARAGRAPH} Paragraph {i}." for i in range(5)),
                     "The new bridge is due to open in the spring of next year."]


def test_the_heading_of_a_list_of_links_goes_with_it() -> None:
    closing = "<p>The new bridge is due to open in the spring of next year.</p>"
    page = (f"<html><body><article>{ARTICLE}<h3>More from the valley</h3>{RELATED}{closing}"
            "</article></body></html>")
    texts = [block.text for block in segment_html(page.encode()).blocks]
    assert texts == [*(f"{PARAGRAPH} Paragraph {i}." for i in range(5)),
                     "The new bridge is due to open in the spring of next year."]


def test_a_list_with_links_in_its_sentences_stays() -> None:
    points = ("<ul><li>The bridge closes on <a href='/d'>Monday</a> for six weeks of work.</li>"
              "<li>Buses will run every ten minutes between the two banks.</li>"
              "<li>Cyclists may use the ferry for free until the bridge reopens.</li></ul>")
    page = f"<html><body><article>{ARTICLE}{points}</article></body></html>"
    texts = [block.text for block in segment_html(page.encode()).blocks]
    assert texts[5:] == ["- The bridge closes on Monday for six weeks of work.",
                         "- Buses will run every ten minutes between the two banks.",
                         "- Cyclists may use the ferry for free until the bridge reopens."]


def test_a_list_of_links_that_holds_the_article_stays() -> None:
    story = "".join(f"<li><a href='/{i}'><p>{PARAGRAPH} Paragraph {i}.</p></a></li>" for i in range(5))
    page = f"<html><body><ul>{story}</ul><p>Contact us</p></body></html>"
    texts = [block.text for block in segment_html(page.encode()).blocks]
    assert sum(text.endswith(f"Paragraph {i}.") for i in range(5) for text in texts) == 5


def test_an_article_only_in_noscript_is_still_extracted() -> None:
    # trafilatura puts back what its cleaning deleted when no paragraph would survive it
    page = f"<html><body><div id='app'></div><noscript>{ARTICLE}</noscript></body></html>"
    doc = segment_html(page.encode())
    assert [block.text for block in doc.blocks] == [f"{PARAGRAPH} Paragraph {i}." for i in range(5)]


FOLLOW = ("<p><em>Follow our science desk on <a href='https://example.org/follow'>the social "
          "network of your choice</a> for more stories like this one.</em></p>")
FOLLOW_LINE = ("Follow our science desk on the social network of your choice for more stories "
               "like this one.")


def texts_of_page(body: str) -> list[str]:
    page = f"<html><body><h1>{HEADLINE}</h1><article>{body}</article></body></html>"
    return [block.text for block in segment_html(page.encode()).blocks]


def test_an_italic_note_with_a_link_after_the_article_goes() -> None:
    assert texts_of_page(ARTICLE + FOLLOW) == [HEADLINE, *(f"{PARAGRAPH} Paragraph {i}."
                                                          for i in range(5))]


def test_italic_lines_stay_in_the_article_without_a_link_or_mostly_roman() -> None:
    reporting = "<p><em>Reporting by Jo Bloggs in Leeds; editing by Sam Smith and Ann Lee.</em></p>"
    mostly_roman = ("<p>The council has <em>published</em> the full report, with the engineers' "
                    "notes, on <a href='/report'>its website</a> for anyone to read.</p>")
    texts = texts_of_page(ARTICLE + reporting + mostly_roman)
    assert texts[-2:] == ["Reporting by Jo Bloggs in Leeds; editing by Sam Smith and Ann Lee.",
                          ("The council has published the full report, with the engineers' "
                           "notes, on its website for anyone to read.")]


def test_the_same_note_before_the_last_lines_keeps_the_article_as_it_is() -> None:
    # a site that sets article text in italics with links: nothing of it is an end note
    assert FOLLOW_LINE in texts_of_page(FOLLOW + ARTICLE)
    assert texts_of_page(FOLLOW + ARTICLE + FOLLOW).count(FOLLOW_LINE) == 2


def linked(headline: str, href: str = "/next") -> str:
    return f"<p><a href='{href}'>{headline}</a></p>"


TEASERS = ["Council votes to close the old bridge for repairs next spring",
           "Ferry timetable changes from Monday as the river rises again"]


def test_the_link_lines_that_end_the_text_go() -> None:
    texts = texts_of_page(ARTICLE + "".join(linked(t) for t in TEASERS))
    assert texts == [HEADLINE, *(f"{PARAGRAPH} Paragraph {i}." for i in range(5))]


def test_a_last_line_with_a_link_in_its_sentence_stays() -> None:
    closing = ("<p>The council has published <a href='/report'>the full report</a> on its "
               "website for anyone who wants to read the engineers' notes.</p>")
    assert texts_of_page(ARTICLE + closing)[-1] == (
        "The council has published the full report on its website for anyone who wants to read"
        " the engineers' notes.")


def test_a_text_that_only_lists_links_keeps_them() -> None:
    many = [f"{TEASERS[i % 2]}, part {i}" for i in range(12)]
    assert texts_of_page("".join(linked(t, f"/{i}") for i, t in enumerate(TEASERS))) == [
        HEADLINE, *TEASERS]
    assert texts_of_page(ARTICLE + "".join(linked(t, f"/{i}") for i, t in enumerate(many)))[-12:] == many


CAPTION = ("The old bridge seen from the north bank on Tuesday morning, before the council vote. "
           "(Photo: River Trust)")


def test_a_picture_and_its_caption_in_a_table_cell_go() -> None:
    cell = f"<table><tr><td><img src='bridge.jpg'><div>{CAPTION}</div></td></tr></table>"
    paragraphs = [f"<p>{PARAGRAPH} Paragraph {i}.</p>" for i in range(5)]
    texts = texts_of_page("".join(paragraphs[:2]) + cell + "".join(paragraphs[2:]))
    assert not any("north bank" in text for text in texts)
    assert texts[1:] == [f"{PARAGRAPH} Paragraph {i}." for i in range(5)]


def test_table_cells_with_pictures_stay_when_they_hold_names_or_the_article() -> None:
    results = ("<table>" + "".join(f"<tr><td><img src='{flag}.png'> {name}</td><td>{score}</td></tr>"
                                   for flag, name, score in (("us", "Simone Biles", "15.366"),
                                                             ("br", "Rebeca Andrade", "15.100")))
               + "</table>")
    assert any("Simone Biles" in text for text in texts_of_page(ARTICLE + results))
    steps = [f"Step {i}: {PARAGRAPH} Then wait for the glue to dry overnight." for i in range(6)]
    how_to = ("<table>" + "".join(f"<tr><td><img src='{i}.jpg'>{step}</td></tr>"
                                  for i, step in enumerate(steps)) + "</table><p>Good luck!</p>")
    texts = " ".join(texts_of_page(how_to))
    assert all(step in texts for step in steps)
