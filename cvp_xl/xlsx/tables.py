"""Reading tables: a CSV file or a sheet of an .xlsx workbook, one way for every command.

The case-history table, the value tracker's period files and the batch command's customer
tables are all read here:

- :func:`read_csv` reads a UTF-8 CSV file (a byte-order mark is allowed) with every field as
  text; :func:`read_table` reads a CSV file or the first sheet of a workbook into a
  DataFrame with every cell as it was typed (blank cells as ``None``).
- :func:`find_tables` lists the Excel tables (``Insert > Table``) of a workbook, and
  :func:`read_block` reads a block of cells of one sheet.  Workbooks are checked with
  :func:`~cvp_xl.xlsx.safety.check_xlsx` before any parser sees them; the worksheet is then
  streamed through lxml's C parser (openpyxl takes about 30 microseconds a cell, and a table
  of 100,000 cases has 1.4 million), keeping shared and inline strings, numbers, dates (by the
  cell's number format, as openpyxl decides it), booleans and errors.
- :func:`header_key` and :func:`match_headers` compare headers as people type them: case,
  runs of spaces and underscores do not matter (``Period_End`` is ``period end``).
- :func:`as_text`, :func:`as_number`, :func:`as_date` and :func:`numbers_from_text` turn a
  cell (or a CSV field) into text, a number or a date, or say it is not one; :func:`shown`
  is how a refused value reads in a message.

Numbers in text are plain (:data:`NUMBER_TEXT`: ``86400``, ``-1.5``, ``2E3``): no thousands
separators, currency signs, ``inf`` or ``nan``.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import os
import posixpath
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import defusedxml.ElementTree as DefusedET
import pandas as pd

from cvp_xl.args import describe
from cvp_xl.errors import ErrorValue, WorkbookError
from cvp_xl.xlsx.a1 import column_index
from cvp_xl.xlsx.safety import check_xlsx

__all__ = [
    "NUMBER_TEXT",
    "TableInfo",
    "HeaderMatch",
    "find_tables",
    "read_block",
    "read_rows",
    "read_csv",
    "read_table",
    "header_key",
    "match_headers",
    "is_blank",
    "is_number",
    "as_text",
    "as_number",
    "as_date",
    "numbers_from_text",
    "shown",
]

#: A plain number written as text: sign, digits, decimal point, exponent (ASCII digits only).
NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


# -- cells: text, numbers, dates -----------------------------------------------------------------


def is_blank(value) -> bool:
    """A blank cell: ``None``, NaN (pandas' blank), ``NaT``, or text of spaces only."""
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, str):
        return not value.strip()
    return False


def is_number(value) -> bool:
    """A number cell: a finite real number, not a boolean, not text."""
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and math.isfinite(value))


def as_number(value) -> float | None:
    """A number cell, or text holding a plain number (:data:`NUMBER_TEXT`), as a float; else None.

    >>> as_number(" -1.5 "), as_number(3), as_number("1,000"), as_number(True)
    (-1.5, 3.0, None, None)
    """
    if is_number(value):
        return float(value)
    if isinstance(value, str) and NUMBER_TEXT.fullmatch(value.strip()):
        return float(value.strip())
    return None


def as_text(value, *, strip: bool = False) -> str | None:
    """A cell as text, or None when it is blank or not text-like (a boolean, a date, an error).

    A number reads as it is shown without a format: ``2024``, not ``2024.0`` (a period or an id
    typed into a spreadsheet becomes a number).  ``strip`` removes surrounding spaces.

    >>> as_text(2024.0), as_text(" Q1 ", strip=True), as_text("  "), as_text(False)
    ('2024', 'Q1', None, None)
    """
    if isinstance(value, str):
        if not value.strip():
            return None
        return value.strip() if strip else value
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        value = float(value)
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    return None


