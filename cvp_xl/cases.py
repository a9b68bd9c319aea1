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
in a :class:`CaseTableError`; :func:`write_cases` writes a DataFrame back into
the table, keeping the table's formatting, data validation and defined names.

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
- Columns the table does not know are refused: writing the table back would
  lose them.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import posixpath
import zipfile
from collections.abc import Sequence
from copy import copy
from dataclasses import dataclass
from pathlib import Path

import defusedxml.ElementTree as DefusedET
import numpy as np
import pandas as pd

from .args import describe
from .errors import ProblemsError, RowProblem, WorkbookError
from .xlsx.safety import check_xlsx

__all__ = [
    "COLUMNS",
    "CATEGORIES",
    "HEADERS",
    "TABLE",
    "SHEET",
    "RowProblem",
    "CaseTableError",
    "TableInfo",
    "find_tables",
    "read_cases",
    "read_cases_csv",
    "validate_cases",
    "write_cases",
    "new_case_workbook",
    "put_cases",
    "defined_name",
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

_TEXT = ("customer", "segment", "situation", "offering", "value element", "unit", "period",
         "verified by")
_NUMBER = ("before", "after", "documented value per year")
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


# -- finding the table ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TableInfo:
    """An Excel table as the file declares it."""

    sheet: str
    name: str
    ref: str
    header_rows: int
    totals_rows: int
    columns: tuple[str, ...]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _rel_id(elem) -> str | None:
    for key, value in elem.attrib.items():
        if key.endswith("}id"):
            return value
    return None


def _rels(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Relationships of a part: ``{id: (type, absolute target)}``."""
    folder, name = posixpath.split(part)
    rels_name = posixpath.join(folder, "_rels", name + ".rels")
    try:
        root = DefusedET.fromstring(archive.read(rels_name))
    except KeyError:
        return {}
    out = {}
    for rel in root:
        target = rel.get("Target", "")
        if rel.get("TargetMode") == "External":
            continue
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join(folder, target))
        out[rel.get("Id")] = (rel.get("Type", ""), path)
    return out


@dataclass(frozen=True)
class _Book:
    """Where the parts of a workbook are (absolute names inside the zip)."""

    sheets: dict[str, str]
    styles: str | None
    shared_strings: str | None
    date1904: bool


def _book(archive: zipfile.ZipFile) -> _Book:
    root = DefusedET.fromstring(archive.read("xl/workbook.xml"))
    rels = _rels(archive, "xl/workbook.xml")
    sheets, date1904 = {}, False
    for elem in root.iter():
        tag = _local(elem.tag)
        if tag == "workbookPr":
            date1904 = elem.get("date1904", "0").lower() in ("1", "true")
        elif tag == "sheet":
            rel = rels.get(_rel_id(elem) or "")
            if rel is not None and rel[0].endswith("/worksheet"):
                sheets[elem.get("name", "")] = rel[1]
    by_type = {kind.rsplit("/", 1)[-1]: target for kind, target in rels.values()}
    return _Book(sheets, by_type.get("styles"), by_type.get("sharedStrings"), date1904)


def find_tables(path: str | os.PathLike) -> list[TableInfo]:
    """Every Excel table of the workbook at ``path``, sheet by sheet, without loading the cells.

    The file is checked with :func:`~cvp_xl.xlsx.safety.check_xlsx` first.
    """
    name = os.fspath(path)
    check_xlsx(name)
    tables = []
    try:
        with zipfile.ZipFile(name) as archive:
            for sheet, part in _book(archive).sheets.items():
                for kind, target in _rels(archive, part).values():
                    if not kind.endswith("/table"):
                        continue
                    t = DefusedET.fromstring(archive.read(target))
                    columns = tuple(c.get("name", "") for c in t.iter()
                                    if _local(c.tag) == "tableColumn")
                    tables.append(TableInfo(
                        sheet=sheet,
                        name=t.get("displayName") or t.get("name", ""),
                        ref=t.get("ref", ""),
                        header_rows=int(t.get("headerRowCount", "1")),
                        totals_rows=int(t.get("totalsRowCount", "0")),
                        columns=columns,
                    ))
    except (KeyError, zipfile.BadZipFile, DefusedET.ParseError) as exc:
        raise WorkbookError(f"{name}: not a valid .xlsx file: {exc}") from None
    return tables


# -- reading cells -------------------------------------------------------------------------------
#
# openpyxl's reader parses each cell through Python-level XML callbacks (and, with defusedxml
# installed, a pure-Python parser), about 30 microseconds a cell here; a table of 100,000 cases
# has 1.4 million cells.  The reader below streams the worksheet through lxml's C parser and
# keeps only the table's block: shared and inline strings, numbers, dates (by the cell's number
# format, as openpyxl decides it), booleans, errors.  The file has passed check_xlsx (no DTD, no
# entities) before it gets here.

_DIGITS = "0123456789"


def _lxml_parser_args() -> dict:
    return {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": True}


def _string_of(si, ns: str) -> str:
    """The text of a shared or inline string, without phonetic (rPh) runs."""
    return "".join(t.text or "" for t in si.iter(f"{ns}t") if t.getparent().tag != f"{ns}rPh")


def _shared_strings(archive: zipfile.ZipFile, part: str | None) -> list[str]:
    from lxml import etree

    if part is None:
        return []
    out = []
    with archive.open(part) as stream:
        for _, si in etree.iterparse(stream, events=("end",), tag="{*}si",
                                     **_lxml_parser_args()):
            ns = si.tag[: si.tag.index("}") + 1] if si.tag.startswith("{") else ""
            out.append(_string_of(si, ns))
            si.clear()
    return out


def _date_styles(archive: zipfile.ZipFile, part: str | None) -> set[int]:
    """Indexes of the cell formats (``s`` attribute) whose number format is a date or time."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

    if part is None:
        return set()
    root = DefusedET.fromstring(archive.read(part))
    custom = {}
    for elem in root.iter():
        if _local(elem.tag) == "numFmt":
            custom[int(elem.get("numFmtId", "-1"))] = elem.get("formatCode", "")
    dates = set()
    for elem in root.iter():
        if _local(elem.tag) == "cellXfs":
            for i, xf in enumerate(x for x in elem if _local(x.tag) == "xf"):
                fmt_id = int(xf.get("numFmtId", "0"))
                code = custom.get(fmt_id, BUILTIN_FORMATS.get(fmt_id))
                if code is not None and is_date_format(code):
                    dates.add(i)
    return dates


def _column_index(letters: str, cache: dict[str, int]) -> int:
    index = cache.get(letters)
    if index is None:
        index = 0
        for ch in letters:
            index = index * 26 + ord(ch) - 64
        cache[letters] = index
    return index


def _read_block(source: str, sheet: str, min_row: int, max_row: int, min_col: int,
                max_col: int) -> list[list]:
    """The values of a block of cells, row by row, ``None`` for blank (as openpyxl reads them)."""
    from lxml import etree
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

    from .xlsx.values import ErrorValue

    width = max_col - min_col + 1
    rows = [[None] * width for _ in range(max_row - min_row + 1)]
    try:
        with zipfile.ZipFile(source) as archive:
            book = _book(archive)
            if sheet not in book.sheets:
                raise WorkbookError(f"{source}: no worksheet named {sheet!r}")
            shared = _shared_strings(archive, book.shared_strings)
            dates = _date_styles(archive, book.styles)
            epoch = CALENDAR_MAC_1904 if book.date1904 else CALENDAR_WINDOWS_1900
            cache: dict[str, int] = {}
            row_number = 0
            tag_v = tag_is = tag_t = ns = None
            with archive.open(book.sheets[sheet]) as stream:
                for _, row in etree.iterparse(stream, events=("end",), tag="{*}row",
                                              **_lxml_parser_args()):
                    r = row.get("r")
                    row_number = int(r) if r else row_number + 1
                    if row_number > max_row:
                        break
                    if row_number >= min_row:
                        if tag_v is None:
                            ns = row.tag[: row.tag.index("}") + 1] if row.tag[0] == "{" else ""
                            tag_v, tag_is, tag_t = f"{ns}v", f"{ns}is", f"{ns}t"
                        out = rows[row_number - min_row]
                        col = 0
                        for c in row:
                            ref = c.get("r")
                            if ref:
                                letters = ref.rstrip(_DIGITS)
                                col = cache.get(letters) or _column_index(letters, cache)
                            else:
                                col += 1
                            if not min_col <= col <= max_col:
                                continue
                            t = c.get("t")
                            if t == "inlineStr":
                                value = None
                                for child in c:
                                    if child.tag == tag_is:
                                        value = (child[0].text or "" if len(child) == 1
                                                 and child[0].tag == tag_t
                                                 else _string_of(child, ns))
                                out[col - min_col] = value
                                continue
                            v = None
                            for child in c:
                                if child.tag == tag_v:
                                    v = child.text
                            if v is None or v == "":
                                continue
                            if t is None or t == "n":
                                num = float(v) if ("." in v or "E" in v or "e" in v) else int(v)
                                st = c.get("s")
                                value = from_excel(num, epoch) if st and int(st) in dates \
                                    else num
                            elif t == "s":
                                value = shared[int(v)]
                            elif t == "str":
                                value = v
                            elif t == "b":
                                value = v.strip() in ("1", "true")
                            elif t == "e":
                                value = ErrorValue(v.strip())
                            elif t == "d":
                                value = dt.datetime.fromisoformat(v.strip())
                            else:
                                value = v
                            out[col - min_col] = value
                    row.clear()
                    parent = row.getparent()
                    while row.getprevious() is not None:
                        del parent[0]
    except (KeyError, IndexError, ValueError, zipfile.BadZipFile, etree.XMLSyntaxError) as exc:
        raise WorkbookError(f"{source}: not a valid .xlsx file: {exc}") from None
    return rows


def _pick_table(tables: list[TableInfo], table: str | None, source: str) -> TableInfo:
    if table is not None:
        for t in tables:
            if t.name.lower() == table.lower():
                return t
        raise WorkbookError(f"{source}: no table named {table!r}"
                            f" (tables: {', '.join(t.name for t in tables) or 'none'})")
    for t in tables:
        if t.name.lower() == TABLE.lower():
            return t
    if len(tables) == 1:
        return tables[0]
    if not tables:
        raise WorkbookError(f"{source}: no Excel table found (expected a table named {TABLE!r})")
    raise WorkbookError(f"{source}: {len(tables)} tables and none named {TABLE!r}; "
                        f"name the one to read (tables: {', '.join(t.name for t in tables)})")


def _canonical(header) -> str:
    return " ".join(str(header if header is not None else "").split()).lower()


def _header_problems(headers: list[str], header_row: int) -> tuple[list[int | None], list]:
    """Map each canonical column to its position in ``headers``; list the header problems."""
    problems = []
    position: dict[str, int] = {}
    for i, h in enumerate(headers):
        key = _canonical(h)
        if key in COLUMNS and key not in position:
            position[key] = i
        else:
            reason = ("appears twice" if key in position else
                      f"not a case-history column (expected: {', '.join(COLUMNS)})")
            problems.append(RowProblem(header_row, str(h), reason))
    for col in COLUMNS:
        if col not in position:
            problems.append(RowProblem(header_row, col, "missing from the table's header row"))
    return [position.get(c) for c in COLUMNS], problems


# -- validating ----------------------------------------------------------------------------------


def _shown(value) -> str:
    if isinstance(value, dt.datetime):
        fmt = "%Y-%m-%d" if value.time() == dt.time(0) else "%Y-%m-%d %H:%M:%S"
        return f"the date {value.strftime(fmt)}"
    if isinstance(value, dt.date):
        return f"the date {value.isoformat()}"
    if isinstance(value, dt.time):
        return f"the time {value.isoformat()}"
    return describe(value)


def _as_text(value):
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return value


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
    blank = {}
    types = {}
    for col in COLUMNS:
        s = raw[col]
        t = s.map(type)
        is_str = t.isin((str,))
        b = s.isna().to_numpy(copy=True)
        if is_str.any():
            b |= (is_str & (s.where(is_str, "x").str.strip() == "")).to_numpy()
        blank[col], types[col] = b, t
    keep = ~np.logical_and.reduce([blank[c] for c in COLUMNS]) if len(raw) else np.ones(0, bool)
    raw, rows = raw[keep], rows[keep]
    blank = {c: b[keep] for c, b in blank.items()}
    types = {c: t[keep] for c, t in types.items()}

    problems: list[tuple[int, int, RowProblem]] = []
    out = {}
    for k, col in enumerate(COLUMNS):
        s, t, b = raw[col], types[col], blank[col]
        bad = np.zeros(len(s), bool)
        if col in _TEXT:
            ok = t.isin((str,)).to_numpy() | t.isin((int, float)).to_numpy()
            bad = ~b & ~ok
            clean = s.map(_as_text).where(~b, None).astype(object)
        elif col in _NUMBER:
            ok = t.isin((int, float)).to_numpy()
            bad = ~b & ~ok
            clean = pd.to_numeric(s.where(ok & ~b, np.nan), errors="coerce").astype(float)
            if ok.any():
                finite = np.isfinite(clean.to_numpy())
                bad |= ~b & ok & ~finite
        elif col == "category":
            low = s.where(t.isin((str,)).to_numpy(), "").astype(object).str.strip().str.lower()
            ok = low.isin(CATEGORIES).to_numpy()
            bad = ~b & ~ok
            clean = low.where(ok, None).astype(object)
        elif col == "currency":
            up = s.where(t.isin((str,)).to_numpy(), "").astype(object).str.strip().str.upper()
            ok = up.str.fullmatch(r"[A-Z]{3}").fillna(False).astype(bool).to_numpy()
            bad = ~b & ~ok
            clean = up.where(ok, None).astype(object)
        else:  # date
            is_dt = t.isin((dt.datetime, dt.date, pd.Timestamp)).to_numpy()
            is_str = t.isin((str,)).to_numpy()
            parsed = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
            if is_dt.any():
                parsed[is_dt] = pd.to_datetime(s[is_dt].astype(object)).astype("datetime64[ns]")
            if is_str.any():
                text = s[is_str].astype(object).str.strip()
                parsed[is_str] = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce"
                                                ).astype("datetime64[ns]")
            ok = parsed.notna().to_numpy()
            bad = ~b & ~ok
            clean = parsed.where(ok & ~b)
        if col in _REQUIRED:
            for i in np.flatnonzero(b):
                problems.append((int(rows.iat[i]), k, RowProblem(
                    int(rows.iat[i]), col, f"expected {_EXPECTED[col]}, got a blank cell", where)))
        for i in np.flatnonzero(bad):
            value = s.iat[i]
            if col in _NUMBER and isinstance(value, float) and not math.isfinite(value):
                message = f"expected a finite number, got {value}"
            else:
                message = f"expected {_EXPECTED[col]}, got {_shown(value)}"
            problems.append((int(rows.iat[i]), k, RowProblem(int(rows.iat[i]), col, message,
                                                             where)))
        out[col] = clean.reset_index(drop=True)
    problems.sort(key=lambda p: (p[0], p[1]))
    df = pd.DataFrame(out, columns=list(COLUMNS))
    return df, [p for _, _, p in problems]


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
    rows = _read_block(source, info.sheet, min_row, max_row, min_col, max_col)
    width = max_col - min_col + 1
    headers = list(rows[0]) if rows else []
    headers += [None] * (width - len(headers))
    positions, problems = _header_problems(headers, min_row)
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
    try:
        text = pd.read_csv(source, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise WorkbookError(f"{source}: cannot be read as a UTF-8 CSV file "
                            f"({str(exc).strip()})") from None
    positions, problems = _header_problems(list(text.columns), 1)
    if problems:
        for i, p in enumerate(problems):
            problems[i] = RowProblem(p.row, p.column, p.message, "line")
        raise CaseTableError(problems, source)
    raw = {}
    for col, p in zip(COLUMNS, positions):
        s = text.iloc[:, p].astype(object)
        s = s.where(s.str.strip() != "", None)
        if col in _NUMBER:
            num = pd.to_numeric(s.str.strip(), errors="coerce")
            s = s.where(num.isna(), num.astype(object))
        raw[col] = s
    df, problems = validate_cases(pd.DataFrame(raw, columns=list(COLUMNS)), 2, where="line")
    if problems:
        raise CaseTableError(problems, source)
    return df


# -- writing -------------------------------------------------------------------------------------


def defined_name(column: str) -> str:
    """The workbook name of a column's data range, e.g. ``cases_value_element``."""
    return "cases_" + column.replace(" ", "_")


def new_case_workbook():
    """A workbook with an empty case-history table (one blank row), styled and validated.

    The sheet is not protected: every cell of the table is an input, and Excel
    cannot grow a table on a protected sheet.  Each column's data range has a
    workbook name (:func:`defined_name`), which :func:`put_cases` resizes with
    the table, so formulas elsewhere follow the table.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.worksheet.datavalidation import DataValidation
    from openpyxl.worksheet.table import Table, TableStyleInfo

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    widths = {"customer": 24, "segment": 16, "situation": 36, "offering": 22,
              "value element": 30, "category": 12, "before": 10, "after": 10, "unit": 14,
              "documented value per year": 16, "currency": 9, "period": 14, "verified by": 26,
              "date": 12}
    fill = PatternFill("solid", fgColor="FFF2CC")
    for j, col in enumerate(COLUMNS, start=1):
        letter = get_column_letter(j)
        head = ws.cell(1, j, HEADERS[col])
        head.font = Font(bold=True)
        head.alignment = Alignment(wrap_text=True, vertical="top")
        cell = ws.cell(2, j)
        cell.fill = fill
        cell.protection = Protection(locked=False)
        if col == "documented value per year":
            cell.number_format = "#,##0"
        elif col in ("before", "after"):
            cell.number_format = "#,##0.##"
        elif col == "date":
            cell.number_format = "yyyy-mm-dd"
        elif col in _TEXT:
            cell.number_format = "@"
        ws.column_dimensions[letter].width = widths[col]
        wb.defined_names[defined_name(col)] = DefinedName(
            defined_name(col), attr_text=f"{_quote(SHEET)}!${letter}$2:${letter}$2")
    last = get_column_letter(len(COLUMNS))
    table = Table(displayName=TABLE, ref=f"A1:{last}2")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(table)
    ws.freeze_panes = "B2"

    def validation(col, dv):
        letter = get_column_letter(COLUMNS.index(col) + 1)
        dv.showErrorMessage = True
        dv.errorStyle = "stop"
        dv.showInputMessage = True
        dv.add(f"{letter}2:{letter}2")
        ws.add_data_validation(dv)

    validation("category", DataValidation(
        type="list", formula1=f'"{",".join(CATEGORIES)}"', allow_blank=False,
        errorTitle="Category", error="Choose technical, economic, service or social.",
        promptTitle="Category", prompt="The value element's category (DOMAIN.md section 1)."))
    validation("currency", DataValidation(
        type="textLength", operator="equal", formula1="3", allow_blank=False,
        errorTitle="Currency", error="A 3-letter currency code such as EUR or USD.",
        promptTitle="Currency", prompt="3-letter code of the documented value's currency."))
    for col in _NUMBER:
        validation(col, DataValidation(
            type="decimal", operator="between", formula1="-1E+15", formula2="1E+15",
            allow_blank=True, errorTitle=HEADERS[col], error="A number (no text, no units).",
            promptTitle=HEADERS[col], prompt="A number; put the unit in the unit column."
            if col != "documented value per year" else "Money per year, a number."))
    validation("date", DataValidation(
        type="date", operator="greaterThanOrEqual", formula1="1", allow_blank=False,
        errorTitle="Date", error="A date, e.g. 2024-03-31.",
        promptTitle="Date", prompt="When the value was documented."))
    return wb


def _quote(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


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


def _frame_to_raw(df: pd.DataFrame) -> tuple[pd.DataFrame, list[RowProblem]]:
    """The DataFrame's cells as plain Python values, columns matched ignoring case."""
    positions, problems = _header_problems(list(df.columns), 1)
    if problems:
        return pd.DataFrame(), problems
    raw = {}
    for col, p in zip(COLUMNS, positions):
        s = df.iloc[:, p]
        if pd.api.types.is_datetime64_any_dtype(s):
            values = [None if pd.isna(v) else v.to_pydatetime() for v in s]
        else:
            values = [_plain(v) for v in s.astype(object)]
        raw[col] = pd.Series(values, dtype=object)
    return pd.DataFrame(raw, columns=list(COLUMNS)), []


def _plain(v):
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if v is pd.NA:
        return None
    if isinstance(v, np.generic):
        v = v.item()
        if isinstance(v, float) and math.isnan(v):
            return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    return v


def put_cases(wb, df: pd.DataFrame, table: str | None = None) -> pd.DataFrame:
    """Replace the rows of the case-history table in an open workbook.

    New rows take the style of the table's first data row (fill, number format,
    font, protection); the table, its filter, every data validation that
    covered exactly a column of its data rows, and every workbook name that
    pointed to exactly a column of its data rows are resized to the new rows.
    Returns the checked table as written.

    Raises
    ------
    CaseTableError
        When ``df`` has a bad cell; rows are numbered as they would be written.
    cvp_xl.errors.WorkbookError
        No such table, or a table this function cannot rewrite (a totals row, or
        columns other than the case-history columns).
    """
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.cell import range_boundaries
    from openpyxl.worksheet.cell_range import MultiCellRange

    from .xlsx.write import set_value

    ws, tbl = _find_table(wb, table)
    if tbl.totalsRowCount:
        raise WorkbookError(f"table {tbl.displayName!r} has a totals row; remove it first")
    min_col, min_row, max_col, old_last = range_boundaries(tbl.ref)
    headers = [ws.cell(min_row, c).value for c in range(min_col, max_col + 1)]
    positions, problems = _header_problems(headers, min_row)
    if problems:
        raise CaseTableError(problems)
    raw, problems = _frame_to_raw(df)
    if problems:
        raise CaseTableError(problems)
    first = min_row + 1
    clean, problems = validate_cases(raw, first)
    if problems:
        raise CaseTableError(problems)
    styles = {c: copy(ws.cell(first, c)._style) for c in range(min_col, max_col + 1)}
    new_last = first + max(len(clean), 1) - 1
    columns = [(min_col + p, col) for col, p in zip(COLUMNS, positions)]
    data = {col: clean[col].tolist() for col in COLUMNS}
    for col in COLUMNS:
        if pd.api.types.is_datetime64_any_dtype(clean[col]):
            data[col] = [None if pd.isna(v) else v.to_pydatetime() for v in clean[col]]
        elif clean[col].dtype == float:
            data[col] = [None if math.isnan(v) else v for v in data[col]]
    for i in range(len(clean)):
        r = first + i
        for c, col in columns:
            cell = ws.cell(r, c)
            cell._style = copy(styles[c])
            set_value(cell, data[col][i])
    for r in range(first + len(clean), max(old_last, new_last) + 1):
        for c in range(min_col, max_col + 1):
            cell = ws.cell(r, c)
            cell.value = None
            if r <= new_last:
                cell._style = copy(styles[c])
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
    return clean


def write_cases(df: pd.DataFrame, path: str | os.PathLike,
                template: str | os.PathLike | None = None) -> Path:
    """Write a case-history table to ``path``, keeping the table's formatting and validation.

    The workbook written is ``template`` (when given), else ``path`` itself
    when it exists, else a new case-history workbook (:func:`new_case_workbook`),
    with the table's rows replaced by ``df`` (see :func:`put_cases`).  Other
    sheets are kept; if the workbook holds formulas they are recomputed so the
    file carries formulas and values (:func:`cvp_xl.recalc.recalc`).  The file
    is written atomically: on any error ``path`` is unchanged.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from openpyxl import load_workbook

    from .xlsx.atomic import atomic_path

    path = Path(path)
    src = Path(template) if template is not None else path if path.exists() else None
    if src is not None:
        check_xlsx(src)
        try:
            wb = load_workbook(src)
        except Exception as exc:  # openpyxl's own failures on a malformed file
            raise WorkbookError(f"{src}: cannot be read ({exc})") from None
    else:
        wb = new_case_workbook()
    put_cases(wb, df)
    has_formulas = any(cell.data_type == "f" for ws in wb.worksheets
                       for row in ws.iter_rows() for cell in row)
    with atomic_path(path) as tmp:
        wb.save(tmp)
        if has_formulas:
            from .recalc import recalc

            recalc(tmp)
    return path
