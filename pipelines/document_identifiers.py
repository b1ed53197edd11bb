"""Patient identifiers in a guideline's own text (a case study pasted with its data), found
before publishing. Stricter than the question scrubber, whose rules it reuses."""

from __future__ import annotations

import re

from pipelines.safety import Scrubber

SCAN_CHARS = 200_000  # identifier scan cap: enough for any real guideline, bounded for huge files
SCAN_PIECE = 4_000


_DOCUMENT_KINDS = {"NHS number", "NI number", "email address", "phone number", "postcode", "address", "name"}
_DOB_CUE = re.compile(r"\b(?:DOB|D\.O\.B\.?|date of birth|born(?: on)?)\s*[:\-]?\s*\d{1,2}\s?[/.-]\s?\d{1,2}"
                      r"\s?[/.-]\s?\d{2,4}", re.I)
_LABELLED_NAME = re.compile(r"\b(?i:patient|name|pt)\s*:\s*[A-Z][a-z'-]+(?:\s+[A-Z][a-z'-]+)+")


def document_identifier_kinds(text: str) -> list[str]:
    """Kinds of patient identifier in a guideline's text (a case study pasted with its data).

    Stricter than the question scrubber: a guideline is full of dates, eponyms and ranges
    ("18.5-24"), so dates count only next to a date-of-birth cue and names only when labelled
    ("Patient: John Smith", "Mr Smith"); NHS numbers must pass the modulus-11 check.
    """
    found: list[str] = []
    scrubber = Scrubber(use_presidio=False)
    for start in range(0, min(len(text), SCAN_CHARS), SCAN_PIECE):
        piece = text[start:start + SCAN_PIECE]
        if _DOB_CUE.search(piece):
            found.append("date of birth")
        if _LABELLED_NAME.search(piece):
            found.append("name")
        found += [k for k in scrubber.scrub(piece).found if k in _DOCUMENT_KINDS]
    return list(dict.fromkeys(found))
