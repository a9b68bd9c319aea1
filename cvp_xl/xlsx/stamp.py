"""Write a workbook by stamping it into the file of one saved before with the same shape.

Saving with openpyxl rebuilds every part of a file from Python objects: every sheet, the
styles, every chart, the theme.  When many workbooks share one shape (every calculator of a
spec: the same sheets, charts, column widths, page setup, validations), only their cells and
document properties differ.  A :class:`Template` keeps the parts of one file written the usual
way (openpyxl, then :func:`~cvp_xl.xlsx.cached.write_cached_values`); :meth:`Template.write`
writes another workbook of the same shape as that path would have, part by part:

- each worksheet: the template's XML before and after ``<sheetData>`` (its ``<dimension>``
  recomputed), and the rows written anew from the workbook's cells, each formula with its
  cached value (as :func:`~cvp_xl.xlsx.cached.write_cached_values` writes it), text inline,
  escaped as XML requires, formula-like text kept as text;
- ``docProps/core.xml`` and ``docProps/custom.xml``: written anew by openpyxl's own classes
  (the time of writing; the workbook's document properties);
- ``xl/styles.xml``: the template's when the workbook's style tables are the template's, else
  written anew by openpyxl (an input whose number format depends on its value);
- every chart: written anew by openpyxl (a title may name something of the customer's);
- every other part (theme, drawings, images, workbook, relationships, content types): the
  template's bytes, copied still compressed.

What decides that two workbooks have the same shape is :func:`shape`: the sheets (titles,
order, kinds, states), their charts and images (count, anchor, size), merged cells, tables,
comments' drawings, external links, macros.  A workbook whose shape is not the template's is
refused (:class:`ShapeChanged`), and so is a cell this writer does not write (rich text, an
array formula, a comment, a hyperlink): the caller saves it the usual way.  What the shape does
not cover (column widths, page setup, data validations, the workbook part) the caller proves
by writing a workbook both ways and comparing (:func:`differences`), as
:class:`cvp_xl.workbooks.calculator.stamp.Stamper` does for the first two files of every
shape.

For a writer that patches a template's parts without any openpyxl workbook (the keyed path of
the calculator's stamper): :func:`cut_cells` cuts a worksheet part around chosen cells,
:func:`cell_xml` writes one cell again as :func:`_rows` would, :func:`deflate` compresses a
part whose long shared runs were compressed once (:func:`precompress`), and
:func:`write_parts` writes the file with those parts, every other part copied.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import re
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Mapping
from typing import BinaryIO

from openpyxl.cell._writer import _set_attributes
from openpyxl.compat import safe_string
from openpyxl.styles.differential import DifferentialStyle
from openpyxl.styles.stylesheet import write_stylesheet
from openpyxl.xml.functions import tostring

from cvp_xl.xlsx.cached import (
    _copy_zip,
    _encode,
    _encode_values,
    _worksheet_parts,
)

__all__ = ["Template", "ShapeChanged", "shape", "differences", "CORE", "CUSTOM", "STYLES",
           "cell_xml", "cut_cells", "Deflated", "deflate", "precompress", "write_parts"]

CORE, CUSTOM, STYLES = "docProps/core.xml", "docProps/custom.xml", "xl/styles.xml"
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"/>')
_TIMES = re.compile(rb"(<dcterms:(?:created|modified)\b[^>]*>)[^<]*(<)")


class ShapeChanged(Exception):
    """The workbook is not of the template's shape, or holds a cell this writer does not
    write; save it the usual way.  The message says what differs."""


# -- shape ----------------------------------------------------------------------------------


def _anchor(anchor) -> str | bytes:
    """A cell (``"A24"``) or an anchor object as its XML (openpyxl's writer reads both)."""
    return anchor.upper() if isinstance(anchor, str) else tostring(anchor.to_tree())


def _image(image) -> str:
    """What an image shows: a digest of the bytes it was made from (or the file it names).

    openpyxl closes the bytes when it saves the image, so the digest is kept on the image the
    first time (before the workbook is saved); an image whose bytes are gone unseen has no
    digest, and its workbook is not stamped.
    """
    known = getattr(image, "_cvp_xl_digest", None)
    if known is not None:
        return known
    ref = image.ref
    if not hasattr(ref, "getvalue"):
        return repr(ref)
    if getattr(ref, "closed", False):
        return "(bytes no longer readable)"
    image._cvp_xl_digest = hashlib.sha256(ref.getvalue()).hexdigest()
    return image._cvp_xl_digest


def _drawn(ws) -> tuple:
    charts = tuple((type(c).__name__, _anchor(c.anchor), c.width, c.height)
                   for c in ws._charts)  # noqa: SLF001 - what openpyxl's writer reads
    images = tuple((_anchor(i.anchor), i.width, i.height, i.format, _image(i))
                   for i in ws._images)  # noqa: SLF001
    return charts, images


def shape(wb) -> tuple:
    """What must be the same for a workbook to be stamped into another's file.

    The sheets in order (kind, title, state), each sheet's charts and images (kind, anchor,
    size; an image's bytes), merged ranges, tables, pivot tables and comment drawings;
    whether the workbook has document properties of its own, external links, macros.
    """
    sheets = []
    for ws in wb._sheets:  # noqa: SLF001 - worksheets and chartsheets, in order
        if type(ws).__name__ != "Worksheet":
            sheets.append((type(ws).__name__, ws.title))
            continue
        sheets.append(("Worksheet", ws.title, ws.sheet_state, *_drawn(ws),
                       tuple(str(r) for r in ws.merged_cells.ranges), tuple(ws.tables),
                       len(ws._pivots), ws.legacy_drawing))  # noqa: SLF001
    return (tuple(sheets), len(wb.custom_doc_props) > 0, len(wb._external_links),  # noqa: SLF001
            wb.vba_archive is not None)


def _style_key(wb) -> tuple:
    """Everything ``xl/styles.xml`` is written from (openpyxl's ``write_stylesheet``)."""
    return (tuple(tuple(s) for s in wb._cell_styles), tuple(wb._fonts),  # noqa: SLF001
            tuple(wb._fills), tuple(wb._borders), tuple(wb._alignments),  # noqa: SLF001
            tuple(wb._protections), tuple(wb._number_formats),  # noqa: SLF001
            tuple(wb._differential_styles.styles), tuple(wb._named_styles),  # noqa: SLF001
            tuple(wb._colors or ()), repr(wb._table_styles))  # noqa: SLF001


# -- rows -----------------------------------------------------------------------------------


def _text(s: str) -> str:
    """Character data as libxml2 writes it (the serializer of openpyxl and lxml)."""
    if "&" in s:
        s = s.replace("&", "&amp;")
    if "<" in s:
        s = s.replace("<", "&lt;")
    if ">" in s:
        s = s.replace(">", "&gt;")
    if "\r" in s:
        s = s.replace("\r", "&#13;")
    return s


def _attr(s: str) -> str:
    s = _text(s)
    if '"' in s:
        s = s.replace('"', "&quot;")
    if "\n" in s:
        s = s.replace("\n", "&#10;")
    if "\t" in s:
        s = s.replace("\t", "&#9;")
    return s


def _attrs(attrs: Mapping[str, str]) -> str:
    return "".join(f' {k}="{_attr(str(v))}"' for k, v in attrs.items())


def _rows(ws, cached: dict) -> tuple[str, bool]:
    """The ``<row>`` elements of a worksheet, as openpyxl writes them and
    :func:`~cvp_xl.xlsx.cached.write_cached_values` then sets the cached values.

    ``cached`` maps ``"A1"`` to the encoded value of each formula cell (``(t, text)``).
    A sheet in which a cached value is written is parsed and written again by lxml, which
    writes an empty element as ``<row r="2"/>`` and text as UTF-8; openpyxl's own writer
    (which a sheet without formulas keeps) as ``<row r="2"></row>`` and in ASCII, other
    characters as references (``&#215;``).  The second value returned says which.
    """
    rows: dict[int, list] = defaultdict(list)
    for (r, _c), cell in sorted(ws._cells.items()):  # noqa: SLF001 - the cells openpyxl writes
        rows[r].append(cell)
    dims = ws.row_dimensions
    for r in dims.keys() - rows.keys():
        rows[r] = []
    out = []
    missing = []
    canonical = False
    for r, cells in sorted(rows.items()):
        attrs = {"r": f"{r}"}
        attrs.update(dims.get(r, {}))
        out.append(f"<row{_attrs(attrs)}")
        mark = len(out)
        for cell in cells:
            if cell._comment is not None or cell.hyperlink is not None:  # noqa: SLF001
                raise ShapeChanged(f"{ws.title}!{cell.coordinate} has a comment or a link")
            style = cell._style  # noqa: SLF001 - openpyxl's has_style, without the calls
            styled = style is not None and any(style)
            value = cell._value  # noqa: SLF001
            if value is None and not styled:
                continue
            kind = cell.data_type
            ref = cell.coordinate
            if kind == "d":  # a date: openpyxl's conversion and attributes, as its writer's
                value, a = _set_attributes(cell, styled)
                out.append(f"<c{_attrs(a)}>" + (f"<v>{_text(safe_string(value))}</v></c>"
                                                if value is not None else "</c>"))
                continue
            head = f'<c r="{ref}" s="{cell.style_id}"' if styled else f'<c r="{ref}"'
            if kind == "f":
                if not isinstance(value, str):
                    raise ShapeChanged(f"{ws.title}!{cell.coordinate} holds an array formula")
                found = cached.get(ref)
                if found is None:
                    missing.append(f"{ws.title}!{ref}")
                    found = (None, None)
                canonical = True
                t, v = found
                if v is None:
                    out.append(f"{head}><f>{_text(value[1:])}</f></c>")
                elif t is None:
                    out.append(f"{head}><f>{_text(value[1:])}</f><v>{_text(v)}</v></c>")
                else:
                    out.append(f'{head} t="{t}"><f>{_text(value[1:])}</f><v>{_text(v)}</v></c>')
            elif value is None or value == "":
                out.append(f'{head} t="{"inlineStr" if kind == "s" else kind}"\0')
            elif kind == "s":
                if not isinstance(value, str):
                    raise ShapeChanged(f"{ws.title}!{cell.coordinate} holds rich text")
                space = ' xml:space="preserve"' if value != value.strip() else ""
                out.append(f'{head} t="inlineStr"><is><t{space}>{_text(value)}</t></is></c>')
            else:
                out.append(f'{head} t="{kind}"><v>{_text(safe_string(value))}</v></c>')
        if len(out) == mark:
            out.append("\1")
        else:
            out[mark - 1] += ">"
            out.append("</row>")
    if missing:
        raise ValueError(f"formula cells without a computed value: {', '.join(missing[:10])}")
    text = "".join(out)
    # the closing of an empty cell (\0) and of an empty row (\1): characters no cell holds
    # (openpyxl refuses them)
    if canonical:
        return text.replace("\0", "/>").replace("\1", "/>"), True
    return text.replace("\0", "></c>").replace("\1", "></row>"), False


def cell_xml(ref: str, style: str | None, value, formula: str | None = None,
             canonical: bool = True, text: bool = False) -> str:
    """One ``<c>`` element as :func:`_rows` writes it (see there), for a writer that patches
    a template's sheet cell by cell.

    ``style`` is the cell's ``s`` attribute (None: an unstyled cell); ``formula`` the
    formula's text without its ``=`` (``value`` then being its cached value, as
    :func:`~cvp_xl.xlsx.cached.write_cached_values` writes it); ``canonical`` whether the
    sheet holds formulas (lxml's writing of empty elements); ``text`` whether an empty
    ``value`` is an empty text (``set_text``), not an empty number cell.

    Raises
    ------
    ShapeChanged
        An unstyled empty cell (openpyxl writes no element: the rows would change).
    ValueError
        A cached value cannot be written (:func:`~cvp_xl.xlsx.cached.write_cached_values`).

    Examples
    --------
    >>> cell_xml("B2", "3", "=1 & <2>")
    '<c r="B2" s="3" t="inlineStr"><is><t>=1 &amp; &lt;2&gt;</t></is></c>'
    >>> cell_xml("A1", None, 2.5, formula="B1*2")
    '<c r="A1"><f>B1*2</f><v>2.5</v></c>'
    """
    head = f'<c r="{ref}" s="{style}"' if style is not None else f'<c r="{ref}"'
    if formula is not None:
        t, v = _encode(ref, value)
        f = _formula_text(formula)
        if v is None:
            return f"{head}><f>{f}</f></c>"
        if t is None:
            return f"{head}><f>{f}</f><v>{_text(v)}</v></c>"
        return f'{head} t="{t}"><f>{f}</f><v>{_text(v)}</v></c>'
    if value is None or value == "":
        if style is None:
            raise ShapeChanged(f"{ref}: an empty cell without a style is not written")
        end = "/>" if canonical else "></c>"
        return f'{head} t="{"inlineStr" if text or value == "" else "n"}"{end}'
    if isinstance(value, str):
        space = ' xml:space="preserve"' if value != value.strip() else ""
        return f'{head} t="inlineStr"><is><t{space}>{_text(value)}</t></is></c>'
    kind = "b" if isinstance(value, bool) else "n"
    return f'{head} t="{kind}"><v>{_text(safe_string(value))}</v></c>'


@functools.lru_cache(maxsize=8192)
def _formula_text(formula: str) -> str:
    """A formula escaped (the same formulas come back in every file of a template)."""
    return _text(formula)


_CELL_START = re.compile(rb'<c r="([A-Z]{1,3}[0-9]+)"')
_STYLE = re.compile(rb' s="([0-9]+)"')


def cut_cells(xml: bytes, refs) -> tuple[list[bytes], list[tuple[str, str | None]]]:
    """A worksheet part cut around the ``<c>`` elements of the cells ``refs``: the pieces
    between them, and each cut cell's reference and ``s`` attribute, in the order of the part
    (``pieces[0] + cell 0 + pieces[1] + ...`` is the part again).

    Raises
    ------
    ShapeChanged
        A cell of ``refs`` is not in the part.

    >>> cut_cells(b'<row r="1"><c r="A1" s="2"><v>1</v></c><c r="B1"/></row>', ["B1"])
    ([b'<row r="1"><c r="A1" s="2"><v>1</v></c>', b'</row>'], [('B1', None)])
    """
    wanted = set(refs)
    pieces, cells, last = [], [], 0
    for m in _CELL_START.finditer(xml):
        ref = m.group(1).decode("ascii")
        if ref not in wanted:
            continue
        tag_end = xml.index(b">", m.end())
        end = tag_end + 1 if xml[tag_end - 1:tag_end] == b"/" else xml.index(b"</c>", tag_end) + 4
        style = _STYLE.search(xml, m.end(), tag_end)
        pieces.append(xml[last:m.start()])
        cells.append((ref, style.group(1).decode("ascii") if style else None))
        last = end
        wanted.discard(ref)
    if wanted:
        raise ShapeChanged(f"no cell {sorted(wanted)[0]} where the template has one")
    pieces.append(xml[last:])
    return pieces, cells


def _register_dxfs(ws) -> None:
    """What openpyxl's writer does for conditional formats before the styles are written."""
    empty = DifferentialStyle()
    for cf in ws.conditional_formatting:
        for rule in cf.rules:
            if rule.dxf and rule.dxf != empty:
                rule.dxfId = ws.parent._differential_styles.add(rule.dxf)  # noqa: SLF001


# -- the template ---------------------------------------------------------------------------


class _Sheet:
    """A worksheet part cut around its rows: before the dimension, after it, after the rows."""

    def __init__(self, member: str, xml: bytes):
        start = xml.find(b"<sheetData")
        empty = xml.startswith(b"<sheetData/>", start)
        end = start + len(b"<sheetData/>") if empty else xml.find(b"</sheetData>") + 12
        if start < 0 or end < 12:
            raise ShapeChanged(f"{member}: no rows where a worksheet has them")
        head = xml[:start]
        dim = _DIMENSION.search(head)
        self.member = member
        self.before = head[:dim.start()] if dim else head
        self.after = head[dim.end():] if dim else b""
        self.dimension = dim is not None
        self.tail = xml[end:]


class Template:
    """The parts of one saved workbook, to write others of its shape (see the module).

    Parameters
    ----------
    wb : openpyxl.Workbook
        The workbook, as it is after it was saved to ``data``.
    data : bytes
        The file it was saved to (openpyxl, then the cached values).
    name : str
        How to name it in messages.

    Raises
    ------
    ShapeChanged
        The file is not one this writer can stamp into (a chartsheet; no rows, styles or
        charts where openpyxl writes them).

    Notes
    -----
    Call :func:`shape` on ``wb`` before it is saved when it holds images (openpyxl closes an
    image's bytes as it saves it; their digest is kept from the first call).  A template may
    be shared by threads: each :meth:`write` reads the template's bytes on its own.
    """

    def __init__(self, wb, data: bytes, name: str = "template"):
        if wb.chartsheets:
            raise ShapeChanged(f"{name}: a chartsheet is not stamped")
        self.name = name
        self.data = data
        self.shape = shape(wb)
        self._archive = zipfile.ZipFile(io.BytesIO(data))
        parts = _worksheet_parts(name, self._archive)
        self.sheets = {title: _Sheet(member, self._archive.read(member))
                       for title, member in parts.items()}
        self._styles = {_style_key(wb): self._archive.read(STYLES)}
        members = set(self._archive.namelist())
        self.charts = [f"xl/charts/chart{k}.xml" for k in range(1, 1 + sum(
            len(ws._charts) for ws in wb.worksheets))]  # noqa: SLF001
        missing = [m for m in self.charts + [STYLES] if m not in members]
        if missing:
            raise ShapeChanged(f"{name}: no part {missing[0]} where openpyxl writes one")

    def parts(self, wb, values: Mapping[tuple[str, str], object]) -> dict[str, bytes]:
        """The parts that differ from the template's, for ``wb`` and its cached ``values``.

        Raises
        ------
        ShapeChanged
            ``wb`` is not of the template's shape, or holds a cell not written here.
        ValueError
            A formula cell has no value in ``values``, or a value cannot be written.
        """
        if shape(wb) != self.shape:
            raise ShapeChanged(f"{self.name}: the workbook's sheets, charts or images differ "
                               f"from the template's")
        encoded = _encode_values(values)
        out: dict[str, bytes] = {}
        for ws in wb.worksheets:
            sheet = self.sheets[ws.title]
            _register_dxfs(ws)
            rows, canonical = _rows(ws, encoded.get(ws.title, {}))
            # openpyxl's writer writes ASCII, other characters as references (&#215;)
            text = (rows.encode("utf-8") if canonical
                    else rows.encode("ascii", "xmlcharrefreplace"))
            data = (b"<sheetData>" + text + b"</sheetData>" if rows
                    else b"<sheetData/>" if canonical else b"<sheetData></sheetData>")
            dim = (b'<dimension ref="' + ws.calculate_dimension().encode("ascii") + b'"/>'
                   if sheet.dimension else b"")
            out[sheet.member] = sheet.before + dim + sheet.after + data + sheet.tail
        # as openpyxl's save: modified now (UTC, written without a zone)
        wb.properties.modified = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        out[CORE] = tostring(wb.properties.to_tree())
        if len(wb.custom_doc_props):
            out[CUSTOM] = tostring(wb.custom_doc_props.to_tree())
        key = _style_key(wb)
        styles = self._styles.get(key)
        if styles is None:
            styles = tostring(write_stylesheet(wb))
            if len(self._styles) < 64:
                self._styles[key] = styles
        out[STYLES] = styles
        charts = [c for ws in wb.worksheets for c in ws._charts]  # noqa: SLF001
        for member, chart in zip(self.charts, charts):
            out[member] = tostring(chart._write())  # noqa: SLF001 - as openpyxl's writer
        return out

    def write(self, wb, values: Mapping[tuple[str, str], object], out: BinaryIO) -> None:
        """Write ``wb`` with its cached ``values`` to ``out`` (a binary file), as the template
        was written; see :meth:`parts` for what is raised."""
        new = self.parts(wb, values)
        raw = io.BytesIO(self.data)  # a reader of its own: threads may share a template
        _copy_zip(self.name, self._archive, raw, out, lambda info: new.get(info.filename))


# -- parts compressed in pieces ---------------------------------------------------------------


class Deflated:
    """A part already compressed (raw deflate), with the CRC-32 and size of its bytes."""

    __slots__ = ("payload", "crc", "size")

    def __init__(self, payload: bytes, crc: int, size: int):
        self.payload, self.crc, self.size = payload, crc, size


def _compressor():
    return zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)


