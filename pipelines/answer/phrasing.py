"""How a copied sentence is shown: its bold key phrase, and a table row as a readable line.

Nothing here changes the guideline's words: a key phrase is the sentence's own opening words
(a label, an instruction's verb phrase, a condition clause or a short subject), and a table row
keeps every cell, in order, with its row heading first.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

from snowballstemmer import stemmer

# A Snowball stemmer keeps the word it is working on in the instance, so one shared between
# answering threads tears ("string index out of range", wrong stems): one per thread.
_LOCAL = threading.local()


def _stemmer():
    if not hasattr(_LOCAL, "stemmer"):
        _LOCAL.stemmer = stemmer("english")
    return _LOCAL.stemmer


@lru_cache(maxsize=65536)  # called for every word of every candidate sentence
def root(term: str) -> str:
    """A word's family (Snowball's English stemmer): "treated", "treating" and "treatment"
    meet at "treat"; "vomited" and "vomiting" at "vomit". Retrieval keeps its lighter stemming."""
    stemmed = _stemmer().stemWord(term.lower())
    # Porter2 keeps "-ment" on short stems ("treatment"); the noun of a verb belongs with it.
    return stemmed[:-4] if stemmed.endswith("ment") and len(stemmed) >= 9 else stemmed


_VERBS = frozenset("""
is are was were be can may might should must will would could occur occurs cause causes has have
had need needs include includes affect affects do does often usually typically suggest suggests
reduce reduces increase increases present presents mean means require requires respond responds
""".split())
_IMPERATIVE = frozenset("""
offer give use check consider refer advise avoid measure ask assess arrange start review stop treat
prescribe seek explain repeat look examine record send do don't test take reassure discuss provide
follow tell admit manage confirm exclude think suspect recognise document agree encourage support
""".split())
_CONDITIONAL = frozenset("if when where unless after before for in during while once".split())
_DANGLING = frozenset("or and the a an of to with for in on at by as".split())
_BREAKS = frozenset("if when for with to in at unless because while after before within on by".split())
MAX_SUBJECT_WORDS = 5


def is_instruction(sentence: str) -> bool:
    """Whether a sentence tells the clinician what to do: it opens with an instruction ("Offer",
    "Do not"), or with a condition clause followed by one ("If ..., refer ...")."""
    head, sep, rest = sentence.partition(": ")
    if sep and len(head) <= 70 and rest:  # "Treating a gout flare: Offer an NSAID ..."
        sentence = rest
    tokens = sentence.lower().replace(";", ",").split()
    if not tokens:
        return False
    if tokens[0].strip(",") in _IMPERATIVE or tokens[0] in ("call", "send", "give", "don't"):
        return True
    if tokens[0] in _CONDITIONAL:
        comma = next((i for i, t in enumerate(tokens[:20]) if t.endswith(",")), None)
        return comma is not None and comma + 1 < len(tokens) and tokens[comma + 1] in _IMPERATIVE | {"call", "send"}
    return False


def key_phrase(sentence: str) -> tuple[str, str]:
    """Split a sentence into an opening key phrase to bold and the rest, changing no words.

    "Label: text" gives the label; "Nocturnal leg cramps are common" gives its subject; an
    instruction ("Check capillary blood glucose in anyone...") gives its opening verb phrase.
    A sentence with no such opening gives no key phrase ("", sentence) rather than a cut one.
    """
    head, sep, rest = sentence.partition(":")
    if sep and 3 <= len(head) <= 70 and rest.strip() and "(" not in head:
        return head.strip() + ":", rest.strip()
    tokens = sentence.split(" ")
    if len(tokens) < 4:
        return "", sentence
    first = tokens[0].lower().strip(",")
    comma = next((i for i, t in enumerate(tokens[:9]) if t.endswith(",")), None)
    if first in _CONDITIONAL and comma is not None and comma + 1 < len(tokens):
        end = comma + 1
    elif first in _IMPERATIVE or (first == "do" and len(tokens) > 1):
        end = 2 if first == "do" else 1
        while end < min(len(tokens), 6) and tokens[end].lower() not in _BREAKS and not tokens[end - 1].endswith(","):
            end += 1
    else:
        end = next((i for i, t in enumerate(tokens[:MAX_SUBJECT_WORDS + 1])
                    if i > 0 and t.lower().strip(",") in _VERBS), 0)
        if end == 0:
            return "", sentence  # no clean subject: bold nothing rather than half a phrase
    while end > 1 and tokens[end - 1].lower().strip(",") in _DANGLING:
        end -= 1
    if "(" in " ".join(tokens[:end]) and ")" not in " ".join(tokens[:end]):
        return "", sentence  # never cut inside brackets
    phrase = " ".join(tokens[:end]).rstrip(",")
    trailing = "," if tokens[end - 1].endswith(",") else ""
    return phrase + trailing, " ".join(tokens[end:])


def bullet(sentence: str, citation: int) -> str:
    phrase, rest = key_phrase(sentence)
    if not phrase:
        return f"- {sentence} [{citation}]"
    bare = phrase.rstrip(",:")
    return f"- **{bare}**{phrase[len(bare):]} {rest} [{citation}]"


# Table rows --------------------------------------------------------------------------------------
_SEPARATOR = re.compile(r"^\|(\s*:?-{3,}:?\s*\|)+\s*$")


def is_row(line: str) -> bool:
    return line.startswith("|") and line.rstrip().endswith("|")


def cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def table_rows(text: str) -> dict[str, list[str]]:
    """Each body row of the passage's Markdown tables, by its line, with the header cells."""
    lines = text.split("\n")
    out: dict[str, list[str]] = {}
    header: list[str] = []
    for i, line in enumerate(lines):
        line = line.strip()
        if not is_row(line):
            header = []
            continue
        if _SEPARATOR.match(line):
            continue
        if i + 1 < len(lines) and _SEPARATOR.match(lines[i + 1].strip()):
            header = cells(line)
            continue
        out[line] = header
    return out


def row_text(line: str, header: list[str]) -> str:
    """A table row as one line: its first cell, then each other cell under its column heading
    ("First-choice oral antibiotic — Antibiotic, dosage and course length: Phenoxymethylpenicillin:
    500 mg four times a day"). Headings the parser had to invent ("Column 5") are left out."""
    values = cells(line)
    parts = [values[0]] if values and values[0] else []
    for n, value in enumerate(values[1:], 1):
        if not value:
            continue
        name = header[n] if n < len(header) else ""
        if name and not re.fullmatch(r"column \d+", name, re.I) and len(values) > 2:
            parts.append(f"{name}: {value}")
        else:
            parts.append(value)
    return " — ".join(parts)
