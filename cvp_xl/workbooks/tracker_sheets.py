"""The value tracker's sheets: layout, the values Python computes, and writing them.

:mod:`cvp_xl.workbooks.tracker` reads and checks entries; this module lays them
out.  Every formula is written through a :class:`~cvp_xl.workbooks.book.Book`
with the value Python computed for it (:func:`row_values`,
:func:`over_time_values`), so the file stores formulas and values written once;
the formulas engine and LibreOffice only check them.

An entry here is a dict with the keys of :data:`ENTRY_COLUMNS`: customer and
period as text, period end a date, promised a number, documented a number or
None (not yet documented).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from openpyxl.styles import Alignment, PatternFill
from openpyxl.utils.datetime import CALENDAR_WINDOWS_1900, to_excel

from cvp_xl.domain.documentation import realization
from cvp_xl.errors import CvpError, ErrorValue
from cvp_xl.registry import get
from cvp_xl.workbooks import style
from cvp_xl.workbooks.book import Book
from cvp_xl.workbooks.case_table import CATEGORIES
from cvp_xl.xlsx.tables import as_date

__all__ = [
    "Settings", "SHEET", "CUSTOMERS", "OVER_TIME", "HEADER_ROW", "FIRST_ROW", "ENTRY_COLUMNS",
    "CUSTOMER_COLUMNS", "HEADERS", "SETTING_CELLS", "OVER_TIME_FIRST", "EXAMPLE_NOTE",
    "row_values", "over_time_values", "periods", "skeleton", "write_entries", "rules",
    "over_time_sheet", "print_setup",
]

SHEET, CUSTOMERS, OVER_TIME = "Tracker", "Customers", "Over time"
HEADER_ROW, FIRST_ROW = 8, 9
ENTRY_COLUMNS = ("customer", "period", "period end", "promised", "documented", "verified by")
CUSTOMER_COLUMNS = ("customer", "segment", "situation", "offering", "value element", "category")
HEADERS = ("Customer", "Period", "Period end", "Promised value", "Documented value",
           "Verified by", "Realization", "Cumulative promised", "Cumulative documented",
           "Status")
SETTING_CELLS = {"as of": "B2", "overdue days": "B3", "currency": "B4", "periods per year": "B5"}
OVER_TIME_FIRST = 4
DATE_FORMAT = "yyyy-mm-dd"
OVERDUE_FILL = PatternFill("solid", fgColor="F4CCCC", bgColor="F4CCCC")
STATUS_ALIGN = Alignment(horizontal="left", indent=1)
EXAMPLE_NOTE = ("Example data: the customers and figures are illustrative, not facts about any "
                "real company.")
RULE_TEXT = ("Overdue rule: a row is overdue (status 'overdue', highlighted red) when it has no "
             "documented value and its period ended more than B3 days before the as-of date B2.")


@dataclass(frozen=True)
class Settings:
    """The tracker's settings cells."""

    as_of: dt.date
    overdue_days: float = 90
    currency: str = "EUR"
    periods_per_year: float = 4


# -- values --------------------------------------------------------------------------------------


def row_values(settings: Settings, entries: list[dict], epoch=CALENDAR_WINDOWS_1900
               ) -> list[tuple[object, float, float, str]]:
    """Per entry, in row order: realization, cumulative promised, cumulative documented, status.

    As the formulas compute them: realization with :func:`~cvp_xl.domain.documentation.realization`
    (``""`` while nothing is documented, an error value where Excel shows one); cumulative
    values over the rows so far of the same customer (compared ignoring case); status
    ``documented``, else ``overdue`` when the as-of date is more than the overdue days after
    the period end, else ``open``.
    """
    as_of = to_excel(settings.as_of, epoch)
    running: dict[str, list[float]] = {}
    out = []
    for e in entries:
        totals = running.setdefault(e["customer"].lower(), [0.0, 0.0])
        doc = e["documented"]
        totals[0] += e["promised"]
        if doc is None:
            ratio: object = ""
        else:
            totals[1] += doc
            try:
                ratio = realization(doc, e["promised"])
            except CvpError as exc:  # the error value the native formula shows
                ratio = ErrorValue(exc.code)
        late = as_of - to_excel(e["period end"], epoch) > settings.overdue_days
        status = "documented" if doc is not None else "overdue" if late else "open"
        out.append((ratio, totals[0], totals[1], status))
    return out