def precompress(data: bytes) -> bytes:
    """``data`` deflated on its own and ended by a full flush (byte-aligned, nothing after it
    refers back into it): a piece :func:`deflate` can put into any stream as it is."""
    c = _compressor()
    return c.compress(data) + c.flush(zlib.Z_FULL_FLUSH)


def deflate(segments) -> Deflated:
    """One part from its ``segments``, ``(bytes, precompressed or None)`` in order: the
    pieces given compressed (:func:`precompress`, those a template shares with every file)
    go in as they are, the others are compressed here, each run after a full flush so that
    nothing refers back across a piece put in.  The stream inflates to the segments' bytes
    joined (as any deflate stream made of complete blocks does).

    >>> import zlib
    >>> part = deflate([(b"<a>" * 50, None), (b"<b/>" * 80, precompress(b"<b/>" * 80)),
    ...                 (b"x", None)])
    >>> zlib.decompress(part.payload, -15) == b"<a>" * 50 + b"<b/>" * 80 + b"x"
    True
    >>> part.crc == zlib.crc32(b"<a>" * 50 + b"<b/>" * 80 + b"x"), part.size
    (True, 471)
    """
    c = _compressor()
    out, pending, crc, size = [], [], 0, 0
    for data, pre in segments:
        crc = zlib.crc32(data, crc)
        size += len(data)
        if pre is None:
            pending.append(data)
            continue
        if pending:
            out.append(c.compress(b"".join(pending)))
            pending = []
        out.append(c.flush(zlib.Z_FULL_FLUSH))
        out.append(pre)
    out.append(c.compress(b"".join(pending)))
    out.append(c.flush())
    return Deflated(b"".join(out), crc, size)


