"""Noise patterns as data. Features read them; none of them decides a label by itself."""

from __future__ import annotations

import re
from functools import cache

# Apostrophes and quotes come straight or curly from scrapers; patterns accept both.
APOS = "['’‘`]"
OPEN_QUOTES = "\"“‘'«"
CLOSE_QUOTES = "\"”’'»"

# Each rule is a named flag the featurizer sets for the block (and for its neighbours).
# The seed article (express-ricketts.txt) motivated DONT_MISS_HEADER, BRACKET_TAG,
# CONSENT_BANNER and SOURCE_FOOTER; the rest come from lines repeated across many
# articles of one domain in ../shared/corpus/text/fakenewsnet.jsonl.gz.
# RULES are written in lower case and searched in the lower-cased block: Python's re scans
# several times faster without IGNORECASE. CASED_RULES need the original capitals.
#
# A rule is a list of branches; it matches when any branch does. A branch may carry hints:
# substrings of which every match of the branch contains at least one. A block containing none
# of them skips that regex, which is what makes the flags cheap: most lines are prose and
# contain no hint, and `in` on a short string costs a fraction of a regex scan.
Branch = tuple[str, tuple[str, ...]]
DIGIT_AFTER_SPACE = tuple(" " + digit for digit in "0123456789")
MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"  # all three letters: a fixed-width lookbehind

