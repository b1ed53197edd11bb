"""Metadata printed in the document itself: title, publisher, code, dates and address.

Real files rarely carry useful embedded metadata (empty /Title, "Atrial_fibrillation", an author's
name), but they print it: "Published: 28 August 2019 Last updated: 21 November 2023",
"www.nice.org.uk/guidance/ng136", "© NICE 2025", a version box with "Review date: June 2026".
Publishers are matched against the guideline bodies in `pipelines/data/publishers.yaml` and NHS
organisation names ("NHS Cambridgeshire and Peterborough Integrated Care Board").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

PUBLISHERS_FILE = Path(__file__).resolve().parent.parent / "data" / "publishers.yaml"
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*"
_DATE = rf"(?:\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}\s+\d{{4}}|{_MONTH}\s+\d{{4}}|\d{{1,2}}/\d{{1,2}}/\d{{2,4}}|\d{{4}}-\d{{2}}-\d{{2}})"
_LABELLED = {  # for each field, labels in order of preference (a version box's dates come first)
    "published": [r"(?:date ratified|ratified(?: on)?)", r"(?:date approved|approved(?: on)?)",
                  r"(?:date of issue|issued|issue date)", r"(?:date published|first published|published)"],
    "last_updated": [r"(?:last updated|updated|last reviewed|revised|last modified|page last reviewed)"],
    "review_date": [r"(?:next review(?: date)?|review date|date of (?:next )?review|review due|due for review"
                    r"|expiry date|valid until)"],
}
_CODE = re.compile(r"\b(?:NICE\s+(?:guideline\s+)?)?((?:NG|CG|QS|PH|TA|MPG|SC|NM)\s?\d{1,3})\b|\bSIGN\s?(\d{2,3})\b")
_URL = re.compile(r"((?:https?://|\bwww\.)[a-z0-9.-]+\.(?:uk|org|com|scot|net)(?:/[\w./#%-]*)?)", re.I)
_NHS_ORG = re.compile(r"\bNHS(?: [A-Z][\w&'-]*| and| of| &)+ \(?(?:Integrated Care Board|ICB|Foundation Trust|Trust"
                      r"|Health Board|Clinical Commissioning Group|CCG)\b\)?")
_FILENAMEISH = re.compile(r"^\d+\s+[a-z]{1,3}\d+$|^untitled|^microsoft word|\.(pdf|docx?|html?|md|txt)$|_[A-Za-z]+_",
                          re.I)


@dataclass(frozen=True)
class PrintedMeta:
    """What the front of a document says about itself; empty strings when not found."""

    title: str = ""
    publisher: str = ""
    code: str = ""
    published: str = ""
    last_updated: str = ""
    review_date: str = ""
    url: str = ""


@lru_cache(maxsize=1)
def _bodies() -> tuple[tuple[str, tuple[str, ...]], ...]:
    rows = yaml.safe_load(PUBLISHERS_FILE.read_text("utf-8")) or []
    return tuple((r["body"], tuple(r["names"])) for r in rows)


@lru_cache(maxsize=1)
def _sites() -> tuple[tuple[str, str], ...]:
    rows = yaml.safe_load(PUBLISHERS_FILE.read_text("utf-8")) or []
    return tuple((site.lower(), max(r["names"], key=len) if r["body"] in ("NICE", "SIGN", "BTS") else r["body"])
                 for r in rows for site in r.get("sites", []))


def publisher_of_site(url: str) -> str:
    """The body whose own pages the address is on ("www.nice.org.uk/guidance/cg184" → NICE)."""
    where = re.sub(r"^https?://(www\.)?", "", url.lower())
    return next((body for site, body in _sites() if where.startswith(site) or f".{site}" in where), "")


_LABELLED_ORG = re.compile(r"\b((?i:published|produced|issued|ratified|approved|authored|written|prepared))"
                           r" (?i:by)\s*[:\-–]?\s*([A-Z][\w&'’().,-]*(?:[ \t]+(?:[A-Z&(][\w&'’().,-]*|and|of|for|the)){0,12})")
_LABEL_ORDER = ("published", "produced", "issued", "ratified", "approved", "prepared", "authored", "written")


def _body_named(candidate: str) -> str:
    """The guideline body (publishers.yaml) a text names, in its full form for NICE/SIGN/BTS."""
    for body, names in _bodies():
        if any(re.search(rf"(?<![\w-]){re.escape(n)}(?![A-Za-z-])", candidate, re.I if len(n) >= 6 else 0)
               for n in names):
            return max(names, key=len) if body in ("NICE", "SIGN", "BTS") else body
    return ""


def _labelled_org(text: str) -> str:
    """The organisation after "Published by", "Ratified by", "Approved by" ..., most formal first."""
    found = {m.group(1).lower(): m.group(2).strip(" .,;") for m in _LABELLED_ORG.finditer(text)}
    label = next((lb for lb in _LABEL_ORDER if lb in found and len(found[lb]) > 3), None)
    return found[label] if label else ""


def find_publisher(text: str, author: str = "") -> str:
    """The organisation that published the document: a copyright line; an NHS organisation or a
    guideline body named where the title is; a "Published/Ratified/Approved by" line; /Author.
    A body merely mentioned further into the text (a trust document citing NICE) is not it."""
    head, title_area = text[:8000], text[:600]
    copyright_line = re.search(r"(?:©|\(c\)|copyright)\s*(?:\d{4}\s+)?([A-Z][\w&' -]{1,60})", head, re.I)
    org = _NHS_ORG.search(title_area)
    for candidate in (
        _body_named(copyright_line.group(1)) if copyright_line else "",
        org.group(0) if org else "",
        _labelled_org(text),
        _body_named(title_area),
        _body_named(author) if author else "",
    ):
        if candidate:
            return candidate
    org = _NHS_ORG.search(head)
    if org:
        return org.group(0)
    if re.search(r"\bnhs\.uk/conditions\b", text, re.I):
        return "NHS website (nhs.uk)"
    return publisher_of_site(find_url(text))


def _copyright_year(text: str) -> str:
    match = re.search(r"(?:©|copyright)\s*(?:©\s*)?((?:19|20)\d{2})\b", text[:8000], re.I)
    return f"January {match.group(1)}" if match else ""


def find_date(text: str, field: str) -> str:
    """A date printed after its label ("Last updated: 21 November 2023"), as printed."""
    for label in _LABELLED[field]:
        match = re.search(rf"\b{label}\s*(?:on|:|-|–)?\s*({_DATE})", text[:16000], re.I)
        if match:
            return match.group(1).strip()
    return ""


_URL_CODE = re.compile(r"guidance/((?:ng|cg|qs|ph|ta)\d{1,3})\b", re.I)


def find_code(text: str, title: str = "") -> str:
    in_url = _URL_CODE.search(text[:6000])
    if in_url:
        return in_url.group(1).upper()
    for source in (title, text[:4000]):
        match = _CODE.search(source or "")
        if match:
            return re.sub(r"\s+", "", match.group(1)).upper() if match.group(1) else f"SIGN {match.group(2)}"
    return ""


def find_url(text: str) -> str:
    """The document's own address: after "Source:" when labelled, else the first printed."""
    labelled = re.search(r"\bsource\s*:\s*" + _URL.pattern, text, re.I)
    if labelled:
        return labelled.group(1).rstrip(".")
    match = _URL.search(text[:6000])
    return match.group(1).rstrip(".") if match else ""


