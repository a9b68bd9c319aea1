"""Read what a workbook holds, cell by cell, without visiting a cell that is not in the file.

openpyxl's ``ws.iter_rows()`` walks the sheet's whole declared rectangle: one cell at
XFD1048576 makes it create seventeen billion empty cells.  :func:`read_contents` streams each
worksheet part instead and keeps only the cells the file has, so time and memory follow the
file's real content.  It counts cells and formulas as it goes and refuses a workbook past the
stated limits before anything heavy (an engine) sees it.

What it returns is plain data: for each sheet, ``{"A1": Cell}`` where a :class:`Cell` holds
the stored value (``float``/``int``, ``str``, ``bool``, :class:`~cvp_xl.errors.ErrorValue` or
None) and, for a formula cell, its formula text (shared formulas already translated to the
cell, ``=`` not included), whether it is an array formula (with its range) or a data table;
also the defined names (with the sheet they are scoped to), the Excel tables, the date system
and the calculation settings.  A malformed part is a :class:`~cvp_xl.errors.WorkbookError`
naming the file, the sheet and the cell.
"""

from __future__ import annotations

import datetime as _dt
import os
import posixpath
import re
import zipfile
from dataclasses import dataclass, field

from lxml import etree

from cvp_xl.errors import ERROR_LITERALS, ErrorValue, WorkbookError
from cvp_xl.xlsx.a1 import MAX_COL, MAX_ROW, column_index, column_letter

__all__ = [
    "Cell", "Sheet", "Table", "DefinedName", "Contents", "read_contents",
    "MAX_CELLS", "MAX_FORMULAS", "unescape_text", "has_macros",
]

#: Default limits: every non-empty cell of the workbook, and formula cells.  A workbook past
#: either is refused before any engine sees it (measured: the formulas engine needs about
#: 25 KB and 1.5 ms per formula cell, so 50,000 formulas stay under about 1.5 GB).
MAX_CELLS = 2_000_000
MAX_FORMULAS = 50_000

_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_REL_STRICT = "http://purl.oclc.org/ooxml/officeDocument/relationships"
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_CELL_REF = re.compile(r"([A-Za-z]{1,3})([1-9][0-9]{0,6})")


@dataclass(slots=True)
class Cell:
    """One cell as the file stores it.

    ``formula`` is the formula text without ``=`` (None for a constant); ``array`` the range
    of an array formula whose top-left cell this is; ``kind`` is ``"value"``, ``"formula"``,
    ``"array"`` or ``"datatable"``.
    """

    value: object
    formula: str | None = None
    kind: str = "value"
    array: str | None = None


@dataclass
class Sheet:
    """A worksheet: its name, its cells by reference, and its hidden rows."""

    name: str
    index: int
    cells: dict[str, Cell] = field(default_factory=dict)
    hidden_rows: set[int] = field(default_factory=set)
    filtered: list[tuple[int, int, int, int]] = field(default_factory=list)
    part: str = ""


@dataclass(frozen=True)
class Table:
    """An Excel table (ListObject): where it is and its columns."""

    name: str
    sheet: str
    ref: str
    columns: tuple[str, ...]
    header_rows: int
    totals_rows: int


@dataclass(frozen=True)
class DefinedName:
    """A defined name; ``sheet`` is the sheet it is scoped to (None: the whole workbook)."""

    name: str
    text: str
    sheet: str | None = None
    hidden: bool = False


@dataclass
class Contents:
    """Everything :func:`read_contents` found."""

    path: str
    sheets: list[Sheet]
    names: list[DefinedName]
    tables: list[Table]
    date1904: bool = False
    iterate: bool = False
    iterate_count: int = 100
    iterate_delta: float = 0.001
    external_links: int = 0
    all_sheet_names: list[str] = field(default_factory=list)

    @property
    def formula_count(self) -> int:
        return sum(1 for s in self.sheets for c in s.cells.values() if c.formula is not None)