def periods(entries: list[dict]) -> list[tuple[str, dt.date]]:
    """Distinct periods (ignoring case, first spelling kept), by period end then label."""
    seen: dict[str, tuple[str, dt.date]] = {}
    for e in entries:
        seen.setdefault(e["period"].lower(), (e["period"], as_date(e["period end"])))
    return sorted(seen.values(), key=lambda p: (p[1], p[0].lower()))


def over_time_values(entries: list[dict]) -> list[tuple[str, dt.date, float, object, object]]:
    """Per period: label, end, promised, documented and realization over all customers.

    Documented is ``#N/A`` where nothing is documented yet; realization is the documented
    value over the promised value of the rows documented (``#N/A`` with nothing documented,
    ``#DIV/0!`` when those rows promised 0 in all).
    """
    out = []
    for label, end in periods(entries):
        rows = [e for e in entries if e["period"].lower() == label.lower()]
        promised = 0.0
        for e in rows:
            promised += e["promised"]
        documented = [e for e in rows if e["documented"] is not None]
        if not documented:
            na = ErrorValue("#N/A")
            out.append((label, end, promised, na, na))
            continue
        total = base = 0.0
        for e in documented:
            total += e["documented"]
            base += e["promised"]
        out.append((label, end, promised, total,
                    total / base if base != 0 else ErrorValue("#DIV/0!")))
    return out


# -- writing -------------------------------------------------------------------------------------


