"""The function-library workbook: every LAMBDA-able ``CVP_*`` function, ready in Excel 365.

``cvp-xl functions --workbook -o cvp-functions.xlsx`` writes it.  The workbook holds the
library as defined names (:mod:`cvp_xl.hosts.lambdas`) and a sheet *Functions* that shows,
for each function, its description, a worked example from the registry (the arguments in
yellow input cells, a cell that calls the function on them, the value Python computes and the
example's source), so a user can change an input and watch Excel recompute.  A sheet *About*
says how to use the functions and which ones need Python instead.

As with every workbook here, Python computes each value the file stores: the example cells
carry the registry function's result.  Excel 365 recomputes them with the LAMBDA names; the
tests recompute them with the formulas engine.

>>> import tempfile, pathlib
>>> with tempfile.TemporaryDirectory() as folder:
...     path = build_function_library(pathlib.Path(folder) / "cvp-functions.xlsx")
...     print(path.name)
cvp-functions.xlsx
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.formula import ArrayFormula

from cvp_xl import __version__
from cvp_xl.errors import CvpError, ErrorValue
from cvp_xl.hosts.lambdas import LambdaName, library, not_lambda
from cvp_xl.registry import Example, Function, functions, get
from cvp_xl.xlsx.defined_names import escape_xstring
from cvp_xl.xlsx.write import set_value

from . import style
from .book import Book

__all__ = ["build_function_library", "placements", "example_for", "Placed", "FUNCTIONS_SHEET",
           "ABOUT_SHEET"]

FUNCTIONS_SHEET, ABOUT_SHEET = "Functions", "About"
FIRST_VALUE_COL = 2  # column B: argument values and the example cell (arrays up to E)
HELP_COL = 6  # column F: each argument's help
LAST_COL = "F"


@dataclass(frozen=True)
class Placed:
    """Where one function's example is on the Functions sheet."""

    function: str
    example: int
    formula_ref: str  # the example cell (or block, for an array result)
    python_ref: str  # the block holding Python's result as plain values


def example_for(entry: Function) -> int:
    """The index of the first worked example that is not an error and that the native
    translation computes the same way (so Excel's LAMBDA and Python agree on it)."""
    for k, ex in enumerate(entry.examples):
        if not ex.is_error and ex.native:
            return k
    raise ValueError(f"{entry.name} has no worked example that the LAMBDA computes")


def _rows(value) -> list[list]:
    """An argument or a result as rows of cells (a flat list is one row)."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        if value and not isinstance(value[0], (list, tuple)):
            return [list(value)]
        return [list(r) for r in value]
    return [[value]]


def _python_result(entry: Function, ex: Example):
    """What the registry function gives for the example (an ErrorValue for an error)."""
    try:
        result = entry.func(*ex.args)
    except CvpError as exc:
        return ErrorValue(exc.code)
    return result.tolist() if isinstance(result, np.ndarray) else result


def _ref(row: int, col: int, height: int = 1, width: int = 1) -> str:
    first = f"{get_column_letter(col)}{row}"
    if (height, width) == (1, 1):
        return first
    return f"{first}:{get_column_letter(col + width - 1)}{row + height - 1}"


def _plain(cell, value) -> None:
    """A value (not a formula) in a cell: text always as text, an error as its literal."""
    if isinstance(value, ErrorValue):
        cell.value = value.code
        cell.data_type = "e"
    else:
        set_value(cell, value)


def _function_block(book: Book, ws, row: int, made: LambdaName) -> tuple[int, Placed]:
    """Write one function's block from ``row``; return the next free row and where it is."""
    entry = get(made.name)
    k = example_for(entry)
    ex = entry.examples[k]
    style.note(ws, f"A{row}", made.signature, LAST_COL, style.BOLD)
    style.note(ws, f"A{row + 1}", entry.description, LAST_COL, style.ITALIC)
    row += 2
    refs, scalar_args = [], True
    for a, value in zip(entry.args, ex.args):
        style.label(ws.cell(row, 1), a.name + (" (optional)" if a.optional else ""))
        style.label(ws.cell(row, HELP_COL), a.help, style.NOTE_FONT)
        ws.cell(row, HELP_COL).alignment = style.WRAP
        block = _rows(value)
        height, width = len(block), max(len(r) for r in block)
        if FIRST_VALUE_COL + width > HELP_COL:
            raise ValueError(f"{entry.name}: an example argument {width} wide does not fit "
                             f"before the help column")
        scalar_args &= (height, width) == (1, 1)
        for i, cells in enumerate(block):
            for j, v in enumerate(cells):
                book.input(ws.cell(row + i, FIRST_VALUE_COL + j), v)
        refs.append(_ref(row, FIRST_VALUE_COL, height, width))
        row += height
    result = _python_result(entry, ex)
    block = _rows(result)
    height, width = len(block), max(len(r) for r in block)
    formula = f"={entry.name}({','.join(refs)})"
    style.label(ws.cell(row, 1), "Example", style.BOLD)
    style.label(ws.cell(row, HELP_COL),
                f"computed by the LAMBDA named {entry.name} (Excel 365, no add-in)",
                style.NOTE_FONT)
    ws.cell(row, HELP_COL).alignment = style.WRAP
    formula_ref = _ref(row, FIRST_VALUE_COL, height, width)
    if scalar_args and (height, width) == (1, 1):
        book.formula(ws.cell(row, FIRST_VALUE_COL), formula, result, bold=True)
    else:
        # an array formula: Excel passes ranges whole (no implicit intersection)
        ws.cell(row, FIRST_VALUE_COL).value = ArrayFormula(formula_ref, formula)
        for i, cells in enumerate(block):
            for j, v in enumerate(cells):
                cell = ws.cell(row + i, FIRST_VALUE_COL + j)
                cell.font = style.BOLD
                book.values[(ws.title, cell.coordinate)] = v
    row += height
    style.label(ws.cell(row, 1), "Python's result")
    for i, cells in enumerate(block):
        for j, v in enumerate(cells):
            _plain(ws.cell(row + i, FIRST_VALUE_COL + j), v)
    python_ref = _ref(row, FIRST_VALUE_COL, height, width)
    row += height
    style.label(ws.cell(row, 1), "Source")
    style.note(ws, f"{get_column_letter(FIRST_VALUE_COL)}{row}", ex.source, LAST_COL)
    return row + 2, Placed(entry.name, k, formula_ref, python_ref)


