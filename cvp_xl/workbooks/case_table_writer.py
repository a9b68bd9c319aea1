"""Writing the case-history table: a new table, or new rows in an existing one.

:func:`new_case_workbook` makes a workbook holding an empty, styled and validated
table ``Cases``; :func:`put_cases` replaces the rows of the table in an open
workbook, keeping its formatting, data validation and defined names.  Neither
saves: the case-history workbook (:func:`cvp_xl.workbooks.case_histories.build`)
writes the table, its summary and its case sheets through one
:class:`~cvp_xl.workbooks.book.Book`, with the value of every formula.
"""

from __future__ import annotations

import math
from copy import copy

import numpy as np
import pandas as pd
from openpyxl.styles import Alignment

from cvp_xl.errors import WorkbookError
from cvp_xl.workbooks import style
from cvp_xl.workbooks.case_table import (
    CATEGORIES,
    COLUMNS,
    HEADERS,
    NUMBER_COLUMNS,
    SHEET,
    TABLE,
    TEXT_COLUMNS,
    CaseTableError,
    RowProblem,
    header_problems,
    validate_cases,
)

__all__ = ["defined_name", "new_case_workbook", "put_cases", "DATE_FORMAT", "FIGURE_FORMAT"]

#: Number formats of the date column and of the before and after figures (as typed: Excel's
#: ``#,##0.##`` would show 14 as "14.").
DATE_FORMAT = "yyyy-mm-dd"
FIGURE_FORMAT = "General"

#: Column widths: the table prints landscape, one page wide, its text wrapped.
_WIDTHS = {"customer": 16, "segment": 13, "situation": 22, "offering": 16, "value element": 18,
           "category": 10, "before": 8, "after": 8, "unit": 11, "documented value per year": 12,
           "currency": 9, "period": 8, "verified by": 18, "date": 10.5}


#: Text just right of a number: indented, clear of it.
_INDENTED = Alignment(wrap_text=True, vertical="top", indent=1)


def defined_name(column: str) -> str:

    """The workbook name of a column's data range, e.g. ``cases_value_element``."""
    return "cases_" + column.replace(" ", "_")


