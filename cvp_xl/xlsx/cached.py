"""Write cached values next to formulas in an .xlsx file (openpyxl cannot).

openpyxl saves a formula cell with no value, so viewers, previews and ``pandas.read_excel`` see
nothing until a spreadsheet program recalculates.  :func:`write_cached_values` puts the computed
values into the ``<v>`` elements of the formula cells, touching nothing else: members other than
the rewritten worksheets are copied byte for byte, still compressed, in their original order.

``ErrorValue`` here is :class:`cvp_xl.errors.ErrorValue`, re-exported: the one class the
hosts and the recalculation path already use for spreadsheet errors.
"""

from __future__ import annotations

import bisect
import math
import numbers
import os
import posixpath
import re
import struct
import time
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from typing import BinaryIO

import defusedxml.ElementTree as DefusedET
from lxml import etree

from cvp_xl.errors import ERROR_LITERALS, ErrorValue, WorkbookError
from cvp_xl.xlsx.atomic import atomic_path
from cvp_xl.xlsx.safety import check_xlsx

__all__ = [
    "ErrorValue", "SheetIndex", "atomic_save_workbook", "encode_value", "escape_text",
    "rewrite_parts", "write_cached_values",
]

_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_REL_ID_NAMES = (
    "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id",
    "{http://purl.oclc.org/ooxml/officeDocument/relationships}id",
)
_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?([1-9][0-9]{0,6})")
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ESCAPED = re.compile(r"_x[0-9A-Fa-f]{4}_")
#: What Excel escapes in cell text: what XML cannot hold, and CR (XML would read it as LF).
_TO_ESCAPE = re.compile("[^\t\n\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_MAX_ROW, _MAX_COL, _MAX_TEXT = 1_048_576, 16_384, 32_767
_RANGE_FORMULA_TYPES = ("array", "dataTable")

#: An encoded cached value: (``t`` attribute or None for a number, ``<v>`` text), or
#: ``(None, None)`` to remove the cached value.
_Encoded = tuple[str | None, str | None]


def write_cached_values(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    values: Mapping[tuple[str, str], object],
    *,
    sheet_names: Iterable[str] | None = None,
    check: bool = True,
) -> None:
    """Copy the workbook `src` to `dst`, with cached values written into its formula cells.

    Parameters
    ----------
    src : str or os.PathLike
        An .xlsx file.  It is checked with :func:`~cvp_xl.xlsx.safety.check_xlsx` first.
    dst : str or os.PathLike
        Where to write the result; may be `src` itself.  Written atomically: a temporary file in
        the same directory is renamed over `dst` only when complete, so on any error `dst` is
        unchanged (or still absent) and no temporary file remains.
    values : mapping
        ``{(sheet_name, "A1"): value}``.  A reference may be given as ``"a1"`` or ``"$A$1"``;
        sheet names are matched exactly.  Values and how they are written:

        - ``float``/``int`` (and numpy numbers): ``<v>`` with the shortest round-trip text
          (``repr``), integral values as ``"42"``; no ``t`` attribute.  NaN and infinities raise
          ``ValueError`` (pass ``ErrorValue('#NUM!')`` instead).
        - ``bool``: ``t="b"``, ``<v>`` ``1`` or ``0``.
        - ``str``: ``t="str"``, ``<v>`` the text (at most 32,767 characters), characters XML
          cannot hold written as Excel writes them (``_x0001_``, see :func:`escape_text`).
        - :class:`ErrorValue`: ``t="e"``, ``<v>`` the code, one of ``ERROR_LITERALS``.
        - ``None``: the ``<v>`` element and the ``t`` attribute are removed.
    check : bool
        Check `src` with :func:`~cvp_xl.xlsx.safety.check_xlsx` first (the default).  Only a
        caller that has just written `src` itself may pass False.
    sheet_names : iterable of str, optional
        Write only to these sheets; entries of `values` for other sheets are ignored.  A name that
        is not a worksheet of `src` raises ``WorkbookError``.  Default: every sheet.

    Raises
    ------
    TypeError
        A key that is not a ``(sheet, ref)`` pair of strings, or a value of another type, e.g.
        ``values[('Calc', 'B2')]: cannot write a cached value of type object; expected float,
        int, bool, str, None or ErrorValue``.
    ValueError
        A malformed cell reference, a non-finite number, an unknown error code, text longer
        than Excel allows.
    WorkbookError
        `src` fails :func:`~cvp_xl.xlsx.safety.check_xlsx`, or is inconsistent
        (``"<src>: not a valid .xlsx file: ..."``), or `sheet_names` names a missing sheet
        (``"<src>: no worksheet named 'X'"``).
    OSError
        `dst` cannot be written.

    Notes
    -----
    A cell is written when it holds a formula (an ``<f>`` child: ordinary, shared-formula master
    or child, array or data-table master), or when it lies inside the ``ref`` range of an array
    formula or data table on its sheet (those cells have no ``<f>``; a missing ``<c>`` is
    created in the right row, in column order).  Entries of `values` for any other cell, or for a
    sheet the workbook does not have, are ignored without notice; nothing is returned.

    All values are validated before anything is written.  Only worksheets in which a cell is
    written are parsed (with ``lxml``, entities unresolved, no network) and re-serialized; their
    namespace prefixes and declarations (e.g. ``mc:Ignorable``) are kept.  Every other member is
    copied with its compressed bytes, compression method, order and timestamps unchanged;
    ``xl/calcChain.xml`` is left as it is.
    """
    name = os.fspath(src)
    wanted = _encode_values(values)
    if check:
        check_xlsx(src)
    with (
        atomic_path(dst) as tmp,
        zipfile.ZipFile(name) as archive,
        open(name, "rb") as raw,
        open(tmp, "wb") as out,
    ):
        parts = _worksheet_parts(name, archive)
        if sheet_names is not None:
            chosen = list(sheet_names)
            for sheet in chosen:
                if sheet not in parts:
                    raise WorkbookError(f"{name}: no worksheet named {sheet!r}")
            parts = {sheet: parts[sheet] for sheet in chosen}
        targets = {parts[sheet]: cells for sheet, cells in wanted.items() if sheet in parts}

        def transform(info: zipfile.ZipInfo) -> bytes | None:
            cells = targets.get(info.filename)
            if cells is None:
                return None
            return _rewrite_sheet(name, info.filename, archive.read(info), cells)

        _copy_zip(name, archive, raw, out, transform)


def rewrite_parts(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    changed: Mapping[str, bytes | None],
    added: Mapping[str, bytes] | None = None,
) -> None:
    """Copy the package `src` to `dst` with some members replaced, removed or added.

    Parameters
    ----------
    src : str or os.PathLike
        An .xlsx/.xlsm file already checked with :func:`~cvp_xl.xlsx.safety.check_xlsx`.
    dst : str or os.PathLike
        Where to write, atomically (may be `src`).
    changed : mapping
        ``{member name: new bytes}``; ``None`` removes the member.
    added : mapping, optional
        ``{member name: bytes}`` of new members, appended (deflated) after the others.

    Notes
    -----
    Every other member is copied with its compressed bytes, compression method, order and
    timestamps unchanged, as :func:`write_cached_values` copies them.
    """
    name = os.fspath(src)
    extra = []
    for member, data in (added or {}).items():
        info = zipfile.ZipInfo(member, date_time=time.localtime()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        extra.append((info, data))
    new = {info.filename: data for info, data in extra}
    with (
        atomic_path(dst) as tmp,
        zipfile.ZipFile(name) as archive,
        open(name, "rb") as raw,
        open(tmp, "wb") as out,
    ):
        present = {n.lower() for n in archive.namelist()}
        clash = sorted(member for member in new if member.lower() in present)
        if clash:
            raise WorkbookError(f"{name}: already has a part named {clash[0]!r}")

        def transform(info: zipfile.ZipInfo) -> bytes | None:
            if info.filename in new:
                return new[info.filename]
            return changed.get(info.filename)

        removed = {member for member, data in changed.items() if data is None}
        _copy_zip(name, archive, raw, out, transform, [i for i, _ in extra], removed)


def atomic_save_workbook(wb, dst: str | os.PathLike[str]) -> None:
    """Save an openpyxl workbook to `dst` atomically.

    Parameters
    ----------
    wb : openpyxl.Workbook
        The workbook to save.
    dst : str or os.PathLike
        The file to create or replace.  On any error it is left unchanged and no temporary file
        remains (see :func:`~cvp_xl.xlsx.atomic.atomic_path`).
    """
    with atomic_path(dst) as tmp:
        wb.save(tmp)


# -- values ------------------------------------------------------------------------------------


def _encode_values(values: Mapping[tuple[str, str], object]) -> dict[str, dict[str, _Encoded]]:
    """Validate `values` and group them as ``{sheet: {"A1": (t, text)}}``."""
    out: dict[str, dict[str, _Encoded]] = {}
    for key, value in values.items():
        if (
            not isinstance(key, tuple)
            or len(key) != 2
            or not isinstance(key[0], str)
            or not isinstance(key[1], str)
        ):
            raise TypeError(f"values: key {key!r} is not a (sheet_name, 'A1') pair of strings")
        sheet, ref = key
        out.setdefault(sheet, {})[_canonical_ref(key, ref)] = _encode(key, value)
    return out


def _canonical_ref(key: object, ref: str) -> str:
    m = _REF.fullmatch(ref.strip())
    if m is None:
        raise ValueError(f"values[{key!r}]: {ref!r} is not a cell reference such as 'A1'")
    col = _column_number(m[1])
    if col > _MAX_COL or int(m[2]) > _MAX_ROW:
        raise ValueError(f"values[{key!r}]: {ref!r} is outside the sheet (XFD1048576)")
    return f"{m[1].upper()}{m[2]}"


def _encode(key: object, value: object) -> _Encoded:
    """Return the ``t`` attribute and ``<v>`` text for one cached value."""
    kind = type(value)
    if kind is float or kind is int:
        return (None, _number_text(key, value))
    if value is None:
        return (None, None)
    if isinstance(value, ErrorValue):
        if value.code not in ERROR_LITERALS:
            raise ValueError(
                f"values[{key!r}]: {value.code!r} is not an Excel error code "
                f"({', '.join(ERROR_LITERALS)})"
            )
        return ("e", value.code)
    if isinstance(value, bool) or getattr(getattr(value, "dtype", None), "kind", "") == "b":
        return ("b", "1" if value else "0")
    if isinstance(value, str):
        if len(value) > _MAX_TEXT:
            raise ValueError(
                f"values[{key!r}]: text of {len(value):,} characters is longer than a cell "
                f"holds ({_MAX_TEXT:,})"
            )
        return ("str", escape_text(value))
    if isinstance(value, numbers.Real):
        return (None, _number_text(key, value))
    raise TypeError(
        f"values[{key!r}]: cannot write a cached value of type {type(value).__name__}; "
        "expected float, int, bool, str, None or ErrorValue"
    )


def encode_value(key: object, value: object) -> _Encoded:
    """The ``t`` attribute and ``<v>`` text of a value, as :func:`write_cached_values` writes
    it (``(None, None)`` for None); `key` names the cell in the messages of a bad value."""
    return _encode(key, value)


def _number_text(key: object, value: numbers.Real) -> str:
    """Shortest text that reads back as the same double; integral values without ``.0``."""
    if isinstance(value, numbers.Integral) and abs(int(value)) < 2**53:
        return str(int(value))
    try:
        x = float(value)
    except OverflowError:
        x = math.inf
    if not math.isfinite(x):
        raise ValueError(
            f"values[{key!r}]: {value!r} is not a finite number; write ErrorValue('#NUM!') "
            "for a numeric error"
        )
    if x.is_integer() and abs(x) < 1e16:
        return str(int(x))
    return repr(x)


def escape_text(text: str) -> str:
    """Text as Excel writes it in a cell: characters XML cannot hold as ``_xHHHH_``.

    Excel stores ``=CHAR(1)`` as ``_x0001_``; a literal ``_x0041_`` in the text is written
    ``_x005F_x0041_`` so that it reads back as itself.  Characters outside the Basic
    Multilingual Plane are fine in XML and are kept.

    >>> escape_text("a\x01b"), escape_text("_x0041_")
    ('a_x0001_b', '_x005F_x0041_')
    """
    if "_x" in text:
        text = _ESCAPED.sub(lambda m: "_x005F" + m[0], text)
    return _TO_ESCAPE.sub(lambda m: f"_x{ord(m[0]):04X}_", text)


# -- workbook structure ------------------------------------------------------------------------


def _worksheet_parts(name: str, archive: zipfile.ZipFile) -> dict[str, str]:
    """Map each sheet name to the zip member holding it, via the workbook and its rels."""
    members = {n.lower(): n for n in archive.namelist()}
    workbook = DefusedET.fromstring(archive.read("xl/workbook.xml"), forbid_dtd=True)
    rels_name = members.get("xl/_rels/workbook.xml.rels")
    if rels_name is None:
        raise WorkbookError(f"{name}: not a valid .xlsx file: no xl/_rels/workbook.xml.rels")
    rels = DefusedET.fromstring(archive.read(rels_name), forbid_dtd=True)
    targets = {}
    for rel in rels.iter(f"{{{_PKG_REL_NS}}}Relationship"):
        if rel.get("TargetMode", "Internal") == "Internal" and rel.get("Target"):
            targets[rel.get("Id")] = rel.get("Target")
    ns = workbook.tag[1:].partition("}")[0] if workbook.tag.startswith("{") else ""
    parts = {}
    for sheet in workbook.iter(f"{{{ns}}}sheet" if ns else "sheet"):
        rid = next((sheet.get(a) for a in _REL_ID_NAMES if sheet.get(a) is not None), None)
        target = targets.get(rid)
        sheet_name = sheet.get("name")
        if target is None or sheet_name is None:
            continue
        if target.startswith("/"):
            part = target[1:]
        else:
            part = posixpath.normpath(posixpath.join("xl", target))
        member = members.get(part.lower())
        if member is None:
            raise WorkbookError(
                f"{name}: not a valid .xlsx file: sheet {sheet_name!r} points to missing part "
                f"{part!r}"
            )
        parts[sheet_name] = member
    return parts


# -- worksheet rewriting -----------------------------------------------------------------------


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=False
    )


def _rewrite_sheet(name: str, member: str, data: bytes, cells: dict[str, _Encoded]) -> bytes | None:
    """Return the worksheet XML with the cached values set, or None if no cell was written."""
    try:
        root = etree.fromstring(data, _safe_parser())
    except etree.XMLSyntaxError as exc:
        raise WorkbookError(
            f"{name}: not a valid .xlsx file: {member!r} is not well-formed XML ({exc})"
        ) from exc
    ns = etree.QName(root).namespace
    q = (lambda local: f"{{{ns}}}{local}") if ns else (lambda local: local)
    sheet_data = root.find(q("sheetData"))
    if sheet_data is None:  # a chartsheet, dialogsheet, ...
        return None
    tag_row, tag_c = q("row"), q("c")
    tags = (q("f"), q("v"), q("is"))

    # Formula cells, found without visiting every cell; array and data-table ranges.
    formula_cells: dict[str, object] = {}
    ranges = []
    implicit = False
    for f in sheet_data.iter(tags[0]):
        c = f.getparent()
        if c.tag != tag_c:
            continue
        if f.get("t") in _RANGE_FORMULA_TYPES and f.get("ref"):
            bounds = _range_bounds(f.get("ref"))
            if bounds is not None:
                ranges.append(bounds)
        ref = c.get("r")
        if ref is None:
            implicit = True
        elif ref in cells:
            formula_cells[ref] = c
    # Every cell, indexed only when a cell lacks ``r`` or an array range needs its cells.
    index = SheetIndex(sheet_data, tag_row, tag_c, set(cells)) if implicit else None

    changed = False
    for ref, encoded in cells.items():
        c = formula_cells.get(ref) if index is None else index.found.get(ref)
        if c is not None and (index is None or c.find(tags[0]) is not None):
            _set_value(c, encoded, tags)
            changed = True
            continue
        row, col = _split_ref(ref)
        if not any(r1 <= row <= r2 and c1 <= col <= c2 for r1, c1, r2, c2 in ranges):
            continue
        if index is None:
            index = SheetIndex(sheet_data, tag_row, tag_c, set(cells))
        c = index.found.get(ref)
        if c is None:
            if encoded == (None, None):
                continue
            c = index.insert_cell(row, col)
            _extend_dimension(root.find(q("dimension")), row, col)
        _set_value(c, encoded, tags)
        changed = True
    if not changed:
        return None
    tree = root.getroottree()
    return etree.tostring(
        tree,
        xml_declaration=True,
        encoding=tree.docinfo.encoding or "UTF-8",
        standalone=tree.docinfo.standalone,
    )


class SheetIndex:
    """The rows of a sheetData element, and the wanted cells that already exist.

    ``SheetIndex(sheet_data, row_tag, c_tag, {"B2", ...}).found`` maps each wanted reference
    to its ``<c>`` element; :meth:`insert_cell` creates a missing one in its place.
    """

    def __init__(self, sheet_data, tag_row: str, tag_c: str, wanted: set[str]):
        self.sheet_data = sheet_data
        self.tag_row = tag_row
        self.tag_c = tag_c
        self.rows: dict[int, object] = {}
        self.found: dict[str, object] = {}
        self.implicit_rows = False
        previous = 0
        for row in sheet_data.iterchildren(tag_row):
            r = row.get("r")
            if r is None:
                self.implicit_rows = True
            number = int(r) if r else previous + 1
            previous = number
            self.rows[number] = row
            last_ref, last_col = None, 0
            for c in row.iterchildren(tag_c):
                ref = c.get("r")
                if ref is None:  # position implied by the previous cell (rare)
                    if last_ref is not None:
                        last_col = _split_ref(last_ref)[1]
                    last_col += 1
                    ref = f"{_column_letters(last_col)}{number}"
                last_ref = ref
                if ref in wanted:
                    self.found[ref] = c

    def insert_cell(self, row_number: int, col: int):
        """Create ``<c r=..>`` at its place in the sheet (creating the row if needed)."""
        if self.implicit_rows:
            for number, row in self.rows.items():
                row.set("r", str(number))
            self.implicit_rows = False
        row = self.rows.get(row_number)
        if row is None:
            row = etree.SubElement(self.sheet_data, self.tag_row)
            row.set("r", str(row_number))
            later = sorted(self.rows)
            i = bisect.bisect(later, row_number)
            if i < len(later):
                self.sheet_data.remove(row)
                self.rows[later[i]].addprevious(row)
            self.rows[row_number] = row
        _widen_spans(row, col)
        cells = list(row.iterchildren(self.tag_c))
        last_col = 0
        following = None
        for c in cells:
            ref = c.get("r")
            last_col = _split_ref(ref)[1] if ref else last_col + 1
            if ref is None:
                c.set("r", f"{_column_letters(last_col)}{row_number}")
            if following is None and last_col > col:
                following = c
        new = etree.SubElement(row, self.tag_c)
        new.set("r", f"{_column_letters(col)}{row_number}")
        if following is not None:
            row.remove(new)
            following.addprevious(new)
        return new


def _set_value(c, encoded: _Encoded, tags: tuple[str, str, str]) -> None:
    """Replace the cached value of cell element `c`; `tags` are the f, v and is tags."""
    tag_f, tag_v, tag_is = tags
    t, text = encoded
    f = None
    for child in list(c):
        if child.tag == tag_f:
            f = child
        elif child.tag == tag_v or child.tag == tag_is:
            c.remove(child)
    if text is None or t is None:
        c.attrib.pop("t", None)
    else:
        c.set("t", t)
    if text is not None:
        v = etree.SubElement(c, tag_v)
        v.text = text
        c.insert(c.index(f) + 1 if f is not None else 0, v)


def _widen_spans(row, col: int) -> None:
    spans = row.get("spans")
    if not spans or " " in spans:
        return
    lo, _, hi = spans.partition(":")
    if lo.isdigit() and hi.isdigit():
        row.set("spans", f"{min(int(lo), col)}:{max(int(hi), col)}")


def _extend_dimension(dimension, row: int, col: int) -> None:
    if dimension is None:
        return
    bounds = _range_bounds(dimension.get("ref", ""))
    if bounds is None:
        return
    r1, c1, r2, c2 = bounds
    r1, c1, r2, c2 = min(r1, row), min(c1, col), max(r2, row), max(c2, col)
    first = f"{_column_letters(c1)}{r1}"
    last = f"{_column_letters(c2)}{r2}"
    dimension.set("ref", first if first == last else f"{first}:{last}")


def _range_bounds(ref: str) -> tuple[int, int, int, int] | None:
    """``"B2:C4"`` -> ``(2, 2, 4, 3)`` (first row, first col, last row, last col)."""
    first, _, last = ref.strip().partition(":")
    try:
        r1, c1 = _split_ref(first)
        r2, c2 = _split_ref(last or first)
    except ValueError:
        return None
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


def _split_ref(ref: str) -> tuple[int, int]:
    m = _REF.fullmatch(ref)
    if m is None:
        raise ValueError(f"not a cell reference: {ref!r}")
    return int(m[2]), _column_number(m[1])


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _column_letters(n: int) -> str:
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


# -- zip copying -------------------------------------------------------------------------------

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_LOCAL_SIG, _CENTRAL_SIG, _END_SIG = 0x04034B50, 0x02014B50, 0x06054B50
_COPY_CHUNK = 2**20


def _copy_zip(name: str, archive: zipfile.ZipFile, raw: BinaryIO, out: BinaryIO, transform,
              added: Iterable[zipfile.ZipInfo] = (), removed: Iterable[str] = ()):
    """Write `archive` to `out`, replacing the members for which `transform` returns bytes
    (compressed here, as the member was) or a part compressed already (an object with the raw
    deflate ``payload`` and the ``crc`` and ``size`` of its bytes, written as it is).

    Members named in `removed` are left out; the members `added` (for which `transform`
    returns their bytes) are written after the others.

    Members not replaced are copied as their compressed bytes read from `raw` (the archive's
    file), so they are byte-identical.  Sizes always go in the local headers (no data
    descriptors).  Archives needing zip64 are refused; :func:`check_xlsx` keeps them far away.
    """
    central = []
    removed = set(removed)
    for info in [*archive.infolist(), *added]:
        if info.filename in removed:
            continue
        offset = out.tell()
        new = transform(info)
        if new is None:
            raw.seek(info.header_offset)
            header = raw.read(_LOCAL.size)
            if len(header) != _LOCAL.size or _LOCAL.unpack(header)[0] != _LOCAL_SIG:
                raise WorkbookError(
                    f"{name}: not a valid .xlsx file: member {info.filename!r} is corrupt or "
                    "truncated"
                )
            name_len, extra_len = _LOCAL.unpack(header)[9:11]
            local_extra = raw.read(name_len + extra_len)[name_len:]
            method, crc = info.compress_type, info.CRC
            csize, usize = info.compress_size, info.file_size
            payload = None
        elif not isinstance(new, bytes):  # a part compressed already (raw deflate): its
            local_extra = info.extra  # ``payload``, the ``crc`` and ``size`` of its bytes
            method, crc, usize, payload = zipfile.ZIP_DEFLATED, new.crc, new.size, new.payload
            csize = len(payload)
        else:
            local_extra = info.extra
            crc, usize = zlib.crc32(new), len(new)
            if info.compress_type == zipfile.ZIP_STORED:
                method, payload = zipfile.ZIP_STORED, new
            else:
                compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
                method = zipfile.ZIP_DEFLATED
                payload = compressor.compress(new) + compressor.flush()
            csize = len(payload)
        filename = info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437")
        local_extra = _strip_zip64(local_extra)
        central_extra = _strip_zip64(info.extra)
        flags = info.flag_bits & ~0x08  # sizes are in the local header: no data descriptor
        if payload is not None and method == zipfile.ZIP_DEFLATED:
            flags &= ~0x06  # compression-level hint bits: default level
        dos_time, dos_date = _dos_time(info.date_time)
        if max(offset, csize, usize) > 0xFFFFFFFF or len(central) >= 0xFFFF:
            raise WorkbookError(f"{name}: too large to rewrite (zip64 is not supported)")
        # the fields the local header and the central directory record share, in order
        shared = (info.extract_version, flags, method, dos_time, dos_date, crc, csize, usize,
                  len(filename))
        out.write(_LOCAL.pack(_LOCAL_SIG, *shared, len(local_extra)))
        out.write(filename)
        out.write(local_extra)
        if payload is None:
            _copy_bytes(name, info, raw, out, csize)
        else:
            out.write(payload)
        central.append(
            _CENTRAL.pack(_CENTRAL_SIG, info.create_version | info.create_system << 8, *shared,
                          len(central_extra), len(info.comment), 0, info.internal_attr,
                          info.external_attr, offset)
            + filename + central_extra + info.comment
        )
    start = out.tell()
    for record in central:
        out.write(record)
    size = out.tell() - start
    if start > 0xFFFFFFFF:
        raise WorkbookError(f"{name}: too large to rewrite (zip64 is not supported)")
    comment = archive.comment[:0xFFFF]
    out.write(_END.pack(_END_SIG, 0, 0, len(central), len(central), size, start, len(comment)))
    out.write(comment)


def _copy_bytes(name: str, info: zipfile.ZipInfo, raw: BinaryIO, out: BinaryIO, n: int) -> None:
    while n:
        chunk = raw.read(min(n, _COPY_CHUNK))
        if not chunk:
            raise WorkbookError(
                f"{name}: not a valid .xlsx file: member {info.filename!r} is corrupt or truncated"
            )
        out.write(chunk)
        n -= len(chunk)


def _strip_zip64(extra: bytes) -> bytes:
    """Drop zip64 extended-information blocks (id 0x0001); the rewritten sizes are 32-bit."""
    out = bytearray()
    i = 0
    while i + 4 <= len(extra):
        block_id, size = struct.unpack_from("<HH", extra, i)
        if block_id != 0x0001:
            out += extra[i : i + 4 + size]
        i += 4 + size
    return bytes(out)


def _dos_time(date_time: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    year, month, day, hour, minute, second = date_time
    year = min(max(year, 1980), 2107)
    return hour << 11 | minute << 5 | second // 2, (year - 1980) << 9 | month << 5 | day