def _about(ws, names: list[LambdaName]) -> None:
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 80
    style.label(ws["A1"], "CVP functions with nothing installed", style.TITLE_FONT)
    lines = [
        f"Generated by cvp-xl {__version__} (`cvp-xl functions --workbook`).",
        "Excel 365 and Excel 2024 (Windows, Mac and the web) compute these functions with no "
        "add-in, no Python and no macros: each is a LAMBDA defined name "
        "(Formulas > Name Manager).",
        "Type them in any cell of this workbook, such as =CVP_ROI(B2,B3). Excel's formula "
        "autocomplete lists them; the Name Manager shows each one's description.",
        "To add them to another workbook: `cvp-xl add-functions BOOK.xlsx`.",
        "Blank or text arguments give the errors the native formulas give; the sheet "
        "Functions shows one worked example per function, with Python's result below it.",
        "Excel 2021 and earlier, and LibreOffice, have no LAMBDA: there the names show #NAME?.",
    ]
    for i, line in enumerate(lines, start=3):
        style.note(ws, f"A{i}", line, "B", None)
    row = len(lines) + 4
    style.header(ws, row, 1, ["In this workbook (LAMBDA)", "Arguments ([optional])"])
    for made in names:
        row += 1
        style.label(ws.cell(row, 1), made.name)
        style.label(ws.cell(row, 2), made.signature)
    row += 2
    style.header(ws, row, 1, ["Not in this workbook", "Why, and where it works"])
    for entry in functions():
        reason = not_lambda(entry)
        if reason:
            row += 1
            style.label(ws.cell(row, 1), entry.name)
            style.label(ws.cell(row, 2), f"{reason}: the xlwings add-in (desktop Excel) or "
                                         "xlwings Lite (udfs/xlwings_lite)")
            ws.cell(row, 2).alignment = style.WRAP


def build_function_library(path: str | os.PathLike[str]) -> Path:
    """Write the function-library workbook to ``path`` (atomically) and return the path.

    Returns
    -------
    pathlib.Path
        ``path``.  Its placement of each example is :func:`placements`.
    """
    book, _ = _build()
    return book.save(path)


def placements() -> list[Placed]:
    """Where each function's example is on the Functions sheet (for checks)."""
    return _build()[1]


def _build() -> tuple[Book, list[Placed]]:
    names = library()
    book = Book()
    ws = book.wb.active
    ws.title = FUNCTIONS_SHEET
    ws.column_dimensions["A"].width = 30
    for col in range(FIRST_VALUE_COL, HELP_COL):
        ws.column_dimensions[get_column_letter(col)].width = 12
    ws.column_dimensions[get_column_letter(HELP_COL)].width = 44
    style.label(ws["A1"], "CVP functions in Excel 365: LAMBDA names, nothing to install",
                style.TITLE_FONT)
    style.note(ws, "A2", "Change a yellow input: the example below it recomputes. "
                         "Python's result is the value the registry gives for the example.",
               LAST_COL)
    row, placed, blocks = 4, [], []
    for made in names:
        start = row
        row, where = _function_block(book, ws, row, made)
        blocks.append((start, row - 2))
        placed.append(where)
        book.wb.defined_names[made.name] = DefinedName(
            made.name, attr_text=made.refers_to, comment=escape_xstring(made.comment))
    _about(book.wb.create_sheet(ABOUT_SHEET), names)
    style.print_setup(ws, "portrait", keep_together=blocks, values=book.values)
    style.print_setup(book.wb[ABOUT_SHEET], "portrait", values=book.values)
    return book, placed
