"""The value tracker: value promised at the sale against value documented afterwards.

DOMAIN.md §5: track, per customer and period, the value promised (from the
value calculator) against the value documented with the customer;
``realization = documented / promised``.  Tracking that lives in slide decks
dies a few quarters after go-live, so it lives here, in one workbook that one
command updates (``cvp-xl track TRACKER.xlsx --add PERIOD.csv``).

Sheets:

``Tracker``
    Settings (as-of date, days after which a period is overdue, currency,
    periods per year), then one row per customer and period: customer, period,
    period end, promised value, documented value, verified by (inputs), and
    realization, cumulative promised, cumulative documented and status (native
    formulas).  **Overdue rule**: a row is overdue, and highlighted red by
    conditional formatting, when it has no documented value and its period
    ended more than the overdue days (default 90) before the as-of date.
``Customers``
    One row per customer: segment, situation, offering, the value element
    tracked and its category; ``cvp-xl cases`` takes these into the case
    histories it makes from verified rows.
``Over time``
    Promised and documented value per period over all customers, the period's
    realization (documented over the promised value of the rows documented),
    and a line chart of promised against documented value.

Cumulative values run in row order within a customer; ``add_period`` only
appends periods later than the customer's latest, so row order is time order.
Customers and periods compare as Excel's ``=`` compares text: ignoring case.
All formulas are share-safe (Excel 2016, LibreOffice 7.4; no add-in); formula
cells are protected (no password), inputs unlocked and filled yellow.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from collections.abc import Iterable
from copy import copy
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from openpyxl.styles import Alignment, Font, PatternFill, Protection

from ..args import describe
from ..cases import CATEGORIES, COLUMNS, validate_cases
from ..errors import ProblemsError, RowProblem, WorkbookError
from ..registry import get
from ..xlsx.atomic import atomic_path
from ..xlsx.safety import check_xlsx
from ..xlsx.values import ErrorValue
from ..xlsx.write import fit_to_page_width, set_text

__all__ = [
    "build",
    "build_example_workbooks",
    "add_period",
    "verified_cases",
    "export_cases",
    "read_tracker",
    "read_period_csv",
    "expected_values",
    "Settings",
    "Tracker",
    "TrackerInputError",
    "ENTRY_COLUMNS",
    "CUSTOMER_COLUMNS",
    "SHEET",
    "CUSTOMERS",
    "OVER_TIME",
    "HEADER_ROW",
    "FIRST_ROW",
]

EXAMPLES = Path(__file__).resolve().parents[2] / "workbooks" / "tracker"
SHEET, CUSTOMERS, OVER_TIME = "Tracker", "Customers", "Over time"
HEADER_ROW, FIRST_ROW = 8, 9
ENTRY_COLUMNS = ("customer", "period", "period end", "promised", "documented", "verified by")
CUSTOMER_COLUMNS = ("customer", "segment", "situation", "offering", "value element", "category")
HEADERS = ("Customer", "Period", "Period end", "Promised value", "Documented value",
           "Verified by", "Realization", "Cumulative promised", "Cumulative documented",
           "Status")
SETTING_CELLS = {"as of": "B2", "overdue days": "B3", "currency": "B4", "periods per year": "B5"}
OVER_TIME_FIRST = 4
EXAMPLE_AS_OF = dt.date(2025, 6, 15)
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
OVERDUE_FILL = PatternFill("solid", fgColor="F4CCCC", bgColor="F4CCCC")
EXAMPLE_NOTE = ("Example data: the customers and figures are illustrative, not facts about any "
                "real company.")
RULE_TEXT = ("Overdue rule: a row is overdue (status 'overdue', highlighted red) when it has no "
             "documented value and its period ended more than B3 days before the as-of date B2.")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


class TrackerInputError(ProblemsError):
    """Entries refused (a bad CSV line, a duplicate customer and period, ...); nothing written."""

    headline = "; nothing was written:"


@dataclass(frozen=True)
class Settings:
    """The tracker's settings cells."""

    as_of: dt.date
    overdue_days: float = 90
    currency: str = "EUR"
    periods_per_year: float = 4


@dataclass
class Tracker:
    """A tracker as read from its workbook."""

    settings: Settings
    customers: pd.DataFrame  # CUSTOMER_COLUMNS plus "row"
    entries: pd.DataFrame  # ENTRY_COLUMNS plus "row"


