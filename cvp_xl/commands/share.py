"""``cvp-xl share``: make a workbook that needs no add-in, and means the same.

Every ``CVP_*`` call that has a native translation becomes plain Excel formulas, guarded so
that it refuses what the function refuses (a blank, text, TRUE/FALSE, ranges that do not pair:
:mod:`cvp_xl.catalog.guards`).  A formula calling a function without a translation, or a call
that has none for its arguments, becomes its computed value, with a note on the cell saying
what it was and why; array formulas (``{=CVP_ROI(B2:B4,C2:C4)}``) are rewritten the same way,
over the same cells.

The copy carries the values the original computes (with the ``CVP_*`` functions, by the
formulas engine), so no number in it comes from the rewritten formulas before a spreadsheet
program recomputes them; they agree, which ``tests/hosts/test_native_guards.py`` checks with
LibreOffice.  The cells that were already errors in the original are listed with their
reason.  The copy is written whole or not at all.

Translations that depend on what cells contain (``CVP_WORDEQ`` turns its equation text and
names into arithmetic over the value cells) read them from the workbook being shared:
constants as written, formula cells as computed.  The native formula is fixed at that moment:
edit the equation or the names afterwards and it no longer follows them, so share the
workbook last.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.worksheet.formula import ArrayFormula

from cvp_xl.commands.recalc import CellError, compute
from cvp_xl.errors import CvpError, ErrorValue, WorkbookError, as_error
from cvp_xl.hosts.native import NoTranslation, cvp_calls, to_native, workbook_cells
from cvp_xl.xlsx.a1 import cells as cells_of
from cvp_xl.xlsx.a1 import parse_cell
from cvp_xl.xlsx.atomic import atomic_path, clean_temporaries, not_written, release
from cvp_xl.xlsx.cached import write_cached_values

__all__ = ["share", "Change", "ShareResult"]


@dataclass(frozen=True)
class Change:
    """One cell (or array formula) that ``share`` rewrote.

    ``kind`` is ``"native"`` (the call became native formulas) or ``"value"`` (the computed
    value was kept, for ``reason``).
    """

    sheet: str
    ref: str
    before: str
    after: str
    kind: str
    reason: str = ""

    def __str__(self) -> str:
        what = "native formula" if self.kind == "native" else f"value kept: {self.reason}"
        return f"{self.sheet}!{self.ref}: {self.before} -> {self.after}  [{what}]"


class ShareResult(list):
    """The :class:`Change` of every rewritten cell, in sheet order (a list, as before).

    Attributes
    ----------
    source_errors : list of CellError
        The cells of the original that were already errors, with the reason where one is
        known (a ``CVP_*`` call's message); ``code`` ``"#N/A"`` etc.  Error constants typed
        into cells are listed too, with the reason ``"typed in the cell"``.
    """

    def __init__(self, changes=(), source_errors=()):
        super().__init__(changes)
        self.source_errors: list[CellError] = list(source_errors)


def share(src: str | os.PathLike, dst: str | os.PathLike | None = None) -> ShareResult:
    """Write a copy of ``src`` (or rewrite it in place) that computes without the add-in.

    Parameters
    ----------
    src : path-like
        The workbook to share (checked before anything parses it).
    dst : path-like, optional
        Where to write the copy; default: ``src`` itself, atomically.

    Returns
    -------
    ShareResult
        The changes, in sheet order, with ``source_errors``: the cells that were errors before
        sharing.

    Raises
    ------
    cvp_xl.errors.WorkbookError
        ``src`` is refused, or ``dst`` cannot be written (a full disk, a read-only folder):
        the message names it and the error, and ``dst`` is as it was.
    """
    src = Path(src)
    dst = Path(dst) if dst is not None else src
    computed = compute(src)
    values = computed.values
    try:
        wb = load_workbook(src)
    except Exception as exc:  # noqa: BLE001 - openpyxl's own failures on a malformed file
        release(exc)  # the file openpyxl left open, closed now
        raise WorkbookError(f"{src}: cannot be read ({type(exc).__name__}: {exc})") from None
    changes: list[Change] = []
    typed_errors: list[CellError] = []
    for ws in wb.worksheets:
        cells = workbook_cells(wb, ws.title, values)
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "e":
                    code = as_error(cell.value)
                    typed_errors.append(CellError(ws.title, cell.coordinate,
                                                  code.code if code else str(cell.value),
                                                  "typed in the cell"))
                    continue
                change = _rewrite(ws, cell, cells, values)
                if change is not None:
                    changes.append(change)
    real = Path(os.path.realpath(dst))
    clean_temporaries(real.parent, [real.name])  # what a killed run left
    existed = dst.exists()
    try:
        with atomic_path(dst) as tmp:
            wb.save(tmp)
            write_cached_values(tmp, tmp, values, check=False)
    except OSError as exc:
        raise not_written(dst, exc, existed) from None
    errors = sorted(computed.errors + typed_errors,
                    key=lambda e: (_sheet_order(wb, e.sheet), _row_col(e.ref)))
    return ShareResult(changes, errors)


def _rewrite(ws, cell, cells, values) -> Change | None:
    """Rewrite one cell's ``CVP_*`` calls; None for a cell without any."""
    value = cell.value
    array = value if isinstance(value, ArrayFormula) else None
    text = array.text if array is not None else value
    if cell.data_type != "f" or not isinstance(text, str) or not cvp_calls(text):
        return None
    before = text if array is None else "{" + text + "}"
    ref = array.ref if array is not None else cell.coordinate
    try:
        after = to_native(text, cells=cells)
    except (NoTranslation, CvpError) as exc:
        reason = str(exc) if isinstance(exc, NoTranslation) else exc.message
        shown = _keep_values(ws, ref, values)
        ws[ref.split(":")[0]].comment = Comment(
            f"Was {before}\n{reason}; the value computed by cvp-xl is kept instead.", "cvp-xl")
        return Change(ws.title, ref, before, shown, "value", reason)
    cell.value = ArrayFormula(array.ref, after) if array is not None else after
    return Change(ws.title, ref, before, after if array is None else "{" + after + "}",
                  "native")


def _keep_values(ws, ref: str, values) -> str:
    """Write the computed value into every cell of ``ref``; return how it reads."""
    shown = []
    for a1 in cells_of(ref):
        value = values.get((ws.title, a1))
        target = ws[a1]
        if isinstance(value, ErrorValue):
            target.value = value.code
            target.data_type = "e"
            shown.append(value.code)
        else:
            target.value = value
            shown.append(repr(value))
    return shown[0] if len(shown) == 1 else "{" + ",".join(shown) + "}"


def _sheet_order(wb, title: str) -> int:
    names = [ws.title for ws in wb.worksheets]
    return names.index(title) if title in names else len(names)


def _row_col(ref: str) -> tuple[int, int]:
    try:
        return parse_cell(ref.split(":")[0])
    except ValueError:
        return (0, 0)
