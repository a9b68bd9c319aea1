"""Value case histories: an Excel table of what reference customers actually gained.

A value case history (DOMAIN.md §4) documents the cost savings or added value
one reference customer received.  A case-history table holds one case per
row, in an Excel table (``Insert > Table``) with these columns, in any order
and with headers in any case:

==========================  ========================================  ========
column                      holds                                     required
==========================  ========================================  ========
customer                    the reference customer                    yes
segment                     its market segment                        yes
situation                   the customer's situation before           no
offering                    the offering that delivered the value     yes
value element               the value element documented               yes
category                    technical, economic, service or social    yes
before, after               the element's figure before and after     no
unit                        the unit of before and after              no
documented value per year   the documented money amount per year      yes
currency                    a 3-letter code such as EUR               yes
period                      the period the value was documented for   yes
verified by                 who at the customer verified it           yes
date                        when it was documented                    yes
==========================  ========================================  ========

:func:`read_cases` reads the table into a :class:`pandas.DataFrame` and checks
every row, reporting *all* bad cells at once by Excel row number and column
in a :class:`CaseTableError`; :func:`read_cases_csv` does the same for a CSV
file.  Writing the table back, keeping its formatting, data validation and
defined names, is :func:`cvp_xl.workbooks.case_table_writer.put_cases`; the
case-history workbook (:func:`cvp_xl.workbooks.case_histories.build`) writes
the table with its summary and case sheets.  Cells and CSV fields are read with
the one table reader, :mod:`cvp_xl.xlsx.tables`.

Conventions (chosen where Excel allows several readings):

- Rows that are blank in every column are skipped (an Excel table often ends
  with one); they are not cases.
- Text columns take text; a number typed into one (a customer called 3M is
  text, but a period typed as 2024 is a number) is read as its text, ``2024``.
- ``category`` is matched ignoring case and surrounding spaces and stored in
  lower case; ``currency`` is stored in upper case.
- ``date`` takes a date cell, or text in ISO form ``YYYY-MM-DD``; a bare number
  (a date serial in a cell not formatted as a date) is refused, since it cannot
  be told apart from an amount typed into the wrong column.
- Headers compare ignoring case, underscores and runs of spaces; columns the
  table does not know are refused: writing the table back would lose them.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from cvp_xl.errors import ProblemsError, RowProblem, WorkbookError
from cvp_xl.xlsx import tables
from cvp_xl.xlsx.tables import TableInfo, find_tables

__all__ = [
    "COLUMNS",
    "CATEGORIES",
    "HEADERS",
    "TABLE",
    "SHEET",
    "TEXT_COLUMNS",
    "NUMBER_COLUMNS",
    "RowProblem",
    "CaseTableError",
    "TableInfo",
    "find_tables",
    "header_problems",
    "read_cases",
    "read_cases_csv",
    "validate_cases",
]

#: The columns of a case-history table, in the order a new table lists them (DOMAIN.md §4).
COLUMNS = (
    "customer",
    "segment",
    "situation",
    "offering",
    "value element",
    "category",
    "before",
    "after",
    "unit",
    "documented value per year",
    "currency",
    "period",
    "verified by",
    "date",
)

#: The categories of a value element (DOMAIN.md §1).
CATEGORIES = ("technical", "economic", "service", "social")

#: Header text of each column in a new table.
HEADERS = {c: c[0].upper() + c[1:] for c in COLUMNS}

#: Name of the table and of its sheet in a new case-history workbook.
TABLE = "Cases"
SHEET = "Case histories"

#: The columns holding text, and those holding numbers.
TEXT_COLUMNS = ("customer", "segment", "situation", "offering", "value element", "unit",
                "period", "verified by")
NUMBER_COLUMNS = ("before", "after", "documented value per year")

_REQUIRED = frozenset(("customer", "segment", "offering", "value element", "category",
                       "documented value per year", "currency", "period", "verified by",
                       "date"))
_EXPECTED = {
    "customer": "a customer name",
    "segment": "a segment",
    "situation": "text",
    "offering": "an offering",
    "value element": "a value element",
    "category": f"one of {', '.join(CATEGORIES)}",
    "before": "a number",
    "after": "a number",
    "unit": "text",
    "documented value per year": "a number",
    "currency": "a 3-letter currency code such as EUR",
    "period": "a period",
    "verified by": "the name of who verified it",
    "date": "a date",
}


class CaseTableError(ProblemsError):
    """A case-history table with bad rows; ``problems`` lists every bad cell."""

    headline = " in the case-history table:"


# -- headers -------------------------------------------------------------------------------------


def header_problems(headers: list, header_row: int) -> tuple[list[int | None], list[RowProblem]]:
    """Map each column of :data:`COLUMNS` to its position in ``headers``; list the problems."""
    match = tables.match_headers(headers, COLUMNS)
    problems = [RowProblem(header_row, str(h), "appears twice" if why == "repeated" else
                           f"not a case-history column (expected: {', '.join(COLUMNS)})")
                for _, h, why in match.extra]
    problems += [RowProblem(header_row, col, "missing from the table's header row")
                 for col in match.missing]
    return [match.positions.get(c) for c in COLUMNS], problems


def _pick_table(found: list[TableInfo], table: str | None, source: str) -> TableInfo:
    if table is not None:
        for t in found:
            if t.name.lower() == table.lower():
                return t
        raise WorkbookError(f"{source}: no table named {table!r}"
                            f" (tables: {', '.join(t.name for t in found) or 'none'})")
    for t in found:
        if t.name.lower() == TABLE.lower():
            return t
    if len(found) == 1:
        return found[0]
    if not found:
        raise WorkbookError(f"{source}: no Excel table found (expected a table named {TABLE!r})")
    raise WorkbookError(f"{source}: {len(found)} tables and none named {TABLE!r}; "
                        f"name the one to read (tables: {', '.join(t.name for t in found)})")


# -- validating ----------------------------------------------------------------------------------


def _blanks_and_types(raw: pd.DataFrame) -> tuple[dict, dict]:
    """Per column: which cells are blank (None, NaN or spaces), and each cell's type."""
    blank, types = {}, {}
    for col in COLUMNS:
        s = raw[col]
        t = s.map(type)
        is_str = t.isin((str,))
        b = s.isna().to_numpy(copy=True)
        if is_str.any():
            b |= (is_str & (s.where(is_str, "x").str.strip() == "")).to_numpy()
        blank[col], types[col] = b, t
    return blank, types


