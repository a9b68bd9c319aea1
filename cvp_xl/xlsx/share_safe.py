"""Share-safe workbooks: only functions that Excel 2016 and LibreOffice 7.4 both compute.

ARCHITECTURE.md lists the set; :func:`unsafe_functions` scans a workbook's
formulas and names every cell that calls anything else (``XLOOKUP``,
``LET``, ``FILTER``, a ``CVP_*`` function that needs the add-in, ...).
"""

from __future__ import annotations

import os
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.formula.tokenizer import Token, Tokenizer

__all__ = ["SHARE_SAFE_FUNCTIONS", "functions_in", "unsafe_functions"]

#: Functions both Excel 2016 and LibreOffice 7.4 compute, the same way, without an add-in.
SHARE_SAFE_FUNCTIONS = frozenset("""
ABS AND AVERAGE AVERAGEIF AVERAGEIFS CHOOSE COLUMN COLUMNS CONCATENATE COUNT COUNTA COUNTBLANK
COUNTIF COUNTIFS DATE DAY EDATE EOMONTH EXP FV HLOOKUP IF IFERROR INDEX INT IRR ISBLANK ISERROR
ISNUMBER ISTEXT LARGE LEFT LEN LN LOG LOOKUP MATCH MAX MEDIAN MID MIN MONTH NA NOT NPV OR PMT SIGN
POWER PV RANK RATE RIGHT ROUND ROUNDDOWN ROUNDUP ROW ROWS SMALL SQRT SUM SUMIF SUMIFS SUMPRODUCT
SUBSTITUTE TEXT TODAY TRUE FALSE TRIM UPPER LOWER VALUE VLOOKUP YEAR
BETAINV MMULT TRANSPOSE
""".split())  # last line: Excel functions since Excel 2000; recomputed by LibreOffice 7.4.7 here


def functions_in(formula: str) -> list[str]:
    """The functions a formula calls, upper case, in order."""
    if not isinstance(formula, str) or not formula.startswith("="):
        return []
    return [tok.value[:-1].upper() for tok in Tokenizer(formula).items
            if tok.type == Token.FUNC and tok.subtype == Token.OPEN]


def unsafe_functions(path: str | os.PathLike) -> list[tuple[str, str, str]]:
    """``(sheet, cell, function)`` for every call outside :data:`SHARE_SAFE_FUNCTIONS`."""
    wb = load_workbook(Path(path))
    found = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                text = getattr(value, "text", value)  # ArrayFormula keeps its text in .text
                if cell.data_type == "f" or hasattr(value, "text"):
                    for name in functions_in(text):
                        if name not in SHARE_SAFE_FUNCTIONS:
                            found.append((ws.title, cell.coordinate, name))
    return found
