"""The fingerprint of a calculator as built: a digest of every formula and protected cell.

When :func:`cvp_xl.workbooks.calculator.builder.build` writes a calculator it
records, for every cell of every sheet, what the template put there:

- ``f``: a formula (the digest of its normalised text, see :func:`normalise_formula`);
- ``v``: a protected (locked) constant: a label, the horizon, an allowed range ...
  (the digest of its value);
- ``i``: an input cell (unlocked): its content is the customer's, not the template's;

each with the digest of its number format (a number format can make a cell
show any text).  The record goes into a hidden, protected sheet
(:data:`DIGEST_SHEET`), together with what the build needs to be repeated
(the customer, the time, each input's base/low/high as built, the inputs
carried over by an upgrade); a digest of that record goes into a custom
document property (:data:`DIGEST_PROPERTY`), so an edit of the record itself
shows too.  ``cvp-xl check`` compares a file with the record, or with the
template rebuilt from the spec when the spec is at hand.

Formulas are compared after normalisation, so that a file saved by Excel or
LibreOffice (which rewrite formulas slightly) still matches: tokens from
openpyxl's tokenizer, whitespace dropped, function names and references in
upper case without ``_xlfn.``/``_xlws.`` prefixes, sheet names unquoted,
numbers in one notation.  Numbers are compared to 15 significant digits
(LibreOffice keeps no more), number formats in upper case without ``\\``
escapes and quotes (LibreOffice writes ``[Red]-#,##0`` as ``[RED]\\-#,##0`` and
``0.0"x"`` as ``0.0\\x``).

The record is a fingerprint, not a signature: whoever edits a formula and
also recomputes the record and its property goes unseen without the spec;
with the spec, the rebuilt template decides.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from openpyxl.formula.tokenizer import Token, Tokenizer
from openpyxl.worksheet.formula import ArrayFormula

from cvp_xl.xlsx.write import set_text

__all__ = ["DIGEST_SHEET", "DIGEST_PROPERTY", "Entry", "SheetPrint", "Fingerprint",
           "fingerprint", "normalise_formula", "write_record", "read_record", "record_digest",
           "cell_entry", "content_entry", "formula_text", "cells", "normalised",
           "record_cells", "constant_entry", "formula_entry"]

#: The hidden sheet that holds the record.
DIGEST_SHEET = "Template digests"
#: The custom document property that holds the digest of the record.
DIGEST_PROPERTY = "cvp-xl-template-digest"
RECORD_VERSION = "cvp-xl-digests/1"
_CHUNK = 30_000  # characters per cell (Excel's limit is 32,767)
_PREFIXES = ("_XLFN.", "_XLWS.")


@dataclass(frozen=True)
class Entry:
    """What the template put in one cell: kind ``f``, ``v`` or ``i``, and two digests."""

    kind: str
    digest: str = ""
    fmt: str = ""

    def text(self, ref: str) -> str:
        return f"{ref}={self.kind}{self.digest}{self.fmt}"


@dataclass
class SheetPrint:
    """One sheet of the record: protected or not, and an entry per cell (``"B7"`` keys)."""

    protected: bool
    cells: dict[str, Entry] = field(default_factory=dict)


@dataclass
class Fingerprint:
    """Every sheet's print, in workbook order, and the parameters of the build."""

    sheets: dict[str, SheetPrint]
    build: dict = field(default_factory=dict)

    def canonical(self, known: Mapping[str, list[str]] | None = None) -> str:
        """One text that changes when anything in the record changes.

        ``known`` holds, for some sheets, the sorted texts of their entries (a writer that
        patches a template keeps those of the sheets it does not change)."""
        known = known or {}
        body = {"version": RECORD_VERSION, "build": self.build,
                "sheets": [[name, sp.protected, known[name] if name in known else
                            sorted(e.text(r) for r, e in sp.cells.items())]
                           for name, sp in self.sheets.items()]}
        return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                          default=str)


def _hash(text: str, n: int) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:n]


def _sheet_name(text: str) -> str:
    if len(text) > 1 and text[0] == text[-1] == "'":
        text = text[1:-1].replace("''", "'")
    return text.upper()


_PART = re.compile(r"^(\$?[A-Z]{1,3})?(\$?)(\d+)?$")


def _reference(value: str, sheet_of: str, rows: dict | None) -> str:
    """A reference in upper case, its sheet unquoted; rows moved by ``rows`` (see below)."""
    sheet, _, rest = value.rpartition("!")
    sheet = _sheet_name(sheet) if sheet else ""
    rest = rest.upper()
    moves = rows.get(sheet or sheet_of) if rows else None
    if moves:
        parts = []
        for part in rest.split(":"):
            m = _PART.match(part)
            if m and m.group(3) is not None:
                row = int(m.group(3))
                part = f"{m.group(1) or ''}{m.group(2)}{moves.get(row, row)}"
            parts.append(part)
        rest = ":".join(parts)
    return f"{sheet}!{rest}" if sheet else rest


