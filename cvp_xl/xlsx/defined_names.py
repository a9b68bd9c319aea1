"""Add or update workbook-level defined names in an .xlsx file, touching nothing else.

:func:`set_defined_names` rewrites only ``xl/workbook.xml``: each name is added, or its
definition and comment replaced when the workbook already has it; every other part of the file
is copied byte for byte, still compressed, in its order (as ``cvp_xl.xlsx.cached`` does for
cached values).  The file is checked with :func:`~cvp_xl.xlsx.safety.check_xlsx` first and
written atomically, so it is whole or unchanged.

A name is written as Excel writes one: ``<definedName name="CVP_ROI" comment="...">text
</definedName>``, the definition without a leading ``=``, the comment escaped as an ST_Xstring
(a line break as ``_x000a_``, a literal ``_x0041_`` as ``_x005F_x0041_``).
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from lxml import etree

from cvp_xl.errors import WorkbookError
from cvp_xl.xlsx.atomic import atomic_path
from cvp_xl.xlsx.safety import check_xlsx

__all__ = ["DefinedName", "NamesReport", "read_defined_names", "set_defined_names",
           "escape_xstring", "unescape_xstring"]

WORKBOOK = "xl/workbook.xml"
#: The children of ``<workbook>`` that come after ``<definedNames>`` (ECMA-376 CT_Workbook).
_AFTER = ("calcPr", "oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr",
          "smartTagTypes", "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst")
_XSTRING_ESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
_XSTRING_CODE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class DefinedName:
    """A workbook-level defined name: its definition as stored (no ``=``) and its comment."""

    name: str
    refers_to: str
    comment: str | None = None


@dataclass
class NamesReport:
    """What :func:`set_defined_names` did, by name."""

    added: list[str]
    updated: list[str]
    unchanged: list[str]


def escape_xstring(text: str) -> str:
    """Text as an ST_Xstring attribute value holds it (the escaping Excel uses).

    >>> escape_xstring("two\\nlines, _x0041_ kept")
    'two_x000a_lines, _x005F_x0041_ kept'
    """
    text = _XSTRING_ESCAPE.sub(r"_x005F_\1", text)
    return "".join(ch if ch >= " " else f"_x{ord(ch):04x}_" for ch in text)


def unescape_xstring(text: str) -> str:
    """The text an ST_Xstring value stands for.

    >>> unescape_xstring("two_x000a_lines, _x005F_x0041_ kept")
    'two\\nlines, _x0041_ kept'
    """
    return _XSTRING_CODE.sub(lambda m: chr(int(m[1], 16)), text)


def read_defined_names(path: str | os.PathLike[str]) -> dict[str, DefinedName]:
    """The workbook-level defined names of an .xlsx file, by name as written.

    Sheet-level names (``localSheetId``) are left out.  Comments are unescaped.
    """
    check_xlsx(path)
    with zipfile.ZipFile(path) as archive:
        root = _parse(os.fspath(path), archive.read(WORKBOOK))
    q = _qualifier(root)
    found = {}
    for dn in root.iter(q("definedName")):
        if dn.get("localSheetId") is not None:
            continue
        comment = dn.get("comment")
        found[dn.get("name")] = DefinedName(
            dn.get("name"), dn.text or "", None if comment is None else unescape_xstring(comment))
    return found


def set_defined_names(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    names: Iterable[DefinedName],
    *,
    may_replace: Callable[[DefinedName], bool] = lambda existing: True,
    check: bool = True,
) -> NamesReport:
    """Copy the workbook ``src`` to ``dst`` with these workbook-level names added or updated.

    Parameters
    ----------
    src : str or os.PathLike
        An .xlsx file.
    dst : str or os.PathLike
        Where to write; may be ``src``.  Written atomically: on any error ``dst`` is unchanged
        (or still absent).
    names : iterable of DefinedName
        Names matched with the workbook's case-insensitively, as Excel matches them.
    may_replace : callable, optional
        Called with a name the workbook already holds under a different definition; when it
        returns False nothing is written and :class:`~cvp_xl.errors.WorkbookError` is raised
        (a name of the customer's own is never overwritten).
    check : bool
        Check ``src`` with :func:`~cvp_xl.xlsx.safety.check_xlsx` first (the default).

    Returns
    -------
    NamesReport
        The names added, updated (a new definition or comment) and already as given.

    Raises
    ------
    WorkbookError
        ``src`` fails the safety check or its workbook part is not well-formed, a name is not
        allowed to be replaced, or a name or comment holds characters XML cannot.
    """
    name = os.fspath(src)
    wanted = list(names)
    for dn in wanted:
        for text in (dn.name, dn.refers_to, dn.comment or ""):
            if _XML_ILLEGAL.search(text):
                raise WorkbookError(f"{name}: the name {dn.name} holds characters XML cannot")
    if check:
        check_xlsx(src)
    from cvp_xl.xlsx.cached import _copy_zip

    report = NamesReport([], [], [])
    with (
        atomic_path(dst) as tmp,
        zipfile.ZipFile(name) as archive,
        open(name, "rb") as raw,
        open(tmp, "wb") as out,
    ):
        data = _rewrite(name, archive.read(WORKBOOK), wanted, may_replace, report)

        def transform(info: zipfile.ZipInfo) -> bytes | None:
            return data if info.filename == WORKBOOK else None

        _copy_zip(name, archive, raw, out, transform)
    return report


def _parse(name: str, data: bytes):
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                             remove_blank_text=False)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise WorkbookError(f"{name}: not a valid .xlsx file: {WORKBOOK!r} is not well-formed "
                            f"XML ({exc})") from exc


def _qualifier(root) -> Callable[[str], str]:
    ns = etree.QName(root).namespace
    return (lambda local: f"{{{ns}}}{local}") if ns else (lambda local: local)


def _rewrite(name: str, data: bytes, wanted: list[DefinedName],
             may_replace: Callable[[DefinedName], bool], report: NamesReport) -> bytes:
    root = _parse(name, data)
    q = _qualifier(root)
    container = root.find(q("definedNames"))
    if container is None:
        container = etree.Element(q("definedNames"))
        after = next((child for child in root if etree.QName(child).localname in _AFTER), None)
        if after is not None:
            after.addprevious(container)
        else:
            root.append(container)
    existing = {dn.get("name", "").upper(): dn for dn in container.iter(q("definedName"))
                if dn.get("localSheetId") is None}
    for dn in wanted:
        comment = None if dn.comment is None else escape_xstring(dn.comment)
        element = existing.get(dn.name.upper())
        if element is None:
            element = etree.Element(q("definedName"))
            element.set("name", dn.name)
            if comment is not None:
                element.set("comment", comment)
            element.text = dn.refers_to
            _insert_sorted(container, element, q("definedName"))
            existing[dn.name.upper()] = element
            report.added.append(dn.name)
            continue
        old = DefinedName(element.get("name"), element.text or "",
                          None if element.get("comment") is None
                          else unescape_xstring(element.get("comment")))
        if old.refers_to == dn.refers_to and old.comment == dn.comment:
            report.unchanged.append(dn.name)
            continue
        if not may_replace(old):
            raise WorkbookError(
                f"{name}: the defined name {old.name} already refers to {old.refers_to}; "
                f"rename or delete it in Excel (Formulas > Name Manager), then try again"
            )
        element.text = dn.refers_to
        if comment is None:
            element.attrib.pop("comment", None)
        else:
            element.set("comment", comment)
        report.updated.append(dn.name)
    tree = root.getroottree()
    encoding = tree.docinfo.encoding or "UTF-8"
    if data.startswith(b"<?xml") and encoding.upper() in ("UTF-8", "UTF8"):
        # keep the declaration as the file had it (Excel's: double quotes, standalone="yes")
        declaration = data[:data.index(b"?>") + 2]
        tail = data[len(declaration):len(declaration) + 2]
        newline = tail[:2] if tail == b"\r\n" else tail[:1] if tail[:1] == b"\n" else b""
        return declaration + newline + etree.tostring(root, encoding="UTF-8",
                                                      xml_declaration=False)
    return etree.tostring(tree, xml_declaration=True, encoding=encoding,
                          standalone=tree.docinfo.standalone)


def _insert_sorted(container, element, tag: str) -> None:
    """Insert ``element`` before the first name that sorts after it (Excel keeps them sorted)."""
    key = element.get("name").upper()
    for child in container.iterchildren(tag):
        if child.get("name", "").upper() > key:
            child.addprevious(element)
            return
    container.append(element)