# -- checking entries --------------------------------------------------------------------------


def _text(value) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return None


def _as_date(value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()) if len(value.strip()) == 10 else None
        except ValueError:
            return None
    return None


def _as_number(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str) and _NUMBER.match(value.strip()):
        return float(value.strip())
    return None


def _shown(value) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return f"the date {value:%Y-%m-%d}"
    return describe(value)


def check_entry(raw: dict, number: int, where: str) -> tuple[dict | None, list[RowProblem]]:
    """Check one entry (cell values or CSV text); return it cleaned, or None, and its problems."""
    problems = []

    def bad(column, message):
        problems.append(RowProblem(number, column, message, where))

    customer = _text(raw.get("customer"))
    if customer is None:
        bad("customer", f"expected a customer name, got {_shown(raw.get('customer'))}")
    period = _text(raw.get("period"))
    if period is None:
        bad("period", f"expected a period such as 2025-Q2, got {_shown(raw.get('period'))}")
    end = _as_date(raw.get("period end"))
    if end is None:
        bad("period end", f"expected a date (YYYY-MM-DD), got {_shown(raw.get('period end'))}")
    promised = _as_number(raw.get("promised"))
    if promised is None:
        bad("promised", f"expected a number, got {_shown(raw.get('promised'))}")
    elif promised < 0:
        bad("promised", f"expected a promised value of 0 or more, got {promised:.15g}")
    doc_raw = raw.get("documented")
    documented = None
    if _text(doc_raw) is not None or isinstance(doc_raw, (int, float, bool)):
        documented = _as_number(doc_raw)
        if documented is None:
            bad("documented", f"expected a number or a blank cell, got {_shown(doc_raw)}")
    verified = _text(raw.get("verified by"))
    if verified is not None and documented is None and not any(
            p.column == "documented" for p in problems):
        bad("verified by", f"{verified!r} verified a value, but there is no documented value")
    if problems:
        return None, problems
    return {"customer": customer, "period": period, "period end": end, "promised": promised,
            "documented": documented, "verified by": verified}, []