def as_date(value) -> dt.date | None:
    """A date cell (its date), or text in ISO form ``YYYY-MM-DD``; else None."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if len(text) != 10:
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return None
    return None


def numbers_from_text(texts: pd.Series) -> pd.Series:
    """CSV fields to cells: ``None`` for blank, a float for a plain number, else the text."""
    s = texts.astype(object)
    stripped = s.str.strip()
    blank = stripped.eq("").fillna(True).astype(bool)
    plain = stripped.str.fullmatch(NUMBER_TEXT.pattern).fillna(False).astype(bool) & ~blank
    out = s.where(~blank, None)
    if plain.any():
        out[plain] = pd.to_numeric(stripped[plain]).astype(float).astype(object)
    return out


def shown(value) -> str:
    """How a refused cell value reads in a message: ``'abc'``, ``a blank cell``, ``the date``."""
    if isinstance(value, dt.datetime):
        fmt = "%Y-%m-%d" if value.time() == dt.time(0) else "%Y-%m-%d %H:%M:%S"
        return f"the date {value.strftime(fmt)}"
    if isinstance(value, dt.date):
        return f"the date {value.isoformat()}"
    if isinstance(value, dt.time):
        return f"the time {value.isoformat()}"
    return describe(value)


# -- headers -------------------------------------------------------------------------------------


def header_key(name) -> str:
    """How a header compares: case, underscores and runs of spaces ignored.

    >>> header_key("  Period_End "), header_key(None)
    ('period end', '')
    """
    text = "" if name is None else str(name)
    return " ".join(text.replace("_", " ").split()).casefold()


@dataclass
class HeaderMatch:
    """Where the wanted columns are among the headers, and the headers that are not wanted."""

    positions: dict[str, int] = field(default_factory=dict)  # wanted name -> header index
    extra: list[tuple[int, object, str]] = field(default_factory=list)  # (index, header, why)
    missing: list[str] = field(default_factory=list)  # wanted names not found, in order

    @property
    def ok(self) -> bool:
        return not self.extra and not self.missing


def match_headers(headers: Iterable, wanted: Sequence[str]) -> HeaderMatch:
    """Match ``headers`` to the ``wanted`` column names (:func:`header_key` on both sides).

    The first header of each wanted column counts; a later one is ``extra`` with why
    ``"repeated"``, a header no wanted column has is ``extra`` with why ``"unknown"``.
    """
    keys = {header_key(w): w for w in wanted}
    match = HeaderMatch()
    for i, h in enumerate(headers):
        name = keys.get(header_key(h))
        if name is not None and name not in match.positions:
            match.positions[name] = i
        else:
            match.extra.append((i, h, "unknown" if name is None else "repeated"))
    match.missing = [w for w in wanted if w not in match.positions]
    return match


# -- CSV -----------------------------------------------------------------------------------------


def read_csv(path: str | os.PathLike, *, error: str = "cannot be read as a UTF-8 CSV file"
             ) -> pd.DataFrame:
    """Read a UTF-8 CSV file (a byte-order mark is allowed) with every field as text.

    Raises
    ------
    cvp_xl.errors.WorkbookError
        ``<path>: no such file``, or ``<path>: <error> (<the parser's reason>)``.
    """
    source = os.fspath(path)
    if not os.path.exists(source):
        raise WorkbookError(f"{source}: no such file")
    try:
        return pd.read_csv(source, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise WorkbookError(f"{source}: {error} ({str(exc).strip()})") from None


def read_table(path: str | os.PathLike, *, csv_error: str = "cannot be read as a UTF-8 CSV file"
               ) -> pd.DataFrame:
    """A table with a header row, from a CSV file or the first sheet of an .xlsx/.xlsm workbook.

    Every cell is as it was typed: CSV fields as text, workbook cells as numbers, text, dates,
    booleans or :class:`~cvp_xl.errors.ErrorValue`; blank cells are ``None``.  A workbook's
    header row is its row 1, and rows after the last one with a value are left out.
    """
    path = Path(path)
    if not path.exists():
        raise WorkbookError(f"{path}: no such file")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        rows = read_rows(path)
        head, body = (rows[0], rows[1:]) if rows else ([], [])
        columns = [f"Unnamed: {i}" if h is None else str(h) for i, h in enumerate(head)]
        return pd.DataFrame(body, columns=columns, dtype=object)
    frame = read_csv(path, error=csv_error)
    return frame.astype(object).where(frame != "", None)


# -- workbooks: where the parts are --------------------------------------------------------------


@dataclass(frozen=True)
class TableInfo:
    """An Excel table as the file declares it."""

    sheet: str
    name: str
    ref: str
    header_rows: int
    totals_rows: int
    columns: tuple[str, ...]


@dataclass(frozen=True)
class _Parts:
    """Where the parts of a workbook are (absolute names inside the zip)."""

    sheets: dict[str, str]
    styles: str | None
    shared_strings: str | None
    date1904: bool


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
    try:
        root = DefusedET.fromstring(archive.read(posixpath.join(folder, "_rels", name + ".rels")))
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


def _parts(archive: zipfile.ZipFile) -> _Parts:
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
    return _Parts(sheets, by_type.get("styles"), by_type.get("sharedStrings"), date1904)


def find_tables(path: str | os.PathLike) -> list[TableInfo]:
    """Every Excel table of the workbook at ``path``, sheet by sheet, without loading the cells.

    The file is checked with :func:`~cvp_xl.xlsx.safety.check_xlsx` first.
    """
    name = os.fspath(path)
    check_xlsx(name)
    tables = []
    try:
        with zipfile.ZipFile(name) as archive:
            for sheet, part in _parts(archive).sheets.items():
                for kind, target in _rels(archive, part).values():
                    if not kind.endswith("/table"):
                        continue
                    t = DefusedET.fromstring(archive.read(target))
                    columns = tuple(c.get("name", "") for c in t.iter()
                                    if _local(c.tag) == "tableColumn")
                    tables.append(TableInfo(
                        sheet=sheet, name=t.get("displayName") or t.get("name", ""),
                        ref=t.get("ref", ""), header_rows=int(t.get("headerRowCount", "1")),
                        totals_rows=int(t.get("totalsRowCount", "0")), columns=columns))
    except (KeyError, zipfile.BadZipFile, DefusedET.ParseError) as exc:
        raise WorkbookError(f"{name}: not a valid .xlsx file: {exc}") from None
    return tables


# -- workbooks: reading cells --------------------------------------------------------------------


def _lxml_parser_args() -> dict:
    # the file passed check_xlsx (no DTD, no entities) before it gets here
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
    custom = {int(e.get("numFmtId", "-1")): e.get("formatCode", "")
              for e in root.iter() if _local(e.tag) == "numFmt"}
    dates = set()
    for elem in root.iter():
        if _local(elem.tag) == "cellXfs":
            for i, xf in enumerate(x for x in elem if _local(x.tag) == "xf"):
                fmt_id = int(xf.get("numFmtId", "0"))
                code = custom.get(fmt_id, BUILTIN_FORMATS.get(fmt_id))
                if code is not None and is_date_format(code):
                    dates.add(i)
    return dates


class _Sheet:
    """Turns the ``<c>`` elements of one worksheet into values, as openpyxl reads them."""

    def __init__(self, archive: zipfile.ZipFile, parts: _Parts):
        from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

        self.from_excel = from_excel
        self.shared = _shared_strings(archive, parts.shared_strings)
        self.dates = _date_styles(archive, parts.styles)
        self.epoch = CALENDAR_MAC_1904 if parts.date1904 else CALENDAR_WINDOWS_1900
        self.columns: dict[str, int] = {}
        self.ns = self.tag_v = self.tag_is = self.tag_t = None

    def start(self, row) -> None:
        """Learn the namespace from the first row."""
        if self.tag_v is None:
            self.ns = row.tag[: row.tag.index("}") + 1] if row.tag[0] == "{" else ""
            self.tag_v, self.tag_is, self.tag_t = f"{self.ns}v", f"{self.ns}is", f"{self.ns}t"

    def column(self, ref: str) -> int:
        letters = ref.rstrip("0123456789")
        index = self.columns.get(letters)
        if index is None:
            index = self.columns[letters] = column_index(letters)
        return index

    def value(self, c):
        """The cell's value; None for a blank cell."""
        t = c.get("t")
        if t == "inlineStr":
            value = None
            for child in c:
                if child.tag == self.tag_is:
                    value = (child[0].text or "" if len(child) == 1 and child[0].tag == self.tag_t
                             else _string_of(child, self.ns))
            return value
        v = None
        for child in c:
            if child.tag == self.tag_v:
                v = child.text
        if v is None or v == "":
            return None
        if t is None or t == "n":
            num = float(v) if ("." in v or "E" in v or "e" in v) else int(v)
            st = c.get("s")
            if st and int(st) in self.dates:
                return self.from_excel(num, self.epoch)
            return num
        if t == "s":
            return self.shared[int(v)]
        if t == "b":
            return v.strip() in ("1", "true")
        if t == "e":
            return ErrorValue(v.strip())
        if t == "d":
            return dt.datetime.fromisoformat(v.strip())
        return v  # "str": a formula's text result


def _stream(source: str, sheet: str | None, visit) -> None:
    """Call ``visit(reader, row_number, row)`` for each ``<row>`` of ``sheet`` (default: the
    first worksheet) until it returns True; each row is freed after its visit."""
    from lxml import etree

    try:
        with zipfile.ZipFile(source) as archive:
            parts = _parts(archive)
            if sheet is None:
                if not parts.sheets:
                    raise WorkbookError(f"{source}: no worksheet")
                sheet = next(iter(parts.sheets))
            if sheet not in parts.sheets:
                raise WorkbookError(f"{source}: no worksheet named {sheet!r}")
            reader = _Sheet(archive, parts)
            number = 0
            with archive.open(parts.sheets[sheet]) as stream:
                for _, row in etree.iterparse(stream, events=("end",), tag="{*}row",
                                              **_lxml_parser_args()):
                    r = row.get("r")
                    number = int(r) if r else number + 1
                    reader.start(row)
                    if visit(reader, number, row):
                        break
                    row.clear()
                    parent = row.getparent()
                    while row.getprevious() is not None:
                        del parent[0]
    except (KeyError, IndexError, ValueError, zipfile.BadZipFile, etree.XMLSyntaxError) as exc:
        raise WorkbookError(f"{source}: not a valid .xlsx file: {exc}") from None


def _cells(reader: _Sheet, row):
    """``(column, <c> element)`` for each cell of a row element."""
    col = 0
    for c in row:
        ref = c.get("r")
        col = reader.column(ref) if ref else col + 1
        yield col, c


def read_block(path: str | os.PathLike, sheet: str, min_row: int, max_row: int, min_col: int,
               max_col: int) -> list[list]:
    """The values of a block of cells, row by row, ``None`` for blank (as openpyxl reads them).

    The caller has checked the file (:func:`find_tables` does).
    """
    source = os.fspath(path)
    width = max_col - min_col + 1
    rows = [[None] * width for _ in range(max_row - min_row + 1)]

    def visit(reader, number, row):
        if number > max_row:
            return True
        if number >= min_row:
            out = rows[number - min_row]
            for col, c in _cells(reader, row):
                if min_col <= col <= max_col:
                    out[col - min_col] = reader.value(c)
        return False

    _stream(source, sheet, visit)
    return rows


def read_rows(path: str | os.PathLike, sheet: str | None = None) -> list[list]:
    """Every row of a sheet (default: the first), from row 1 to the last with a value.

    Rows are lists of the same length (up to the last column with a value), ``None`` for
    blank.  The file is checked with :func:`~cvp_xl.xlsx.safety.check_xlsx` first.
    """
    source = os.fspath(path)
    check_xlsx(source)
    found: dict[int, dict[int, object]] = {}

    def visit(reader, number, row):
        cells = {col: value for col, value in ((col, reader.value(c))
                                               for col, c in _cells(reader, row))
                 if value is not None}
        if cells:
            found[number] = cells
        return False

    _stream(source, sheet, visit)
    if not found:
        return []
    width = max(max(cells) for cells in found.values())
    rows = [[None] * width for _ in range(max(found))]
    for number, cells in found.items():
        for col, value in cells.items():
            rows[number - 1][col - 1] = value
    return rows
