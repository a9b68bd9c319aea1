"""``cvp-xl share``: make a workbook that needs no add-in, and means the same.

Every ``CVP_*`` call that has a native translation becomes plain Excel formulas, guarded so
that it refuses what the function refuses (a blank, text, TRUE/FALSE, ranges that do not pair:
:mod:`cvp_xl.catalog.guards`).  A formula calling a function without a translation, or a call
that has none for its arguments, becomes its computed value, with a note on the cell saying
what it was and why; array formulas (``{=CVP_ROI(B2:B4,C2:C4)}``) are rewritten the same way,
over the same cells.

The copy carries the values the original computes (with the ``CVP_*`` functions, by the
formulas engine), so no number in it comes from the rewritten formulas before a spreadsheet
program recomputes them; they agree, which ``tests/hosts/test_native_guards.py`` checks with
LibreOffice.  The cells that were already errors in the original are listed with their
reason.  The copy is written whole or not at all.

The changes are written into the original package's parts, not through openpyxl: every part
share does not mean to change is copied byte for byte (macros and their ``vbaProject.bin``,
the macro-enabled content type of an ``.xlsm``, customUI, printer settings, pivot caches,
comments ...).  What share changes: the worksheets holding a rewritten cell; for a cell that
keeps its value, the sheet's comments and their VML drawing (created, or added to), its
relationships and ``[Content_Types].xml`` for new parts, and ``xl/calcChain.xml`` (dropped,
with its relationship, when a formula became a value: Excel rebuilds it, and refuses a chain
that names a cell without a formula).

Translations that depend on what cells contain (``CVP_WORDEQ`` turns its equation text and
names into arithmetic over the value cells) read them from the workbook being shared:
constants as written, formula cells as computed.  The native formula is fixed at that moment:
edit the equation or the names afterwards and it no longer follows them, so share the
workbook last.
"""

from __future__ import annotations

import os
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from cvp_xl.commands.recalc import CellError, compute
from cvp_xl.errors import CvpError, ErrorValue, WorkbookError
from cvp_xl.hosts.native import NoTranslation, cvp_calls, to_native, workbook_cells
from cvp_xl.xlsx.a1 import cells as cells_of
from cvp_xl.xlsx.a1 import parse_cell
from cvp_xl.xlsx.atomic import atomic_path, clean_temporaries, not_written
from cvp_xl.xlsx.cached import (
    SheetIndex,
    encode_value,
    escape_text,
    rewrite_parts,
    write_cached_values,
)
from cvp_xl.xlsx.contents import read_contents

__all__ = ["share", "Change", "ShareResult"]

#: The author of the notes share writes.
AUTHOR = "cvp-xl"

_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
_DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_COMMENTS_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
_VML_CT = "application/vnd.openxmlformats-officedocument.vmlDrawing"
_V = "urn:schemas-microsoft-com:vml"
_O = "urn:schemas-microsoft-com:office:office"
_X = "urn:schemas-microsoft-com:office:excel"
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
#: The worksheet elements that come after ``<legacyDrawing>`` (ECMA-376, CT_Worksheet).
_AFTER_LEGACY = ("legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
                 "webPublishItems", "tableParts", "extLst")
_SHAPE_ID = re.compile(r"_x0000_s(\d+)")


@dataclass(frozen=True)
class Change:
    """One cell (or array formula) that ``share`` rewrote.

    ``kind`` is ``"native"`` (the call became native formulas) or ``"value"`` (the computed
    value was kept, for ``reason``).
    """

    sheet: str
    ref: str
    before: str
    after: str
    kind: str
    reason: str = ""

    def __str__(self) -> str:
        what = "native formula" if self.kind == "native" else f"value kept: {self.reason}"
        return f"{self.sheet}!{self.ref}: {self.before} -> {self.after}  [{what}]"


class ShareResult(list):
    """The :class:`Change` of every rewritten cell, in sheet order (a list, as before).

    Attributes
    ----------
    source_errors : list of CellError
        The cells of the original that were already errors, with the reason where one is
        known (a ``CVP_*`` call's message); ``code`` ``"#N/A"`` etc.  Error constants typed
        into cells are listed too, with the reason ``"typed in the cell"``.
    """

    def __init__(self, changes=(), source_errors=()):
        super().__init__(changes)
        self.source_errors: list[CellError] = list(source_errors)


