"""``cvp-xl share``: make a workbook that needs no add-in.

Every ``CVP_*`` call that has a native translation becomes plain Excel
formulas; a formula calling a function without one becomes its computed
value, with a note on the cell saying what it was.  The result is recomputed
headlessly so it carries cached values, and written atomically.

Translations that depend on what cells contain (``CVP_WORDEQ`` turns its
equation text and names into arithmetic over the value cells) read them from
the workbook being shared: constants as written, formula cells as computed.
The native formula is fixed at that moment: edit the equation or the names
afterwards and it no longer follows them, so share the workbook last.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.comments import Comment

from cvp_xl.commands.recalc import compute, recalc
from cvp_xl.errors import ErrorValue
from cvp_xl.hosts.native import NoTranslation, cvp_calls, to_native, workbook_cells
from cvp_xl.xlsx.atomic import atomic_path

__all__ = ["share", "Change"]


@dataclass(frozen=True)
class Change:
    """One cell that ``share`` rewrote."""

    sheet: str
    ref: str
    before: str
    after: str
    kind: str  # "native" or "value"

    def __str__(self) -> str:
        what = "native formula" if self.kind == "native" else "value (no native translation)"
        return f"{self.sheet}!{self.ref}: {self.before} -> {self.after}  [{what}]"


def share(src: str | os.PathLike, dst: str | os.PathLike | None = None) -> list[Change]:
    """Write a copy of ``src`` (or rewrite it in place) that computes without the add-in."""
    src = Path(src)
    dst = Path(dst) if dst is not None else src
    values = compute(src).values
    wb = load_workbook(src)
    changes: list[Change] = []
    for ws in wb.worksheets:
        cells = workbook_cells(wb, ws.title, values)
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type != "f" or not isinstance(cell.value, str):
                    continue
                if not cvp_calls(cell.value):
                    continue
                before = cell.value
                try:
                    after = to_native(before, cells=cells)
                    cell.value = after
                    changes.append(Change(ws.title, cell.coordinate, before, after, "native"))
                except NoTranslation as exc:
                    value = values.get((ws.title, cell.coordinate))
                    if isinstance(value, ErrorValue):
                        cell.value = value.code
                        cell.data_type = "e"
                        shown = value.code
                    else:
                        cell.value = value
                        shown = repr(value)
                    cell.comment = Comment(f"Was {before}\n{exc}; the value computed by "
                                           f"cvp-xl is kept instead.", "cvp-xl")
                    changes.append(Change(ws.title, cell.coordinate, before, shown, "value"))
    with atomic_path(dst) as tmp:
        wb.save(tmp)
        recalc(tmp)
    return changes