RULES: dict[str, list[Branch]] = {
    "dont_miss_header": [(rf"^\W*don{APOS}?t miss\b\W*$", ("t miss",))],
    "promo_prefix": [(
        (r"^\W*(read more|see more|more|related|related content|related stories|related articles"
        r"|also read|read next|up next|recommended|watch|must see|you may like|trending"
        r"|popular on [\w ]+|more from [\w ]+|most read|in other news|read also|see also)\b\s*[:>|\-–—]"),
        ("more", "related", "also read", "read next", "up next", "recommended", "watch", "must see",
         "you may like", "trending", "popular on", "most read", "in other news", "read also",
         "see also"))],
    # A teaser list's heading on its own line ("Most Popular", "Related Stories", "More in
    # Arts"): promo_prefix reads such words only with a separator and the teaser after it.
    "promo_header": [(
        (rf"^\W*(most (popular|read|viewed|shared)( \w+){{0,3}}|editor{APOS}?s? picks?"
         r"|related( (posts?|stories|articles?|content|coverage|news|topics|reading|links))?"
         r"|more (stories|news|videos?|(from|in|on)( \w+){1,3})|read more|see more"
         r"|recommended( (for you|stories|reading|articles?))?|top stories"
         r"|trending( (now|stories|news))?|you (may|might) (also )?(like|enjoy)|also read"
         r"|read next|up next|popular (now|stories|articles)|latest (news|stories|videos?)"
         r"|what to read next|further reading)[^\w.!?]*$"),
        ("most ", "pick", "related", "more", "recommended", "top stories", "trending", "you may",
         "you might", "also read", "read next", "up next", "popular ", "latest ",
         "further reading"))],
    "bracket_tag": [(
        (r"\[(report|reveal|insight|video|pictures|picture|photos|analysis|reaction|latest"
        r"|poll|live|update|comment|explained|pics|map|data|interview|opinion|new)\]\s*$"), ("]",))],
    "consent_banner": [(
        (rf"we use your sign{APOS}?-?up|you{APOS}?ve consented|uses? cookies|cookie policy"
        rf"|accept(ing)? cookies|not a robot|privacy (policy|notice)|unsubscribe at any time"
        rf"|consent to|by continuing to (browse|use)"),
        ("sign", "consented", "cookie", "not a robot", "privacy", "unsubscribe at any time",
         "consent to", "by continuing to"))],
    "source_footer": [
        ((r"^(source\s*:|\(excerpt\)|excerpt\b|this (article|story|post) (originally )?(appeared|was"
          r" originally|first appeared|has been contributed)"
          r"|originally published|copyright|©|\(c\) ?\d{4}|filed under|tags?\s*:"
          r"|tagged( with)?\s*:|topics\s*:|[\[(]?h/t\b|\[(from|via)\b|\(with inputs from|via\s*:"
          r"|reporting by|additional reporting|references?\s*:"
          r"|view original content|forward-looking statements|original post\s*:"
          r"|a version of this article appears|(media|press|investor) contacts?\b)"),
         ()),
        # Notes that may follow a name or a sentence, so read anywhere in the line: "Dana
        # Whitcomb contributed to this report.", "The post … appeared first on …",
        # "All content © Harbour Media Group 2024. Reproduction without permission is prohibited."
        # (fixtures/train, grouped CV 2026-12-07: 46 of 163 hand-labeled footers were kept).
        ((r"contributed to this report|all rights reserved|appeared first on"
          r"|without (prior )?(written )?permission|for informational purposes only"),
         ("contributed to this report", "all rights reserved", "appeared first on",
          "permission", "informational purposes only")),
    ],
    "read_full": [(r"read (the )?full (article|story)|read more at", ("read ",))],
    "newsletter": [(
        (r"newsletter|sign up|signup|subscribe|subscription|inbox|by email|e-mail alerts"
        r"|invalid email|email address|signing (you )?up|signed up|welcome email|valid email"),
        ("newsletter", "sign up", "signup", "subscri", "inbox", "by email", "e-mail alerts",
         "invalid email", "email address", "signing", "signed up", "welcome email",
         "valid email"))],
    # Paywalls and registration walls ("Create an account or sign in to continue with your
    # reading experience.", "You have 2 free articles remaining this month."): LABELS.md's
    # paywall messages, which the other rules did not read.
    "paywall": [
        (r"\bsign[ -]?in\b|\blog[ -]?in\b", ("sign", "log")),
        ((r"create (?:an|a free|your) account|already (?:a|an) (?:subscriber|member)"
          r"|subscribers? only|for subscribers|unlimited (?:online |digital )?access"
          r"|continue reading|keep reading|articles? per month|free articles?"
          r"|regist(?:er|ering) (?:now|for free|to)|premium (?:content|article)"
          r"|support (?:local|independent|our|quality) journalism|access through your institution"
          r"|with one account|your reading experience"),
         ("account", "already a", "subscriber", "unlimited", "continue reading", "keep reading",
          "per month", "free article", "regist", "premium", "journalism", "institution",
          "reading experience"))],
    "social": [(
        (r"share (this|on|or comment)|click to (share|email|print)|follow (us|@|him|her|them)"
        r"|like us on|tweet\b|opens in new window|facebook|twitter|instagram|whatsapp|pinterest"
        r"|linkedin|reddit|\bshares?\b"),
        ("share", "click to", "follow ", "like us on", "tweet", "opens in new window", "facebook",
         "twitter", "instagram", "whatsapp", "pinterest", "linkedin", "reddit"))],
    "media": [
        (r"\(image:|\(photo:|\(picture:|^image:|^photo:|photograph:|credit:",
         ("image:", "photo:", "picture:", "photograph:", "credit:")),
        ((r"getty|shutterstock|splash news|backgrid|rex/|scroll down for video|video loading"
         r"|video unavailable|click to play|tap to play|watch the video|in the video|video below"
         r"|video above|gallery|slideshow|view this post|a (post|photo|video) shared by"
         r"|content is imported from|embed|pic\.twitter\.com"),
         ("getty", "shutterstock", "splash news", "backgrid", "rex/", "video", "click to play",
          "tap to play", "gallery", "slideshow", "view this post", "shared by", "imported from",
          "embed", "pic.twitter.com")),
        (r"\bafp\b|\breuters\b|\bap photo\b", ("afp", "reuters", "ap photo")),
        (r"pa(?<!\wpa)(?!\w)", ("pa",)),  # \bpa\b, literal first
        (r"\(@\w+\)\s+\w+ \d", ("(@",)),
    ],
    "ad": [
        (r"^(advertisement|sponsored|ad\b|story continues below|continue reading below)",
         ("ad", "sponsored", "continue")),
        # Ad notices and affiliate disclosures anywhere in a line: "This advertisement has not
        # loaded yet, but your article continues below.", "We may earn commission from links".
        ((r"(story|article) continues below|advertisement has not loaded|remove ads|\bad ?blocker"
          r"|advertise with us|sponsored content|paid (post|content|partnership)"
          r"|affiliate (link|commission)|may (earn|receive) (a |an )?(affiliate )?commission"),
         ("continues below", "not loaded", "remove ads", "blocker", "advertise with", "sponsored",
          "paid ", "affiliate", "commission"))],
    "meta": [
        (r"^posted (on|by|at)|^updated|^published|last modified|\bwrite to\b",
         ("posted", "updated", "published", "last modified", "write to")),
        (r"\bmin(ute)? read\b", ("min read", "minute read")),
        (r"^\d{1,2}:\d{2}\b", (":",)),
        # Written to start with a letter, not \b: a regex that opens with a literal is searched
        # for that literal first, 2x to 10x faster than trying \b at every position (same matches).
        (r"[ap](?<!\w[ap])(?:m|\.m\.)\s*(?:et|est|edt|pt|gmt|bst)?$", ("am", "pm", "a.m.", "p.m.")),
        (r"^(mon|tue|wed|thu|fri|sat|sun)\w*,? \d", DIGIT_AFTER_SPACE),
        (rf"(?:{MONTHS})(?<!\w(?:{MONTHS}))\w*\.? \d{{1,2}},? \d{{4}}",
         DIGIT_AFTER_SPACE),
        (r"@\w+\.(com|co\.uk)", ("@",)),
    ],
    "app_promo": [((r"get the .* app|download (the|our) .*app|push notifications|click here"
                   r"|tap here|we pay for"),
                   ("app", "push notifications", "click here", "tap here", "we pay for"))],
    "comment_prompt": [((r"comments?\b|let us know|tell us|sound off|join the conversation"
                        r"|add your|what do you think"),
                        ("comment", "let us know", "tell us", "sound off",
                         "join the conversation", "add your", "what do you think"))],
    "url": [(r"https?://|www\.|\.com\b|\.co\.uk\b", ("http", "www.", ".com", ".co.uk"))],
    "email": [(r"\b[\w.+-]+@[\w-]+\.[\w.]+\b", ("@",))],
}

