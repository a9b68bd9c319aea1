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
cells are protected (no password), inputs unlocked and filled yellow.  Every
formula is stored with the value Python computed for it
(:mod:`cvp_xl.workbooks.tracker_sheets`, which lays the sheets out);
``add_period`` computes the values of the whole tracker again from its entries.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cvp_xl.errors import ProblemsError, RowProblem, WorkbookError
from cvp_xl.workbooks import example
from cvp_xl.workbooks.book import Book
from cvp_xl.workbooks.tracker_sheets import (
    CUSTOMER_COLUMNS,
    CUSTOMERS,
    ENTRY_COLUMNS,
    FIRST_ROW,
    HEADER_ROW,
    HEADERS,
    OVER_TIME,
    OVER_TIME_FIRST,
    SETTING_CELLS,
    SHEET,
    Settings,
    over_time_sheet,
    over_time_values,
    print_setup,
    row_values,
    rules,
    skeleton,
    write_entries,
)
from cvp_xl.xlsx import tables
from cvp_xl.xlsx.atomic import LOCK_WAIT as _WAIT
from cvp_xl.xlsx.atomic import alive, atomic_path, clean_temporaries, not_written, release
from cvp_xl.xlsx.atomic import locked as _locked
from cvp_xl.xlsx.safety import check_xlsx

