"""Workbook cells streamed through lxml: the Excel tables of a workbook, blocks and rows.

The workbook half of :mod:`cvp_xl.xlsx.tables` (which re-exports it): the file is checked
with :func:`~cvp_xl.xlsx.safety.check_xlsx` before any parser sees it; the worksheet is then
streamed through lxml's C parser (openpyxl takes about 30 microseconds a cell, and a table of
100,000 cases has 1.4 million), keeping shared and inline strings, numbers, dates (by the
cell's number format, as openpyxl decides it), booleans and errors.
"""

from __future__ import annotations

import datetime as dt
import os
import posixpath
import zipfile
from dataclasses import dataclass

import defusedxml.ElementTree as DefusedET

from cvp_xl.errors import ErrorValue, WorkbookError
from cvp_xl.xlsx.a1 import column_index
from cvp_xl.xlsx.safety import check_xlsx

__all__ = ["TableInfo", "find_tables", "first_sheet", "bounds", "read_block", "read_rows"]


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


def first_sheet(source: str) -> str | None:
    """The name of the first worksheet (the caller has checked the file)."""
    try:
        with zipfile.ZipFile(source) as archive:
            return next(iter(_parts(archive).sheets), None)
    except (KeyError, zipfile.BadZipFile, DefusedET.ParseError) as exc:
        raise WorkbookError(f"{source}: not a valid .xlsx file: {exc}") from None


def bounds(ref: str) -> tuple[int, int, int, int]:
    """``"B2:D9"`` -> ``(2, 2, 4, 9)``: min column, min row, max column, max row."""
    from openpyxl.utils.cell import range_boundaries

    return range_boundaries(ref)


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