def unescape_text(text: str) -> str:
    """Undo Excel's ``_xHHHH_`` escapes (``_x0001_`` is the character U+0001)."""
    if "_x" not in text:
        return text
    return _ESCAPE.sub(lambda m: chr(int(m[1], 16)), text)


def has_macros(path: str | os.PathLike[str]) -> bool:
    """True when the package holds a VBA project (the macros of an ``.xlsm``), or is named
    ``.xlsm``: a command that rebuilds a workbook through openpyxl would lose them.

    >>> has_macros("missing.xlsx")
    False
    """
    name = os.fspath(path)
    if name.lower().endswith(".xlsm"):
        return True
    try:
        with zipfile.ZipFile(name) as archive:
            return any(n.lower().endswith("vbaproject.bin") for n in archive.namelist())
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return False


def read_contents(
    path: str | os.PathLike[str],
    *,
    max_cells: int = MAX_CELLS,
    max_formulas: int = MAX_FORMULAS,
) -> Contents:
    """Read the cells, names, tables and settings of an .xlsx/.xlsm file already checked.

    Parameters
    ----------
    path : str or os.PathLike
        A file that passed :func:`~cvp_xl.xlsx.safety.check_xlsx`.
    max_cells, max_formulas : int
        Limits on non-empty cells and on formula cells; past either the workbook is refused.

    Raises
    ------
    WorkbookError
        ``<path>: refused: more than 50,000 formula cells (limit 50,000; ...)``, or a malformed
        part: ``<path>: not a valid .xlsx file: sheet 'S': 'ZZZZ1' is not a cell reference``.
    """
    name = os.fspath(path)
    try:
        with zipfile.ZipFile(name) as archive:
            return _Reader(name, archive, max_cells, max_formulas).read()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        if isinstance(exc, WorkbookError):
            raise
        raise WorkbookError(f"{name}: not a valid .xlsx file: {exc}") from None


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


#: The local names of the element tags met (``{namespace}v`` -> ``v``), so that each is split
#: once per process; bounded, since a hostile part may use any number of names.
_LOCALS: dict[str, str] = {}
#: The column numbers of the column letters met (``"AB"`` -> 28); bounded in the same way.
_COLUMNS: dict[str, int] = {}
_CACHED = 4096


def _local(tag) -> str:
    try:
        return _LOCALS[tag]
    except (KeyError, TypeError):  # TypeError: a comment's or a PI's tag (a function)
        local = tag.rpartition("}")[2] if isinstance(tag, str) else ""
        if isinstance(tag, str) and len(_LOCALS) < _CACHED:
            _LOCALS[tag] = local
        return local


def _rid(el) -> str | None:
    return el.get(f"{{{_REL}}}id") or el.get(f"{{{_REL_STRICT}}}id")