def _quote(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


def _column_name(wb, column: str, sheet: str, letter: str, first: int, last: int) -> None:
    """Point the workbook name of ``column`` at its data rows."""
    from openpyxl.workbook.defined_name import DefinedName

    name = defined_name(column)
    if name in wb.defined_names:
        del wb.defined_names[name]
    wb.defined_names[name] = DefinedName(
        name, attr_text=f"{_quote(sheet)}!${letter}${first}:${letter}${last}")


def _number_format(column: str) -> str | None:
    if column == "documented value per year":
        return style.MONEY
    if column in ("before", "after"):
        return FIGURE_FORMAT
    if column == "date":
        return DATE_FORMAT
    return "@" if column in TEXT_COLUMNS else None


def _validations(ws) -> None:
    """Data validation on the categorical, number and date columns of the table's first row."""
    from openpyxl.utils import get_column_letter

    def add(col, kind, operator, formula1, formula2, message, prompt, blank=False):
        letter = get_column_letter(COLUMNS.index(col) + 1)
        dv = style.validation(ws, kind, operator, formula1, formula2, message)
        dv.allow_blank, dv.errorStyle = blank, "stop"
        dv.showInputMessage, dv.promptTitle, dv.prompt = True, HEADERS[col], prompt
        dv.add(f"{letter}2:{letter}2")

    add("category", "list", None, f'"{",".join(CATEGORIES)}"', None,
        "Choose technical, economic, service or social.",
        "The value element's category (DOMAIN.md section 1).")
    add("currency", "textLength", "equal", "3", None,
        "A 3-letter currency code such as EUR or USD.",
        "3-letter code of the documented value's currency.")
    for col in NUMBER_COLUMNS:
        add(col, "decimal", "between", "-1E+15", "1E+15", "A number (no text, no units).",
            "Money per year, a number." if col == "documented value per year"
            else "A number; put the unit in the unit column.", blank=True)
    add("date", "date", "greaterThanOrEqual", "1", None, "A date, e.g. 2024-03-31.",
        "When the value was documented.")


def new_case_workbook():
    """A workbook with an empty case-history table (one blank row), styled and validated.

    The sheet is not protected: every cell of the table is an input, and Excel
    cannot grow a table on a protected sheet.  Each column's data range has a
    workbook name (:func:`defined_name`), which :func:`put_cases` resizes with
    the table, so formulas elsewhere follow the table.  The table prints landscape,
    one page wide, its header on every page, its text wrapped.
    """
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.table import Table, TableStyleInfo

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    for j, col in enumerate(COLUMNS, start=1):
        letter = get_column_letter(j)
        style.label(ws.cell(1, j), HEADERS[col], style.BOLD)
        ws.cell(1, j).alignment = Alignment(wrap_text=True, vertical="top")
        cell = ws.cell(2, j)
        style.as_input(cell)
        cell.alignment = _INDENTED if col in ("unit", "currency") else style.WRAP
        fmt = _number_format(col)
        if fmt:
            cell.number_format = fmt
        ws.column_dimensions[letter].width = _WIDTHS[col]
        _column_name(wb, col, SHEET, letter, 2, 2)
    table = Table(displayName=TABLE, ref=f"A1:{get_column_letter(len(COLUMNS))}2")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(table)
    ws.freeze_panes = "B2"
    _validations(ws)
    style.print_setup(ws, "landscape", title_rows="1:1")
    return wb


def _find_table(wb, table: str | None):
    wanted = (table or TABLE).lower()
    found = []
    for ws in wb.worksheets:
        for t in ws.tables.values():
            found.append((ws, t))
            if (t.displayName or "").lower() == wanted or (t.name or "").lower() == wanted:
                return ws, t
    if table is None and len(found) == 1:
        return found[0]
    names = ", ".join(t.displayName for _, t in found) or "none"
    raise WorkbookError(f"no table named {table or TABLE!r} (tables: {names})")


def _plain(v):
    """A DataFrame cell as a plain Python value; None for every kind of blank."""
    if isinstance(v, np.generic):
        v = v.item()
    if v is None or v is pd.NaT or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    return v


def _frame_to_raw(df: pd.DataFrame) -> tuple[pd.DataFrame, list[RowProblem]]:
    """The DataFrame's cells as plain Python values, columns matched ignoring case."""
    positions, problems = header_problems(list(df.columns), 1)
    if problems:
        return pd.DataFrame(), problems
    raw = {col: pd.Series([_plain(v) for v in df.iloc[:, p].astype(object)], dtype=object)
           for col, p in zip(COLUMNS, positions)}
    return pd.DataFrame(raw, columns=list(COLUMNS)), []


def _write_rows(ws, clean: pd.DataFrame, columns: list[tuple[int, str]], first: int,
                old_last: int, min_col: int, max_col: int) -> int:
    """Write the rows in the style of the first data row, clear what is left; the new last row."""
    from cvp_xl.xlsx.write import set_value

    styles = {c: copy(ws.cell(first, c)._style) for c in range(min_col, max_col + 1)}
    new_last = first + max(len(clean), 1) - 1
    data = {}
    for col in COLUMNS:
        s = clean[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            data[col] = [None if pd.isna(v) else v.to_pydatetime() for v in s]
        elif s.dtype == float:
            data[col] = [None if math.isnan(v) else v for v in s.tolist()]
        else:
            data[col] = s.tolist()
    for i in range(len(clean)):
        for c, col in columns:
            cell = ws.cell(first + i, c)
            cell._style = copy(styles[c])
            set_value(cell, data[col][i])
    for r in range(first + len(clean), max(old_last, new_last) + 1):
        for c in range(min_col, max_col + 1):
            cell = ws.cell(r, c)
            cell.value = None
            if r <= new_last:
                cell._style = copy(styles[c])
    rows = range(first, max(old_last, new_last) + 1)
    for r in rows:  # heights follow the new text
        ws.row_dimensions[r].height = None
    style.fit_row_heights(ws, rows=rows)
    return new_last


def _resize(wb, ws, tbl, bounds: tuple[int, int, int, int], old_last: int, new_last: int,
            positions: list[int]) -> None:
    """The table, its filter, validations and workbook names over rows ``first..new_last``."""
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.cell import range_boundaries
    from openpyxl.worksheet.cell_range import MultiCellRange

    min_col, min_row, max_col, first = bounds
    ref = f"{get_column_letter(min_col)}{min_row}:{get_column_letter(max_col)}{new_last}"
    tbl.ref = ref
    if tbl.autoFilter is not None:
        tbl.autoFilter.ref = ref

    def resized(cr) -> str:
        if (cr.min_row == first and cr.max_row == old_last and min_col <= cr.min_col
                and cr.max_col <= max_col):
            return (f"{get_column_letter(cr.min_col)}{first}:"
                    f"{get_column_letter(cr.max_col)}{new_last}")
        return cr.coord

    for dv in ws.data_validations.dataValidation:
        dv.sqref = MultiCellRange(" ".join(resized(cr) for cr in dv.sqref.ranges))
    for dn in list(wb.defined_names.values()):
        dest = list(dn.destinations) if dn.attr_text and "!" in dn.attr_text else []
        if len(dest) != 1 or dest[0][0] != ws.title:
            continue
        try:
            c1, r1, c2, r2 = range_boundaries(dest[0][1].replace("$", ""))
        except (ValueError, TypeError):
            continue
        if c1 == c2 and r1 == first and r2 == old_last and min_col <= c1 <= max_col:
            letter = get_column_letter(c1)
            dn.attr_text = f"{_quote(ws.title)}!${letter}${first}:${letter}${new_last}"
    for col, p in zip(COLUMNS, positions):  # the names the case-history sheets read
        _column_name(wb, col, ws.title, get_column_letter(min_col + p), first, new_last)


def put_cases(wb, df: pd.DataFrame, table: str | None = None) -> pd.DataFrame:
    """Replace the rows of the case-history table in an open workbook.

    New rows take the style of the table's first data row (fill, number format,
    font, protection); the table, its filter, every data validation that
    covered exactly a column of its data rows, and every workbook name that
    pointed to exactly a column of its data rows are resized to the new rows,
    and the names :func:`defined_name` point to the table's columns.  Rows of
    wrapped text get the height their text needs; a sheet without a page setup
    of its own prints landscape, one page wide, the table's header on every page.
    Returns the checked table as written.


    Raises
    ------
    CaseTableError
        When ``df`` has a bad cell; rows are numbered as they would be written.
    cvp_xl.errors.WorkbookError
        No such table, or a table this function cannot rewrite (a totals row, or
        columns other than the case-history columns).
    """
    from openpyxl.utils.cell import range_boundaries

    ws, tbl = _find_table(wb, table)
    if tbl.totalsRowCount:
        raise WorkbookError(f"table {tbl.displayName!r} has a totals row; remove it first")
    min_col, min_row, max_col, old_last = range_boundaries(tbl.ref)
    headers = [ws.cell(min_row, c).value for c in range(min_col, max_col + 1)]
    positions, problems = header_problems(headers, min_row)
    if problems:
        raise CaseTableError(problems)
    raw, problems = _frame_to_raw(df)
    if problems:
        raise CaseTableError(problems)
    first = min_row + 1
    clean, problems = validate_cases(raw, first)
    if problems:
        raise CaseTableError(problems)
    columns = [(min_col + p, col) for col, p in zip(COLUMNS, positions)]
    new_last = _write_rows(ws, clean, columns, first, old_last, min_col, max_col)
    setup = ws.sheet_properties.pageSetUpPr
    if (setup is None or not setup.fitToPage) and ws.page_setup.orientation is None:
        style.print_setup(ws, "landscape", title_rows=f"{min_row}:{min_row}")
    _resize(wb, ws, tbl, (min_col, min_row, max_col, first), old_last, new_last, positions)
    return clean