def read_period_csv(path: str | os.PathLike) -> list[tuple[int, dict]]:
    """Read and check the entries of a CSV file: ``[(line, entry), ...]``.

    Columns (headers in any case, spaces or underscores): customer, period,
    period end (``YYYY-MM-DD``), promised, documented (blank when not yet
    documented), verified by (optional).  Numbers are plain (``23100``,
    ``-1.5``; no thousands separators or currency signs).

    Raises
    ------
    TrackerInputError
        Every bad line, or a missing or unknown column.
    cvp_xl.errors.WorkbookError
        The file cannot be read as UTF-8 CSV.
    """
    source = os.fspath(path)
    try:
        table = pd.read_csv(source, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise WorkbookError(f"{source}: cannot be read as a UTF-8 CSV file "
                            f"({str(exc).strip()})") from None
    names = {" ".join(str(c).replace("_", " ").split()).lower(): c for c in table.columns}
    problems = [RowProblem(1, col, "missing from the header line", "line")
                for col in ENTRY_COLUMNS if col not in names]
    problems += [RowProblem(1, str(original), "not a tracker column (expected: "
                            f"{', '.join(ENTRY_COLUMNS)})", "line")
                 for key, original in names.items() if key not in ENTRY_COLUMNS]
    if problems:
        raise TrackerInputError(problems, source)
    if table.empty:
        raise TrackerInputError([RowProblem(2, "customer", "no entries in the file", "line")],
                                source)
    out = []
    for i, record in enumerate(table.to_dict("records")):
        raw = {col: record[names[col]] for col in ENTRY_COLUMNS}
        entry, found = check_entry(raw, i + 2, "line")
        problems += found
        if entry is not None:
            out.append((i + 2, entry))
    if problems:
        raise TrackerInputError(problems, source)
    return out


# -- reading a tracker -------------------------------------------------------------------------


def _check_layout(wb, source: str) -> None:
    if SHEET not in wb.sheetnames or CUSTOMERS not in wb.sheetnames:
        raise WorkbookError(f"{source}: not a value tracker (no sheets {SHEET!r} and "
                            f"{CUSTOMERS!r})")
    ws = wb[SHEET]
    found = tuple(ws.cell(HEADER_ROW, c).value for c in range(1, len(HEADERS) + 1))
    if found != HEADERS:
        raise WorkbookError(f"{source}: not a value tracker (row {HEADER_ROW} of {SHEET!r} "
                            f"should read {', '.join(HEADERS)})")


def _last_row(ws, first: int, width: int) -> int:
    """The last row at or after ``first`` with a value in columns 1..width (first - 1 if none)."""
    last = first - 1
    for r, row in enumerate(ws.iter_rows(min_row=first, max_col=width, values_only=True),
                            start=first):
        if any(v is not None and not (isinstance(v, str) and not v.strip()) for v in row):
            last = r
    return last


def _settings(ws, source: str) -> Settings:
    as_of = _as_date(ws[SETTING_CELLS["as of"]].value)
    days = _as_number(ws[SETTING_CELLS["overdue days"]].value)
    currency = _text(ws[SETTING_CELLS["currency"]].value)
    per_year = _as_number(ws[SETTING_CELLS["periods per year"]].value)
    problems = []
    if as_of is None:
        problems.append(f"{SHEET}!B2 (as of): expected a date, got "
                        f"{_shown(ws['B2'].value)}")
    if days is None or days < 0:
        problems.append(f"{SHEET}!B3 (overdue days): expected a number of 0 or more, got "
                        f"{_shown(ws['B3'].value)}")
    if currency is None or not re.fullmatch(r"[A-Za-z]{3}", currency.strip()):
        problems.append(f"{SHEET}!B4 (currency): expected a 3-letter code such as EUR, got "
                        f"{_shown(ws['B4'].value)}")
    if per_year is None or per_year <= 0:
        problems.append(f"{SHEET}!B5 (periods per year): expected a number above 0, got "
                        f"{_shown(ws['B5'].value)}")
    if problems:
        raise WorkbookError(f"{source}: " + "; ".join(problems))
    return Settings(as_of, days, currency.strip().upper(), per_year)


def _load(path: str | os.PathLike):
    from openpyxl import load_workbook

    source = os.fspath(path)
    check_xlsx(source)
    try:
        wb = load_workbook(source)
    except Exception as exc:  # openpyxl's own failures on a malformed file
        raise WorkbookError(f"{source}: cannot be read ({exc})") from None
    _check_layout(wb, source)
    return wb


def _read(wb, source: str) -> Tracker:
    ws = wb[SHEET]
    settings = _settings(ws, source)
    last = _last_row(ws, FIRST_ROW, len(ENTRY_COLUMNS))
    entries = []
    for r, row in enumerate(ws.iter_rows(min_row=FIRST_ROW, max_row=last,
                                         max_col=len(ENTRY_COLUMNS), values_only=True),
                            start=FIRST_ROW):
        entries.append({**dict(zip(ENTRY_COLUMNS, row)), "row": r})
    cs = wb[CUSTOMERS]
    last_c = _last_row(cs, 2, len(CUSTOMER_COLUMNS))
    customers = [{**dict(zip(CUSTOMER_COLUMNS, row)), "row": r}
                 for r, row in enumerate(cs.iter_rows(min_row=2, max_row=last_c,
                                                      max_col=len(CUSTOMER_COLUMNS),
                                                      values_only=True), start=2)]
    return Tracker(settings,
                   pd.DataFrame(customers, columns=[*CUSTOMER_COLUMNS, "row"]),
                   pd.DataFrame(entries, columns=[*ENTRY_COLUMNS, "row"]))


def read_tracker(path: str | os.PathLike) -> Tracker:
    """Read a tracker's settings, customers and entries (cell values as typed)."""
    return _read(_load(path), os.fspath(path))


# -- writing -----------------------------------------------------------------------------------


def _entry_row(ws, r: int, entry: dict) -> None:
    """Write one entry and its formulas in row ``r``, styled."""
    unlocked = Protection(locked=False)
    values = (entry["customer"], entry["period"], entry["period end"], entry["promised"],
              entry["documented"], entry["verified by"])
    for c, value in enumerate(values, start=1):
        cell = ws.cell(r, c)
        if isinstance(value, str):
            set_text(cell, value)
        else:
            cell.value = value
        cell.fill = copy(INPUT_FILL)
        cell.protection = unlocked
    ws.cell(r, 3).number_format = "yyyy-mm-dd"
    ws.cell(r, 4).number_format = "#,##0"
    ws.cell(r, 5).number_format = "#,##0"
    realization = get("CVP_REALIZATION").to_native(f"E{r}", f"D{r}")
    ws.cell(r, 7, f'=IF(ISNUMBER(E{r}),{realization},"")').number_format = "0.0%"
    first = FIRST_ROW
    ws.cell(r, 8, f"=SUMPRODUCT(($A${first}:$A{r}=$A{r})*$D${first}:$D{r})"
            ).number_format = "#,##0"
    ws.cell(r, 9, f"=SUMPRODUCT(($A${first}:$A{r}=$A{r})*$E${first}:$E{r})"
            ).number_format = "#,##0"
    ws.cell(r, 10, f'=IF(ISNUMBER(E{r}),"documented",IF($B$2-C{r}>$B$3,"overdue","open"))')


def _rules(ws, last: int) -> None:
    """Data validation and the overdue highlight over rows FIRST_ROW..last (replacing ours)."""
    from openpyxl.formatting.formatting import ConditionalFormattingList
    from openpyxl.formatting.rule import FormulaRule
    from openpyxl.worksheet.datavalidation import DataValidation

    end = max(last, FIRST_ROW)
    ours = {"Customer", "Period end", "Promised value", "Documented value"}
    ws.data_validations.dataValidation = [dv for dv in ws.data_validations.dataValidation
                                          if dv.promptTitle not in ours]
    specs = (
        ("A", DataValidation(type="list", formula1=f"{CUSTOMERS}!$A$2:$A$1000",
                             promptTitle="Customer", prompt="A customer of the Customers sheet.",
                             error="Add the customer to the Customers sheet first.")),
        ("C", DataValidation(type="date", operator="greaterThanOrEqual", formula1="1",
                             promptTitle="Period end", prompt="Last day of the period.",
                             error="A date, e.g. 2025-06-30.")),
        ("D", DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0",
                             promptTitle="Promised value",
                             prompt="Value promised for the period (from the calculator).",
                             error="A number of 0 or more.")),
        ("E", DataValidation(type="decimal", operator="between", formula1="-1E+15",
                             formula2="1E+15", promptTitle="Documented value",
                             prompt="Value documented with the customer; blank until then.",
                             error="A number, or leave it blank.")),
    )
    for col, dv in specs:
        dv.showErrorMessage = True
        dv.showInputMessage = True
        dv.allow_blank = True
        dv.add(f"{col}{FIRST_ROW}:{col}{end}")
        ws.add_data_validation(dv)
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


