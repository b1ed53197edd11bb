"""A PDF page's characters and ruling lines read by PDFium, shaped as pdfplumber's objects.

pdfplumber reads a page through pdfminer.six, which interprets the content stream in Python and
builds one object per character: most of a page's reading time. PDFium (pypdfium2, which
pdfplumber itself installs) reads the same characters in C, several times as fast even with a
Python dictionary built per character here.
This module gives a pdfplumber page PDFium's characters, lines, rectangles and curves, in the
dictionaries pdfplumber would have made, so everything after (lines, words, tables, crops) is
pdfplumber's own code on the same geometry:
- a character's box is pdfminer's: from its font's descent to one font size above it, from its
  origin across its advance width (PDFium's loose box is the glyph's outline for some fonts, an
  italic "f" reaching into the space after it, so the width comes from the font; see
  `_advances`); its size is the font size times the text matrix's vertical scale;
- a ligature glyph that PDFium reports as several characters at one place ("t", "i") is one
  character again ("ti"), as pdfminer gives it; PDFium's line-end hyphen marker is a hyphen;
- a space PDFium puts at a word break (it reports some drawn spaces so) sits on the line of the
  character before it;
- a path is split where it moves, and each part becomes a line (two points), a rectangle (four
  axis-aligned corners) or a curve, as pdfminer makes them; points pass through the path's matrix
  and those of the forms holding it.
`tests/integration/test_pdf_objects.py` compares the result with pdfplumber's own reading; on the
45 real documents of ../shared/realworld (1,409 pages) the lines of all 1,409 pages and the tables
of 1,404 are the same either way (the other 5 differ by a space beside a superscript in a table
cell), and reading the pages takes 113 s instead of 304 s in one process.
"""

from __future__ import annotations

import ctypes
import math
from typing import Any

_LINE_END_HYPHEN = 0x02  # PDFium's code for a hyphen that ends a line
_SKIP = {0x0D, 0x0A, 0xFFFE}
Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def usable(pdf_page: Any) -> bool:
    """PDFium's page space is pdfplumber's turned upside down only on an unrotated page whose
    media box starts at the origin; other pages are read by pdfplumber alone."""
    if pdf_page.get_rotation() % 360:
        return False
    left, bottom, _, _ = pdf_page.get_mediabox()
    return abs(left) < 0.01 and abs(bottom) < 0.01


def page_objects(pdf_page: Any, height: float, doctop: float = 0.0) -> dict[str, list[dict[str, Any]]]:
    """pdfplumber's `page.objects` for one page: chars, lines, rects and curves."""
    objects: dict[str, list[dict[str, Any]]] = {"char": _chars(pdf_page, height, doctop)}
    for kind, obj in _paths(pdf_page, height, doctop):
        objects.setdefault(kind, []).append(obj)
    return objects


def _box(x0: float, x1: float, y0: float, y1: float, height: float, doctop: float) -> dict[str, Any]:
    top = height - y1
    return {"x0": x0, "x1": x1, "y0": y0, "y1": y1, "top": top, "bottom": height - y0,
            "doctop": doctop + top, "width": x1 - x0, "height": y1 - y0}


class _Run:
    """What every character of one text object shares: font, size, matrix, and the font's widths."""

    def __init__(self, pdfium: Any, textpage: Any, index: int, obj: Any, name: Any) -> None:
        matrix = pdfium.FS_MATRIX()
        pdfium.FPDFText_GetMatrix(textpage, index, matrix)
        self.points = pdfium.FPDFText_GetFontSize(textpage, index)
        self.size = self.points * math.hypot(matrix.c, matrix.d)
        self.across = math.hypot(matrix.a, matrix.b)
        self.upright = matrix.a * matrix.d > 0 and matrix.b * matrix.c <= 0  # pdfminer's rule
        self.font = pdfium.FPDFTextObj_GetFont(obj)
        ok = self.font and pdfium.FPDFFont_GetBaseFontName(self.font, name, len(name))
        self.fontname = name.value.decode("utf-8", "replace") if ok else ""
        self.widths: dict[int, float | None] = {}
        self._pdfium, self._advance = pdfium, ctypes.c_float()

    def width(self, code: int) -> float | None:
        """The advance width of `code` in the font (None when the font cannot say)."""
        if code not in self.widths:
            ok = self.font and self._pdfium.FPDFFont_GetGlyphWidth(self.font, code, self.points, self._advance)
            self.widths[code] = self._advance.value * self.across if ok and self._advance.value > 0 else None
        return self.widths[code]


