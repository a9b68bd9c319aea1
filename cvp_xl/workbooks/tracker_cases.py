"""Case histories from the value tracker: its verified entries, appended to a case-history workbook.

``cvp-xl cases TRACKER --to CASES.xlsx``: an entry whose ``verified by`` cell is
filled becomes a case history (DOMAIN.md §4), with the customer's segment,
situation, offering, value element and category from the tracker's Customers
sheet.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from pathlib import Path

import pandas as pd

from cvp_xl.errors import RowProblem, WorkbookError
from cvp_xl.workbooks.case_table import (
    CATEGORIES,
    COLUMNS,
    TABLE,
    CaseTableError,
    validate_cases,
)
from cvp_xl.workbooks.tracker import CUSTOMERS, SHEET, Settings, check_entry, read_tracker
from cvp_xl.xlsx import tables
from cvp_xl.xlsx.atomic import clean_temporaries, locked, not_written

__all__ = ["verified_cases", "export_cases", "append_cases", "what_would_be_lost"]


def _customer_problems(info: dict, customer: str) -> list[RowProblem]:
    """What a customer's row lacks to make a case history."""
    problems = []
    for col in ("segment", "offering", "value element", "category"):
        value = info[col]
        if tables.as_text(value) is None or (col == "category"
                                             and str(value).strip().lower() not in CATEGORIES):
            expected = f"one of {', '.join(CATEGORIES)}" if col == "category" else f"a {col}"
            problems.append(RowProblem(info["row"], col, f"expected {expected} for {customer}, "
                                       f"got {tables.shown(value)}", f"{CUSTOMERS} row"))
    return problems


def _case(info: dict, entry: dict, settings: Settings) -> dict:
    """The case history of one verified entry."""
    return {
        "customer": info["customer"], "segment": info["segment"],
        "situation": info["situation"], "offering": info["offering"],
        "value element": info["value element"], "category": info["category"],
        "before": None, "after": None, "unit": None,
        "documented value per year": entry["documented"] * settings.periods_per_year,
        "currency": settings.currency, "period": entry["period"],
        "verified by": entry["verified by"],
        "date": dt.datetime.combine(entry["period end"], dt.time()),
    }


