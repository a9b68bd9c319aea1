"""check_xlsx refuses non-xlsx and hostile files before openpyxl or formulas see them."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import openpyxl
import pytest
from openpyxl.comments import Comment

from cvp_xl.errors import WorkbookError
from cvp_xl.xlsx.safety import check_xlsx

SHEET = "xl/worksheets/sheet1.xml"

BILLION_LAUGHS = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
"""

DTD_MESSAGE = (
    "{path}: refused: {member!r} declares a DTD or XML entities (possible entity-expansion attack)"
)


# -- helpers -----------------------------------------------------------------------------------


def make_workbook(path: Path, *, comment: bool = False) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Calc"
    ws["A1"] = 2
    ws["A2"] = "=A1*3"
    if comment:
        ws["A1"].comment = Comment("an input", "tester")
    wb.save(path)
    return path


def rewrite_member(path: Path, member: str, data: bytes | None) -> None:
    """Replace (or add, or with None remove) one member of the zip at `path`."""
    with zipfile.ZipFile(path) as zin:
        items = [(info, zin.read(info)) for info in zin.infolist()]
    seen = False
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, content in items:
            if info.filename == member:
                seen = True
                if data is not None:
                    zout.writestr(info, data)
            else:
                zout.writestr(info, content)
        if not seen and data is not None:
            zout.writestr(member, data)


def strip_declaration(xml: bytes) -> bytes:
    return xml.split(b"?>", 1)[1] if xml.startswith(b"<?xml") else xml


def read_member(path: Path, member: str) -> bytes:
    with zipfile.ZipFile(path) as zin:
        return zin.read(member)


def find_member(path: Path, member: str) -> zipfile.ZipInfo:
    with zipfile.ZipFile(path) as zin:
        return zin.getinfo(member)