def _codes(pdfium: Any, textpage: Any, count: int) -> list[int]:
    """Every character's code in one call, or one call each where UTF-16 pairs would misalign."""
    buffer = (ctypes.c_ushort * (count + 1))()
    pdfium.FPDFText_GetText(textpage, 0, count, buffer)
    codes = list(buffer)[:count]
    if any(0xD800 <= c <= 0xDFFF for c in codes):
        return [pdfium.FPDFText_GetUnicode(textpage, i) for i in range(count)]
    return codes


def _chars(pdf_page: Any, height: float, doctop: float) -> list[dict[str, Any]]:
    import pypdfium2.raw as pdfium

    textpage = pdf_page.get_textpage()
    rect, origin_x, origin_y = pdfium.FS_RECTF(), ctypes.c_double(), ctypes.c_double()
    runs: dict[bytes, _Run] = {}  # text object → what its characters share
    name = ctypes.create_string_buffer(512)
    chars: list[dict[str, Any]] = []
    last: tuple[float, float, float] | None = None
    try:
        for i, code in enumerate(_codes(pdfium, textpage, pdfium.FPDFText_CountChars(textpage))):
            if code == 0xFFFE:  # the bulk text's mark for PDFium's line-end hyphen (0x02)
                code = pdfium.FPDFText_GetUnicode(textpage, i)
            if code in _SKIP:
                continue
            if code == 0x20 and pdfium.FPDFText_IsGenerated(textpage, i):
                if chars and chars[-1]["text"] != " ":  # a word break: a space on the line of
                    chars.append({**chars[-1], "text": " ", "x0": chars[-1]["x1"]})  # the char before
                    last = None
                continue
            text = "-" if code == _LINE_END_HYPHEN else chr(code)
            pdfium.FPDFText_GetLooseCharBox(textpage, i, rect)
            where = (rect.left, rect.right, rect.bottom)
            if chars and where == last:  # one ligature glyph, reported letter by letter: as wide
                chars[-1]["text"] += text  # as the glyph, not its first letter
                chars[-1]["x1"] = max(chars[-1]["x1"], rect.right)
                chars[-1]["width"] = chars[-1]["x1"] - chars[-1]["x0"]
                chars[-1].pop("_advance", None)  # the first letter's width is not the glyph's
                continue
            last = where
            obj = pdfium.FPDFText_GetTextObject(textpage, i)
            key = bytes(obj)  # the object's address
            run = runs.get(key)
            if run is None:
                run = runs[key] = _Run(pdfium, textpage, i, obj, name)
            # pdfminer's box runs from the origin across the advance width in the font's /Widths,
            # as PDFium's loose box mostly does; where the two widths differ, see `_advances`
            # (for some fonts the loose box is the glyph's outline: a "j" reaching back left)
            pdfium.FPDFText_GetCharOrigin(textpage, i, origin_x, origin_y)
            left, right, y0 = origin_x.value, rect.right, rect.bottom
            top = height - y0 - run.size
            char = {"x0": left, "x1": right, "y0": y0, "y1": y0 + run.size, "top": top, "bottom": height - y0,
                    "doctop": doctop + top, "width": right - left, "height": run.size, "text": text,
                    "size": run.size, "fontname": run.fontname, "object_type": "char", "upright": run.upright}
            advance = run.width(code)
            if advance is not None and abs(left + advance - right) > 0.01:
                char["_advance"] = left + advance
            chars.append(char)
    finally:
        textpage.close()
    return _advances(chars)