def verified_cases(tracker: str | os.PathLike) -> pd.DataFrame:
    """Case-history rows (:data:`~cvp_xl.workbooks.case_table.COLUMNS`) for verified entries.

    An entry is verified when its ``verified by`` cell is filled.  Each becomes
    one case: customer, segment, situation, offering, value element and
    category from the Customers sheet; documented value per year = documented
    value x periods per year (B5); currency from B4; the entry's period;
    date = the period end; before, after and unit blank (the tracker records
    money, not the physical figures).

    Raises
    ------
    cvp_xl.workbooks.case_table.CaseTableError
        A verified entry that cannot become a case (rows named on their sheet).
    """
    source = os.fspath(tracker)
    state = read_tracker(source)
    customers: dict[str, dict] = {}
    for rec in state.customers.to_dict("records"):
        name = tables.as_text(rec["customer"])
        if name:
            customers.setdefault(name.lower(), rec)
    problems: list[RowProblem] = []
    rows, numbers = [], []
    for rec in state.entries.to_dict("records"):
        if tables.as_text(rec["verified by"]) is None:
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
        problems += [p for p in _customer_problems(info, entry["customer"]) if p not in problems]
        rows.append(_case(info, entry, state.settings))
        numbers.append(rec["row"])
    if problems:
        raise CaseTableError(problems, source)
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
    sheets are generated anew, with their values) or, when it does not exist,
    created.  Entries already there (same customer, value element and period,
    ignoring case) are skipped, so running it twice adds nothing the second
    time.  When nothing is new the file is not written.

    One writer at a time: the read, check and write of ``cases_path`` run under its lock
    (:func:`cvp_xl.xlsx.atomic.locked`), so of two exports at once the second waits (or is
    refused after :data:`~cvp_xl.xlsx.atomic.LOCK_WAIT` seconds) and never drops the first's
    cases.  An OS error while writing (a full disk, a read-only folder) raises
    :class:`~cvp_xl.errors.WorkbookError` naming ``cases_path`` and the error, the file as
    it was.

    Returns
    -------
    (pandas.DataFrame, int, int)
        The cases added, the number skipped as already present, and the number
        of cases in the workbook afterwards.
    """
    return append_cases(verified_cases(tracker), cases_path)


def append_cases(new: pd.DataFrame, cases_path: str | os.PathLike
                 ) -> tuple[pd.DataFrame, int, int]:
    """Append checked case rows to a case-history workbook, as :func:`export_cases` says: under
    its lock, skipping those already there, refusing to write over a person's cells, whole or
    not at all.  Returns the cases added, the number skipped and the number afterwards."""
    cases_path = Path(cases_path)
    with locked(cases_path) as real:
        clean_temporaries(real.parent, [real.name])  # what a killed run left
        try:
            return _export(new, cases_path)
        except OSError as exc:
            raise not_written(cases_path, exc, cases_path.exists()) from None


def _export(new: pd.DataFrame, cases_path: Path) -> tuple[pd.DataFrame, int, int]:
    """:func:`append_cases` with the lock of ``cases_path`` held."""
    from cvp_xl.workbooks.case_histories import build as build_cases
    from cvp_xl.workbooks.case_table import read_cases

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
    if cases_path.exists():
        lost = what_would_be_lost(cases_path, existing, len(combined))
        if lost:
            raise WorkbookError(
                f"{cases_path}: {len(added)} case histor{'y' if len(added) == 1 else 'ies'} "
                f"would be added, but these cells would be written over: {'; '.join(lost)}. "
                f"Move them to a sheet of your own (or below the rows the table grows into) "
                f"and run again; nothing was written")
    build_cases(cases_path, combined, template=cases_path if cases_path.exists() else None,
                example=False)
    return added, skipped, len(combined)


_GENERATED = re.compile(r"^(Summary|Case \d+)$")


def _shown_cell(cell) -> str:
    value = cell.value
    if cell.data_type == "f":
        return f"{cell.parent.title}!{cell.coordinate} (the formula {value})"
    return f"{cell.parent.title}!{cell.coordinate} ({tables.shown(value)})"


def what_would_be_lost(cases_path: str | os.PathLike, existing: pd.DataFrame,
                       new_count: int) -> list[str]:
    """What a person put in a case-history workbook that appending cases would write over.

    Two places are rewritten: the rows below the table that it grows into (its columns),
    and the sheets generated anew (``Summary`` and ``Case N``), where a cell that differs
    from the sheet generated for the cases already there (a note, a formula, a comment) is
    a person's.  Returns one ``Sheet!A1 (what it holds)`` per cell; empty when nothing is
    in the way.
    """
    from openpyxl import load_workbook
    from openpyxl.utils.cell import range_boundaries

    from cvp_xl.workbooks.case_histories import EXAMPLE_NOTE
    from cvp_xl.workbooks.case_histories import build as build_cases

    cases_path = Path(cases_path)
    wb = load_workbook(cases_path)
    lost = []
    found = [(ws, t) for ws in wb.worksheets for t in ws.tables.values()]
    named = [(ws, t) for ws, t in found if (t.displayName or "").lower() == TABLE.lower()]
    for ws, t in (named or found)[:1]:
        min_col, min_row, max_col, max_row = range_boundaries(t.ref)
        first = min_row + (t.headerRowCount if t.headerRowCount is not None else 1)
        new_last = first + max(new_count, 1) - 1
        for row in ws.iter_rows(min_row=max_row + 1, max_row=new_last, min_col=min_col,
                                max_col=max_col):
            lost += [_shown_cell(c) for c in row if c.value not in (None, "")]
            lost += [f"{c.parent.title}!{c.coordinate} (a comment)" for c in row
                     if c.comment is not None]
            for c in row:  # the reference below is built without them
                c.value, c.comment = None, None
    generated = [ws for ws in wb.worksheets if _GENERATED.match(ws.title)]
    if not generated:
        return lost
    example = any(c.value == EXAMPLE_NOTE for ws in generated for row in ws.iter_rows()
                  for c in row)
    with tempfile.TemporaryDirectory(prefix="cvp_xl_cases_") as tmp:
        template, reference = Path(tmp) / "template.xlsx", Path(tmp) / "reference.xlsx"
        wb.save(template)
        try:
            build_cases(reference, existing, template=template, example=example)
        except WorkbookError:  # refused for a reason of its own: the export says which
            return lost
        ref = load_workbook(reference)
        wb = load_workbook(cases_path)
        generated = [ws for ws in wb.worksheets if _GENERATED.match(ws.title)]
    for ws in generated:
        other = ref[ws.title] if ws.title in ref.sheetnames else None
        for row in ws.iter_rows():
            for c in row:
                expected = other[c.coordinate].value if other is not None else None
                if c.value not in (None, "") and c.value != expected:
                    lost.append(_shown_cell(c))
                if c.comment is not None:
                    lost.append(f"{ws.title}!{c.coordinate} (a comment)")
    return lost