def _dates(s: pd.Series, t: pd.Series) -> pd.Series:
    """Date cells and ISO text as datetime64; NaT for anything else."""
    is_dt = t.isin((dt.datetime, dt.date, pd.Timestamp)).to_numpy()
    is_str = t.isin((str,)).to_numpy()
    parsed = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    if is_dt.any():
        parsed[is_dt] = pd.to_datetime(s[is_dt].astype(object)).astype("datetime64[ns]")
    if is_str.any():
        text = s[is_str].astype(object).str.strip()
        parsed[is_str] = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce"
                                        ).astype("datetime64[ns]")
    return parsed


def _check_column(col: str, s: pd.Series, t: pd.Series, b: np.ndarray
                  ) -> tuple[pd.Series, np.ndarray]:
    """One column's clean values and which of its non-blank cells are bad."""
    if col in TEXT_COLUMNS:
        ok = t.isin((str, int, float)).to_numpy()
        return s.map(tables.as_text).where(~b, None).astype(object), ~b & ~ok
    if col in NUMBER_COLUMNS:
        ok = t.isin((int, float)).to_numpy()
        clean = pd.to_numeric(s.where(ok & ~b, np.nan), errors="coerce").astype(float)
        bad = ~b & ~ok
        if ok.any():
            bad |= ~b & ok & ~np.isfinite(clean.to_numpy())
        return clean, bad
    is_str = t.isin((str,)).to_numpy()
    if col in ("category", "currency"):
        text = s.where(is_str, "").astype(object).str.strip()
        if col == "category":
            text = text.str.lower()
            ok = text.isin(CATEGORIES).to_numpy()
        else:
            text = text.str.upper()
            ok = text.str.fullmatch(r"[A-Z]{3}").fillna(False).astype(bool).to_numpy()
        return text.where(ok, None).astype(object), ~b & ~ok
    parsed = _dates(s, t)  # date
    ok = parsed.notna().to_numpy()
    return parsed.where(ok & ~b), ~b & ~ok


def _message(col: str, value) -> str:
    if col in NUMBER_COLUMNS and isinstance(value, float) and not math.isfinite(value):
        return f"expected a finite number, got {value}"
    return f"expected {_EXPECTED[col]}, got {tables.shown(value)}"