@dataclass
class _Edits:
    """What share changes on one worksheet part."""

    formulas: dict[str, str] = field(default_factory=dict)  # ref -> formula text, no "="
    values: dict[str, object] = field(default_factory=dict)  # ref -> constant (no formula)
    notes: dict[str, str] = field(default_factory=dict)  # ref -> note text


def share(src: str | os.PathLike, dst: str | os.PathLike | None = None) -> ShareResult:
    """Write a copy of ``src`` (or rewrite it in place) that computes without the add-in.

    Parameters
    ----------
    src : path-like
        The workbook to share (checked before anything parses it), ``.xlsx`` or ``.xlsm``.
    dst : path-like, optional
        Where to write the copy; default: ``src`` itself, atomically.

    Returns
    -------
    ShareResult
        The changes, in sheet order, with ``source_errors``: the cells that were errors before
        sharing.

    Raises
    ------
    cvp_xl.errors.WorkbookError
        ``src`` is refused, or ``dst`` cannot be written (a full disk, a read-only folder):
        the message names it and the error, and ``dst`` is as it was.

    Notes
    -----
    Every part of ``src`` that share does not change is copied byte for byte (see the
    module's docstring for the parts it changes).
    """
    src = Path(src)
    dst = Path(dst) if dst is not None else src
    computed = compute(src)
    values = computed.values
    contents = read_contents(src)
    order = {name: i for i, name in enumerate(contents.all_sheet_names)}
    changes: list[Change] = []
    typed_errors: list[CellError] = []
    edits: dict[str, _Edits] = {}
    wb = None
    for sheet in contents.sheets:
        for ref, cell in sheet.cells.items():
            if cell.formula is None:
                if isinstance(cell.value, ErrorValue):
                    typed_errors.append(CellError(sheet.name, ref, cell.value.code,
                                                  "typed in the cell"))
                continue
            if not cell.formula or not cvp_calls("=" + cell.formula):
                continue
            if wb is None:
                wb = _openpyxl(src)
            reader = workbook_cells(wb, sheet.name, values)
            change = _rewrite(sheet.name, ref, cell, reader, values,
                              edits.setdefault(sheet.part, _Edits()))
            changes.append(change)
    real = Path(os.path.realpath(dst))
    clean_temporaries(real.parent, [real.name])  # what a killed run left
    existed = dst.exists()
    try:
        with atomic_path(dst) as tmp:
            if edits:
                changed, added = _package_edits(src, edits)
                rewrite_parts(src, tmp, changed, added)
                write_cached_values(tmp, tmp, values, check=False)
            else:
                write_cached_values(src, tmp, values, check=False)
    except OSError as exc:
        raise not_written(dst, exc, existed) from None
    errors = sorted(computed.errors + typed_errors,
                    key=lambda e: (order.get(e.sheet, len(order)), _row_col(e.ref)))
    return ShareResult(changes, errors)


def _openpyxl(src: Path):
    """The workbook as openpyxl reads it, for the translations that read cells (the file
    was checked when share began)."""
    from cvp_xl.xlsx.safety import load_checked

    return load_checked(src, checked=True)


def _rewrite(sheet: str, ref: str, cell, reader, values, edits: _Edits) -> Change:
    """Rewrite one cell's ``CVP_*`` calls, recording the edit of its part."""
    text = "=" + cell.formula
    array = cell.array if cell.kind == "array" else None
    before = text if array is None else "{" + text + "}"
    where = array or ref
    try:
        after = to_native(text, cells=reader)
    except (NoTranslation, CvpError) as exc:
        reason = str(exc) if isinstance(exc, NoTranslation) else exc.message
        shown = []
        for a1 in cells_of(where):
            value = values.get((sheet, a1))
            edits.values[a1] = value
            shown.append(value.code if isinstance(value, ErrorValue) else repr(value))
        edits.notes[ref] = (f"Was {before}\n{reason}; the value computed by cvp-xl is kept "
                            "instead.")
        after_text = shown[0] if len(shown) == 1 else "{" + ",".join(shown) + "}"
        return Change(sheet, where, before, after_text, "value", reason)
    edits.formulas[ref] = after[1:]
    return Change(sheet, where, before, after if array is None else "{" + after + "}",
                  "native")


# -- the package's parts -----------------------------------------------------------------------


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _xml(name: str, member: str, data: bytes):
    try:
        return etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise WorkbookError(
            f"{name}: not a valid .xlsx file: {member!r} is not well-formed XML ({exc})"
        ) from None