def write_parts(name: str, archive: zipfile.ZipFile, raw: BinaryIO, out: BinaryIO,
                new: Mapping[str, bytes | Deflated]) -> None:
    """Write ``archive`` to ``out`` as :func:`~cvp_xl.xlsx.cached._copy_zip` does, the
    members named in ``new`` replaced by its bytes (compressed here) or its
    :class:`Deflated` part (written as it is); every other member copied compressed."""

    def replaced(info: zipfile.ZipInfo) -> Deflated | None:
        part = new.get(info.filename)
        if part is None:
            return None
        if info.compress_type != zipfile.ZIP_DEFLATED:
            raise ShapeChanged(f"{name}: {info.filename} is not deflated")
        return part if isinstance(part, Deflated) else deflate([(part, None)])

    _copy_zip(name, archive, raw, out, replaced)


def differences(a: bytes, b: bytes) -> list[str]:
    """The parts in which two .xlsx files differ (their uncompressed bytes), the times of
    ``docProps/core.xml`` left out; ``[]`` when they are the same workbook.

    >>> differences(b"", b"")
    []
    """
    if a == b:
        return []
    with zipfile.ZipFile(io.BytesIO(a)) as za, zipfile.ZipFile(io.BytesIO(b)) as zb:
        names_a, names_b = za.namelist(), zb.namelist()
        out = [f"part {n} in one file only" for n in sorted(set(names_a) ^ set(names_b))]
        if not out and names_a != names_b:
            out.append("the parts are in another order")
        for name in names_a:
            if name not in names_b:
                continue
            pa, pb = za.read(name), zb.read(name)
            if name == CORE:
                pa, pb = _TIMES.sub(rb"\1\2", pa), _TIMES.sub(rb"\1\2", pb)
            if pa != pb:
                out.append(name)
        return out
