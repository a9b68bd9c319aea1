"""The case-history workbook: the table, a summary by segment and value element, one page per case.

Sheets:

``Case histories``
    The Excel table ``Cases`` (:mod:`cvp_xl.cases`), with data validation on
    its categorical columns (category from a list, a 3-letter currency, numbers,
    a date).  Every cell is an input; the sheet is not protected, since Excel
    cannot grow a table on a protected sheet.
``Summary``
    Cases, total and mean documented value per year by segment and by value
    element, and for all cases, each currency on its own line (amounts in
    different currencies are never added).  Native ``COUNTIFS``/``SUMIFS``/
    ``AVERAGEIFS`` over the workbook names ``cases_*`` that follow the table.
``Case 1``, ``Case 2``, ...
    A one-page case-history summary per case, to hand to a prospect: the case
    number (an input) picks a row of the table with ``INDEX``; the print area
    is set and the page fits on one sheet of paper.

Everything computes in Excel 2016 and LibreOffice 7.4 without the add-in;
formula cells are protected (no password), inputs unlocked and filled yellow.
The file is saved with its formulas *and* their values (:func:`cvp_xl.recalc.recalc`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from openpyxl.styles import Alignment, Font, PatternFill, Protection

from ..cases import COLUMNS, HEADERS, defined_name, new_case_workbook, put_cases, read_cases_csv
from ..errors import WorkbookError
from ..xlsx.atomic import atomic_path
from ..xlsx.safety import check_xlsx
from ..xlsx.write import set_text

__all__ = ["build", "build_example_workbooks", "CASES_CSV", "SUMMARY", "MAX_CASE_SHEETS",
           "summary_rows", "case_sheet_name", "expected_values"]

CASES_CSV = Path(__file__).resolve().parents[2] / "workbooks" / "cases" / "cases.csv"
SUMMARY = "Summary"
MAX_CASE_SHEETS = 250  # one-page sheets beyond this make a workbook unwieldy
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
EXAMPLE_NOTE = ("Example data: the customers and figures are illustrative, not facts about any "
                "real company.")
_CASE_SHEET = re.compile(r"^Case \d+$")
_VALUE = defined_name("documented value per year")
_CURRENCY = defined_name("currency")


def case_sheet_name(number: int) -> str:
    """The name of the one-page sheet of case ``number`` (1 = the table's first row)."""
    return f"Case {number}"


def _criterion(cell: str) -> str:
    """An exact-match criterion for COUNTIFS/SUMIFS: ``=`` first, wildcards escaped."""
    escaped = f'SUBSTITUTE(SUBSTITUTE(SUBSTITUTE({cell},"~","~~"),"*","~*"),"?","~?")'
    return f'"="&{escaped}'


def summary_rows(cases: pd.DataFrame, by: str) -> list[tuple[str, str]]:
    """The (label, currency) lines of the summary for column ``by`` (or ``None`` for all cases).

    Labels are grouped ignoring case, as Excel's criteria compare text; each
    group keeps the spelling of its first row; lines are sorted by label, then
    currency.
    """
    seen: dict[tuple[str, str], tuple[str, str]] = {}
    for label, currency in zip(cases[by] if by else [""] * len(cases), cases["currency"]):
        key = (label.lower(), currency)
        seen.setdefault(key, (label, currency))
    return [seen[k] for k in sorted(seen)]


def _summary_formulas(label_cell: str | None, currency_cell: str, by: str | None,
                      label: str | None) -> tuple[str, str, str]:
    """COUNTIFS, SUMIFS and AVERAGEIFS for one summary line."""
    crit = [(_CURRENCY, f'"="&{currency_cell}')]
    if by is not None:
        name = defined_name(by)
        if label is not None and "~" in label:
            # formulas 1.3.4 does not match "~~" (an escaped tilde); compare with = instead
            cond = f"({name}={label_cell})*({_CURRENCY}={currency_cell})"
            count = f"=SUMPRODUCT({cond}*1)"
            total = f"=SUMPRODUCT({cond}*{_VALUE})"
            return count, total, f"=IF({count[1:]}=0,NA(),{total[1:]}/{count[1:]})"
        crit.insert(0, (name, _criterion(label_cell)))
    pairs = ",".join(f"{rng},{c}" for rng, c in crit)
    return (f"=COUNTIFS({pairs})", f"=SUMIFS({_VALUE},{pairs})",
            f"=AVERAGEIFS({_VALUE},{pairs})")


def _summary_sheet(wb, cases: pd.DataFrame, example: bool) -> None:
    ws = wb.create_sheet(SUMMARY, 1)
    ws["A1"] = "Case histories: documented value by segment and by value element"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = ("Native COUNTIFS, SUMIFS and AVERAGEIFS over the table 'Cases'; amounts are "
                "documented value per year, each currency on its own line.")
    if example:
        ws["A3"] = EXAMPLE_NOTE
        ws["A3"].font = Font(italic=True)
    if len(cases) > MAX_CASE_SHEETS:
        ws["A4"] = (f"One-page sheets: Case 1 to Case {MAX_CASE_SHEETS}; change the case number "
                    "on one of them to print any other case.")
    row = 5
    for title, by in (("By segment", "segment"), ("By value element", "value element"),
                      ("All cases", None)):
        ws.cell(row, 1, title).font = Font(bold=True, size=12)
        row += 1
        heads = ([HEADERS[by]] if by else []) + ["Currency", "Cases",
                                                  "Documented value per year (total)",
                                                  "Mean per case"]
        start = 1 if by else 2
        for j, h in enumerate(heads, start=start):
            cell = ws.cell(row, j, h)
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        row += 1
        for label, currency in summary_rows(cases, by):
            if by:
                set_text(ws.cell(row, 1), label)
            set_text(ws.cell(row, 2), currency)
            count, total, mean = _summary_formulas(f"$A{row}", f"$B{row}", by,
                                                   label if by else None)
            ws.cell(row, 3, count)
            ws.cell(row, 4, total).number_format = "#,##0"
            ws.cell(row, 5, mean).number_format = "#,##0"
            row += 1
        row += 1
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 10
    ws.column_dimensions["C"].width = 8
    ws.column_dimensions["D"].width = 20
    ws.column_dimensions["E"].width = 16
    ws.protection.sheet = True


#: The lines of a case sheet: (label, column, kind) with kind text, number, money or date.
CASE_LINES = (
    ("Customer", "customer", "text"),
    ("Segment", "segment", "text"),
    ("Situation", "situation", "text"),
    ("Offering", "offering", "text"),
    ("Value element", "value element", "text"),
    ("Category", "category", "text"),
    ("Before", "before", "number"),
    ("After", "after", "number"),
    ("Documented value per year", "documented value per year", "money"),
    ("Period", "period", "text"),
    ("Verified by", "verified by", "text"),
    ("Date", "date", "date"),
)
FIRST_LINE = 6  # the row of the first line on a case sheet
NUMBER_CELL = "B3"  # the case number on a case sheet


def _case_formula(column: str, kind: str) -> str:
    pick = f"INDEX({defined_name(column)},${NUMBER_CELL[0]}${NUMBER_CELL[1:]})"
    if kind == "text":
        return f"={pick}&\"\""
    if kind == "number":
        return f'=IF({pick}="","",{pick})'
    return f"={pick}"


def _case_sheet(wb, number: int, example: bool) -> None:
    ws = wb.create_sheet(case_sheet_name(number))
    ws["A1"] = "Value case history"
    ws["A1"].font = Font(bold=True, size=16)
    ws["A2"] = _case_formula("customer", "text")
    ws["A2"].font = Font(bold=True, size=13)
    ws["A3"] = "Case (row of the table 'Cases')"
    cell = ws[NUMBER_CELL]
    cell.value = number
    cell.fill = INPUT_FILL
    cell.protection = Protection(locked=False)
    wrap = Alignment(wrap_text=True, vertical="top")
    for k, (label, column, kind) in enumerate(CASE_LINES):
        r = FIRST_LINE + k
        ws.cell(r, 1, label).font = Font(bold=True)
        value = ws.cell(r, 2, _case_formula(column, kind))
        value.alignment = wrap
        if kind == "money":
            value.number_format = "#,##0"
            ws.cell(r, 3, _case_formula("currency", "text"))
        elif kind == "number":
            value.number_format = "#,##0.##"
            ws.cell(r, 3, _case_formula("unit", "text"))
        elif kind == "date":
            value.number_format = "yyyy-mm-dd"
    last = FIRST_LINE + len(CASE_LINES) + 1
    ws.cell(last, 1, "The documented value was verified by the customer as named above.")
    ws.cell(last, 1).font = Font(italic=True)
    if example:
        ws.cell(last + 1, 1, EXAMPLE_NOTE).font = Font(italic=True)
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 52
    ws.column_dimensions["C"].width = 18
    ws.print_area = f"A1:C{last + 1}"
    ws.page_setup.orientation = "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.protection.sheet = True


def build(path: str | Path, cases: pd.DataFrame | None = None,
          template: str | Path | None = None, *, example: bool | None = None) -> Path:
    """Write the case-history workbook to ``path`` (atomically, with formulas and values).

    Parameters
    ----------
    path : path-like
        Where to write.
    cases : pandas.DataFrame, optional
        The case histories (columns of :data:`cvp_xl.cases.COLUMNS`); default
        the example table ``workbooks/cases/cases.csv``.
    template : path-like, optional
        An existing case-history workbook whose table (formatting, validation,
        other sheets) is kept; its ``Summary`` and ``Case N`` sheets are
        generated anew.  Default: a new workbook.
    example : bool, optional
        Mark the sheets as example data; default True when ``cases`` is omitted.

    Raises
    ------
    cvp_xl.cases.CaseTableError
        A bad row in ``cases``.
    cvp_xl.errors.WorkbookError
        The template is refused.

    Notes
    -----
    Only the first :data:`MAX_CASE_SHEETS` cases get a one-page sheet; the
    Summary says so, and changing the case number on a sheet prints any other.
    """
    from openpyxl import load_workbook

    from ..recalc import recalc

    if cases is None:
        cases = read_cases_csv(CASES_CSV)
        example = True if example is None else example
    if template is not None:
        check_xlsx(template)
        try:
            wb = load_workbook(template)
        except Exception as exc:  # openpyxl's own failures on a malformed file
            raise WorkbookError(f"{template}: cannot be read ({exc})") from None
    else:
        wb = new_case_workbook()
    clean = put_cases(wb, cases)
    for ws in list(wb.worksheets):
        if ws.title == SUMMARY or _CASE_SHEET.match(ws.title):
            wb.remove(ws)
    _summary_sheet(wb, clean, bool(example))
    for number in range(1, min(len(clean), MAX_CASE_SHEETS) + 1):
        _case_sheet(wb, number, bool(example))
    path = Path(path)
    with atomic_path(path) as tmp:
        wb.save(tmp)
        recalc(tmp)
    return path


def build_example_workbooks(out_dir: str | Path) -> list[Path]:
    """Build the example case-history workbook from ``workbooks/cases/cases.csv``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [build(out / "case-histories.xlsx")]


def expected_values(cases: pd.DataFrame) -> dict[tuple[str, str], object]:
    """What the generated sheets must show, computed in Python (for tests and checks).

    ``{(sheet, "A1"): value}`` for the Summary's formula cells and every case
    sheet's formula cells; blanks as ``""``.
    """
    out: dict[tuple[str, str], object] = {}
    row = 5
    for by in ("segment", "value element", None):
        row += 2
        for label, currency in summary_rows(cases, by):
            mask = cases["currency"] == currency
            if by:
                mask &= cases[by].str.lower() == label.lower()
            values = cases.loc[mask, "documented value per year"]
            out[(SUMMARY, f"C{row}")] = len(values)
            out[(SUMMARY, f"D{row}")] = float(values.sum())
            out[(SUMMARY, f"E{row}")] = float(values.sum()) / len(values)
            row += 1
        row += 1
    for i, case in enumerate(cases.iloc[:MAX_CASE_SHEETS].itertuples(index=False), start=1):
        sheet = case_sheet_name(i)
        record = dict(zip(COLUMNS, case))
        out[(sheet, "A2")] = record["customer"]
        for k, (_, column, kind) in enumerate(CASE_LINES):
            r = FIRST_LINE + k
            v = record[column]
            if kind in ("text", "number"):
                out[(sheet, f"B{r}")] = "" if v is None or pd.isna(v) else v
            elif kind == "date":
                out[(sheet, f"B{r}")] = v.to_pydatetime()
            else:
                out[(sheet, f"B{r}")] = v
            if kind == "money":
                out[(sheet, f"C{r}")] = record["currency"]
            elif kind == "number":
                unit = record["unit"]
                out[(sheet, f"C{r}")] = "" if unit is None else unit
    return out