def skeleton(book: Book, customers: list[dict], settings: Settings, example: bool) -> None:
    """The Tracker sheet's settings and header, and the Customers sheet, in ``book``'s workbook."""
    wb = book.wb
    ws = wb.active
    ws.title = SHEET
    style.label(ws["A1"], "Value tracker: value promised against value documented",
                style.TITLE_FONT)
    labels = {"as of": "As of", "overdue days": "Overdue after (days)", "currency": "Currency",
              "periods per year": "Periods per year"}
    values = {"as of": settings.as_of, "overdue days": settings.overdue_days,
              "currency": settings.currency, "periods per year": settings.periods_per_year}
    for key, ref in SETTING_CELLS.items():
        style.label(ws.cell(int(ref[1:]), 1), labels[key])
        book.input(ws[ref], values[key], DATE_FORMAT if key == "as of" else None)
    style.note(ws, "A6", RULE_TEXT, "J", style.ITALIC)
    if example:
        style.note(ws, "A7", EXAMPLE_NOTE, "J")
    style.header(ws, HEADER_ROW, 1, list(HEADERS))
    for col, width in zip("ABCDEFGHIJ", (24, 10, 12, 14, 14, 30, 12, 14, 14, 12)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = f"B{FIRST_ROW}"
    style.protect(ws)

    cs = wb.create_sheet(CUSTOMERS)
    style.header(cs, 1, 1, [c[0].upper() + c[1:] for c in CUSTOMER_COLUMNS])
    for i, customer in enumerate(customers, start=2):
        for j, col in enumerate(CUSTOMER_COLUMNS, start=1):
            book.input(cs.cell(i, j), customer.get(col))
    dv = style.validation(cs, "list", None, f'"{",".join(CATEGORIES)}"', None,
                          "technical, economic, service or social")
    dv.add("F2:F1000")
    for col, width in zip("ABCDEF", (24, 18, 40, 30, 30, 12)):
        cs.column_dimensions[col].width = width
    for row in cs.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = style.WRAP


def print_setup(book: Book) -> None:
    """How the Tracker and Customers sheets print: landscape, one page wide, their headers on
    every page; rows of wrapped text as tall as their text.  A sheet with a page setup of its own
    (a tracker someone set up to print their way) keeps it."""
    wb = book.wb
    for name, title in ((SHEET, f"{HEADER_ROW}:{HEADER_ROW}"), (CUSTOMERS, "1:1")):
        if name not in wb.sheetnames:
            continue
        ws = wb[name]
        setup = ws.sheet_properties.pageSetUpPr
        if setup is not None and setup.fitToPage or ws.page_setup.orientation is not None:
            style.fit_row_heights(ws, book.values)
        else:
            style.print_setup(ws, "landscape", title_rows=title, values=book.values)


def _formulas(r: int) -> tuple[str, str, str, str]:
    """Realization, cumulative promised, cumulative documented and status of row ``r``."""
    ratio = get("CVP_REALIZATION").to_native(f"E{r}", f"D{r}")
    first = FIRST_ROW
    return (f'=IF(ISNUMBER(E{r}),{ratio},"")',
            f"=SUMPRODUCT(($A${first}:$A{r}=$A{r})*$D${first}:$D{r})",
            f"=SUMPRODUCT(($A${first}:$A{r}=$A{r})*$E${first}:$E{r})",
            f'=IF(ISNUMBER(E{r}),"documented",IF($B$2-C{r}>$B$3,"overdue","open"))')


def write_entries(book: Book, entries: list[dict], values: list[tuple], first_new: int) -> int:
    """Write the entry rows from :data:`FIRST_ROW` on; return the last row.

    Entries from index ``first_new`` on are new: their inputs are written and styled.  Every
    row gets its formulas and their values (``values`` from :func:`row_values`); earlier rows
    keep their inputs and formats.
    """
    ws = book.wb[SHEET]
    formats = (None, None, DATE_FORMAT, style.MONEY, style.MONEY, None)
    for i, (entry, computed) in enumerate(zip(entries, values)):
        r = FIRST_ROW + i
        new = i >= first_new
        if new:
            for c, (col, fmt) in enumerate(zip(ENTRY_COLUMNS, formats), start=1):
                book.input(ws.cell(r, c), entry[col], fmt)
                if col in ("customer", "verified by"):
                    ws.cell(r, c).alignment = style.WRAP

        for c, (formula, value, fmt) in enumerate(
                zip(_formulas(r), computed, (style.PERCENT, style.MONEY, style.MONEY, None)),
                start=7):
            book.formula(ws.cell(r, c), formula, value, fmt if new else None)
        if new:
            ws.cell(r, 10).alignment = STATUS_ALIGN  # the status, clear of the number before it
    return FIRST_ROW + len(entries) - 1


def rules(ws, last: int) -> None:
    """Data validation and the overdue highlight over rows FIRST_ROW..last (replacing ours)."""
    from openpyxl.formatting.formatting import ConditionalFormattingList
    from openpyxl.formatting.rule import FormulaRule

    end = max(last, FIRST_ROW)
    specs = (
        ("A", "Customer", "A customer of the Customers sheet.",
         ("list", None, f"{CUSTOMERS}!$A$2:$A$1000", None),
         "Add the customer to the Customers sheet first."),
        ("C", "Period end", "Last day of the period.",
         ("date", "greaterThanOrEqual", "1", None), "A date, e.g. 2025-06-30."),
        ("D", "Promised value", "Value promised for the period (from the calculator).",
         ("decimal", "greaterThanOrEqual", "0", None), "A number of 0 or more."),
        ("E", "Documented value", "Value documented with the customer; blank until then.",
         ("decimal", "between", "-1E+15", "1E+15"), "A number, or leave it blank."),
    )
    ours = {title for _, title, _, _, _ in specs}
    ws.data_validations.dataValidation = [dv for dv in ws.data_validations.dataValidation
                                          if dv.promptTitle not in ours]
    for col, title, prompt, (kind, operator, f1, f2), message in specs:
        dv = style.validation(ws, kind, operator, f1, f2, message)
        dv.showInputMessage, dv.promptTitle, dv.prompt = True, title, prompt
        dv.add(f"{col}{FIRST_ROW}:{col}{end}")
    kept = ConditionalFormattingList()
    for cf in ws.conditional_formatting:
        if str(cf.sqref).startswith(f"A{FIRST_ROW}:"):
            continue
        for rule in cf.rules:
            kept.add(str(cf.sqref), rule)
    ws.conditional_formatting = kept
    ws.conditional_formatting.add(
        f"A{FIRST_ROW}:J{end}",
        FormulaRule(formula=[f'$J{FIRST_ROW}="overdue"'], fill=OVERDUE_FILL, stopIfTrue=False))


def _chart(ws, last_row: int) -> None:
    from openpyxl.chart import LineChart, Reference
    from openpyxl.chart.shapes import GraphicalProperties

    chart = LineChart()
    chart.title = "Promised vs documented value"
    chart.y_axis.title = "Value per period"
    chart.x_axis.title = "Period"
    chart.y_axis.number_format = style.MONEY
    chart.add_data(Reference(ws, min_col=3, max_col=4, min_row=OVER_TIME_FIRST - 1,
                             max_row=last_row), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=OVER_TIME_FIRST, max_row=last_row))
    for series, color in zip(chart.series, ("1F4E78", "70AD47")):
        series.smooth = False  # one value per period: straight lines invent nothing between
        series.marker.symbol = "circle"
        series.marker.size = 7
        series.marker.graphicalProperties = GraphicalProperties(solidFill=color)
        series.marker.graphicalProperties.line.solidFill = color
        series.graphicalProperties.line.solidFill = color
    chart.x_axis.delete = False  # axes shown in desktop Excel too (openpyxl hides them)
    chart.y_axis.delete = False
    chart.legend.position = "b"
    chart.height, chart.width = 9, 16
    style.excel_axes(chart)
    ws.add_chart(chart, "G3")


