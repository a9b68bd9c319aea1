"""Refuse files that are not .xlsx workbooks, or that are hostile, before anything parses them.

openpyxl and the ``formulas`` package trust the zip container and the XML inside it.  A file a
customer sends back may be a renamed text file, a zip bomb, or XML with entity declarations
(billion laughs, external entities).  :func:`check_xlsx` looks at the container and streams every
XML part through a parser that refuses DTDs and entities, so those libraries only ever see files
that passed.

The XML parts are parsed with expat directly, with the handlers :mod:`defusedxml` installs (a
DTD, an entity declaration or an external reference raises :class:`defusedxml.DTDForbidden`,
:class:`defusedxml.EntitiesForbidden` or :class:`defusedxml.ExternalReferenceForbidden`), but
without building a tree and without a Python call per element: ``defusedxml.ElementTree`` uses
the pure-Python ElementTree parser, which is about ten times slower on a large worksheet.
"""

from __future__ import annotations

import math
import os
import re
import zipfile
import zlib
from xml.parsers import expat

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from cvp_xl.errors import WorkbookError

__all__ = ["check_xlsx", "load_checked"]

#: Members smaller than this are not held to the compression-ratio limit: small XML parts such as
#: an all-blank sheet compress far better than 200:1 and are harmless.
RATIO_EXEMPT_BYTES = 2**20

#: Bytes inflated per read while a member is streamed.
_CHUNK = 2**18

_XML_SUFFIXES = (".xml", ".rels", ".vml")
_VML_TYPE = "application/vnd.openxmlformats-officedocument.vmldrawing"
_DTD_IN_TEXT = re.compile(r"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def check_xlsx(
    path: str | os.PathLike[str],
    *,
    max_total_bytes: int = 256 * 2**20,
    max_member_bytes: int = 128 * 2**20,
    max_ratio: float = 200,
    max_members: int = 10000,
) -> None:
    """Raise :class:`~cvp_xl.errors.WorkbookError` unless `path` is a plausible, harmless .xlsx.

    Parameters
    ----------
    path : str or os.PathLike
        The file to check.
    max_total_bytes : int, optional
        Limit on the uncompressed size of all members together (default 256 MiB).
    max_member_bytes : int, optional
        Limit on the uncompressed size of any one member (default 128 MiB).
    max_ratio : float, optional
        Limit on uncompressed/compressed size of a member (default 200).  Only applied to members
        larger than 1 MiB uncompressed, since small XML parts legitimately compress very well.
    max_members : int, optional
        Limit on the number of members in the zip archive (default 10000).

    Raises
    ------
    WorkbookError
        With one of these messages (``<path>`` is ``os.fspath(path)``, sizes are printed with
        thousands separators, ratios rounded up)::

            <path>: no such file
            <path>: not an .xlsx file (a directory)
            <path>: cannot be read (<OS error text>)
            <path>: not an .xlsx file (not a zip archive)
            <path>: not an .xlsx file (no [Content_Types].xml)
            <path>: not an .xlsx file (no xl/workbook.xml)
            <path>: refused: 20,000 members (limit 10,000)
            <path>: refused: member 'M' would inflate to 1,234,567,890 bytes (limit 134,217,728)
            <path>: refused: members would inflate to 300,000,000 bytes in total (limit 268,435,456)
            <path>: refused: member 'M' compresses 1000:1 (limit 200:1)
            <path>: refused: member 'M' is encrypted
            <path>: refused: member 'M' inflates past 134,217,728 bytes (declared 1,000)
            <path>: refused: members inflate past 268,435,456 bytes in total
            <path>: refused: 'M' declares a DTD or XML entities (possible entity-expansion attack)
            <path>: not a valid .xlsx file: member 'M' uses an unsupported compression method (9)
            <path>: not a valid .xlsx file: member 'M' is corrupt or truncated
            <path>: not a valid .xlsx file: 'M' is not well-formed XML (line L, column C)

        Columns are counted from 1.  The two "inflates past" checks guard the actual inflated
        bytes, read in chunks, in case a declared size lies (CPython's :mod:`zipfile` already
        stops at the declared size and then fails the CRC check, reported as "corrupt or
        truncated").

    Notes
    -----
    Every member is inflated once, in chunks, and never held in memory whole.  Members whose
    content type (``[Content_Types].xml``) is XML, whatever their name, members named ``*.xml``,
    ``*.rels`` and ``*.vml``, and members that begin with an XML declaration are parsed as
    XML; a DTD (even without entities), an
    entity declaration or an external entity reference refuses the file.  ``.vml`` parts (legacy
    drawings for comments and form controls) are exempt from the well-formedness check, because
    Excel itself writes them with unclosed ``<br>`` tags; they are still refused if they contain
    ``<!DOCTYPE`` or ``<!ENTITY``.
    """
    name = os.fspath(path)
    if not os.path.exists(name):
        raise WorkbookError(f"{name}: no such file")
    if os.path.isdir(name):
        raise WorkbookError(f"{name}: not an .xlsx file (a directory)")
    try:
        archive = zipfile.ZipFile(name)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError):
        raise WorkbookError(f"{name}: not an .xlsx file (not a zip archive)") from None
    except OSError as exc:
        raise WorkbookError(f"{name}: cannot be read ({exc.strerror or exc})") from exc
    with archive:
        infos = archive.infolist()
        _check_directory(name, infos, max_total_bytes, max_member_bytes, max_ratio, max_members)
        types = _content_types(name, archive, max_member_bytes)
        used = 0
        for info in infos:
            kind = types.get(info.filename)
            used += _check_member(name, archive, info, max_member_bytes, max_total_bytes, used,
                                  kind)


