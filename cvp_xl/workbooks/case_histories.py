"""The case-history workbook: the table, a summary by segment and value element, one page per case.

Sheets:

``Case histories``
    The Excel table ``Cases`` (:mod:`cvp_xl.workbooks.case_table`), with data validation on
    its categorical columns (category from a list, a 3-letter currency, numbers,
    a date).  Every cell is an input; the sheet is not protected, since Excel
    cannot grow a table on a protected sheet.
``Summary``
    Cases, total and mean documented value per year by segment and by value
    element, and for all cases, each currency on its own line (amounts in
    different currencies are never added).  Native ``COUNTIFS``/``SUMIFS``/
    ``AVERAGEIFS`` over the workbook names ``cases_*`` that follow the table
    (``SUMPRODUCT`` with ``=`` for a label that criteria would read otherwise:
    one with a ``~``, a digit, or longer than criteria allow).
``Case 1``, ``Case 2``, ...
    A one-page case-history summary per case, to hand to a prospect: the case
    number (an input) picks a row of the table with ``INDEX``; the print area
    is set and the page fits on one sheet of paper.

The table prints landscape, one page wide, its header on every page, its text
wrapped; the Summary portrait, one page wide (A4 or Letter).

Everything computes in Excel 2016 and LibreOffice 7.4 without the add-in;
formula cells are protected (no password), inputs unlocked and filled yellow.
The file is written once through :class:`~cvp_xl.workbooks.book.Book`, each
formula with the value Python computed (:func:`expected_values`): counts, totals
and means from :func:`cvp_xl.domain.documentation.case_stats`, each case sheet's
lines from its row of the table.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
from openpyxl.styles import Alignment
from openpyxl.utils.datetime import CALENDAR_WINDOWS_1900, to_excel

from cvp_xl.domain.documentation import case_stats
from cvp_xl.errors import WorkbookError
from cvp_xl.workbooks import example, style
from cvp_xl.workbooks.book import Book
from cvp_xl.workbooks.case_table import COLUMNS, HEADERS, read_cases_csv
from cvp_xl.workbooks.case_table_writer import (
    DATE_FORMAT,
    FIGURE_FORMAT,
    defined_name,
    new_case_workbook,
    put_cases,
)
from cvp_xl.xlsx.safety import check_xlsx

__all__ = ["build", "build_example_workbooks", "CASES_CSV", "SUMMARY", "MAX_CASE_SHEETS",
           "summary_rows", "case_sheet_name", "expected_values"]

CASES_CSV = example("cases", "cases.csv")
SUMMARY = "Summary"
MAX_CASE_SHEETS = 250  # one-page sheets beyond this make a workbook unwieldy
EXAMPLE_NOTE = ("Example data: the customers and figures are illustrative, not facts about any "
                "real company.")
#: What the Summary shows, in the reader's words.
SUMMARY_NOTE = ("Documented value per year of the case histories: how many cases, their total "
                "and their mean, by segment, by value element and for all cases. Each currency "
                "has its own line: amounts in different currencies are never added up.")

#: The Summary's sections: title and the column it groups by (None: all cases).
SECTIONS = (("By segment", "segment"), ("By value element", "value element"), ("All cases", None))
FIRST_SECTION = 5  # the row of the Summary's first section title
_CASE_SHEET = re.compile(r"^Case \d+$")
_VALUE = defined_name("documented value per year")
_CURRENCY = defined_name("currency")
_CRITERION_LIMIT = 250  # criteria of COUNTIFS & co. hold at most 255 characters


def case_sheet_name(number: int) -> str:
    """The name of the one-page sheet of case ``number`` (1 = the table's first row)."""
    return f"Case {number}"


# -- the Summary ---------------------------------------------------------------------------------


def summary_rows(cases: pd.DataFrame, by: str | None) -> list[tuple[str, str]]:
    """The (label, currency) lines of the summary for column ``by`` (or ``None`` for all cases).

    Labels are grouped ignoring case, as Excel's criteria compare text; each
    group keeps the spelling of its first row; lines are sorted by label, then
    currency.
    """
    seen: dict[tuple[str, str], tuple[str, str]] = {}
    for label, currency in zip(cases[by] if by else [""] * len(cases), cases["currency"]):
        seen.setdefault((label.lower(), currency), (label, currency))
    return [seen[k] for k in sorted(seen)]


def _summary_layout(cases: pd.DataFrame) -> list[tuple[str, str | None, int, list]]:
    """Per section: title, column, title row, and its lines ``(row, label, currency)``."""
    out, row = [], FIRST_SECTION
    for title, by in SECTIONS:
        lines = [(row + 2 + i, label, currency)
                 for i, (label, currency) in enumerate(summary_rows(cases, by))]
        out.append((title, by, row, lines))
        row += 2 + len(lines) + 1
    return out


def _plain_criterion(label: str) -> bool:
    """A label COUNTIFS & co. match as plain text (no wildcard escape, number or date reading)."""
    return ("~" not in label and len(label) <= _CRITERION_LIMIT
            and not any(ch.isdigit() for ch in label)
            and label.strip().upper() not in ("TRUE", "FALSE") and label == label.strip())


def _summary_formulas(label_cell: str, currency_cell: str, by: str | None,
                      label: str | None) -> tuple[str, str, str]:
    """COUNTIFS, SUMIFS and AVERAGEIFS (or SUMPRODUCTs) for one summary line."""
    crit = [(_CURRENCY, f'"="&{currency_cell}')]
    if by is not None:
        name = defined_name(by)
        if not _plain_criterion(label):
            # formulas 1.3.4 does not match "~~" (an escaped tilde), and criteria read digits
            # as numbers or dates: compare with = instead
            cond = f"({name}={label_cell})*({_CURRENCY}={currency_cell})"
            count = f"SUMPRODUCT({cond}*1)"
            total = f"SUMPRODUCT({cond}*{_VALUE})"
            return f"={count}", f"={total}", f"=IF({count}=0,NA(),{total}/{count})"
        escaped = f'SUBSTITUTE(SUBSTITUTE(SUBSTITUTE({label_cell},"~","~~"),"*","~*"),"?","~?")'
        crit.insert(0, (name, f'"="&{escaped}'))
    pairs = ",".join(f"{rng},{c}" for rng, c in crit)
    return (f"=COUNTIFS({pairs})", f"=SUMIFS({_VALUE},{pairs})",
            f"=AVERAGEIFS({_VALUE},{pairs})")


def _line_values(cases: pd.DataFrame, by: str | None, label: str, currency: str
                 ) -> tuple[float, float, float]:
    """Cases, total and mean documented value per year of one summary line."""
    mask = cases["currency"] == currency
    if by:
        mask &= cases[by].str.lower() == label.lower()
    values = [[v] for v in cases.loc[mask, "documented value per year"].tolist()]
    return (case_stats(values, statistic="count"), math.fsum(v for (v,) in values),
            case_stats(values, statistic="mean"))


def _summary_sheet(book: Book, cases: pd.DataFrame, example: bool) -> None:
    ws = book.wb.create_sheet(SUMMARY, 1)
    for col, width in zip("ABCDE", (34, 10, 8, 20, 16)):
        ws.column_dimensions[col].width = width
    style.label(ws["A1"], "Case histories: documented value by segment and by value element",
                style.TITLE_FONT)
    style.note(ws, "A2", SUMMARY_NOTE, "E", None)
    if example:
        style.note(ws, "A3", EXAMPLE_NOTE, "E")
    if len(cases) > MAX_CASE_SHEETS:
        style.note(ws, "A4", f"One-page sheets: Case 1 to Case {MAX_CASE_SHEETS}; change the "
                   "case number on one of them to print any other case.", "E", None)
    for title, by, row, lines in _summary_layout(cases):
        style.label(ws.cell(row, 1), title, style.BOLD)
        heads = ([HEADERS[by]] if by else []) + ["Currency", "Cases",
                                                  "Documented value per year (total)",
                                                  "Mean per case"]
        style.header(ws, row + 1, 1 if by else 2, heads)
        for r, label, currency in lines:
            if by:
                style.label(ws.cell(r, 1), label)
            style.label(ws.cell(r, 2), currency)
            count, total, mean = _line_values(cases, by, label, currency)
            f_count, f_total, f_mean = _summary_formulas(f"$A{r}", f"$B{r}", by,
                                                         label if by else None)
            book.formula(ws.cell(r, 3), f_count, count)
            book.formula(ws.cell(r, 4), f_total, total, style.MONEY)
            book.formula(ws.cell(r, 5), f_mean, mean, style.MONEY)
            ws.cell(r, 1).alignment = style.WRAP
    style.protect(ws)
    style.print_setup(ws, "portrait", title_rows=None, values=book.values)


# -- one page per case ---------------------------------------------------------------------------

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
_TEXT = Alignment(horizontal="left", wrap_text=True, vertical="top")
_BESIDE = Alignment(horizontal="left", vertical="top", indent=1)
NUMBER_CELL = "B3"  # the case number on a case sheet


def _case_formula(column: str, kind: str) -> str:
    pick = f"INDEX({defined_name(column)},$B$3)"
    if kind == "text":
        return f'={pick}&""'
    if kind == "number":
        return f'=IF({pick}="","",{pick})'
    return f"={pick}"


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT


def _case_values(record: dict, epoch) -> dict[str, object]:
    """What a case sheet's formula cells show for one row of the table: ``{"B6": ...}``."""
    out: dict[str, object] = {"A2": record["customer"]}
    for k, (_, column, kind) in enumerate(CASE_LINES):
        r = FIRST_LINE + k
        v = record[column]
        if kind in ("text", "number"):
            out[f"B{r}"] = "" if _blank(v) else v
        elif kind == "date":
            out[f"B{r}"] = to_excel(v.to_pydatetime(), epoch)  # a date is its serial number
        else:
            out[f"B{r}"] = v
        if kind == "money":
            out[f"C{r}"] = record["currency"]
        elif kind == "number":
            out[f"C{r}"] = "" if _blank(record["unit"]) else record["unit"]
    return out


def _case_sheet(book: Book, number: int, values: dict[str, object], example: bool) -> None:
    ws = book.wb.create_sheet(case_sheet_name(number))
    style.label(ws["A1"], "Value case history", style.TITLE_FONT)
    book.formula(ws["A2"], _case_formula("customer", "text"), values["A2"], bold=True)
    style.label(ws["A3"], "Case (row of the table 'Cases')")
    book.input(ws[NUMBER_CELL], number)
    for k, (label, column, kind) in enumerate(CASE_LINES):
        r = FIRST_LINE + k
        style.label(ws.cell(r, 1), label, style.BOLD)
        fmt = {"money": style.MONEY, "number": FIGURE_FORMAT, "date": DATE_FORMAT}.get(kind)
        book.formula(ws.cell(r, 2), _case_formula(column, kind), values[f"B{r}"], fmt,
                     bold=kind == "money")
        if kind in ("money", "number"):  # the number, then its unit or currency beside it
            book.formula(ws.cell(r, 3), _case_formula("currency" if kind == "money" else "unit",
                                                      "text"), values[f"C{r}"],
                         bold=kind == "money")
            ws.cell(r, 3).alignment = _BESIDE
        else:  # text over B to D, wrapped
            ws.cell(r, 2).alignment = _TEXT
            ws.merge_cells(f"B{r}:D{r}")
    last = FIRST_LINE + len(CASE_LINES) + 1
    style.note(ws, f"A{last}", "The documented value was verified by the customer as named "
               "above.", "D", style.ITALIC)
    if example:
        style.note(ws, f"A{last + 1}", EXAMPLE_NOTE, "D")
    for col, width in zip("ABCD", (28, 16, 18, 36)):
        ws.column_dimensions[col].width = width
    style.protect(ws)
    style.print_setup(ws, "portrait", one_page=True, area=f"A1:D{last + 1}",
                      values=book.values)


# -- the workbook --------------------------------------------------------------------------------


def expected_values(cases: pd.DataFrame, epoch=CALENDAR_WINDOWS_1900
                    ) -> dict[tuple[str, str], object]:
    """The value of every formula cell of the Summary and the case sheets, computed in Python.

    ``{(sheet, "A1"): value}``; blanks as ``""``, dates as serial numbers (of ``epoch``, the
    workbook's date system).  :func:`build` stores exactly these values.
    """
    out: dict[tuple[str, str], object] = {}
    for _, by, _, lines in _summary_layout(cases):
        for r, label, currency in lines:
            count, total, mean = _line_values(cases, by, label, currency)
            out.update({(SUMMARY, f"C{r}"): count, (SUMMARY, f"D{r}"): total,
                        (SUMMARY, f"E{r}"): mean})
    for i, case in enumerate(cases.iloc[:MAX_CASE_SHEETS].itertuples(index=False), start=1):
        sheet = case_sheet_name(i)
        for ref, value in _case_values(dict(zip(COLUMNS, case)), epoch).items():
            out[(sheet, ref)] = value
    return out


def _open_template(template: str | Path):
    from openpyxl import load_workbook

    check_xlsx(template)
    try:
        return load_workbook(template)
    except Exception as exc:  # openpyxl's own failures on a malformed file
        raise WorkbookError(f"{template}: cannot be read ({exc})") from None


def build(path: str | Path, cases: pd.DataFrame | None = None,
          template: str | Path | None = None, *, example: bool | None = None) -> Path:
    """Write the case-history workbook to ``path`` (atomically, with formulas and values).

    Parameters
    ----------
    path : path-like
        Where to write.
    cases : pandas.DataFrame, optional
        The case histories (columns of :data:`cvp_xl.workbooks.case_table.COLUMNS`); default
        the example table ``workbooks/cases/cases.csv``.
    template : path-like, optional
        An existing case-history workbook whose table (formatting, validation,
        other sheets) is kept; its ``Summary`` and ``Case N`` sheets are
        generated anew.  Default: a new workbook.
    example : bool, optional
        Mark the sheets as example data; default True when ``cases`` is omitted.

    Raises
    ------
    cvp_xl.workbooks.case_table.CaseTableError
        A bad row in ``cases``.
    cvp_xl.errors.WorkbookError
        The template is refused, or holds formulas outside the Summary and case
        sheets (their values cannot be computed here).

    Notes
    -----
    Only the first :data:`MAX_CASE_SHEETS` cases get a one-page sheet; the
    Summary says so, and changing the case number on a sheet prints any other.
    """
    if cases is None:
        cases = read_cases_csv(CASES_CSV)
        example = True if example is None else example
    wb = _open_template(template) if template is not None else new_case_workbook()
    clean = put_cases(wb, cases)
    for ws in list(wb.worksheets):
        if ws.title == SUMMARY or _CASE_SHEET.match(ws.title):
            wb.remove(ws)
    book = Book(wb)
    foreign = book.missing()
    if foreign:
        raise WorkbookError(f"{template}: formulas outside the Summary and case sheets, which "
                            f"cvp-xl cannot compute: {', '.join(foreign[:10])}"
                            f"{' ...' if len(foreign) > 10 else ''}; move them to another "
                            "workbook")
    _summary_sheet(book, clean, bool(example))
    for i, case in enumerate(clean.iloc[:MAX_CASE_SHEETS].itertuples(index=False), start=1):
        _case_sheet(book, i, _case_values(dict(zip(COLUMNS, case)), wb.epoch), bool(example))
    return book.save(path)


def build_example_workbooks(out_dir: str | Path) -> list[Path]:
    """Build the example case-history workbook from ``workbooks/cases/cases.csv``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [build(out / "case-histories.xlsx")]
