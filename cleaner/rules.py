"""Noise patterns as data. Features read them; none of them decides a label by itself."""

from __future__ import annotations

import re

# Apostrophes and quotes come straight or curly from scrapers; patterns accept both.
APOS = "['’‘`]"
OPEN_QUOTES = "\"“‘'«"
CLOSE_QUOTES = "\"”’'»"

# Each pattern is a named flag the featurizer sets for the block (and for its neighbours).
# The seed article (express-ricketts.txt) motivated DONT_MISS_HEADER, BRACKET_TAG,
# CONSENT_BANNER and SOURCE_FOOTER; the rest come from lines repeated across many
# articles of one domain in ../shared/corpus/text/fakenewsnet.jsonl.gz.
# PATTERNS are written in lower case and searched in the lower-cased block: Python's re scans
# several times faster without IGNORECASE. CASED_PATTERNS need the original capitals.
PATTERNS: dict[str, re.Pattern[str]] = {
    "dont_miss_header": re.compile(rf"^\W*don{APOS}?t miss\b\W*$"),
    "promo_prefix": re.compile(
        r"^\W*(read more|see more|more|related|related content|related stories|related articles"
        r"|also read|read next|up next|recommended|watch|must see|you may like|trending"
        r"|popular on [\w ]+|more from [\w ]+|most read|in other news|read also|see also)\b\s*[:>|\-–—]",
    ),
    "bracket_tag": re.compile(
        r"\[(report|reveal|insight|video|pictures|picture|photos|analysis|reaction|latest"
        r"|poll|live|update|comment|explained|pics|map|data|interview|opinion|new)\]\s*$",
    ),
    "consent_banner": re.compile(
        rf"(we use your sign{APOS}?-?up|you{APOS}?ve consented|uses? cookies|cookie policy"
        rf"|accept(ing)? cookies|not a robot|privacy (policy|notice)|unsubscribe at any time"
        rf"|consent to|by continuing to (browse|use))",
    ),
    "source_footer": re.compile(
        r"^(source\s*:|\(excerpt\)|excerpt\b|this (article|story|post) (originally )?(appeared|was"
        r" originally|first appeared|has been contributed)|the post .* appeared first on"
        r"|originally published|copyright|©|\(c\) ?\d{4}|all rights reserved|filed under|tags?\s*:"
        r"|topics\s*:?$|\[?h/t\b|via\s*:|reporting by|additional reporting|contributed to this report)",
    ),
    "read_full": re.compile(r"read (the )?full (article|story)|read more at"),
    "newsletter": re.compile(
        r"(newsletter|sign up|signup|subscribe|subscription|inbox|by email|e-mail alerts"
        r"|invalid email|email address)",
    ),
    "social": re.compile(
        r"(share (this|on|or comment)|click to (share|email|print)|follow (us|@|him|her|them)"
        r"|like us on|tweet\b|opens in new window|facebook|twitter|instagram|whatsapp|pinterest"
        r"|linkedin|reddit|\bshares?\b)",
    ),
    "media": re.compile(
        r"(\(image:|\(photo:|\(picture:|^image:|^photo:|photograph:|credit:|getty|shutterstock"
        r"|splash news|backgrid|\bafp\b|\breuters\b|\bap photo\b|\bpa\b|rex/|scroll down for video"
        r"|video loading|video unavailable|click to play|tap to play|watch the video|in the video"
        r"|video below|video above|gallery|slideshow|view this post|a (post|photo|video) shared by"
        r"|content is imported from|embed|pic\.twitter\.com|\(@\w+\)\s+\w+ \d)",
    ),
    "ad": re.compile(r"^(advertisement|sponsored|ad\b|story continues below|continue reading below)",),
    "meta": re.compile(
        r"(^posted (on|by|at)|^updated|^published|\bmin(ute)? read\b|last modified"
        r"|^\d{1,2}:\d{2}\b|\b(am|pm|a\.m\.|p\.m\.)\s*(et|est|edt|pt|gmt|bst)?$|^(mon|tue|wed|thu|fri"
        r"|sat|sun)\w*,? \d|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*\.? \d{1,2},? \d{4}"
        r"|\bwrite to\b|@\w+\.(com|co\.uk))",
    ),
    "app_promo": re.compile(r"(get the .* app|download (the|our) .*app|push notifications"
                            r"|click here|tap here|we pay for)"),
    "comment_prompt": re.compile(r"(comments?\b|let us know|tell us|sound off|join the conversation"
                                 r"|add your|what do you think)"),
    "url": re.compile(r"(https?://|www\.|\.com\b|\.co\.uk\b)"),
    "email": re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.]+\b"),
}

CASED_PATTERNS: dict[str, re.Pattern[str]] = {
    "any_bracket_tail": re.compile(r"\[[A-Z][A-Za-z ]{1,20}\]\s*$"),
    "handle": re.compile(r"(^|\s)@\w{2,}"),
    "byline": re.compile(r"^(By|BY)\s+[A-Z]"),
}