def patch_central_record(path: Path, member: str, *, offset: int, fmt: str, value: int) -> None:
    """Overwrite a field of `member`'s central-directory record (offset from the signature)."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    pos = data.find(b"PK\x01\x02")
    while pos != -1:
        name_len = struct.unpack_from("<H", data, pos + 28)[0]
        if bytes(data[pos + 46 : pos + 46 + name_len]) == name:
            struct.pack_into(fmt, data, pos + offset, value)
            path.write_bytes(bytes(data))
            return
        pos = data.find(b"PK\x01\x02", pos + 4)
    raise AssertionError(f"{member} not found")


def minimal_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in members.items():
            zout.writestr(name, data)
    return path


# -- not an xlsx -------------------------------------------------------------------------------


def test_a_normal_workbook_passes(tmp_path):
    check_xlsx(make_workbook(tmp_path / "ok.xlsx"))


def test_a_workbook_with_comments_passes(tmp_path):
    path = make_workbook(tmp_path / "comments.xlsx", comment=True)
    assert any(name.endswith(".vml") for name in zipfile.ZipFile(path).namelist())
    check_xlsx(path)


def test_missing_file(tmp_path):
    path = tmp_path / "nope.xlsx"
    with pytest.raises(WorkbookError) as err:
        check_xlsx(path)
    assert str(err.value) == f"{path}: no such file"


def test_a_directory(tmp_path):
    with pytest.raises(WorkbookError) as err:
        check_xlsx(tmp_path)
    assert str(err.value) == f"{tmp_path}: not an .xlsx file (a directory)"


def test_a_text_file_renamed_xlsx(tmp_path):
    path = tmp_path / "notes.xlsx"
    path.write_text("price,value\n10,20\n")
    with pytest.raises(WorkbookError) as err:
        check_xlsx(str(path))
    assert str(err.value) == f"{path}: not an .xlsx file (not a zip archive)"


def test_an_empty_file(tmp_path):
    path = tmp_path / "empty.xlsx"
    path.write_bytes(b"")
    with pytest.raises(WorkbookError) as err:
        check_xlsx(path)
    assert str(err.value) == f"{path}: not an .xlsx file (not a zip archive)"


def test_a_zip_without_workbook_xml(tmp_path):
    path = minimal_zip(
        tmp_path / "other.xlsx",
        {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<document/>"},
    )
    with pytest.raises(WorkbookError) as err:
        check_xlsx(path)
    assert str(err.value) == f"{path}: not an .xlsx file (no xl/workbook.xml)"


def test_a_zip_without_content_types(tmp_path):
    path = minimal_zip(tmp_path / "plain.zip", {"readme.txt": b"hello"})
    with pytest.raises(WorkbookError) as err:
        check_xlsx(path)
    assert str(err.value) == f"{path}: not an .xlsx file (no [Content_Types].xml)"


# -- hostile XML -------------------------------------------------------------------------------


def test_billion_laughs_in_workbook_xml(tmp_path):
    path = make_workbook(tmp_path / "lol.xlsx")
    original = read_member(path, "xl/workbook.xml")
    body = strip_declaration(original)
    rewrite_member(path, "xl/workbook.xml", BILLION_LAUGHS + body.replace(b"Calc", b"&lol9;"))
    with pytest.raises(WorkbookError) as err:
        check_xlsx(path)
    assert str(err.value) == DTD_MESSAGE.format(path=path, member="xl/workbook.xml")


def test_external_entity_in_a_sheet(tmp_path):
    path = make_workbook(tmp_path / "xxe.xlsx")
    sheet = read_member(path, SHEET)
    xxe = b'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    body = strip_declaration(sheet).replace(b"<v>2</v>", b"<v>&xxe;</v>")
    assert b"&xxe;" in body
    rewrite_member(path, SHEET, b'<?xml version="1.0" encoding="UTF-8"?>\n' + xxe + body)
    with pytest.raises(WorkbookError) as err:
        check_xlsx(path)
    assert str(err.value) == DTD_MESSAGE.format(path=path, member=SHEET)


def test_an_external_dtd_in_a_rels_part(tmp_path):
    path = make_workbook(tmp_path / "dtd.xlsx")
    rels = read_member(path, "_rels/.rels")
    rewrite_member(
        path, "_rels/.rels", b'<!DOCTYPE r SYSTEM "http://example.invalid/evil.dtd">' + rels
    )
    with pytest.raises(WorkbookError) as err:
        check_xlsx(path)
    assert str(err.value) == DTD_MESSAGE.format(path=path, member="_rels/.rels")


def test_malformed_xml_names_line_and_column(tmp_path):
    path = make_workbook(tmp_path / "bad.xlsx")
    rewrite_member(path, "xl/styles.xml", b'<?xml version="1.0"?>\n<styleSheet>\n  <a></b>\n')
    with pytest.raises(WorkbookError) as err:
        check_xlsx(path)
    assert str(err.value) == (
        f"{path}: not a valid .xlsx file: 'xl/styles.xml' is not well-formed XML (line 3, column 8)"
    )


def test_excel_style_vml_with_unclosed_br_is_accepted(tmp_path):
    path = make_workbook(tmp_path / "vml.xlsx")
    vml = (
        b'<xml xmlns:v="urn:schemas-microsoft-com:vml">'
        b"<v:textbox><div>a<br>b</div></v:textbox></xml>"
    )
    rewrite_member(path, "xl/drawings/vmlDrawing1.vml", vml)
    check_xlsx(path)


def test_vml_with_a_dtd_is_refused_even_when_malformed(tmp_path):
    path = make_workbook(tmp_path / "vmldtd.xlsx")
    member = "xl/drawings/vmlDrawing1.vml"
    rewrite_member(path, member, b'<xml><br></xml><!DOCTYPE x [<!ENTITY a "b">]>')
    with pytest.raises(WorkbookError) as err:
        check_xlsx(path)
    assert str(err.value) == DTD_MESSAGE.format(path=path, member=member)
    rewrite_member(path, member, b'<!DOCTYPE x [<!ENTITY a "b">]><xml>&a;</xml>')
    with pytest.raises(WorkbookError) as err:
        check_xlsx(path)
    assert str(err.value) == DTD_MESSAGE.format(path=path, member=member)


# -- zip bombs ---------------------------------------------------------------------------------


def test_a_member_larger_than_the_limit(tmp_path):
    path = make_workbook(tmp_path / "big.xlsx")
    size = find_member(path, "xl/theme/theme1.xml").file_size
    assert size > 5000
    with pytest.raises(WorkbookError) as err:
        check_xlsx(path, max_member_bytes=5000)
    assert str(err.value) == (
        f"{path}: refused: member 'xl/theme/theme1.xml' would inflate to {size:,} bytes "
        "(limit 5,000)"
    )


def test_members_larger_than_the_total_limit(tmp_path):
    path = make_workbook(tmp_path / "total.xlsx")
    with zipfile.ZipFile(path) as zin:
        total = sum(info.file_size for info in zin.infolist())
        largest = max(info.file_size for info in zin.infolist())
    with pytest.raises(WorkbookError) as err:
        check_xlsx(path, max_total_bytes=total - 1, max_member_bytes=largest)
    assert str(err.value) == (
        f"{path}: refused: members would inflate to {total:,} bytes in total (limit {total - 1:,})"
    )


def test_a_member_that_compresses_too_well(tmp_path):
    path = make_workbook(tmp_path / "ratio.xlsx")
    rewrite_member(path, "xl/media/padding.bin", bytes(2 * 2**20))
    info = find_member(path, "xl/media/padding.bin")
    ratio = -(-info.file_size // info.compress_size)  # rounded up
    assert ratio > 200
    with pytest.raises(WorkbookError) as err:
        check_xlsx(path)
    assert str(err.value) == (
        f"{path}: refused: member 'xl/media/padding.bin' compresses {ratio}:1 (limit 200:1)"
    )


def test_small_members_are_exempt_from_the_ratio_limit(tmp_path):
    path = make_workbook(tmp_path / "blank.xlsx")
    rewrite_member(path, "xl/media/padding.bin", bytes(2**20))  # exactly 1 MiB: exempt
    assert find_member(path, "xl/media/padding.bin").compress_size * 200 < 2**20
    check_xlsx(path)


def test_too_many_members(tmp_path):
    path = make_workbook(tmp_path / "many.xlsx")
    count = len(zipfile.ZipFile(path).namelist())
    with pytest.raises(WorkbookError) as err:
        check_xlsx(path, max_members=count - 1)
    assert str(err.value) == f"{path}: refused: {count:,} members (limit {count - 1:,})"


def test_a_member_whose_declared_size_lies(tmp_path):
    """The central directory says 100 bytes; the data inflates to 3 MB."""
    path = make_workbook(tmp_path / "liar.xlsx")
    member = "xl/media/liar.xml"
    rewrite_member(path, member, b"<a>" + b"x" * 3_000_000 + b"</a>")
    patch_central_record(path, member, offset=24, fmt="<I", value=100)
    assert find_member(path, member).file_size == 100
    with pytest.raises(WorkbookError) as err:
        check_xlsx(path)
    assert str(err.value) == (
        f"{path}: not a valid .xlsx file: member {member!r} is corrupt or truncated"
    )


def test_the_inflated_size_is_enforced_while_reading(tmp_path, monkeypatch):
    """Even if a zip reader returned more than declared, reading stops past the limit."""
    path = minimal_zip(
        tmp_path / "stream.xlsx",
        {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"},
    )
    real_open = zipfile.ZipFile.open

    def lying_open(self, name, *args, **kwargs):
        if getattr(name, "filename", name) == "xl/workbook.xml":
            return io.BytesIO(b"<workbook>" + b" " * 5000 + b"</workbook>")
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", lying_open)
    with pytest.raises(WorkbookError) as err:
        check_xlsx(path, max_member_bytes=1000)
    assert str(err.value) == (
        f"{path}: refused: member 'xl/workbook.xml' inflates past 1,000 bytes (declared 11)"
    )
    with pytest.raises(WorkbookError) as err:
        check_xlsx(path, max_total_bytes=1000)
    assert str(err.value) == f"{path}: refused: members inflate past 1,000 bytes in total"


def test_an_encrypted_member(tmp_path):
    path = make_workbook(tmp_path / "locked.xlsx")
    patch_central_record(path, SHEET, offset=8, fmt="<H", value=0x1)
    with pytest.raises(WorkbookError) as err:
        check_xlsx(path)
    assert str(err.value) == f"{path}: refused: member {SHEET!r} is encrypted"


def test_a_corrupt_member(tmp_path):
    path = make_workbook(tmp_path / "crc.xlsx")
    patch_central_record(path, SHEET, offset=16, fmt="<I", value=zlib.crc32(b"other"))
    with pytest.raises(WorkbookError) as err:
        check_xlsx(path)
    assert str(err.value) == (
        f"{path}: not a valid .xlsx file: member {SHEET!r} is corrupt or truncated"
    )


def test_a_part_is_read_by_its_content_type_whatever_its_name(tmp_path):
    """An entity declaration in a worksheet part named sheet1.bin is refused all the same."""
    import zipfile as _zip

    from cvp_xl.xlsx.safety import check_xlsx as _check

    bomb = ('<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY a "aaaa">]>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&a;</t></is></c></row>'
            '</sheetData></worksheet>')
    path = tmp_path / "renamed.xlsx"
    with _zip.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.bin" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'))
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.bin", bomb.replace('<?xml version="1.0"?>', ""))
    with pytest.raises(WorkbookError) as info:
        _check(path)
    assert str(info.value) == (f"{path}: refused: 'xl/worksheets/sheet1.bin' declares a DTD or "
                               "XML entities (possible entity-expansion attack)")