@functools.lru_cache(maxsize=16384)
def normalised(formula: str) -> str:
    """:func:`normalise_formula` of a formula on its own (no rows moved), kept: the same
    formulas come back in every calculator of a spec."""
    return normalise_formula(formula)


def normalise_formula(formula: str, sheet: str = "", rows: dict | None = None) -> str:
    """A formula's text as compared: the same for the rewrites of Excel and LibreOffice.

    ``rows`` maps an upper-case sheet name to ``{row in this file: row in the template}``:
    references into sheets where rows were added or deleted are moved back first, so
    that the formulas that Excel rewrote around an added row still match (``sheet``
    is the formula's own sheet, for references without one).

    >>> normalise_formula("=if(a1 > 0, _xlfn.STDEV.S('Inputs'!$D$5:$D$7), 1.50E+1)")
    'IF(|A1|>|0.0|,|STDEV.S(|INPUTS!$D$5:$D$7|)|,|15.0|)'
    """
    try:
        tokens = Tokenizer(formula).items
    except Exception:  # noqa: BLE001 - not a formula openpyxl can read: compare its text
        return " ".join(formula.split()).upper()
    out = []
    for t in tokens:
        if t.type == Token.WSPACE:
            continue
        value = t.value
        if t.type == Token.FUNC and t.subtype == Token.OPEN:
            value = value.upper()
            for prefix in _PREFIXES:
                if value.startswith(prefix):
                    value = value[len(prefix):]
        elif t.type == Token.OPERAND and t.subtype == Token.RANGE:
            value = _reference(value, sheet.upper(), rows)
        elif t.type == Token.OPERAND and t.subtype == Token.NUMBER:
            try:
                value = repr(float(value))
            except ValueError:
                pass
        elif t.type == Token.OPERAND and t.subtype in (Token.LOGICAL, Token.ERROR):
            value = value.upper()
        out.append(value)
    return "|".join(out)


def _constant(value) -> str:
    if isinstance(value, bool):
        return f"b:{value}"
    if isinstance(value, (int, float)):
        return f"n:{float(value):.15g}"
    if hasattr(value, "isoformat"):
        return f"d:{value.isoformat()}"
    return f"s:{value}"


@functools.lru_cache(maxsize=16384)
def _format_digest(number_format: str) -> str:
    # LibreOffice writes a quoted literal as escapes: 0.0"x" comes back as 0.0\x
    return _hash(number_format.replace("\\", "").replace('"', "").upper(), 6)


# The labels and formulas of a few specs' calculators (a few thousand): a batch worker keeps
# them from one file to the next, while each customer's own texts pass through (a larger
# cache would grow with the number of customers a worker writes).
@functools.lru_cache(maxsize=8192)
def _content_digest(kind: str, text: str) -> str:
    return _hash(f"{kind}:{text}", 12)


def formula_text(cell) -> str | None:
    """A formula cell's text (``=...``), or None."""
    value = cell.value
    if isinstance(value, ArrayFormula):
        return value.text
    if cell.data_type == "f" and isinstance(value, str):
        return value
    return None


def content_entry(cell, rows: dict | None = None) -> Entry | None:
    """What a cell holds, locked or not: a formula ``f``, a constant ``v``, or None (empty).

    ``rows`` as in :func:`normalise_formula` (for the cells of a file being checked).
    """
    formula = formula_text(cell)
    if formula is not None:
        text = (normalise_formula(formula, cell.parent.title, rows) if rows
                else normalised(formula))
        return Entry("f", _content_digest("f", text), _format_digest(cell.number_format))
    value = cell.value
    if value is None or value == "":
        return None
    return Entry("v", _content_digest("v", _constant(value)), _format_digest(cell.number_format))


def cell_entry(cell) -> Entry | None:
    """What the template put in a cell: ``i`` when unlocked, else :func:`content_entry`."""
    if not cell.protection.locked:
        return Entry("i")
    return content_entry(cell)


def cells(ws):
    """The cells a sheet holds, without creating any (openpyxl keeps them in ``_cells``)."""
    return ws._cells.values()  # noqa: SLF001 - iter_rows would create every empty cell


_INPUT = Entry("i")


@functools.lru_cache(maxsize=8192)
def _entry(kind: str, text: str, number_format: str) -> Entry:
    """:func:`content_entry` of a formula (``f``, its text) or a constant (``v``, its
    :func:`_constant` text) with a number format: the same few thousand come back in every
    calculator of a spec."""
    return Entry(kind, _content_digest(kind, normalised(text) if kind == "f" else text),
                 _format_digest(number_format))


def constant_entry(value, number_format: str) -> Entry | None:
    """The entry of a locked cell holding ``value`` (not a formula), as :func:`fingerprint`
    records it; None for an empty cell."""
    if value is None or value == "":
        return None
    return _entry("v", _constant(value), number_format)


def formula_entry(formula: str, number_format: str) -> Entry:
    """The entry of a locked formula cell, as :func:`fingerprint` records it."""
    return _entry("f", formula, number_format)