def _periods(entries: list[dict]) -> list[tuple[str, dt.date]]:
    """Distinct periods (ignoring case, first spelling kept), by period end then label."""
    seen: dict[str, tuple[str, dt.date]] = {}
    for e in entries:
        seen.setdefault(e["period"].lower(), (e["period"], e["period end"]))
    return sorted(seen.values(), key=lambda p: (p[1], p[0].lower()))


def _over_time(wb, entries: list[dict], last: int) -> None:
    from openpyxl.chart import LineChart, Reference

    if OVER_TIME in wb.sheetnames:
        wb.remove(wb[OVER_TIME])
    ws = wb.create_sheet(OVER_TIME, 2)
    ws["A1"] = "Promised against documented value, all customers, per period"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = ("Realization = documented value / promised value of the rows documented; "
                "#N/A where nothing is documented yet.")
    heads = ("Period", "Period end", "Promised value", "Documented value", "Realization")
    for j, h in enumerate(heads, start=1):
        ws.cell(OVER_TIME_FIRST - 1, j, h).font = Font(bold=True)
    end = max(last, FIRST_ROW)
    rng = {c: f"{SHEET}!${c}${FIRST_ROW}:${c}${end}" for c in "BDE"}
    periods = _periods(entries)
    for i, (label, period_end) in enumerate(periods):
        r = OVER_TIME_FIRST + i
        set_text(ws.cell(r, 1), label)
        ws.cell(r, 2, period_end).number_format = "yyyy-mm-dd"
        match = f"({rng['B']}=$A{r})"
        ws.cell(r, 3, f"=SUMPRODUCT({match}*{rng['D']})").number_format = "#,##0"
        count = f"SUMPRODUCT({match}*ISNUMBER({rng['E']}))"
        ws.cell(r, 4, f"=IF({count}=0,NA(),SUMPRODUCT({match}*{rng['E']}))"
                ).number_format = "#,##0"
        ws.cell(r, 5, f"=IF(ISNUMBER(D{r}),D{r}/SUMPRODUCT({match}*ISNUMBER({rng['E']})"
                      f"*{rng['D']}),NA())").number_format = "0.0%"
    for col, width in zip("ABCDE", (12, 12, 16, 18, 12)):
        ws.column_dimensions[col].width = width
    if periods:
        last_row = OVER_TIME_FIRST + len(periods) - 1
        chart = LineChart()
        chart.title = "Promised vs documented value"
        chart.y_axis.title = "Value per period"
        chart.x_axis.title = "Period"
        chart.add_data(Reference(ws, min_col=3, max_col=4, min_row=OVER_TIME_FIRST - 1,
                                 max_row=last_row), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=OVER_TIME_FIRST,
                                       max_row=last_row))
        chart.height, chart.width = 8, 16
        ws.add_chart(chart, "G3")
    ws.protection.sheet = True