def meaningful_title(candidate: str, file_stem: str) -> bool:
    """A title a clinician would recognise: not a file name ("Atrial_fibrillation",
    "06 cg184", "SIGN999_draft.docx"), not a bare code, not a word processor's placeholder."""
    value = candidate.strip()
    if len(value) < 4 or not re.search(r"[A-Za-z]{3}", value) or _CODE.fullmatch(value):
        return False
    return not (_FILENAMEISH.search(value) or re.search(r"[A-Za-z0-9]_[A-Za-z0-9]", value))


def clean_title(value: str) -> str:
    value = re.sub(r"\s+", " ", value.replace("_", " ")).strip(" -–:|#*")
    return value[0].upper() + value[1:] if value else value


def read_printed(front_text: str, *, title_candidates: list[str], author: str, file_stem: str) -> PrintedMeta:
    """Metadata from the first pages' text and the title candidates, best first."""
    front_text = re.sub(r"[\u2010-\u2015\u2212]", "-", front_text).replace("**", "").replace("__", "")
    title = next((clean_title(t) for t in title_candidates if meaningful_title(t, file_stem)), "")
    return PrintedMeta(
        title=title,
        publisher=find_publisher(front_text, author),
        code=find_code(front_text, title),
        published=find_date(front_text, "published") or _copyright_year(front_text),
        last_updated=find_date(front_text, "last_updated"),
        review_date=find_date(front_text, "review_date"),
        url=find_url(front_text),
    )


_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}


def iso_date(printed: str) -> str:
    """"21 November 2023" → "2023-11-21", "June 2026" → "2026-06-01", "05/06/2024" → "2024-06-05"
    (UK order); "" when it cannot be read."""
    value = printed.strip().lower()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return value
    match = re.fullmatch(r"(?:(\d{1,2})(?:st|nd|rd|th)?\s+)?([a-z]{3})[a-z]*\s+(\d{4})", value)
    if match and match.group(2) in _MONTHS:
        day = int(match.group(1) or 1)
        return f"{match.group(3)}-{_MONTHS[match.group(2)]:02d}-{min(day, 28 if _MONTHS[match.group(2)] == 2 else 30 if day > 30 else day):02d}"
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{2,4})", value)
    if match:
        year = int(match.group(3)) + (2000 if len(match.group(3)) == 2 else 0)
        return f"{year}-{int(match.group(2)):02d}-{int(match.group(1)):02d}"
    return ""


def as_fields(printed: PrintedMeta) -> dict[str, str]:
    """Printed metadata as GuidelineMeta fields (dates as ISO; last reviewed = last updated,
    else published)."""
    fields = {"title": printed.title, "publisher": printed.publisher, "code": printed.code,
              "source_url": _with_scheme(printed.url), "published": iso_date(printed.published),
              "review_date": iso_date(printed.review_date),
              "last_reviewed": max(iso_date(printed.last_updated), iso_date(printed.published))}
    return {k: v for k, v in fields.items() if v}


def _with_scheme(url: str) -> str:
    return url if not url or url.startswith("http") else f"https://{url}"
