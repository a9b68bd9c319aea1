"""Recompute a workbook headlessly and keep its formulas *and* their values.

openpyxl writes a formula with no cached value, and the ``formulas``
package writes values with no formulas.  :func:`recalc` computes every cell
with the ``formulas`` engine (native functions and ``CVP_*``) and then
writes the computed values into the original file next to each formula, so
every formula, style, sheet, chart and validation is kept, and
``openpyxl.load_workbook(path, data_only=True)`` or ``pandas.read_excel``
see numbers.  The file is refused before any parser sees it when it is not
an .xlsx or looks hostile, and it is written atomically.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cvp_xl.errors import ErrorValue, WorkbookError
from cvp_xl.xlsx.a1 import cells
from cvp_xl.xlsx.cached import write_cached_values
from cvp_xl.xlsx.safety import check_xlsx

__all__ = ["recalc", "compute", "RecalcResult", "CellError"]

_KEY = re.compile(
    r"^'?\[(?P<book>[^\]]+)\](?P<sheet>.+?)'?!(?P<ref>[A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)$"
)


@dataclass(frozen=True)
class CellError:
    """A formula cell whose value is an Excel error, with what is known of why."""

    sheet: str
    ref: str
    code: str
    reason: str = ""

    def __str__(self) -> str:
        text = f"{self.sheet}!{self.ref}: {self.code}"
        return f"{text} ({self.reason})" if self.reason else text


@dataclass
class RecalcResult:
    """What :func:`recalc` computed: every formula cell's value, and the error cells."""

    path: Path
    values: dict = field(default_factory=dict)
    errors: list[CellError] = field(default_factory=list)


def compute(path: str | os.PathLike) -> RecalcResult:
    """Compute every formula cell of the workbook at ``path`` with the formulas engine.

    Returns the values keyed by ``(sheet_name, "A1")`` with the sheet names as
    the workbook spells them.
    """
    import formulas
    from openpyxl import load_workbook

    from cvp_xl.hosts.formulas_host import from_engine, register_all

    path = Path(path)
    check_xlsx(path)
    register_all()
    wb = load_workbook(path, read_only=False, data_only=False)
    names = {ws.title.upper(): ws.title for ws in wb.worksheets}
    formula_cells = {
        (ws.title, cell.coordinate): cell.value
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for cell in row
        if cell.data_type == "f"
    }
    try:
        model = formulas.ExcelModel().loads(str(path)).finish()
        solution = model.calculate()
    except Exception as exc:  # the engine's own failure, reported without a traceback
        raise WorkbookError(f"{path}: the formulas engine could not compute it: {exc}") from exc
    result = RecalcResult(path=path)
    cell_ids = {}
    for key, rng in solution.items():
        m = _KEY.match(str(key))
        if not m:
            continue
        sheet = names.get(m["sheet"].upper())
        if sheet is None:
            continue
        cell_ids[(sheet, m["ref"])] = key
        arr = np.asarray(getattr(rng, "value", rng), dtype=object)
        arr = arr.reshape(1, 1) if arr.ndim == 0 else arr
        for k, ref in enumerate(cells(m["ref"])):
            if (sheet, ref) not in formula_cells and ":" not in m["ref"]:
                continue
            r, c = divmod(k, arr.shape[1]) if arr.ndim == 2 else (k, 0)
            if r < arr.shape[0] and c < arr.shape[1]:
                result.values[(sheet, ref)] = from_engine(arr[r, c], empty=0)
    for (sheet, ref), formula in sorted(formula_cells.items()):
        value = result.values.get((sheet, ref))
        if isinstance(value, ErrorValue):
            reason = _reason(formula, value.code) or _cvp_reason(
                model, solution, cell_ids.get((sheet, ref)), formula)
            result.errors.append(CellError(sheet, ref, value.code, reason))
    return result


def _cvp_reason(model, solution, cell_id, formula) -> str:
    """The message of the CVP_* call that made this cell an error, found by computing it again.

    Empty when the cell holds no CVP_* call or its error came from another cell.
    """
    from cvp_xl.hosts import formulas_host
    from cvp_xl.hosts.native import cvp_calls

    cell = model.cells.get(cell_id) if cell_id is not None else None
    if cell is None or not cvp_calls(formula) or getattr(cell, "inputs", None) is None:
        return ""
    with formulas_host.capture_messages() as messages:
        try:
            cell.func(*[solution[i] for i in cell.inputs])
        except Exception:  # the engine's own trouble: no reason to give
            return ""
    if not messages:
        return ""
    name, message = messages[0]
    return f"{name}: {message}"


def _reason(formula, code: str) -> str:
    """A short reason for an error cell, where one can be named without guessing."""
    if code != "#NAME?" or not isinstance(formula, str):
        return ""
    import formulas
    from openpyxl.formula.tokenizer import Token, Tokenizer

    table = formulas.get_functions()
    for tok in Tokenizer(formula).items:
        if tok.type == Token.FUNC and tok.subtype == Token.OPEN:
            name = tok.value[:-1].upper()
            if name not in table:
                return f"unknown function {name}"
    return ""


def recalc(src: str | os.PathLike, dst: str | os.PathLike | None = None) -> RecalcResult:
    """Recompute ``src`` and write it, with formulas and cached values, to ``dst``.

    Without ``dst`` the file is rewritten in place, atomically: a crash
    leaves the original untouched.
    """
    result = compute(src)
    dst = Path(dst) if dst is not None else Path(src)
    write_cached_values(Path(src), dst, result.values)
    result.path = dst
    return result