def validate_cases(raw: pd.DataFrame, first_row: int | Sequence[int], where: str = "row"
                   ) -> tuple[pd.DataFrame, list[RowProblem]]:
    """Check raw cell values and return the clean table and every problem.

    Parameters
    ----------
    raw : pandas.DataFrame
        One column per name in :data:`COLUMNS`, object dtype, holding cell
        values as openpyxl reads them (``None`` for blank).
    first_row : int or sequence of int
        The Excel row number (or CSV line) of ``raw``'s first row, or the
        number of each row.
    where : str
        How a problem names its place: ``"row"`` or ``"line"``.

    Returns
    -------
    (pandas.DataFrame, list of RowProblem)
        The clean table (text as ``object`` with ``None`` for blank, numbers as
        ``float64`` with NaN for blank, ``date`` as ``datetime64[ns]``), its
        index reset, rows that are blank in every column dropped; and the
        problems, ordered by row and then by column.
    """
    numbers = (np.arange(first_row, first_row + len(raw)) if isinstance(first_row, int)
               else np.asarray(first_row, dtype=int))
    rows = pd.Series(numbers, index=raw.index)
    blank, types = _blanks_and_types(raw)
    keep = ~np.logical_and.reduce([blank[c] for c in COLUMNS]) if len(raw) else np.ones(0, bool)
    raw, rows = raw[keep], rows[keep]
    problems: list[tuple[int, int, RowProblem]] = []
    out = {}
    for k, col in enumerate(COLUMNS):
        s, t, b = raw[col], types[col][keep], blank[col][keep]
        clean, bad = _check_column(col, s, t, b)
        if col in _REQUIRED:
            for i in np.flatnonzero(b):
                r = int(rows.iat[i])
                problems.append((r, k, RowProblem(
                    r, col, f"expected {_EXPECTED[col]}, got a blank cell", where)))
        for i in np.flatnonzero(bad):
            r = int(rows.iat[i])
            problems.append((r, k, RowProblem(r, col, _message(col, s.iat[i]), where)))
        out[col] = clean.reset_index(drop=True)
    problems.sort(key=lambda p: (p[0], p[1]))
    return pd.DataFrame(out, columns=list(COLUMNS)), [p for _, _, p in problems]


# -- reading -------------------------------------------------------------------------------------


def read_cases(path: str | os.PathLike, table: str | None = None) -> pd.DataFrame:
    """Read and check a case-history table.

    Parameters
    ----------
    path : path-like
        An .xlsx workbook; it is checked with
        :func:`~cvp_xl.xlsx.safety.check_xlsx` before any parser sees it.
    table : str, optional
        The table's name.  Default: the table named ``Cases``, or the only
        table of the workbook.

    Returns
    -------
    pandas.DataFrame
        One row per case, the columns of :data:`COLUMNS` in that order (see
        :func:`validate_cases` for the types).

    Raises
    ------
    CaseTableError
        When any row is bad, with every bad cell in ``problems``.
    cvp_xl.errors.WorkbookError
        The file is refused, or has no such table.
    """
    from openpyxl.utils.cell import range_boundaries

    source = os.fspath(path)
    info = _pick_table(find_tables(source), table, source)
    if info.header_rows != 1:
        raise WorkbookError(f"{source}: table {info.name!r} has no header row")
    min_col, min_row, max_col, max_row = range_boundaries(info.ref)
    max_row -= info.totals_rows
    rows = tables.read_block(source, info.sheet, min_row, max_row, min_col, max_col)
    width = max_col - min_col + 1
    positions, problems = header_problems(list(rows[0]) if rows else [None] * width, min_row)
    if problems:
        raise CaseTableError(problems, source)
    body = rows[1:]
    raw = pd.DataFrame.from_records(body, columns=range(width)) if body else pd.DataFrame(
        columns=range(width))
    raw = raw.reindex(columns=range(width)).astype(object)
    raw = pd.DataFrame({c: raw[p] for c, p in zip(COLUMNS, positions)}, columns=list(COLUMNS))
    raw = raw.where(raw.notna(), None)
    df, problems = validate_cases(raw, min_row + 1)
    if problems:
        raise CaseTableError(problems, source)
    return df


def read_cases_csv(path: str | os.PathLike) -> pd.DataFrame:
    """Read and check case histories from a CSV file with the columns of :data:`COLUMNS`.

    Numbers are read from text (``86400``, ``8.5``, ``-1200``; no thousands
    separators), dates in ISO form ``YYYY-MM-DD``; an empty field is a blank
    cell.  Problems are reported by CSV line (the header is line 1).

    Raises
    ------
    CaseTableError
        When any line is bad, with every bad field in ``problems``.
    cvp_xl.errors.WorkbookError
        The file cannot be read as UTF-8 CSV.
    """
    source = os.fspath(path)
    text = tables.read_csv(source)
    positions, problems = header_problems(list(text.columns), 1)
    if problems:
        raise CaseTableError([RowProblem(p.row, p.column, p.message, "line") for p in problems],
                             source)
    raw = {}
    for col, p in zip(COLUMNS, positions):
        s = text.iloc[:, p].astype(object)
        raw[col] = (tables.numbers_from_text(s) if col in NUMBER_COLUMNS
                    else s.where(s.str.strip() != "", None))
    df, problems = validate_cases(pd.DataFrame(raw, columns=list(COLUMNS)), 2, where="line")
    if problems:
        raise CaseTableError(problems, source)
    return df