def _advances(chars: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Where PDFium's box and the font's width for the character disagree: an italic "f" whose
    box reaches into the space after it (the font's width is right), or a ligature whose
    character is its first letter only ("fi" read as "f": the box is right, and the next letter
    starts where it ends). The box stands when the next character starts at its end."""
    for k, char in enumerate(chars):
        wide = char.pop("_advance", None)
        if wide is None:
            continue
        after = next((c for c in chars[k + 1:k + 3] if c["text"] != " "), None)
        if after and abs(after["bottom"] - char["bottom"]) < 0.5 and abs(after["x0"] - char["x1"]) < 0.3:
            continue
        char["x1"], char["width"] = wide, wide - char["x0"]
        if k + 1 < len(chars) and chars[k + 1]["text"] == " " and chars[k + 1]["x0"] > wide:
            chars[k + 1]["x0"] = wide  # the word break after it
    return chars


def _compose(inner: Matrix, outer: Matrix) -> Matrix:
    a, b, c, d, e, f = inner
    A, B, C, D, E, F = outer
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


def _matrix(obj: Any) -> Matrix:
    import pypdfium2.raw as pdfium

    m = pdfium.FS_MATRIX()
    if not pdfium.FPDFPageObj_GetMatrix(obj, m):
        return IDENTITY
    return (m.a, m.b, m.c, m.d, m.e, m.f)


def _walk(pdfium: Any, count: int, get: Any, outer: Matrix, depth: int = 0) -> Any:
    """Every path object with the matrix from its space to the page's."""
    for k in range(count):
        obj = get(k)
        kind = pdfium.FPDFPageObj_GetType(obj)
        if kind == pdfium.FPDF_PAGEOBJ_PATH:
            yield obj, _compose(_matrix(obj), outer)
        elif kind == pdfium.FPDF_PAGEOBJ_FORM and depth < 12:
            inner = _compose(_matrix(obj), outer)
            yield from _walk(pdfium, pdfium.FPDFFormObj_CountObjects(obj),
                             lambda j, o=obj: pdfium.FPDFFormObj_GetObject(o, j), inner, depth + 1)


def _subpaths(pdfium: Any, path: Any, m: Matrix) -> list[tuple[str, list[tuple[float, float]]]]:
    """A path's parts: the operators ('m', 'l', 'c', 'h' as pdfminer names them) and points."""
    x, y = ctypes.c_float(), ctypes.c_float()
    parts: list[tuple[str, list[tuple[float, float]]]] = []
    for s in range(pdfium.FPDFPath_CountSegments(path)):
        seg = pdfium.FPDFPath_GetPathSegment(path, s)
        pdfium.FPDFPathSegment_GetPoint(seg, x, y)
        point = (m[0] * x.value + m[2] * y.value + m[4], m[1] * x.value + m[3] * y.value + m[5])
        kind = pdfium.FPDFPathSegment_GetType(seg)
        if kind == pdfium.FPDF_SEGMENT_MOVETO or not parts:
            parts.append(("m", [point]))
        else:
            ops, pts = parts[-1]
            parts[-1] = (ops + ("c" if kind == pdfium.FPDF_SEGMENT_BEZIERTO else "l"), pts + [point])
        if pdfium.FPDFPathSegment_GetClose(seg):
            ops, pts = parts[-1]
            parts[-1] = (ops + "h", pts)
    # PDFium gives a Bezier curve as three BEZIERTO points; pdfminer's shape has one 'c' for them
    return [(ops.replace("ccc", "c"), pts) for ops, pts in parts]


def _same(a: float, b: float, c: float, d: float) -> bool:
    """a == b and c == d, but for the rounding of a matrix product."""
    return abs(a - b) < 1e-3 and abs(c - d) < 1e-3


def _shape(ops: str, pts: list[tuple[float, float]]) -> str:
    """pdfminer's reading of one subpath: 'line', 'rect' or 'curve'."""
    if ops in ("ml", "mlh"):
        return "line"
    if ops in ("mlllh", "mllll", "mllllh") and len(pts) >= 4:
        if ops.startswith("mllll") and (len(pts) < 5 or not _same(pts[0][0], pts[4][0], pts[0][1], pts[4][1])):
            return "curve"
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = pts[:4]
        if (_same(x0, x1, y1, y2) and _same(x2, x3, y3, y0)) or (_same(y0, y1, x1, x2) and _same(y2, y3, x3, x0)):
            return "rect"
    return "curve"


def _paths(pdf_page: Any, height: float, doctop: float) -> Any:
    import pypdfium2.raw as pdfium

    raw = pdf_page.raw
    for path, m in _walk(pdfium, pdfium.FPDFPage_CountObjects(raw), lambda k: pdfium.FPDFPage_GetObject(raw, k),
                         IDENTITY):
        for ops, pts in _subpaths(pdfium, path, m):
            if len(pts) < 2:
                continue
            kind = _shape(ops, pts)
            xs, ys = [p[0] for p in pts], [p[1] for p in pts]
            obj = _box(min(xs), max(xs), min(ys), max(ys), height, doctop)
            obj.update(object_type=kind, pts=[(px, height - py) for px, py in pts])
            yield kind, obj
