"""``cvp-xl check``: every problem in a filled-in calculator, by cell.

Reads the Inputs sheet that :mod:`cvp_xl.workbooks.calculator.builder` writes: each
input row (name, unit, base, low, high, min, max) and each price row.  A
blank required input, text in a number cell and a value outside its allowed
range are reported with the cell, the input's name and what was expected.
"""

from __future__ import annotations

import numbers
import os
from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook

from cvp_xl.args import describe
from cvp_xl.errors import WorkbookError
from cvp_xl.workbooks.calculator.builder import INPUT_FIRST_ROW
from cvp_xl.workbooks.calculator.spec import SCENARIOS
from cvp_xl.xlsx.safety import check_xlsx

__all__ = ["Problem", "check_calculator", "open_calculator"]

COLUMNS = {"D": "base", "E": "low", "F": "high"}


@dataclass(frozen=True)
class Problem:
    sheet: str
    ref: str
    message: str

    def __str__(self) -> str:
        return f"{self.sheet}!{self.ref}: {self.message}"


def _is_number(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def open_calculator(path: str | os.PathLike):
    """Check and open a calculator workbook (openpyxl), refusing anything else clearly."""
    path = Path(path)
    check_xlsx(path)
    wb = load_workbook(path)
    if "Inputs" not in wb.sheetnames or wb["Inputs"].cell(INPUT_FIRST_ROW - 1, 1).value != "Input":
        raise WorkbookError(f"{path}: not a cvp-xl calculator (no Inputs sheet with an "
                            f"'Input' column)")
    return wb


def check_calculator(path: str | os.PathLike) -> list[Problem]:
    """Every problem in the inputs, prices and scenario of a calculator workbook."""
    wb = open_calculator(path)
    ws = wb["Inputs"]
    problems: list[Problem] = []
    r = INPUT_FIRST_ROW
    while ws.cell(r, 1).value not in (None, ""):
        name, unit = ws.cell(r, 1).value, ws.cell(r, 2).value
        lo, hi = ws.cell(r, 7).value, ws.cell(r, 8).value
        for col, label in COLUMNS.items():
            v = ws[f"{col}{r}"].value
            where = f"'{name}' ({label})"
            if v is None or (isinstance(v, str) and not v.strip()):
                problems.append(Problem("Inputs", f"{col}{r}",
                                        f"{where} is blank; expected a number in {unit}"))
            elif not _is_number(v):
                problems.append(Problem("Inputs", f"{col}{r}",
                                        f"{where}: expected a number in {unit}, got {describe(v)}"))
            elif (_is_number(lo) and v < lo) or (_is_number(hi) and v > hi):
                problems.append(Problem("Inputs", f"{col}{r}",
                                        f"{where} = {v:g} is outside the allowed range "
                                        f"{_allowed(lo, hi)}"))
        r += 1
    # prices: the block under the header "Offering or alternative"
    while r < ws.max_row and ws.cell(r, 1).value != "Offering or alternative":
        r += 1
    r += 1
    while ws.cell(r, 1).value not in (None, ""):
        name = ws.cell(r, 1).value
        for col, label in (("D", "one-time price"), ("E", "recurring price per year"),
                           ("F", "value per year vs reference")):
            v = ws[f"{col}{r}"].value
            where = f"'{name}' ({label})"
            if v is None:
                problems.append(Problem("Inputs", f"{col}{r}", f"{where} is blank; expected "
                                                               f"an amount"))
            elif not _is_number(v):
                problems.append(Problem("Inputs", f"{col}{r}",
                                        f"{where}: expected an amount, got {describe(v)}"))
            elif v < 0 and col != "F":
                problems.append(Problem("Inputs", f"{col}{r}",
                                        f"{where} = {v:g} is negative; expected 0 or more"))
        r += 1
    scenario = wb["Summary"]["B4"].value if "Summary" in wb.sheetnames else None
    if scenario not in SCENARIOS:
        problems.append(Problem("Summary", "B4", f"scenario {describe(scenario)} is not one of "
                                                 f"{', '.join(SCENARIOS)}"))
    return problems


def _allowed(lo, hi) -> str:
    if _is_number(lo) and _is_number(hi):
        return f"{lo:g} to {hi:g}"
    return f"at least {lo:g}" if _is_number(lo) else f"at most {hi:g}"
