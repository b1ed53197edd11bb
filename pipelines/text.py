"""Tokenising, abbreviations and sentence splitting shared by sparse search, grading and composing."""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections import Counter

STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most
my myself no nor not now of off on once only or other our ours out over own same she should so some
such than that the their theirs them themselves then there these they this those through to too
under until up very was we were what when where which while who whom why will with would you your
yours yourself please tell give explain whats what's patient patients pt pts mx tx manage management
vs versus best next do dose doses should need needs much many use using used also
""".split())

# Abbreviations clinicians type, expanded into the words the guidelines use.
ABBREVIATIONS: dict[str, str] = {
    "af": "atrial fibrillation", "htn": "hypertension high blood pressure", "bp": "blood pressure",
    "t2dm": "type 2 diabetes", "dm": "diabetes", "t2d": "type 2 diabetes",
    "abx": "antibiotics", "uti": "urinary tract infection", "utis": "urinary tract infection",
    "luts": "lower urinary tract symptoms", "bph": "benign prostatic enlargement",
    "gord": "gastro-oesophageal reflux", "gerd": "gastro-oesophageal reflux", "ppi": "proton pump inhibitor",
    "ibs": "irritable bowel syndrome", "acs": "acute coronary syndrome chest pain",
    "mi": "myocardial infarction", "stemi": "st elevation myocardial infarction",
    "tia": "transient ischaemic attack", "cva": "stroke", "dvt": "deep vein thrombosis",
    "pe": "pulmonary embolism", "vte": "venous thromboembolism", "copd": "chronic obstructive pulmonary disease",
    "ckd": "chronic kidney disease", "egfr": "egfr kidney function", "acr": "albumin creatinine ratio",
    "hf": "heart failure", "ccf": "heart failure", "lvsd": "heart failure reduced ejection fraction",
    "cap": "community-acquired pneumonia", "urti": "upper respiratory tract infection",
    "gad": "generalised anxiety disorder", "oa": "osteoarthritis", "pad": "peripheral arterial disease",
    "ida": "iron deficiency anaemia", "ocp": "contraception", "ec": "emergency contraception",
    "iud": "intrauterine device", "cu-iud": "copper intrauterine device", "hrt": "hormone replacement therapy",
    "sob": "breathless", "sobOE": "breathless", "cp": "chest pain", "ha": "headache",
    "uc": "ulcerative colitis", "ldl": "ldl cholesterol", "nsaid": "nsaid anti-inflammatory",
    "nsaids": "nsaid anti-inflammatory", "ssri": "ssri antidepressant", "ssris": "ssri antidepressant",
    "cbt": "cognitive behavioural therapy", "ics": "inhaled corticosteroid", "laba": "long-acting beta agonist",
    "saba": "short-acting beta agonist salbutamol", "lama": "long-acting muscarinic antagonist",
    "doac": "anticoagulation doac", "ace": "ace inhibitor", "arb": "angiotensin receptor blocker",
    "tsh": "tsh thyroid", "bmi": "bmi obesity weight", "etoh": "alcohol", "ppm": "",
    "yo": "", "yr": "", "yrs": "", "y": "", "m": "", "f": "", "wks": "weeks", "wk": "week",
    "hx": "history", "sx": "symptoms", "rx": "treatment", "dx": "diagnosis", "ddx": "differential diagnosis",
    "fhx": "family history", "ix": "investigations", "r/o": "exclude", "2ww": "urgent suspected cancer referral",
    "aom": "acute otitis media", "vzv": "shingles herpes zoster", "hz": "herpes zoster shingles",
    "rsv": "bronchiolitis respiratory syncytial virus", "ed": "emergency department",
    "sats": "oxygen saturation spo2", "sat": "oxygen saturation spo2", "temp": "temperature", "loc": "loss of consciousness",
    "rr": "respiratory rate", "anticoag": "anticoagulation anticoagulant", "ogd": "endoscopy",
}

_TOKEN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])")


# Unicode's Latin ligatures (U+FB00-FB06: "ﬁ", "ﬂ", "ﬀ", "ﬃ", "ﬄ", "ﬅ", "ﬆ") as their letters, by
# their compatibility decomposition. Some PDFs draw "ratiﬁcation" with one glyph for "fi": as
# stored, the word matches no query and no heading rule. Full NFKC is not applied to documents:
# it would also flatten the superscripts of "5×10⁹/L" into "5×109/L".
LIGATURES = {cp: unicodedata.normalize("NFKC", chr(cp)) for cp in range(0xFB00, 0xFB07)}


def unligature(text: str) -> str:
    """The text with Latin ligature characters written as their letters."""
    return text.translate(LIGATURES)


def normalise(text: str) -> str:
    """NFKC, drop control and zero-width characters and bidi overrides, collapse spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf") or ch in "\n\t")
    return re.sub(r"[ \t]+", " ", text).strip()


def stem(word: str) -> str:
    """A deliberately light stemmer: plurals only, so doses and drug names stay intact."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    """Lower-cased word tokens, hyphenated words also split into their parts."""
    out: list[str] = []
    for tok in _TOKEN.findall(text.lower()):
        out.append(tok)
        if "-" in tok:
            parts = [p for p in tok.split("-") if p]
            out.extend(parts)
            if len(parts) == 2 and parts[1].isdigit():  # "CURB-65" is also written "CURB65"
                out.append(parts[0] + parts[1])
    return out


def terms(text: str, expand: bool = False) -> list[str]:
    """Content terms (stopwords out, light stemming), optionally with abbreviations expanded."""
    out: list[str] = []
    for tok in words(text):
        if expand and tok in ABBREVIATIONS:
            out.extend(stem(w) for w in words(ABBREVIATIONS[tok]) if w not in STOPWORDS)
            out.append(tok)
            continue
        if tok in STOPWORDS or (len(tok) == 1 and not tok.isdigit()):
            continue
        out.append(stem(tok))
    return out


def term_hash(term: str) -> int:
    return zlib.crc32(term.encode("utf-8")) & 0x7FFFFFFF


def bm25_weights(text: str, k1: float = 1.2, b: float = 0.75, avg_len: float = 120.0) -> dict[int, float]:
    """BM25's saturated term frequency per hashed term; Qdrant's IDF modifier supplies the IDF."""
    counts = Counter(terms(text))
    length = sum(counts.values()) or 1
    norm = k1 * (1 - b + b * length / avg_len)
    return {term_hash(t): tf * (k1 + 1) / (tf + norm) for t, tf in counts.items()}


_INLINE_ITEM = re.compile(r"(?<=:)\s+[-•]\s+|\s+•\s+")


def split_sentences(text: str) -> list[str]:
    """Sentences, list items and table rows of a passage, in order, each stripped."""
    out: list[str] = []
    for raw in text.split("\n"):
        stripped = raw.strip()
        if stripped.startswith("|") and stripped.endswith("|") and len(stripped) > 1:
            out.append(stripped)  # a table row is one unit: its cells belong together
            continue
        # PDF text can run a list into its lead-in: "...leg pain: - Intermittent claudication ..."
        for line in _INLINE_ITEM.split(raw):
            line = line.strip(" -•*\t")
            if line:
                out.extend(s.strip() for s in _SENTENCE_END.split(line) if s.strip())
    return out