def _check_directory(
    name: str,
    infos: list[zipfile.ZipInfo],
    max_total_bytes: int,
    max_member_bytes: int,
    max_ratio: float,
    max_members: int,
) -> None:
    """Apply the checks that need only the central directory."""
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names:
        raise WorkbookError(f"{name}: not an .xlsx file (no [Content_Types].xml)")
    if "xl/workbook.xml" not in names:
        raise WorkbookError(f"{name}: not an .xlsx file (no xl/workbook.xml)")
    if len(infos) > max_members:
        raise WorkbookError(f"{name}: refused: {len(infos):,} members (limit {max_members:,})")
    total = 0
    for info in infos:
        size = info.file_size
        if size > max_member_bytes:
            raise WorkbookError(
                f"{name}: refused: member {info.filename!r} would inflate to {size:,} bytes "
                f"(limit {max_member_bytes:,})"
            )
        if size > RATIO_EXEMPT_BYTES:
            ratio = size / info.compress_size if info.compress_size else math.inf
            if ratio > max_ratio:
                shown = "infinite" if math.isinf(ratio) else f"{math.ceil(ratio)}:1"
                raise WorkbookError(
                    f"{name}: refused: member {info.filename!r} compresses {shown} "
                    f"(limit {max_ratio:g}:1)"
                )
        if info.flag_bits & 0x1:
            raise WorkbookError(f"{name}: refused: member {info.filename!r} is encrypted")
        total += size
    if total > max_total_bytes:
        raise WorkbookError(
            f"{name}: refused: members would inflate to {total:,} bytes in total "
            f"(limit {max_total_bytes:,})"
        )


def _content_types(name: str, archive: zipfile.ZipFile, max_member_bytes: int) -> dict:
    """``{member: "xml" | "vml"}`` for every member whose content type says it is XML.

    A part is read by its content type whatever its name: ``[Content_Types].xml`` gives each
    part's type (an ``Override`` for the part, else the ``Default`` for its extension); a type
    ending in ``+xml`` or ``/xml`` is XML, the VML drawing type is VML.
    """
    import defusedxml.ElementTree as DefusedET

    info = archive.getinfo("[Content_Types].xml")
    data = bytearray()
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(_CHUNK):
                data += chunk
                if len(data) > max_member_bytes:
                    raise WorkbookError(
                        f"{name}: refused: member '[Content_Types].xml' inflates past "
                        f"{max_member_bytes:,} bytes (declared {info.file_size:,})")
        root = DefusedET.fromstring(bytes(data), forbid_dtd=True)
    except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden):
        raise WorkbookError(_dtd_message(name, "[Content_Types].xml")) from None
    except WorkbookError:
        raise
    except Exception:  # malformed XML or a broken member: reported by the member checks
        return {}
    defaults, overrides = {}, {}
    for el in root:
        tag = el.tag.rpartition("}")[2]
        kind = (el.get("ContentType") or "").strip().lower()
        if tag == "Default" and el.get("Extension"):
            defaults[el.get("Extension").lower()] = kind
        elif tag == "Override" and el.get("PartName"):
            overrides[el.get("PartName").lstrip("/").lower()] = kind
    out = {}
    for member in archive.namelist():
        kind = overrides.get(member.lower())
        if kind is None:
            kind = defaults.get(member.rpartition(".")[2].lower() if "." in member else "")
        if not kind:
            continue
        if kind == _VML_TYPE:
            out[member] = "vml"
        elif kind.endswith(("+xml", "/xml")):
            out[member] = "xml"
    return out