class _Reader:
    def __init__(self, name: str, archive: zipfile.ZipFile, max_cells: int, max_formulas: int):
        self.name = name
        self.archive = archive
        self.members = {n.lower(): n for n in archive.namelist()}
        self.max_cells = max_cells
        self.max_formulas = max_formulas
        self.cells = 0
        self.formulas = 0

    # -- parts -----------------------------------------------------------------------------

    def _xml(self, part: str):
        member = self.members.get(part.lower())
        if member is None:
            return None
        try:
            return etree.fromstring(self.archive.read(member), _parser())
        except etree.XMLSyntaxError as exc:
            raise WorkbookError(
                f"{self.name}: not a valid .xlsx file: {member!r} is not well-formed XML ({exc})"
            ) from None

    def _rels(self, part: str) -> dict[str, tuple[str, str, str]]:
        folder, _, base = part.rpartition("/")
        root = self._xml(f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels")
        rels = {}
        if root is None:
            return rels
        for rel in root:
            if _local(rel.tag) != "Relationship":
                continue
            target = rel.get("Target") or ""
            mode = rel.get("TargetMode", "Internal")
            if mode == "Internal":
                if target.startswith("/"):
                    target = target[1:]
                else:
                    target = posixpath.normpath(posixpath.join(folder, target))
            rels[rel.get("Id")] = (rel.get("Type", "").rpartition("/")[2], target, mode)
        return rels

    # -- the workbook ----------------------------------------------------------------------

    def read(self) -> Contents:
        book = self._xml("xl/workbook.xml")
        if book is None:
            raise WorkbookError(f"{self.name}: not an .xlsx file (no xl/workbook.xml)")
        rels = self._rels("xl/workbook.xml")
        strings = self._shared_strings(rels)
        contents = Contents(path=self.name, sheets=[], names=[], tables=[])
        sheet_parts: list[tuple[str, str | None]] = []
        for el in book.iter():
            local = _local(el.tag)
            if local == "workbookPr":
                contents.date1904 = el.get("date1904", "0").lower() in ("1", "true")
            elif local == "calcPr":
                contents.iterate = el.get("iterate", "0").lower() in ("1", "true")
                contents.iterate_count = _int(el.get("iterateCount"), 100)
                contents.iterate_delta = _float(el.get("iterateDelta"), 0.001)
            elif local == "sheet":
                sheet_name = el.get("name")
                if not sheet_name:
                    raise WorkbookError(f"{self.name}: not a valid .xlsx file: a sheet has no name")
                rel = rels.get(_rid(el))
                part = rel[1] if rel and rel[2] == "Internal" and rel[0] == "worksheet" else None
                sheet_parts.append((sheet_name, part))
        contents.all_sheet_names = [n for n, _ in sheet_parts]
        for el in book.iter():
            if _local(el.tag) != "definedName" or not el.get("name"):
                continue
            local_id = el.get("localSheetId")
            scope = None
            if local_id is not None:
                index = _int(local_id, -1)
                if not 0 <= index < len(sheet_parts):
                    continue  # a name scoped to a sheet that is not there: Excel drops it too
                scope = sheet_parts[index][0]
            contents.names.append(DefinedName(
                el.get("name"), (el.text or "").strip(), scope,
                el.get("hidden", "0").lower() in ("1", "true")))
        contents.external_links = sum(1 for kind, _, _ in rels.values() if kind == "externalLink")
        for index, (sheet_name, part) in enumerate(sheet_parts):
            if part is None:
                continue  # a chartsheet or dialog sheet: no cells
            if part.lower() not in self.members:
                raise WorkbookError(
                    f"{self.name}: not a valid .xlsx file: sheet {sheet_name!r} points to missing "
                    f"part {part!r}")
            sheet = Sheet(sheet_name, index, part=self.members[part.lower()])
            self._read_sheet(sheet, strings, contents.date1904)
            contents.sheets.append(sheet)
            contents.tables.extend(self._tables(sheet))
        return contents

    def _shared_strings(self, rels) -> list[str]:
        part = next((t for kind, t, mode in rels.values() if kind == "sharedStrings"), None)
        if part is None:
            return []
        root = self._xml(part)
        if root is None:
            return []
        out = []
        for si in root:
            if _local(si.tag) != "si":
                continue
            out.append(unescape_text("".join(
                t.text or "" for t in si.iter()
                if _local(t.tag) == "t" and _local(t.getparent().tag) != "rPh")))
        return out

    def _tables(self, sheet: Sheet) -> list[Table]:
        tables = []
        for kind, target, mode in self._rels(sheet.part).values():
            if kind != "table" or mode != "Internal":
                continue
            root = self._xml(target)
            if root is None:
                continue
            columns = tuple(
                unescape_text(c.get("name", "")) for c in root.iter()
                if _local(c.tag) == "tableColumn")
            name = root.get("displayName") or root.get("name")
            ref = root.get("ref")
            if not name or not ref:
                continue
            tables.append(Table(
                name, sheet.name, ref, columns, _int(root.get("headerRowCount"), 1),
                _int(root.get("totalsRowCount"), 0)))
            autofilter = next((el for el in root if _local(el.tag) == "autoFilter"), None)
            if _filtering(autofilter):
                bounds = _bounds(autofilter.get("ref"))
                if bounds:
                    sheet.filtered.append(bounds)
        return tables

    # -- one worksheet, streamed -----------------------------------------------------------

    def _read_sheet(self, sheet: Sheet, strings: list[str], date1904: bool) -> None:
        """Stream one worksheet part: each row is handled whole when it ends.

        Only the ends of ``row`` and ``autoFilter`` elements come back from the parser (its
        tag filter, in C), so the elements inside a cell (``v``, ``f``, ``is``, ``t``) and
        the sheet's other parts cost no Python call; a row's cells are then read in order,
        an empty one (a styled cell: no value, no formula) with its reference checked and
        nothing else.  Each row is cleared once read, so memory follows one row.
        """
        shared: dict[str, tuple[str, str]] = {}
        where = f"{self.name}: not a valid .xlsx file: sheet {sheet.name!r}"
        row_number = 0
        with self.archive.open(sheet.part) as stream:
            context = etree.iterparse(
                stream, events=("end",), tag=("{*}row", "{*}autoFilter"),
                resolve_entities=False, no_network=True, huge_tree=False,
                remove_comments=True, remove_pis=True)
            try:
                for _, el in context:
                    if _local(el.tag) == "autoFilter":
                        if _filtering(el):
                            bounds = _bounds(el.get("ref"))
                            if bounds:
                                sheet.filtered.append(bounds)
                        continue
                    r = el.get("r")
                    row_number = _row_number(r, where) if r else row_number + 1
                    if el.get("hidden", "0").lower() in ("1", "true"):
                        sheet.hidden_rows.add(row_number)
                    col = 0
                    for c in el.iterchildren("{*}c"):
                        if len(c):
                            col = self._cell(sheet, c, row_number, col, strings, shared, where,
                                             date1904)
                        else:  # no value, no formula: only where the next cell is
                            col = _column(c.get("r"), row_number, col, where)
                    el.clear(keep_tail=False)
                    parent = el.getparent()
                    if parent is not None:
                        while el.getprevious() is not None:
                            del parent[0]
            except etree.XMLSyntaxError as exc:
                raise WorkbookError(f"{where} is not well-formed XML ({exc})") from None

    def _cell(self, sheet, el, row_number, col, strings, shared, where, date1904) -> int:
        ref = el.get("r")
        col = _column(ref, row_number, col, where)
        ref = f"{column_letter(col)}{row_number}" if ref is None else ref.upper()
        f = v = inline = None
        for child in el:
            local = _local(child.tag)
            if local == "f":
                f = child
            elif local == "v":
                v = child
            elif local == "is":
                inline = child
        kind = el.get("t", "n")
        value = self._value(kind, v, inline, strings, where, ref, date1904)
        if f is None:
            if value is None:
                return col
            self._count(False)
            sheet.cells[ref] = Cell(value)
            return col
        ftype = f.get("t", "normal")
        text = f.text
        if ftype == "shared":
            si = f.get("si")
            if text and si is not None:
                shared[si] = (ref, text)
            elif si in shared:
                text = _translate(shared[si][1], shared[si][0], ref)
            else:
                text = None
        self._count(True)
        if ftype == "dataTable":
            sheet.cells[ref] = Cell(value, text or "", "datatable", f.get("ref"))
        elif ftype == "array":
            sheet.cells[ref] = Cell(value, text or "", "array", f.get("ref") or ref)
        elif text is None:
            # a shared-formula child whose master is missing: nothing to compute from
            sheet.cells[ref] = Cell(value, "", "formula")
        else:
            sheet.cells[ref] = Cell(value, text, "formula")
        return col

    def _count(self, formula: bool) -> None:
        self.cells += 1
        if self.cells > self.max_cells:
            raise WorkbookError(
                f"{self.name}: refused: more than {self.max_cells:,} non-empty cells (the cell "
                "limit; raise it with --max-cells)")
        if formula:
            self.formulas += 1
            if self.formulas > self.max_formulas:
                raise WorkbookError(
                    f"{self.name}: refused: more than {self.max_formulas:,} formula cells (the "
                    "formula limit; raise it with --max-formulas)")

    @staticmethod
    def _value(kind, v, inline, strings, where, ref, date1904):
        if kind == "inlineStr":
            if inline is None:
                return None
            run = inline[0] if len(inline) == 1 else None
            if run is not None and not len(run) and _local(run.tag) == "t":  # one plain run
                return unescape_text(run.text or "")
            return unescape_text("".join(
                t.text or "" for t in inline.iter()
                if _local(t.tag) == "t" and _local(t.getparent().tag) != "rPh"))
        if v is None or v.text is None:
            return "" if kind == "str" and v is not None else None
        text = v.text
        if kind == "s":
            try:
                return strings[int(text)]
            except (ValueError, IndexError):
                raise WorkbookError(
                    f"{where}, cell {ref}: shared string {text!r} does not exist") from None
        if kind == "str":
            return unescape_text(text)
        if kind == "b":
            if text.strip() not in ("0", "1"):
                raise WorkbookError(f"{where}, cell {ref}: {text!r} is not a TRUE/FALSE value")
            return text.strip() == "1"
        if kind == "e":
            code = text.strip().upper()
            return ErrorValue(code if code in ERROR_LITERALS else "#N/A") if code else None
        if kind == "d":
            try:
                moment = _dt.datetime.fromisoformat(text.strip())
            except ValueError:
                raise WorkbookError(f"{where}, cell {ref}: {text!r} is not a date") from None
            return _serial(moment, date1904)
        try:
            number = float(text)
        except ValueError:
            raise WorkbookError(
                f"{where}, cell {ref}: stored value {text!r} is not a number") from None
        if number.is_integer() and abs(number) < 2**53 and "." not in text and "E" not in \
                text.upper():
            return int(number)
        return number


def _column(ref: str | None, row_number: int, col: int, where: str) -> int:
    """The column of a cell (``ref`` None: the one after ``col``), its reference checked."""
    if ref is None:
        col += 1
        if row_number < 1 or col > MAX_COL:
            raise WorkbookError(f"{where}: a cell without a reference lies outside the sheet")
        return col
    m = _CELL_REF.fullmatch(ref)
    try:
        if m is None or int(m[2]) > MAX_ROW:
            raise ValueError
        letters = m[1]
        col = _COLUMNS.get(letters)
        if col is None:
            col = column_index(letters)
            if len(_COLUMNS) < _CACHED:
                _COLUMNS[letters] = col
        return col
    except ValueError:
        raise WorkbookError(f"{where}: {ref!r} is not a cell reference") from None


def _filtering(autofilter) -> bool:
    """True for an AutoFilter that filters (has criteria): its hidden rows are filtered out."""
    return autofilter is not None and bool(autofilter.get("ref")) and any(
        _local(child.tag) == "filterColumn" for child in autofilter)


def _serial(moment: _dt.datetime, date1904: bool) -> float:
    base = _dt.datetime(1904, 1, 1) if date1904 else _dt.datetime(1899, 12, 30)
    delta = moment - base
    return delta.days + delta.seconds / 86400


def _translate(formula: str, origin: str, dest: str) -> str:
    from openpyxl.formula.translate import Translator

    return Translator(f"={formula}", origin=origin).translate_formula(dest)[1:]


def _row_number(text: str, where: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if not 1 <= number <= MAX_ROW:
        raise WorkbookError(f"{where}: row number {text!r} is outside the sheet")
    return number


def _bounds(ref: str) -> tuple[int, int, int, int] | None:
    from cvp_xl.xlsx.a1 import parse_range

    try:
        return parse_range(ref)
    except ValueError:
        return None


def _int(text, default: int) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        return default


def _float(text, default: float) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return default