__all__ = [
    "build",
    "build_example_workbooks",
    "add_period",
    "locked",
    "LOCK_WAIT",
    "verified_cases",
    "export_cases",
    "read_tracker",
    "read_period_csv",
    "check_entry",
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

EXAMPLES = example("tracker")
EXAMPLE_AS_OF = dt.date(2025, 6, 15)
#: How long :func:`add_period` waits for another command writing the same tracker (seconds).
LOCK_WAIT = _WAIT
#: What marks the temporary files of :func:`add_period` (with its process id).
_STAGING = "cvp-track"


class TrackerInputError(ProblemsError):
    """Entries refused (a bad CSV line, a duplicate customer and period, ...); nothing written."""

    headline = "; nothing was written:"


@dataclass
class Tracker:
    """A tracker as read from its workbook."""

    settings: Settings
    customers: pd.DataFrame  # CUSTOMER_COLUMNS plus "row"; cells as typed (object dtype)
    entries: pd.DataFrame  # ENTRY_COLUMNS plus "row"; cells as typed (object dtype)


# -- checking entries --------------------------------------------------------------------------


def check_entry(raw: dict, number: int, where: str) -> tuple[dict | None, list[RowProblem]]:
    """Check one entry (cell values or CSV text); return it cleaned, or None, and its problems."""
    problems = []

    def bad(column, message):
        problems.append(RowProblem(number, column, message, where))

    customer = tables.as_text(raw.get("customer"))
    if customer is None:
        bad("customer", f"expected a customer name, got {tables.shown(raw.get('customer'))}")
    period = tables.as_text(raw.get("period"))
    if period is None:
        bad("period", f"expected a period such as 2025-Q2, got {tables.shown(raw.get('period'))}")
    end = tables.as_date(raw.get("period end"))
    if end is None:
        bad("period end", "expected a date (YYYY-MM-DD), got "
                          f"{tables.shown(raw.get('period end'))}")
    promised = tables.as_number(raw.get("promised"))
    if promised is None:
        bad("promised", f"expected a number, got {tables.shown(raw.get('promised'))}")
    elif promised < 0:
        bad("promised", f"expected a promised value of 0 or more, got {promised:.15g}")
    doc_raw = raw.get("documented")
    documented = None
    if not tables.is_blank(doc_raw):
        documented = tables.as_number(doc_raw)
        if documented is None:
            bad("documented", f"expected a number or a blank cell, got {tables.shown(doc_raw)}")
    verified = tables.as_text(raw.get("verified by"))
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
    table = tables.read_csv(source)
    match = tables.match_headers(table.columns, ENTRY_COLUMNS)
    problems = [RowProblem(1, col, "missing from the header line", "line")
                for col in match.missing]
    problems += [RowProblem(1, str(h), "not a tracker column (expected: "
                            f"{', '.join(ENTRY_COLUMNS)})", "line")
                 for _, h, why in match.extra if why == "unknown"]
    if problems:
        raise TrackerInputError(problems, source)
    if table.empty:
        raise TrackerInputError([RowProblem(2, "customer", "no entries in the file", "line")],
                                source)
    out = []
    for i, row in enumerate(table.itertuples(index=False, name=None)):
        raw = {col: row[match.positions[col]] for col in ENTRY_COLUMNS}
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
        if any(not tables.is_blank(v) for v in row):
            last = r
    return last


def _settings(ws, source: str, strict: bool = False) -> Settings:
    """The settings cells; ``strict``: as-of a date cell and overdue days a number cell, as the
    formulas read them (text that looks like a date or a number is refused)."""
    raw = {key: ws[ref].value for key, ref in SETTING_CELLS.items()}
    as_of = raw["as of"] if isinstance(raw["as of"], dt.date) else tables.as_date(raw["as of"])
    days = tables.as_number(raw["overdue days"])
    currency = tables.as_text(raw["currency"])
    per_year = tables.as_number(raw["periods per year"])
    if strict:
        as_of = as_of if isinstance(raw["as of"], dt.date) else None
        days = days if tables.is_number(raw["overdue days"]) else None
    problems = []
    if as_of is None:
        problems.append(f"{SHEET}!B2 (as of): expected a date, got {tables.shown(raw['as of'])}")
    if days is None or days < 0:
        problems.append(f"{SHEET}!B3 (overdue days): expected a number of 0 or more, got "
                        f"{tables.shown(raw['overdue days'])}")
    if currency is None or not re.fullmatch(r"[A-Za-z]{3}", currency.strip()):
        problems.append(f"{SHEET}!B4 (currency): expected a 3-letter code such as EUR, got "
                        f"{tables.shown(raw['currency'])}")
    if per_year is None or per_year <= 0:
        problems.append(f"{SHEET}!B5 (periods per year): expected a number above 0, got "
                        f"{tables.shown(raw['periods per year'])}")
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
        release(exc)  # the file openpyxl left open, closed now
        raise WorkbookError(f"{source}: cannot be read ({exc})") from None
    _check_layout(wb, source)
    return wb


def _rows(ws, first: int, columns: tuple[str, ...]) -> list[dict]:
    last = _last_row(ws, first, len(columns))
    return [{**dict(zip(columns, row)), "row": r}
            for r, row in enumerate(ws.iter_rows(min_row=first, max_row=last,
                                                 max_col=len(columns), values_only=True),
                                    start=first)]


def _read(wb, source: str, strict: bool = False) -> Tracker:
    return Tracker(_settings(wb[SHEET], source, strict),
                   pd.DataFrame(_rows(wb[CUSTOMERS], 2, CUSTOMER_COLUMNS),
                                columns=[*CUSTOMER_COLUMNS, "row"], dtype=object),
                   pd.DataFrame(_rows(wb[SHEET], FIRST_ROW, ENTRY_COLUMNS),
                                columns=[*ENTRY_COLUMNS, "row"], dtype=object))


def read_tracker(path: str | os.PathLike) -> Tracker:
    """Read a tracker's settings, customers and entries (cell values as typed)."""
    return _read(_load(path), os.fspath(path))


def _cells_of(tracker: Tracker) -> tuple[list[dict], list[RowProblem]]:
    """The entries as the formulas read their cells, and the cells the formulas cannot read.

    Customer and period must be text, period end a date, promised a number and documented a
    number or blank: text that looks like a number or a date is not one to a formula.
    """
    where, out, problems = f"{SHEET} row", [], []
    for rec in tracker.entries.to_dict("records"):
        r = rec["row"]
        if all(tables.is_blank(rec[c]) for c in ENTRY_COLUMNS):
            problems.append(RowProblem(r, "customer", "a blank row between entries; delete it "
                                       "or fill it in", where))
            continue
        checks = (
            ("customer", isinstance(rec["customer"], str) and rec["customer"].strip() != "",
             "expected a customer name"),
            ("period", isinstance(rec["period"], str) and rec["period"].strip() != "",
             "expected a period such as 2025-Q2"),
            ("period end", isinstance(rec["period end"], dt.date),
             "expected a date (YYYY-MM-DD)"),
            ("promised", tables.is_number(rec["promised"]), "expected a number"),
            ("documented", rec["documented"] is None or tables.is_number(rec["documented"]),
             "expected a number or a blank cell"),
        )
        found = [RowProblem(r, col, f"{message}, got {tables.shown(rec[col])}", where)
                 for col, ok, message in checks if not ok]
        problems += found
        if not found:
            out.append({c: rec[c] for c in ENTRY_COLUMNS})
    return out, problems


def expected_values(tracker: Tracker) -> dict[tuple[str, str], object]:
    """The value of every formula cell of a tracker, computed in Python from its entries.

    ``{(sheet, "A1"): value}``: what :func:`build` and :func:`add_period` store.

    Raises
    ------
    TrackerInputError
        An entry row the formulas cannot read (see :func:`add_period`).
    """
    entries, problems = _cells_of(tracker)
    if problems:
        raise TrackerInputError(problems)
    out: dict[tuple[str, str], object] = {}
    for i, computed in enumerate(row_values(tracker.settings, entries)):
        for col, value in zip("GHIJ", computed):
            out[(SHEET, f"{col}{FIRST_ROW + i}")] = value
    for i, (_, _, promised, documented, ratio) in enumerate(over_time_values(entries)):
        r = OVER_TIME_FIRST + i
        out.update({(OVER_TIME, f"C{r}"): promised, (OVER_TIME, f"D{r}"): documented,
                    (OVER_TIME, f"E{r}"): ratio})
    return out


# -- writing -----------------------------------------------------------------------------------


def _cross_check(new: list[tuple[int, dict]], existing: list[dict], customers: Iterable[str]
                 ) -> list[RowProblem]:
    """Duplicates, unknown customers, period ends that disagree or go back in time."""
    problems = []
    known = {c.lower(): c for c in customers}
    seen: dict[tuple[str, str], str] = {}
    ends: dict[str, tuple[dt.date, str]] = {}
    latest: dict[str, tuple[dt.date, str]] = {}
    for e in existing:
        key = (e["customer"].lower(), e["period"].lower())
        seen.setdefault(key, f"is already in the tracker (row {e['row']}); edit that row "
                             "instead of adding it again")
        end = tables.as_date(e["period end"])
        ends.setdefault(e["period"].lower(), (end, "elsewhere in the tracker"))
        prev = latest.get(e["customer"].lower())
        if prev is None or end > prev[0]:
            latest[e["customer"].lower()] = (end, e["period"])
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


def _write(book: Book, settings: Settings, entries: list[dict], first_new: int,
           path: Path, source: str) -> None:
    """Entry rows, rules and the Over time sheet with their values; saved once, atomically."""
    values = row_values(settings, entries, book.wb.epoch)
    last = write_entries(book, entries, values, first_new)
    rules(book.wb[SHEET], last)
    over_time_sheet(book, entries, last)
    foreign = book.missing()
    if foreign:
        raise WorkbookError(f"{source}: formulas cvp-xl does not write and cannot compute: "
                            f"{', '.join(foreign[:10])}{' ...' if len(foreign) > 10 else ''}; "
                            "move them to another workbook")
    print_setup(book)
    book.save(path)


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
        customers = tables.read_csv(EXAMPLES / "customers.csv")
    if entries is None:
        entries = tables.read_csv(EXAMPLES / "tracker.csv")
    settings = settings or Settings(EXAMPLE_AS_OF)
    customer_rows = [{c: tables.as_text(rec.get(c)) for c in CUSTOMER_COLUMNS}
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
    book = Book()
    skeleton(book, customer_rows, settings, bool(example))
    path = Path(path)
    _write(book, settings, [e for _, e in checked], 0, path, os.fspath(path))
    return path


# -- one writer at a time ---------------------------------------------------------------------


def locked(path: str | os.PathLike, wait: float | None = None):
    """Hold the advisory lock of the tracker ``path`` (:func:`cvp_xl.xlsx.atomic.locked`),
    waiting :data:`LOCK_WAIT` seconds by default for another writer."""
    return _locked(path, LOCK_WAIT if wait is None else wait)


def _leftovers(real: Path) -> list[Path]:
    """Temporary files of an earlier :func:`add_period` on ``real`` that did not finish, left
    by a process that is gone (``kill -9``, a power cut)."""
    pattern = re.compile(rf"\.{{1,2}}{re.escape(real.name)}\.(\d+)\.{_STAGING}\.")
    found = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(real.parent):
            match = pattern.match(entry.name)
            if match and not alive(int(match.group(1))) and entry.is_file(
                    follow_symlinks=False):
                found.append(Path(entry.path))
    return found


def _replace(real: Path, save) -> None:
    """Write ``real`` whole: ``save(staging)`` to a temporary file beside it that carries our
    process id (``Book.save``: whole and synced), then rename it over ``real`` with ``real``'s
    permissions."""
    staging = real.parent / f".{real.name}.{os.getpid()}.{_STAGING}.xlsx"
    try:
        with atomic_path(real) as tmp:
            save(staging)
            os.replace(staging, tmp)
    finally:
        with contextlib.suppress(OSError):
            staging.unlink()


def add_period(tracker: str | os.PathLike, csv_path: str | os.PathLike) -> list[dict]:
    """Append the entries of ``csv_path`` to the tracker, recompute it and save it atomically.

    Earlier rows keep their inputs and formats; their formulas (columns G to J)
    are written as :func:`build` writes them, every formula's value is computed
    again in Python from the entries, and the ``Over time`` sheet and its chart
    are generated anew.  Refused, with every problem listed and the file left
    byte for byte as it was: a bad line, a customer not on the Customers sheet,
    a customer and period already in the tracker or twice in the file, a period
    whose end differs from the same period's end elsewhere, or a period that
    does not end after the customer's latest one; also a tracker whose entry
    rows the formulas cannot read (text where a number or a date belongs, a
    blank row between entries), whose as-of date (B2) or overdue days (B3) are
    not a date and a number, or that holds formulas of its own.

    One writer at a time: the whole read, check and write runs under the tracker's lock
    (:func:`locked`), so of two runs at once both add their entries, one after the other, or
    the second is refused after :data:`LOCK_WAIT` seconds; an update is never lost.  The new
    file is written beside the tracker under a temporary name that carries the process id and
    renamed over it; the temporaries of a run that was killed are removed by the next run.
    An OS error while writing (a full disk, a read-only folder) raises
    :class:`~cvp_xl.errors.WorkbookError` naming the tracker and the error, the tracker as it
    was.

    Returns the entries added.
    """
    from cvp_xl.xlsx.contents import has_macros

    source = os.fspath(tracker)
    if not os.path.isfile(source):
        _load(source)  # its message for a missing file or a folder; nothing to lock
    if has_macros(source):  # the tracker is rebuilt through openpyxl: macros would be lost
        raise WorkbookError(f"{source}: refused: a workbook with macros (.xlsm); adding a "
                            "period rebuilds the tracker and would lose them (keep the "
                            "tracker as an .xlsx workbook)")
    with locked(source) as real:
        clean_temporaries(real.parent, [real.name])
        for leftover in _leftovers(real):
            with contextlib.suppress(OSError):
                leftover.unlink()
        wb = _load(source)
        state = _read(wb, source, strict=True)
        existing, problems = _cells_of(state)
        if problems:
            raise TrackerInputError(problems, source)
        new = read_period_csv(csv_path)
        customers = [c for c in (tables.as_text(v) for v in state.customers["customer"]) if c]
        rows = [{**e, "row": FIRST_ROW + i} for i, e in enumerate(existing)]
        problems = _cross_check(new, rows, customers)
        if problems:
            raise TrackerInputError(problems, csv_path)
        added = [e for _, e in new]
        try:
            _replace(real, lambda staging: _write(Book(wb), state.settings, existing + added,
                                                  len(existing), staging, source))
        except OSError as exc:
            raise not_written(source, exc) from None
    return added


def build_example_workbooks(out_dir: str | os.PathLike) -> list[Path]:
    """Build the example tracker from ``workbooks/tracker/*.csv``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [build(out / "value-tracker.xlsx")]


def verified_cases(tracker: str | os.PathLike) -> pd.DataFrame:
    """Case-history rows for the tracker's verified entries
    (:func:`cvp_xl.workbooks.tracker_cases.verified_cases`)."""
    from cvp_xl.workbooks.tracker_cases import verified_cases as cases

    return cases(tracker)


def export_cases(tracker: str | os.PathLike, cases_path: str | os.PathLike
                 ) -> tuple[pd.DataFrame, int, int]:
    """Append the tracker's verified entries to a case-history workbook
    (:func:`cvp_xl.workbooks.tracker_cases.export_cases`)."""
    from cvp_xl.workbooks.tracker_cases import export_cases as export

    return export(tracker, cases_path)