def _check_member(
    name: str,
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    max_member_bytes: int,
    max_total_bytes: int,
    used: int,
    kind: str | None = None,
) -> int:
    """Inflate one member in chunks (parsing it if it is XML) and return its inflated size.

    A member is XML when its content type says so (`kind`), when its name ends in ``.xml``,
    ``.rels`` or ``.vml``, or when its bytes begin with an XML declaration.
    """
    member = info.filename
    is_vml = kind == "vml" or member.lower().endswith(".vml")
    is_xml = is_vml or kind == "xml" or member.lower().endswith(_XML_SUFFIXES)
    parser = _new_parser() if is_xml else None
    kept = bytearray() if is_vml else None
    size = 0
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(_CHUNK):
                if size == 0 and parser is None and _looks_like_xml(chunk):
                    parser = _new_parser()
                size += len(chunk)
                if size > max_member_bytes:
                    raise WorkbookError(
                        f"{name}: refused: member {member!r} inflates past "
                        f"{max_member_bytes:,} bytes (declared {info.file_size:,})"
                    )
                if used + size > max_total_bytes:
                    raise WorkbookError(
                        f"{name}: refused: members inflate past {max_total_bytes:,} bytes in total"
                    )
                if kept is not None:
                    kept += chunk
                if parser is not None:
                    parser.Parse(chunk, False)
            if parser is not None:
                parser.Parse(b"", True)
    except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden):
        raise WorkbookError(_dtd_message(name, member)) from None
    except expat.ExpatError as exc:
        if not is_vml:
            raise WorkbookError(
                f"{name}: not a valid .xlsx file: {member!r} is not well-formed XML "
                f"(line {exc.lineno}, column {exc.offset + 1})"
            ) from None
        # Excel writes VML that is not XML; refuse it only if it carries a DTD.
        assert kept is not None
        _read_rest(name, archive, info, kept, max_member_bytes)
        if _DTD_IN_TEXT.search(_decode(bytes(kept))):
            raise WorkbookError(_dtd_message(name, member)) from None
    except NotImplementedError:
        raise WorkbookError(
            f"{name}: not a valid .xlsx file: member {member!r} uses an unsupported "
            f"compression method ({info.compress_type})"
        ) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, RuntimeError) as exc:
        raise WorkbookError(
            f"{name}: not a valid .xlsx file: member {member!r} is corrupt or truncated"
        ) from exc
    except OSError as exc:
        raise WorkbookError(f"{name}: cannot be read ({exc.strerror or exc})") from exc
    return size


def _looks_like_xml(chunk: bytes) -> bool:
    """True when a part's first bytes are an XML declaration or a DTD (any name, any type)."""
    head = chunk[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", "ignore").lstrip().encode()
    return head.startswith((b"<?xml", b"<!DOCTYPE", b"<!ENTITY"))


def _read_rest(
    name: str,
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    kept: bytearray,
    max_member_bytes: int,
) -> None:
    """Re-read a member whole into `kept` (used only for small VML parts)."""
    kept.clear()
    with archive.open(info) as stream:
        while chunk := stream.read(_CHUNK):
            kept += chunk
            if len(kept) > max_member_bytes:  # pragma: no cover - guarded by the first pass
                raise WorkbookError(
                    f"{name}: refused: member {info.filename!r} inflates past "
                    f"{max_member_bytes:,} bytes (declared {info.file_size:,})"
                )


def _decode(data: bytes) -> str:
    """Decode an XML byte string well enough to search it for markup."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16", "replace")
    return data.decode("utf-8", "replace")


def _dtd_message(name: str, member: str) -> str:
    return (
        f"{name}: refused: {member!r} declares a DTD or XML entities "
        "(possible entity-expansion attack)"
    )


def _forbid_dtd(name, sysid, pubid, has_internal_subset):
    raise DTDForbidden(name, sysid, pubid)


def _forbid_entity(name, is_parameter_entity, value, base, sysid, pubid, notation_name):
    raise EntitiesForbidden(name, value, base, sysid, pubid, notation_name)


def _forbid_unparsed_entity(name, base, sysid, pubid, notation_name):
    raise EntitiesForbidden(name, None, base, sysid, pubid, notation_name)


def _forbid_external(context, base, sysid, pubid):
    raise ExternalReferenceForbidden(context, base, sysid, pubid)


def _new_parser():
    """Return an expat parser that refuses DTDs, entity declarations and external references.

    These are the handlers ``defusedxml.ElementTree.DefusedXMLParser(forbid_dtd=True,
    forbid_entities=True, forbid_external=True)`` installs; no other handler is set, so expat
    checks well-formedness at C speed without calling back into Python.
    """
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _forbid_dtd
    parser.EntityDeclHandler = _forbid_entity
    parser.UnparsedEntityDeclHandler = _forbid_unparsed_entity
    parser.ExternalEntityRefHandler = _forbid_external
    return parser


def load_checked(path: str | os.PathLike, *, checked: bool = False, **options):
    """``path`` as openpyxl reads it (``options`` go to ``load_workbook``), after
    :func:`check_xlsx` unless the caller has ``checked`` it already.

    Raises
    ------
    WorkbookError
        The file is refused by the check, or openpyxl fails on it (a malformed part):
        ``"<path>: cannot be read (<error>)"``; the file openpyxl left open is closed.
    """
    from openpyxl import load_workbook

    from cvp_xl.xlsx.atomic import release

    if not checked:
        check_xlsx(path)
    try:
        return load_workbook(path, **options)
    except Exception as exc:  # noqa: BLE001 - openpyxl's own failures on a malformed file
        release(exc)  # the file openpyxl left open, closed now
        raise WorkbookError(f"{path}: cannot be read ({type(exc).__name__}: {exc})") from None