def over_time_sheet(book: Book, entries: list[dict], last: int) -> None:
    """The Over time sheet (made anew): per period over all customers, and a line chart."""
    wb = book.wb
    if OVER_TIME in wb.sheetnames:
        wb.remove(wb[OVER_TIME])
    ws = wb.create_sheet(OVER_TIME, 2)
    style.label(ws["A1"], "Promised against documented value, all customers, per period",
                style.TITLE_FONT)
    style.note(ws, "A2", "Realization = documented value / promised value of the rows "
               "documented; #N/A where nothing is documented yet.", "E", None)

    style.header(ws, OVER_TIME_FIRST - 1, 1, ["Period", "Period end", "Promised value",
                                              "Documented value", "Realization"])
    end = max(last, FIRST_ROW)
    rng = {c: f"{SHEET}!${c}${FIRST_ROW}:${c}${end}" for c in "BDE"}
    lines = over_time_values(entries)
    for i, (label, period_end, promised, documented, ratio) in enumerate(lines):
        r = OVER_TIME_FIRST + i
        style.label(ws.cell(r, 1), label)
        ws.cell(r, 2, period_end).number_format = DATE_FORMAT
        match = f"({rng['B']}=$A{r})"
        count = f"SUMPRODUCT({match}*ISNUMBER({rng['E']}))"
        book.formula(ws.cell(r, 3), f"=SUMPRODUCT({match}*{rng['D']})", promised, style.MONEY)
        book.formula(ws.cell(r, 4), f"=IF({count}=0,NA(),SUMPRODUCT({match}*{rng['E']}))",
                     documented, style.MONEY)
        book.formula(ws.cell(r, 5), f"=IF(ISNUMBER(D{r}),D{r}/SUMPRODUCT({match}*ISNUMBER("
                     f"{rng['E']})*{rng['D']}),NA())", ratio, style.PERCENT)
    for col, width in zip("ABCDE", (12, 12, 16, 18, 12)):
        ws.column_dimensions[col].width = width
    if lines:
        _chart(ws, OVER_TIME_FIRST + len(lines) - 1)
    style.protect(ws)
    style.print_setup(ws, "landscape", one_page=True, values=book.values)