def fingerprint(wb, build: dict | None = None) -> Fingerprint:
    """The print of every sheet of ``wb`` but the record's own sheet.

    Each cell's entry is :func:`cell_entry`'s (a test compares the two on every example
    calculator); whether a cell is locked is looked up once per protection style.
    """
    sheets = {}
    for ws in wb.worksheets:
        if ws.title == DIGEST_SHEET:
            continue
        entries = {}
        locked_by_style: dict[int, bool] = {}
        for cell in cells(ws):
            array = cell._style  # noqa: SLF001 - what cell.protection reads (None: the default)
            style = array.protectionId if array is not None else 0
            locked = locked_by_style.get(style)
            if locked is None:
                locked = locked_by_style[style] = bool(cell.protection.locked)
            if not locked:
                entries[cell.coordinate] = _INPUT
                continue
            formula = formula_text(cell)
            if formula is not None:
                entries[cell.coordinate] = _entry("f", formula, cell.number_format)
                continue
            value = cell.value
            if value is None or value == "":
                continue
            entries[cell.coordinate] = _entry("v", _constant(value), cell.number_format)
        sheets[ws.title] = SheetPrint(bool(ws.protection.sheet), entries)
    return Fingerprint(sheets, dict(build or {}))


def record_digest(fp: Fingerprint, known: Mapping[str, list[str]] | None = None) -> str:
    """The digest kept in the document property: sha256 of the record's canonical text
    (``known`` as in :meth:`Fingerprint.canonical`)."""
    return hashlib.sha256(fp.canonical(known).encode("utf-8")).hexdigest()


def _chunks(text: str) -> list[str]:
    return [text[k:k + _CHUNK] for k in range(0, len(text), _CHUNK)] or [""]


def record_cells(fp: Fingerprint, known: Mapping[str, str] | None = None
                 ) -> list[tuple[int, int, str]]:
    """The texts of the record sheet, ``(row, column, text)`` in the order they are written
    (:func:`write_record`; a writer that patches a template writes the same).  ``known``
    holds, for some sheets, the text of their entries as written (see :func:`entries_text`).
    """
    known = known or {}
    out = [(1, 1, "Digests of every formula and protected cell of this calculator as it "
                  "was built. `cvp-xl check` compares the file with them. Do not edit."),
           (2, 1, RECORD_VERSION)]
    for c, title in enumerate(("Sheet", "Protected", "Cells"), start=1):
        out.append((3, c, title))
    r = 4
    for name, sp in fp.sheets.items():
        out.append((r, 1, name))
        out.append((r, 2, "yes" if sp.protected else "no"))
        text = known[name] if name in known else entries_text(sp)
        for k, chunk in enumerate(_chunks(text), start=3):
            out.append((r, k, chunk))
        r += 1
    out.append((r + 1, 1, "Build"))
    payload = json.dumps(fp.build, sort_keys=True, ensure_ascii=False, default=str)
    for k, chunk in enumerate(_chunks(payload), start=2):
        out.append((r + 1, k, chunk))
    return out


def entries_text(sp: SheetPrint) -> str:
    """A sheet's entries as the record sheet writes them."""
    return " ".join(e.text(ref) for ref, e in sp.cells.items())


def write_record(wb, fp: Fingerprint) -> str:
    """Add the hidden, protected record sheet to ``wb``; return the digest for the property."""
    ws = wb.create_sheet(DIGEST_SHEET)
    for r, c, text in record_cells(fp):
        set_text(ws.cell(r, c), text)
    ws.sheet_state = "veryHidden"
    ws.protection.sheet = True
    return record_digest(fp)


def _joined(ws, r: int, first: int) -> str:
    parts, c = [], first
    while isinstance(ws.cell(r, c).value, str):
        parts.append(ws.cell(r, c).value)
        c += 1
    return "".join(parts)


_ENTRY = re.compile(r"^([A-Z]{1,3}\d+)=([fvi])([0-9a-f]{12})?([0-9a-f]{6})?$")


def read_record(wb) -> Fingerprint | None:
    """The record a calculator carries, or None when it has none (or it cannot be read)."""
    if DIGEST_SHEET not in wb.sheetnames:
        return None
    ws = wb[DIGEST_SHEET]
    if ws["A2"].value != RECORD_VERSION:
        return None
    sheets: dict[str, SheetPrint] = {}
    r = 4
    while isinstance(ws.cell(r, 1).value, str):
        entries = {}
        for item in _joined(ws, r, 3).split():
            m = _ENTRY.match(item)
            if m is None:
                return None
            entries[m.group(1)] = Entry(m.group(2), m.group(3) or "", m.group(4) or "")
        sheets[ws.cell(r, 1).value] = SheetPrint(ws.cell(r, 2).value == "yes", entries)
        r += 1
    if ws.cell(r + 1, 1).value != "Build":
        return None
    try:
        build = json.loads(_joined(ws, r + 1, 2))
    except ValueError:
        return None
    return Fingerprint(sheets, build if isinstance(build, dict) else {})
