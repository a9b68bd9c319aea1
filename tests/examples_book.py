"""Registry examples laid out in a real workbook, for the conformance suite.

:func:`write_examples_workbook` writes every worked example of the given
registry functions into one sheet: the arguments in cells (ranges as
blocks), the ``CVP_*`` call in one column and, where the function has a
native translation, the native formula in the next.  A workbook written
once can then be recomputed by every host (the formulas engine, LibreOffice)
and each result looked up by :class:`Placed`.

A translation that reads its argument cells (``native_reads_cells``, such as
``CVP_WORDEQ``'s) reads them from the example's own arguments, so the native
formula written is the one ``cvp-xl share`` would write for the same cells.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.formula import ArrayFormula

from cvp_xl.registry import Example, Function
from cvp_xl.xlsx.cached import atomic_save_workbook
from cvp_xl.xlsx.write import set_value

__all__ = ["Placed", "write_examples_workbook", "SHEET"]

SHEET = "Examples"
CVP_COL = 40  # column AN: the CVP_* call
NATIVE_COL = 50  # column AX: its native translation


@dataclass(frozen=True)
class Placed:
    """Where one example's results are: cell ranges of the CVP_* and the native formula."""

    function: str
    index: int
    cvp_ref: str
    native_ref: str | None

    def cells(self, ref: str) -> list[list[str]]:
        from openpyxl.utils.cell import range_boundaries

        min_col, min_row, max_col, max_row = range_boundaries(ref)
        return [[f"{get_column_letter(c)}{r}" for c in range(min_col, max_col + 1)]
                for r in range(min_row, max_row + 1)]


def _block(ws, row: int, col: int, value) -> tuple[str, int, int]:
    """Write one argument at (row, col); return its reference, height and width."""
    if isinstance(value, (list, tuple)):
        rows = [list(r) if isinstance(r, (list, tuple)) else [r] for r in value]
        if value and not isinstance(value[0], (list, tuple)):
            rows = [list(value)]  # a flat list is a row
        h, w = len(rows), max(len(r) for r in rows)
        for i, r in enumerate(rows):
            for j, v in enumerate(r):
                if v is not None:
                    set_value(ws.cell(row + i, col + j), v)
        first = f"{get_column_letter(col)}{row}"
        last = f"{get_column_letter(col + w - 1)}{row + h - 1}"
        return f"{first}:{last}", h, w
    if value is not None:
        set_value(ws.cell(row, col), value)
    return f"{get_column_letter(col)}{row}", 1, 1


def _as_rows(value) -> list[list]:
    """An argument as the rows of cells ``_block`` wrote it in."""
    if isinstance(value, (list, tuple)):
        if value and not isinstance(value[0], (list, tuple)):
            return [list(value)]
        return [list(r) if isinstance(r, (list, tuple)) else [r] for r in value]
    return [[value]]


def _reader(refs: list[str], args: tuple):
    """A cell reader over one example's arguments, by the references they were written at."""
    written = dict(zip(refs, args))

    def cells(ref: str) -> list[list]:
        if ref not in written:
            raise LookupError(f"{ref} is not one of the example's arguments")
        return _as_rows(written[ref])

    return cells


def _result_shape(ex: Example) -> tuple[int, int]:
    if isinstance(ex.expected, list):
        arr = np.asarray(ex.expected, dtype=object)
        return (arr.shape[0], arr.shape[1]) if arr.ndim == 2 else (arr.shape[0], 1)
    return 1, 1


def _put_formula(ws, row: int, col: int, shape: tuple[int, int], text: str) -> str:
    top = f"{get_column_letter(col)}{row}"
    if shape == (1, 1):
        ws[top] = text
        return top
    ref = f"{top}:{get_column_letter(col + shape[1] - 1)}{row + shape[0] - 1}"
    ws[top] = ArrayFormula(ref, text)
    return ref


def write_examples_workbook(path: Path, entries: list[Function]) -> list[Placed]:
    """Write every example of ``entries`` into one workbook at ``path``."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    placed = []
    row = 1
    for entry in entries:
        for k, ex in enumerate(entry.examples):
            col, height, refs = 1, 1, []
            for arg in ex.args:
                ref, h, w = _block(ws, row, col, arg)
                refs.append(ref)
                height = max(height, h)
                col += w + 1
            if col >= CVP_COL:
                raise ValueError(f"{entry.name} example {k}: arguments too wide for the sheet")
            shape = _result_shape(ex)
            cvp = _put_formula(ws, row, CVP_COL, shape, f"={entry.name}({','.join(refs)})")
            native = None
            if entry.native is not None and ex.native:
                text = entry.to_native(*refs, cells=_reader(refs, ex.args))
                native = _put_formula(ws, row, NATIVE_COL, shape, "=" + text)
            placed.append(Placed(entry.name, k, cvp, native))
            row += max(height, shape[0]) + 1
    atomic_save_workbook(wb, path)
    return placed