def _bytes(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _rels_name(part: str) -> str:
    folder, _, base = part.rpartition("/")
    return f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels"


def _target(part: str, rel) -> str:
    target = rel.get("Target") or ""
    if target.startswith("/"):
        return target[1:]
    return posixpath.normpath(posixpath.join(posixpath.dirname(part), target))


def _free_name(present: set[str], pattern: str) -> tuple[str, int]:
    n = 1
    while pattern.format(n).lower() in present:
        n += 1
    return pattern.format(n), n


def _package_edits(src: Path, edits: dict[str, _Edits]):
    """The members to replace (None: remove) and to add, for the edits of each sheet."""
    name = os.fspath(src)
    changed: dict[str, bytes | None] = {}
    added: dict[str, bytes] = {}
    with zipfile.ZipFile(name) as archive:
        members = {n.lower(): n for n in archive.namelist()}
        present = set(members)

        def read(part: str) -> bytes | None:
            member = members.get(part.lower())
            if member is None:
                return None
            return changed.get(member) or archive.read(member)

        if "[content_types].xml" not in members:
            raise WorkbookError(f"{name}: not a valid .xlsx file: no [Content_Types].xml")
        types = _xml(name, "[Content_Types].xml", archive.read(members["[content_types].xml"]))
        types_changed = False
        for part, sheet_edits in edits.items():
            legacy = None
            if sheet_edits.notes:
                legacy, new_types = _notes(name, part, sheet_edits.notes, read, present,
                                           changed, added, members)
                for part_name, content_type in new_types:
                    _add_override(types, part_name, content_type)
                    types_changed = True
                if not _has_vml_default(types):
                    types.append(etree.Element(f"{{{_CT}}}Default",
                                               Extension="vml", ContentType=_VML_CT))
                    types_changed = True
            changed[part] = _edit_sheet(name, part, archive.read(part), sheet_edits, legacy)
        if any(e.values for e in edits.values()):
            types_changed |= _drop_calc_chain(name, read, members, changed, types)
        if types_changed:
            changed[members["[content_types].xml"]] = _bytes(types)
    return changed, added


def _has_vml_default(types) -> bool:
    return any(el.get("Extension", "").lower() == "vml" for el in types
               if etree.QName(el).localname == "Default")


def _add_override(types, part: str, content_type: str) -> None:
    types.append(etree.Element(f"{{{_CT}}}Override", PartName="/" + part,
                               ContentType=content_type))


def _drop_calc_chain(name, read, members, changed, types) -> bool:
    """Remove ``xl/calcChain.xml``, its relationship and its content type; True if found."""
    rels_part = members.get("xl/_rels/workbook.xml.rels")
    if rels_part is None:
        return False
    rels = _xml(name, rels_part, read(rels_part))
    found = False
    for rel in list(rels):
        if (rel.get("Type") or "").endswith("/calcChain"):
            member = members.get(_target("xl/workbook.xml", rel).lower())
            rels.remove(rel)
            found = True
            if member is not None:
                changed[member] = None
                for el in list(types):
                    if (el.get("PartName") or "").lstrip("/").lower() == member.lower():
                        types.remove(el)
    if found:
        changed[rels_part] = _bytes(rels)
    return found


def _notes(name, part, notes, read, present, changed, added, members):
    """Write the notes of one sheet into its comments part and VML drawing.

    Returns the relationship id of the sheet's legacy drawing when the sheet gains one (None
    when it had one), and the ``(part, content type)`` of every part created.
    """
    rels_name = _rels_name(part)
    data = read(rels_name)
    rels = (_xml(name, rels_name, data) if data is not None
            else etree.Element(f"{{{_PKG_REL}}}Relationships", nsmap={None: _PKG_REL}))
    by_type = {}
    for rel in rels:
        kind = (rel.get("Type") or "").rpartition("/")[2]
        if rel.get("TargetMode", "Internal") == "Internal":
            by_type.setdefault(kind, _target(part, rel))
    used = {rel.get("Id") for rel in rels}
    new_types = []
    legacy = None

    def relate(kind: str, target: str) -> str:
        n = 1
        while f"rId{n}" in used:
            n += 1
        rid = f"rId{n}"
        used.add(rid)
        rels.append(etree.Element(
            f"{{{_PKG_REL}}}Relationship", Id=rid, Type=f"{_DOC_REL}/{kind}",
            Target=posixpath.relpath(target, posixpath.dirname(part))))
        return rid

    comments_part = by_type.get("comments")
    if comments_part is not None and comments_part.lower() in members:
        member = members[comments_part.lower()]
        changed[member] = _comments(name, member, read(member), notes)
    else:
        comments_part, _ = _free_name(present | set(added), "xl/comments{}.xml")
        added[comments_part] = _comments(name, comments_part, None, notes)
        present.add(comments_part.lower())
        new_types.append((comments_part, _COMMENTS_CT))
        relate("comments", comments_part)
    vml_part = by_type.get("vmlDrawing")
    if vml_part is not None and vml_part.lower() in members:
        member = members[vml_part.lower()]
        vml = _vml(read(member), notes, 0)
        if vml is not None:  # a drawing lxml cannot read is left as it is
            changed[member] = vml
    else:
        vml_part, block = _free_name(present | set(added), "xl/drawings/vmlDrawing{}.vml")
        added[vml_part] = _vml(None, notes, block)
        present.add(vml_part.lower())
        legacy = relate("vmlDrawing", vml_part)
    if new_types or legacy is not None:  # a relationship was added
        if rels_name.lower() in members:
            changed[members[rels_name.lower()]] = _bytes(rels)
        else:
            added[rels_name] = _bytes(rels)
    return legacy, new_types


def _comments(name: str, member: str, data: bytes | None, notes: dict[str, str]) -> bytes:
    """The comments part with the notes added (a note replaces a comment on its cell)."""
    if data is not None:
        root = _xml(name, member, data)
        ns = etree.QName(root).namespace
    else:
        ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
        root = etree.Element(f"{{{ns}}}comments", nsmap={None: ns})

    def child(parent, local):
        found = parent.find(f"{{{ns}}}{local}")
        return found if found is not None else etree.SubElement(parent, f"{{{ns}}}{local}")

    authors = child(root, "authors")
    listed = child(root, "commentList")
    if authors.getnext() is not listed:
        root.remove(listed)
        authors.addnext(listed)
    names = [a.text or "" for a in authors]
    if AUTHOR not in names:
        etree.SubElement(authors, f"{{{ns}}}author").text = AUTHOR
        names.append(AUTHOR)
    for old in list(listed):
        if old.get("ref", "").upper() in notes:
            listed.remove(old)
    for ref, text in notes.items():
        comment = etree.SubElement(listed, f"{{{ns}}}comment", ref=ref,
                                   authorId=str(names.index(AUTHOR)))
        run = etree.SubElement(etree.SubElement(comment, f"{{{ns}}}text"), f"{{{ns}}}r")
        t = etree.SubElement(run, f"{{{ns}}}t")
        t.text = escape_text(text)
        t.set(_XML_SPACE, "preserve")
    return _bytes(root)


def _vml(data: bytes | None, notes: dict[str, str], block: int) -> bytes | None:
    """The VML drawing with a note shape for each cell of `notes` that has none yet."""
    if data is None:
        root = etree.Element("xml", nsmap={"v": _V, "o": _O, "x": _X})
        layout = etree.SubElement(root, f"{{{_O}}}shapelayout", {f"{{{_V}}}ext": "edit"})
        etree.SubElement(layout, f"{{{_O}}}idmap", {f"{{{_V}}}ext": "edit", "data": str(block)})
        shape_type = etree.SubElement(root, f"{{{_V}}}shapetype", {
            "id": "_x0000_t202", "coordsize": "21600,21600", f"{{{_O}}}spt": "202",
            "path": "m,l,21600r21600,l21600,xe"})
        etree.SubElement(shape_type, f"{{{_V}}}stroke", joinstyle="miter")
        etree.SubElement(shape_type, f"{{{_V}}}path", {"gradientshapeok": "t",
                                                        f"{{{_O}}}connecttype": "rect"})
        next_id = block * 1024 + 1
    else:
        try:
            root = etree.fromstring(data, _parser())
        except etree.XMLSyntaxError:
            return None
        ids = [int(m[1]) for el in root.iter() if (m := _SHAPE_ID.fullmatch(el.get("id") or ""))]
        next_id = max(ids, default=1024) + 1
    have = set()
    for data_el in root.iter(f"{{{_X}}}ClientData"):
        row, col = data_el.find(f"{{{_X}}}Row"), data_el.find(f"{{{_X}}}Column")
        if row is not None and col is not None:
            have.add((int(row.text or 0), int(col.text or 0)))
    for ref in notes:
        r, c = parse_cell(ref)
        if (r - 1, c - 1) in have:
            continue
        root.append(_shape(next_id, r - 1, c - 1))
        next_id += 1
    return etree.tostring(root)


def _shape(shape_id: int, row: int, col: int):
    """A hidden note box for the cell at zero-based ``row``, ``col`` (as Excel draws one)."""
    shape = etree.Element(f"{{{_V}}}shape", {
        "id": f"_x0000_s{shape_id}", "type": "#_x0000_t202",
        "style": "position:absolute;margin-left:59.25pt;margin-top:1.5pt;width:144px;"
                 "height:79px;z-index:1;visibility:hidden",
        "fillcolor": "#ffffe1", f"{{{_O}}}insetmode": "auto"})
    etree.SubElement(shape, f"{{{_V}}}fill", color2="#ffffe1")
    etree.SubElement(shape, f"{{{_V}}}shadow", color="black", obscured="t")
    etree.SubElement(shape, f"{{{_V}}}path", {f"{{{_O}}}connecttype": "none"})
    box = etree.SubElement(shape, f"{{{_V}}}textbox", style="mso-direction-alt:auto")
    etree.SubElement(box, "div", style="text-align:left")
    data = etree.SubElement(shape, f"{{{_X}}}ClientData", ObjectType="Note")
    etree.SubElement(data, f"{{{_X}}}MoveWithCells")
    etree.SubElement(data, f"{{{_X}}}SizeWithCells")
    etree.SubElement(data, f"{{{_X}}}AutoFill").text = "False"
    etree.SubElement(data, f"{{{_X}}}Row").text = str(row)
    etree.SubElement(data, f"{{{_X}}}Column").text = str(col)
    return shape


def _edit_sheet(name: str, part: str, data: bytes, edits: _Edits, legacy: str | None) -> bytes:
    """The worksheet with its formulas rewritten, its kept cells turned into values, and a
    ``<legacyDrawing>`` pointing at relationship `legacy` (when not None)."""
    root = _xml(name, part, data)
    ns = etree.QName(root).namespace
    q = (lambda local: f"{{{ns}}}{local}") if ns else (lambda local: local)
    sheet_data = root.find(q("sheetData"))
    wanted = set(edits.formulas) | set(edits.values)
    index = SheetIndex(sheet_data, q("row"), q("c"), wanted)
    for ref, text in edits.formulas.items():
        f = index.found[ref].find(q("f"))
        if f.get("t") != "array":
            for attribute in ("t", "ref", "si"):
                f.attrib.pop(attribute, None)
        f.text = text
    for ref, value in edits.values.items():
        c = index.found.get(ref)
        if c is None:
            if value is None:
                continue
            c = index.insert_cell(*parse_cell(ref))
        _set_constant(c, (name, ref), value, q)
    if legacy is not None and root.find(q("legacyDrawing")) is None:
        element = etree.Element(q("legacyDrawing"))
        element.set(f"{{{_DOC_REL}}}id", legacy)
        following = next((el for el in root if etree.QName(el).localname in _AFTER_LEGACY),
                         None)
        if following is not None:
            following.addprevious(element)
        else:
            root.append(element)
    tree = root.getroottree()
    return etree.tostring(tree, xml_declaration=True,
                          encoding=tree.docinfo.encoding or "UTF-8",
                          standalone=tree.docinfo.standalone)


def _set_constant(c, key, value, q) -> None:
    """Make cell element `c` hold `value` as a constant (no formula); text as an inline
    string, so that text starting with ``=`` stays text."""
    for child in list(c):
        if etree.QName(child).localname in ("f", "v", "is"):
            c.remove(child)
    for attribute in ("t", "cm", "vm"):
        c.attrib.pop(attribute, None)
    if value is None:
        return
    if isinstance(value, str):
        c.set("t", "inlineStr")
        t = etree.SubElement(etree.SubElement(c, q("is")), q("t"))
        t.text = escape_text(value)
        t.set(_XML_SPACE, "preserve")
        return
    kind, text = encode_value(key, value)
    if kind is not None:
        c.set("t", kind)
    etree.SubElement(c, q("v")).text = text


def _row_col(ref: str) -> tuple[int, int]:
    try:
        return parse_cell(ref.split(":")[0])
    except ValueError:
        return (0, 0)