CASED_RULES: dict[str, list[Branch]] = {
    "any_bracket_tail": [(r"\[[A-Z][A-Za-z ]{1,20}\]\s*$", ("]",))],
    "handle": [(r"(^|\s)@\w{2,}", ("@",))],
    "byline": [(r"^(By|BY)\s+[A-Z]", ("By", "BY"))],
    # Photo credits as agencies print them: "Craig Sjodin/ABC", "Jane Doe/Reuters via AP"
    # (abcnews.go.com and dailymail.co.uk in fixtures/corpus/fakenewsnet).
    "slash_credit": [(r"\b[A-Z][\w.'’-]*/[A-Z][\w&.'’-]*(?: [A-Z][\w&.'’-]*)*(?: via \w+)?\s*$",
                      ("/",))],
}


def whole_pattern(branches: list[Branch]) -> re.Pattern[str]:
    """Return one regex matching wherever any branch matches (for readers other than flags)."""
    return re.compile("|".join(f"(?:{regex})" for regex, _ in branches))


@cache
def whole_patterns(cased: bool = False) -> dict[str, re.Pattern[str]]:
    """Return each rule of RULES (or of CASED_RULES) as one regex.

    Compiled on first use, not at import: cleaning reads the rules branch by branch
    (shape.py) and never uses these, and compiling them cost 8 to 10 ms of every cold start.
    """
    return {name: whole_pattern(branches)
            for name, branches in (CASED_RULES if cased else RULES).items()}
