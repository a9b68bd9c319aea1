"""Native formulas: ``CVP_*`` calls rewritten as plain Excel formulas.

A workbook shared with a customer must compute in any Excel and in
LibreOffice without an add-in.  For each registry function that has a
translation, :func:`to_native` replaces every call in a formula (nested
calls too) by the equivalent native expression:

>>> to_native("=IFERROR(CVP_ROI(B1,B2),0)")
'=IFERROR(IF(COUNT(B1,B2)<2,SUM(B1,B2)+#VALUE!,(B1-B2)/B2),0)'

Each translation refuses what its function refuses, with the same error: a blank cell, text
(even ``'12'``), TRUE/FALSE, ranges that do not pair, numbers outside the function's domain
(:mod:`cvp_xl.catalog.guards`).  Excel's own arithmetic would read a blank as 0: the
unguarded ``=(B1-B2)/B2`` gives ``#DIV/0!`` for a blank cost, where ``CVP_ROI`` gives
``#VALUE!`` naming the argument.  A formula longer than Excel allows (8,192 characters, which
calls nested deeply could reach) has no translation.

Some translations depend on what the argument cells *contain*, not only on where they are:
``CVP_WORDEQ`` becomes the arithmetic its equation text says, over the value cells paired with
the names it uses.  Such a registry entry sets ``native_reads_cells``; :func:`to_native` then
needs ``cells``, a reader that returns the rows of values a reference points to
(:func:`workbook_cells` makes one from an openpyxl workbook):

>>> book = {"A1": [["Saving = (Before - After) x Price"]],
...         "B2:B4": [["Before"], ["After"], ["Price"]]}
>>> to_native("=CVP_WORDEQ(A1,B2:B4,$C$2:$C$4)", cells=lambda ref: book[ref])
'=($C$2-$C$3)*$C$4'
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from openpyxl.formula.tokenizer import Token, Tokenizer

from cvp_xl.errors import CvpNameError, CvpValueError, as_error
from cvp_xl.registry import CellReader, NoTranslation, get
from cvp_xl.xlsx import a1

__all__ = ["to_native", "cvp_calls", "workbook_cells", "NoTranslation"]


def _is_cvp_open(tok: Token) -> bool:
    if tok.type != Token.FUNC or tok.subtype != Token.OPEN:
        return False
    name = tok.value[:-1].upper()
    return name.startswith("CVP_") or name.startswith("_XLUDF.CVP_")


def _text(tokens: list[Token]) -> str:
    return "".join(t.value for t in tokens)


def _rewrite(tokens: list[Token], i: int, stop_at_close: bool,
             cells: CellReader | None = None) -> tuple[str, int]:
    """Rewrite tokens from i; return (text, index after the consumed tokens)."""
    out = []
    depth = 0
    while i < len(tokens):
        tok = tokens[i]
        if _is_cvp_open(tok):
            start = i
            text, i = _call(tokens, i, cells)
            out.append(text if _stands_alone(tokens, start, i) else f"({text})")
            continue
        if tok.type == Token.FUNC and tok.subtype == Token.OPEN:
            depth += 1
        elif tok.type == Token.PAREN and tok.subtype == Token.OPEN:
            depth += 1
        elif tok.subtype == Token.CLOSE:
            if depth == 0 and stop_at_close:
                return "".join(out), i
            depth -= 1
        elif tok.type == Token.SEP and tok.subtype == Token.ARG and depth == 0 and stop_at_close:
            return "".join(out), i
        out.append(tok.value)
        i += 1
    return "".join(out), i


def _call(tokens: list[Token], i: int, cells: CellReader | None) -> tuple[str, int]:
    name = tokens[i].value[:-1]
    try:
        entry = get(name)
    except KeyError:
        raise CvpNameError(f"unknown function {name.upper()}") from None
    i += 1
    args: list[str] = []
    if tokens[i].subtype == Token.CLOSE:
        i += 1
    else:
        while True:
            text, i = _rewrite(tokens, i, stop_at_close=True, cells=cells)
            args.append(text.strip())
            tok = tokens[i]
            i += 1
            if tok.subtype == Token.CLOSE:
                break
    if entry.native is None:
        raise NoTranslation(entry.name)
    required = sum(not a.optional for a in entry.args)
    if not required <= len(args) <= len(entry.args):
        count = f"{required}" if required == len(entry.args) else f"{required} to {len(entry.args)}"
        raise CvpValueError(f"{entry.signature} takes {count} arguments, got {len(args)}")
    return entry.to_native(*args, cells=cells), i


def _stands_alone(tokens: list[Token], start: int, end: int) -> bool:
    """True when no operator touches the call at tokens[start:end] (no parentheses needed)."""
    before = [t for t in tokens[:start] if t.type != Token.WSPACE]
    after = [t for t in tokens[end:] if t.type != Token.WSPACE]
    left_ok = not before or before[-1].subtype == Token.OPEN or (
        before[-1].type == Token.SEP and before[-1].subtype == Token.ARG)
    right_ok = not after or after[0].subtype == Token.CLOSE or (
        after[0].type == Token.SEP and after[0].subtype == Token.ARG)
    return left_ok and right_ok


def to_native(formula: str, cells: CellReader | None = None) -> str:
    """Rewrite every ``CVP_*`` call in ``formula`` as native Excel.

    ``cells`` reads the contents of a reference (rows of values), for functions translated
    from what their argument cells contain (``CVP_WORDEQ``); references without a sheet are
    read on the formula's own sheet.  Raises :class:`NoTranslation`, with the reason, when a
    called function has no translation, or has none for this call (no ``cells`` given, an
    equation that does not parse, a result longer than Excel allows).  A formula without
    ``CVP_*`` calls comes back unchanged.
    """
    if not formula.startswith("="):
        return formula
    tokens = Tokenizer(formula).items
    if not any(_is_cvp_open(t) for t in tokens):
        return formula
    text, _ = _rewrite(tokens, 0, stop_at_close=False, cells=cells)
    if len(text) + 1 > a1.MAX_FORMULA:
        raise NoTranslation(cvp_calls(formula)[0], f"its native formula would be "
                            f"{len(text) + 1:,} characters long; Excel allows "
                            f"{a1.MAX_FORMULA:,}")
    return "=" + text


def cvp_calls(formula: str) -> list[str]:
    """Names of the ``CVP_*`` functions a formula calls (upper case, no prefix)."""
    if not isinstance(formula, str) or not formula.startswith("="):
        return []
    names = []
    for tok in Tokenizer(formula).items:
        if _is_cvp_open(tok):
            name = tok.value[:-1].upper()
            names.append(name.removeprefix("_XLUDF."))
    return names


_A1 = re.compile(rf"^(?:(?P<sheet>{a1.SHEET})!)?(?P<range>{a1.RANGE})$")
#: The most cells one reference may read (a whole column would be a mistake here).
MAX_CELLS = 100_000


def workbook_cells(wb, sheet: str, values: Mapping | None = None) -> CellReader:
    """A cell reader over an openpyxl workbook, for references written on ``sheet``.

    Parameters
    ----------
    wb : openpyxl.Workbook
        Loaded with its formulas (``data_only=False``), or built in memory.
    sheet : str
        The sheet of the formula being translated: references without a sheet are read there.
    values : mapping, optional
        Computed values of formula cells by ``(sheet, "A1")``, such as
        ``cvp_xl.commands.recalc.compute(path).values``.  A formula cell missing from it
        cannot be read.

    Returns
    -------
    callable
        ``cells(ref)`` for ``B3``, ``$B$3:$C$6``, ``Inputs!B3:B6``, ``'My sheet'!A1`` or a
        defined name that points at one range: the rows of values (``None`` for a blank
        cell, :class:`~cvp_xl.errors.ErrorValue` for an error).  Raises ``LookupError``
        with the reason for anything else.
    """
    from openpyxl.utils.cell import range_boundaries

    by_title = {ws.title.upper(): ws for ws in wb.worksheets}

    def worksheet(name: str):
        ws = by_title.get(name.upper())
        if ws is None:
            raise LookupError(f"there is no sheet named {name!r}")
        return ws

    def defined(name: str) -> tuple[str, str]:
        key = name.upper()
        for scope in (wb[sheet].defined_names, wb.defined_names):
            for label, dn in scope.items():
                if label.upper() == key:
                    destinations = list(dn.destinations)
                    if len(destinations) != 1:
                        raise LookupError(f"the name {name} does not point at one range")
                    return destinations[0]
        raise LookupError(f"{name} is neither a cell reference nor a defined name")

    def read(ref: str) -> list:
        text = ref.strip()
        match = _A1.match(text)
        if match:
            where = match["sheet"] or sheet
            if where.startswith("'"):
                where = where[1:-1].replace("''", "'")
            rng = match["range"]
        else:
            where, rng = defined(text)
        ws = worksheet(where)
        min_col, min_row, max_col, max_row = range_boundaries(rng.replace("$", ""))
        if (max_col - min_col + 1) * (max_row - min_row + 1) > MAX_CELLS:
            raise LookupError(f"{ref} has more than {MAX_CELLS:,} cells")
        # Read without creating cells: ws.cell() would add empty cells to the file being shared.
        existing = getattr(ws, "_cells", None)
        rows = []
        for r in range(min_row, max_row + 1):
            row = []
            for c in range(min_col, max_col + 1):
                cell = existing.get((r, c)) if existing is not None else ws.cell(r, c)
                if cell is None or cell.value is None:
                    row.append(None)
                elif cell.data_type == "f":
                    key = (ws.title, cell.coordinate)
                    if values is None or key not in values:
                        raise LookupError(f"{ws.title}!{cell.coordinate} holds a formula "
                                          "whose value is not known")
                    row.append(values[key])
                elif cell.data_type == "e":
                    row.append(as_error(cell.value) or cell.value)
                else:
                    row.append(cell.value)
            rows.append(row)
        return rows

    return read