def _skeleton(customers: list[dict], settings: Settings, example: bool):
    from openpyxl import Workbook
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws["A1"] = "Value tracker: value promised against value documented"
    ws["A1"].font = Font(bold=True, size=14)
    labels = {"as of": "As of", "overdue days": "Overdue after (days)", "currency": "Currency",
              "periods per year": "Periods per year"}
    values = {"as of": settings.as_of, "overdue days": settings.overdue_days,
              "currency": settings.currency, "periods per year": settings.periods_per_year}
    for key, ref in SETTING_CELLS.items():
        r = int(ref[1:])
        ws.cell(r, 1, labels[key])
        cell = ws[ref]
        if isinstance(values[key], str):
            set_text(cell, values[key])
        else:
            cell.value = values[key]
        cell.fill = copy(INPUT_FILL)
        cell.protection = Protection(locked=False)
    ws["B2"].number_format = "yyyy-mm-dd"
    ws["A6"] = RULE_TEXT
    ws["A6"].font = Font(italic=True)
    if example:
        ws["A7"] = EXAMPLE_NOTE
        ws["A7"].font = Font(italic=True)
    for j, h in enumerate(HEADERS, start=1):
        cell = ws.cell(HEADER_ROW, j, h)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for col, width in zip("ABCDEFGHIJ", (24, 10, 12, 14, 14, 30, 12, 14, 14, 12)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = f"B{FIRST_ROW}"
    ws.protection.sheet = True

    cs = wb.create_sheet(CUSTOMERS)
    for j, col in enumerate(CUSTOMER_COLUMNS, start=1):
        cs.cell(1, j, col[0].upper() + col[1:]).font = Font(bold=True)
    for i, customer in enumerate(customers, start=2):
        for j, col in enumerate(CUSTOMER_COLUMNS, start=1):
            value = customer.get(col)
            cell = cs.cell(i, j)
            if value is not None:
                set_text(cell, str(value))
            cell.fill = copy(INPUT_FILL)
    dv = DataValidation(type="list", formula1=f'"{",".join(CATEGORIES)}"', allow_blank=True,
                        showErrorMessage=True, error="technical, economic, service or social")
    dv.add("F2:F1000")
    cs.add_data_validation(dv)
    for col, width in zip("ABCDEF", (24, 18, 40, 30, 30, 12)):
        cs.column_dimensions[col].width = width
    return wb


def _save(wb, path: Path) -> None:
    from ..recalc import recalc

    fit_to_page_width(wb)
    with atomic_path(path) as tmp:
        wb.save(tmp)
        recalc(tmp)


def _entries_of(tracker: Tracker) -> list[dict]:
    out = []
    for record in tracker.entries.to_dict("records"):
        out.append({"customer": _text(record["customer"]) or "",
                    "period": _text(record["period"]) or "",
                    "period end": _as_date(record["period end"]),
                    "row": record["row"]})
    return out


def _cross_check(new: list[tuple[int, dict]], existing: list[dict], customers: Iterable[str]
                 ) -> list[RowProblem]:
    """Duplicates, unknown customers, period ends that disagree or go back in time."""
    problems = []
    known = {c.lower(): c for c in customers}
    seen: dict[tuple[str, str], str] = {}
    ends: dict[str, tuple[dt.date, str]] = {}
    latest: dict[str, tuple[dt.date, str]] = {}
    for e in existing:
        if not e["customer"] or not e["period"]:
            continue
        key = (e["customer"].lower(), e["period"].lower())
        seen.setdefault(key, f"is already in the tracker (row {e['row']}); edit that row "
                             "instead of adding it again")
        if e["period end"] is not None:
            ends.setdefault(e["period"].lower(), (e["period end"], "elsewhere in the tracker"))
            prev = latest.get(e["customer"].lower())
            if prev is None or e["period end"] > prev[0]:
                latest[e["customer"].lower()] = (e["period end"], e["period"])
    for line, e in new:
        name, period = e["customer"], e["period"]
        if name.lower() not in known:
            problems.append(RowProblem(line, "customer", f"{name!r} is not on the {CUSTOMERS} "
                                       "sheet; add the customer there first", "line"))
            continue
        e["customer"] = known[name.lower()]
        key = (name.lower(), period.lower())
        if key in seen:
            problems.append(RowProblem(line, "period", f"{e['customer']}, {period} {seen[key]}",
                                       "line"))
            continue
        seen[key] = f"appears twice in the file (first on line {line})"
        end = e["period end"]
        if period.lower() in ends and ends[period.lower()][0] != end:
            other, where = ends[period.lower()]
            problems.append(RowProblem(
                line, "period end", f"period {period!r} ends on {other:%Y-%m-%d} {where}, "
                f"not {end:%Y-%m-%d}", "line"))
            continue
        ends.setdefault(period.lower(), (end, f"on line {line}"))
        prev = latest.get(name.lower())
        if prev is not None and end <= prev[0]:
            problems.append(RowProblem(
                line, "period end", f"{e['customer']} already has {prev[1]} ending "
                f"{prev[0]:%Y-%m-%d}; periods are added in time order, so this one must end "
                "later", "line"))
            continue
        latest[name.lower()] = (end, period)
    return problems


def _append(wb, entries: list[dict], existing_last: int) -> int:
    ws = wb[SHEET]
    r = existing_last
    for entry in entries:
        r += 1
        _entry_row(ws, r, entry)
    _rules(ws, r)
    return r


def build(path: str | os.PathLike, customers: pd.DataFrame | None = None,
          entries: pd.DataFrame | None = None, settings: Settings | None = None, *,
          example: bool | None = None) -> Path:
    """Write a value tracker to ``path`` (atomically, with formulas and values).

    Parameters
    ----------
    path : path-like
        Where to write.
    customers : pandas.DataFrame, optional
        Columns of :data:`CUSTOMER_COLUMNS`; default ``workbooks/tracker/customers.csv``.
    entries : pandas.DataFrame, optional
        Columns of :data:`ENTRY_COLUMNS`, in time order per customer; default
        ``workbooks/tracker/tracker.csv``.
    settings : Settings, optional
        Default: as of 2025-06-15, 90 days, EUR, 4 periods per year.
    example : bool, optional
        Mark the sheets as example data; default True when the examples are used.

    Raises
    ------
    TrackerInputError
        A bad entry, a duplicate customer and period, or an unknown customer.
    """
    if customers is None or entries is None:
        example = True if example is None else example
    if customers is None:
        customers = pd.read_csv(EXAMPLES / "customers.csv", dtype=str, keep_default_na=False)
    if entries is None:
        entries = pd.read_csv(EXAMPLES / "tracker.csv", dtype=str, keep_default_na=False)
    settings = settings or Settings(EXAMPLE_AS_OF)
    customer_rows = [{c: _text(rec.get(c)) for c in CUSTOMER_COLUMNS}
                     for rec in customers.to_dict("records")]
    checked, problems = [], []
    for i, record in enumerate(entries.to_dict("records")):
        entry, found = check_entry({c: record.get(c) for c in ENTRY_COLUMNS}, i + 2, "line")
        problems += found
        if entry is not None:
            checked.append((i + 2, entry))
    problems += _cross_check(checked, [], [c["customer"] for c in customer_rows
                                           if c["customer"]])
    if problems:
        raise TrackerInputError(problems)
    wb = _skeleton(customer_rows, settings, bool(example))
    clean = [e for _, e in checked]
    last = _append(wb, clean, FIRST_ROW - 1)
    _over_time(wb, clean, last)
    path = Path(path)
    _save(wb, path)
    return path


def add_period(tracker: str | os.PathLike, csv_path: str | os.PathLike) -> list[dict]:
    """Append the entries of ``csv_path`` to the tracker, recompute it and save it atomically.

    Earlier rows are not touched; the ``Over time`` sheet and its chart are
    generated anew.  Refused, with every problem listed and the file left
    byte for byte as it was: a bad line, a customer not on the Customers sheet,
    a customer and period already in the tracker or twice in the file, a period
    whose end differs from the same period's end elsewhere, or a period that
    does not end after the customer's latest one.

    Returns the entries added.
    """
    source = os.fspath(tracker)
    wb = _load(source)
    state = _read(wb, source)
    new = read_period_csv(csv_path)
    customers = [c for c in (_text(v) for v in state.customers["customer"]) if c]
    problems = _cross_check(new, _entries_of(state), customers)
    if problems:
        raise TrackerInputError(problems, csv_path)
    entries = [e for _, e in new]
    existing_last = _last_row(wb[SHEET], FIRST_ROW, len(ENTRY_COLUMNS))
    last = _append(wb, entries, existing_last)
    everything = [e for e in _entries_of(state) if e["period"] and e["period end"]] + entries
    _over_time(wb, everything, last)
    _save(wb, Path(source))
    return entries


def verified_cases(tracker: str | os.PathLike) -> pd.DataFrame:
    """Case-history rows (:data:`cvp_xl.cases.COLUMNS`) for the tracker's verified entries.

    An entry is verified when its ``verified by`` cell is filled.  Each becomes
    one case: customer, segment, situation, offering, value element and
    category from the Customers sheet; documented value per year = documented
    value x periods per year (B5); currency from B4; the entry's period;
    date = the period end; before, after and unit blank (the tracker records
    money, not the physical figures).

    Raises
    ------
    cvp_xl.cases.CaseTableError
        A verified entry that cannot become a case (rows named on their sheet).
    """
    from ..cases import CaseTableError

    source = os.fspath(tracker)
    state = read_tracker(source)
    settings = state.settings
    customers = {}
    for rec in state.customers.to_dict("records"):
        name = _text(rec["customer"])
        if name:
            customers.setdefault(name.lower(), rec)
    problems: list[RowProblem] = []
    rows, numbers = [], []
    for rec in state.entries.to_dict("records"):
        if _text(rec["verified by"]) is None:
            continue
        entry, found = check_entry(rec, rec["row"], f"{SHEET} row")
        problems += found
        if entry is None:
            continue
        info = customers.get(entry["customer"].lower())
        if info is None:
            problems.append(RowProblem(rec["row"], "customer", f"{entry['customer']!r} is not "
                                       f"on the {CUSTOMERS} sheet", f"{SHEET} row"))
            continue
        for col in ("segment", "offering", "value element", "category"):
            value = info[col]
            if _text(value) is None or (col == "category"
                                        and str(value).strip().lower() not in CATEGORIES):
                expected = (f"one of {', '.join(CATEGORIES)}" if col == "category"
                            else f"a {col}")
                problems.append(RowProblem(info["row"], col, f"expected {expected} for "
                                           f"{entry['customer']}, got {_shown(value)}",
                                           f"{CUSTOMERS} row"))
        rows.append({
            "customer": info["customer"], "segment": info["segment"],
            "situation": info["situation"], "offering": info["offering"],
            "value element": info["value element"], "category": info["category"],
            "before": None, "after": None, "unit": None,
            "documented value per year": entry["documented"] * settings.periods_per_year,
            "currency": settings.currency, "period": entry["period"],
            "verified by": entry["verified by"],
            "date": dt.datetime.combine(entry["period end"], dt.time()),
        })
        numbers.append(rec["row"])
    unique = []
    for p in problems:
        if p not in unique:
            unique.append(p)
    if unique:
        raise CaseTableError(unique, source)
    raw = pd.DataFrame(rows, columns=list(COLUMNS), dtype=object)
    raw = raw.where(raw.notna(), None)
    df, problems = validate_cases(raw, numbers, where=f"{SHEET} row")
    if problems:
        raise CaseTableError(problems, source)
    return df


def export_cases(tracker: str | os.PathLike, cases_path: str | os.PathLike
                 ) -> tuple[pd.DataFrame, int, int]:
    """Append the tracker's verified entries to a case-history workbook as case histories.

    ``cases_path`` is updated (its table keeps its formatting; Summary and case
    sheets are generated anew) or, when it does not exist, created.  Entries
    already there (same customer, value element and period, ignoring case) are
    skipped, so running it twice adds nothing the second time.  When nothing
    is new the file is not written.

    Returns
    -------
    (pandas.DataFrame, int, int)
        The cases added, the number skipped as already present, and the number
        of cases in the workbook afterwards.
    """
    from ..cases import read_cases
    from .cases import build as build_cases

    new = verified_cases(tracker)
    cases_path = Path(cases_path)
    existing = read_cases(cases_path) if cases_path.exists() else new.iloc[:0]

    def keys(df):
        return list(zip(df["customer"].str.lower(), df["value element"].str.lower(),
                        df["period"].str.lower()))

    present = set(keys(existing))
    fresh = [k not in present for k in keys(new)]
    added = new[fresh].reset_index(drop=True)
    skipped = len(new) - len(added)
    if added.empty:
        return added, skipped, len(existing)
    combined = added if existing.empty else pd.concat([existing, added], ignore_index=True)
    build_cases(cases_path, combined, template=cases_path if cases_path.exists() else None,
                example=False)
    return added, skipped, len(combined)


def build_example_workbooks(out_dir: str | os.PathLike) -> list[Path]:
    """Build the example tracker from ``workbooks/tracker/*.csv``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [build(out / "value-tracker.xlsx")]


def expected_values(tracker: Tracker) -> dict[tuple[str, str], object]:
    """What the tracker's formula cells must show, computed in Python (for tests and checks)."""
    from ..documentation import realization

    out: dict[tuple[str, str], object] = {}
    s = tracker.settings
    running: dict[str, list[float]] = {}
    entries = []
    for rec in tracker.entries.to_dict("records"):
        r = rec["row"]
        customer, doc, promised = rec["customer"], rec["documented"], rec["promised"]
        end = _as_date(rec["period end"])
        has_doc = _as_number(doc) is not None
        totals = running.setdefault(customer.lower(), [0.0, 0.0])
        totals[0] += promised
        totals[1] += doc if has_doc else 0.0
        if has_doc:
            try:
                out[(SHEET, f"G{r}")] = realization(doc, promised)
            except Exception as exc:  # the error the native formula shows
                out[(SHEET, f"G{r}")] = ErrorValue(getattr(exc, "code", "#VALUE!"))
        else:
            out[(SHEET, f"G{r}")] = ""
        out[(SHEET, f"H{r}")] = totals[0]
        out[(SHEET, f"I{r}")] = totals[1]
        overdue = (s.as_of - end).days > s.overdue_days
        out[(SHEET, f"J{r}")] = "documented" if has_doc else "overdue" if overdue else "open"
        entries.append({"period": _text(rec["period"]), "period end": end, "promised": promised,
                        "documented": doc if has_doc else None})
    for i, (label, _) in enumerate(_periods(entries)):
        r = OVER_TIME_FIRST + i
        rows = [e for e in entries if e["period"].lower() == label.lower()]
        documented = [e for e in rows if e["documented"] is not None]
        out[(OVER_TIME, f"C{r}")] = float(sum(e["promised"] for e in rows))
        if documented:
            total = float(sum(e["documented"] for e in documented))
            out[(OVER_TIME, f"D{r}")] = total
            out[(OVER_TIME, f"E{r}")] = total / sum(e["promised"] for e in documented)
        else:
            out[(OVER_TIME, f"D{r}")] = ErrorValue("#N/A")
            out[(OVER_TIME, f"E{r}")] = ErrorValue("#N/A")
    return out
