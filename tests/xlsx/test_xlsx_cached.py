"""write_cached_values puts computed values next to formulas and changes nothing else."""

from __future__ import annotations

import csv
import io
import math
import os
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from lxml import etree
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font, PatternFill
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.formula import ArrayFormula

import cvp_xl.xlsx.cached as cached_module
from cvp_xl.errors import ErrorValue, WorkbookError
from cvp_xl.xlsx.atomic import atomic_path
from cvp_xl.xlsx.cached import atomic_save_workbook, write_cached_values

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS = {"m": MAIN}
CALC_PART = "xl/worksheets/sheet1.xml"  # openpyxl numbers parts in sheet order
DATA_PART = "xl/worksheets/sheet2.xml"

VALUES = {
    ("Calc", "B1"): 2,
    ("Calc", "B2"): "x1",
    ("Calc", "B3"): True,
    ("Calc", "B4"): ErrorValue("#DIV/0!"),
    ("Calc", "B5"): None,
    ("Calc", "B6"): 6.5,
    ("Calc", "D1"): 10.0,
    ("Calc", "D2"): 20.0,
    ("Calc", "D3"): 35.0,
    ("Calc", "G8"): 1.25,
    ("Calc", "G9"): False,
    ("Calc", "E2"): 999,  # a text cell, not a formula: ignored
    ("Data", "A1"): 999,  # an input, not a formula: ignored
    ("Nowhere", "A1"): 1,  # no such sheet: ignored
}


# -- helpers -----------------------------------------------------------------------------------


def build_workbook(path: Path) -> Path:
    """Formulas of every result type, styles, a defined name, validation, a chart, protection."""
    wb = openpyxl.Workbook()
    calc = wb.active
    calc.title = "Calc"
    data = wb.create_sheet("Data")
    for r, v in enumerate((1, 2, 3.5), start=1):
        data.cell(r, 1, v).fill = PatternFill("solid", fgColor="FFFF00")
    calc["B1"] = "=Data!A1*2"
    calc["B2"] = '="x"&Data!A1'
    calc["B3"] = "=Data!A1>0"
    calc["B4"] = "=1/0"
    calc["B5"] = "=Data!A99"
    calc["B6"] = "=SUM(Data!A1:A3)"
    calc["B6"].font = Font(bold=True)
    calc["B6"].number_format = "#,##0.00"
    calc["D1"] = ArrayFormula("D1:D3", "=Data!A1:A3*10")
    calc["E2"] = "after"
    calc["G8"] = ArrayFormula("G8:G9", "=Data!A1:A2>1")
    calc["A10"] = "end"
    wb.defined_names["Total"] = DefinedName("Total", attr_text="Calc!$B$6")
    dv = DataValidation(type="decimal", operator="greaterThan", formula1="0")
    dv.add("A1:A3")
    data.add_data_validation(dv)
    chart = BarChart()
    chart.add_data(Reference(data, min_col=1, min_row=1, max_row=3))
    calc.add_chart(chart, "I2")
    calc.protection.sheet = True
    wb.save(path)
    return path


def members(path: Path) -> list[zipfile.ZipInfo]:
    with zipfile.ZipFile(path) as z:
        return z.infolist()


def read(path: Path, member: str) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read(member)


def cell_xml(path: Path, ref: str, part: str = CALC_PART):
    root = etree.fromstring(read(path, part))
    found = root.xpath(f"//m:c[@r='{ref}']", namespaces=NS)
    return found[0] if found else None


def cached(path: Path, ref: str) -> tuple[str | None, str | None]:
    """The t attribute and <v> text of a cell."""
    c = cell_xml(path, ref)
    v = c.find(f"{{{MAIN}}}v")
    return c.get("t"), None if v is None else v.text


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


def rewrite_member(path: Path, member: str, data: bytes) -> None:
    with zipfile.ZipFile(path) as zin:
        items = [(info, zin.read(info)) for info in zin.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, content in items:
            zout.writestr(info, data if info.filename == member else content)


@pytest.fixture
def book(tmp_path) -> Path:
    return build_workbook(tmp_path / "book.xlsx")


# -- the round trip ----------------------------------------------------------------------------


def test_cached_values_are_seen_by_openpyxl_data_only(book, tmp_path):
    dst = tmp_path / "out.xlsx"
    write_cached_values(book, dst, VALUES)
    wb = openpyxl.load_workbook(dst, data_only=True)
    calc, data = wb["Calc"], wb["Data"]
    assert calc["B1"].value == 2
    assert calc["B2"].value == "x1"
    assert calc["B3"].value is True
    assert calc["B4"].value == "#DIV/0!"
    assert calc["B5"].value is None
    assert calc["B6"].value == 6.5
    assert [calc[f"D{r}"].value for r in (1, 2, 3)] == [10, 20, 35]
    assert calc["G8"].value == 1.25 and calc["G9"].value is False
    assert calc["E2"].value == "after"
    assert data["A1"].value == 1


def test_the_cell_xml_is_what_excel_writes(book, tmp_path):
    dst = tmp_path / "out.xlsx"
    write_cached_values(book, dst, VALUES)
    assert cached(dst, "B1") == (None, "2")
    assert cached(dst, "B2") == ("str", "x1")
    assert cached(dst, "B3") == ("b", "1")
    assert cached(dst, "B4") == ("e", "#DIV/0!")
    assert cached(dst, "B5") == (None, None)
    assert cached(dst, "B6") == (None, "6.5")
    assert cached(dst, "G9") == ("b", "0")
    b6 = cell_xml(dst, "B6")
    assert [etree.QName(child).localname for child in b6] == ["f", "v"]
    assert b6.get("s") == cell_xml(book, "B6").get("s")  # the style index is kept


def test_array_cells_are_created_in_row_and_column_order(book, tmp_path):
    dst = tmp_path / "out.xlsx"
    write_cached_values(book, dst, VALUES)
    root = etree.fromstring(read(dst, CALC_PART))
    rows = root.findall("m:sheetData/m:row", NS)
    assert [int(r.get("r")) for r in rows] == [1, 2, 3, 4, 5, 6, 8, 9, 10]
    row2 = [c.get("r") for c in rows[1].findall("m:c", NS)]
    assert row2 == ["B2", "D2", "E2"]
    assert cell_xml(dst, "D2").find("m:f", NS) is None  # only the master holds the formula
    assert root.find("m:dimension", NS).get("ref") == "A1:G10"
    assert b"ns0" not in read(dst, CALC_PART)


def test_formulas_styles_validation_names_and_protection_survive(book, tmp_path):
    dst = tmp_path / "out.xlsx"
    write_cached_values(book, dst, VALUES)
    wb = openpyxl.load_workbook(dst)
    calc, data = wb["Calc"], wb["Data"]
    assert calc["B1"].value == "=Data!A1*2"
    assert calc["B6"].value == "=SUM(Data!A1:A3)"
    assert calc["D1"].value.text == "=Data!A1:A3*10"
    assert calc["B6"].font.bold and calc["B6"].number_format == "#,##0.00"
    assert data["A1"].fill.fgColor.rgb == "00FFFF00"
    assert wb.defined_names["Total"].attr_text == "Calc!$B$6"
    assert [str(dv.sqref) for dv in data.data_validations.dataValidation] == ["A1:A3"]
    assert calc.protection.sheet


def test_every_other_member_is_copied_byte_for_byte(book, tmp_path):
    dst = tmp_path / "out.xlsx"
    write_cached_values(book, dst, VALUES)
    before, after = members(book), members(dst)
    assert [i.filename for i in after] == [i.filename for i in before]
    assert any(i.filename.startswith("xl/charts/") for i in before)
    for old, new in zip(before, after):
        assert new.compress_type == old.compress_type
        assert new.date_time == old.date_time
        if old.filename == CALC_PART:
            assert read(dst, CALC_PART) != read(book, CALC_PART)
            continue
        assert (new.CRC, new.compress_size, new.file_size) == (
            old.CRC,
            old.compress_size,
            old.file_size,
        ), old.filename
        assert read(dst, old.filename) == read(book, old.filename)
    with zipfile.ZipFile(dst) as z:
        assert z.testzip() is None


def test_pandas_reads_the_numbers(book, tmp_path):
    dst = tmp_path / "out.xlsx"
    write_cached_values(book, dst, VALUES)
    frame = pd.read_excel(dst, sheet_name="Calc", header=None, engine="openpyxl")
    assert frame.iloc[0, 1] == 2
    assert frame.iloc[5, 1] == 6.5
    assert list(frame.iloc[0:3, 3]) == [10, 20, 35]


def test_unchanged_sheets_are_not_reserialized(book, tmp_path):
    dst = tmp_path / "out.xlsx"
    write_cached_values(book, dst, {("Data", "A1"): 5, ("Calc", "A10"): 1})
    for name in (CALC_PART, DATA_PART):
        assert read(dst, name) == read(book, name)
    assert [i.CRC for i in members(dst)] == [i.CRC for i in members(book)]


def test_shared_formulas(tmp_path):
    path = tmp_path / "shared.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    for r in (1, 2, 3):
        ws[f"A{r}"] = r
        ws[f"B{r}"] = f"=A{r}*2"
    wb.save(path)
    xml = read(path, CALC_PART)
    xml = xml.replace(b"<f>A1*2</f>", b'<f t="shared" ref="B1:B3" si="0">A1*2</f>')
    xml = xml.replace(b"<f>A2*2</f>", b'<f t="shared" si="0"/>')
    xml = xml.replace(b"<f>A3*2</f>", b'<f t="shared" si="0"/>')
    rewrite_member(path, CALC_PART, xml)
    write_cached_values(path, path, {("S", "B1"): 2, ("S", "B2"): 4, ("S", "B3"): 6})
    assert [c.value for c in openpyxl.load_workbook(path, data_only=True)["S"]["B"]] == [2, 4, 6]
    assert openpyxl.load_workbook(path)["S"]["B3"].value == "=A3*2"
    assert cell_xml(path, "B3").find("m:f", NS).get("si") == "0"


def test_namespace_prefixes_and_mc_ignorable_are_kept(tmp_path):
    path = tmp_path / "excel.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "S"
    wb.active["A1"] = "=1+1"
    wb.save(path)
    xml = read(path, CALC_PART)
    declarations = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        b'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
        b'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac" '
        b'mc:Ignorable="x14ac"'
    )
    xml = xml.replace(
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"',
        declarations,
    ).replace(b'<row r="1"', b'<row r="1" x14ac:dyDescent="0.25"')
    rewrite_member(path, CALC_PART, xml)
    write_cached_values(path, path, {("S", "A1"): 2})
    out = read(path, CALC_PART)
    assert declarations in out
    assert b'x14ac:dyDescent="0.25"' in out
    assert b"<v>2</v>" in out


def test_relative_targets_and_data_descriptors(tmp_path):
    """Parts found through relative rels targets (as Excel and LibreOffice write them), and
    members written with data descriptors (as LibreOffice writes them) are handled."""
    path = tmp_path / "lo.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "S"
    wb.active["A1"] = "=1+1"
    wb.save(path)
    rels = read(path, "xl/_rels/workbook.xml.rels").replace(b'Target="/xl/', b'Target="')
    assert b'Target="worksheets/sheet1.xml"' in rels
    with zipfile.ZipFile(path) as zin:
        items = [(info.filename, zin.read(info)) for info in zin.infolist()]
    stream = _Unseekable()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in items:
            zout.writestr(name, rels if name == "xl/_rels/workbook.xml.rels" else data)
    path.write_bytes(stream.buffer.getvalue())
    assert all(info.flag_bits & 0x08 for info in members(path))
    write_cached_values(path, path, {("S", "A1"): 2})
    assert openpyxl.load_workbook(path, data_only=True)["S"]["A1"].value == 2
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None


class _Unseekable(io.RawIOBase):
    """A write-only stream: zipfile then writes data descriptors after each member."""

    def __init__(self):
        self.buffer = io.BytesIO()

    def writable(self):
        return True

    def write(self, data):
        return self.buffer.write(data)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (42, (None, "42")),
        (42.0, (None, "42")),
        (-0.0, (None, "0")),
        (0.1, (None, "0.1")),
        (1 / 3, (None, repr(1 / 3))),
        (1e-07, (None, "1e-07")),
        (1.5e300, (None, "1.5e+300")),
        (2**60, (None, repr(float(2**60)))),
        (np.float64(2.5), (None, "2.5")),
        (np.int64(7), (None, "7")),
        (np.bool_(True), ("b", "1")),
        ("", ("str", "")),
        ("a < b & c", ("str", "a < b & c")),
        (ErrorValue("#N/A"), ("e", "#N/A")),
    ],
)
def test_value_encoding(tmp_path, value, expected):
    path = tmp_path / "one.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "S"
    wb.active["A1"] = "=1"
    wb.save(path)
    write_cached_values(path, path, {("S", "$a$1"): value})
    c = cell_xml(path, "A1")
    v = c.find("m:v", NS)
    assert (c.get("t"), None if v is None else v.text or "") == expected


# -- in place, atomically ----------------------------------------------------------------------


def test_in_place_rewrite(book, tmp_path):
    write_cached_values(book, book, VALUES)
    assert openpyxl.load_workbook(book, data_only=True)["Calc"]["B6"].value == 6.5
    assert openpyxl.load_workbook(book)["Calc"]["B6"].value == "=SUM(Data!A1:A3)"
    assert leftovers(tmp_path) == []


def test_a_bad_value_leaves_dst_absent_and_no_temp_file(book, tmp_path):
    dst = tmp_path / "out.xlsx"
    with pytest.raises(TypeError) as err:
        write_cached_values(book, dst, {("Calc", "B1"): object()})
    assert str(err.value) == (
        "values[('Calc', 'B1')]: cannot write a cached value of type object; "
        "expected float, int, bool, str, None or ErrorValue"
    )
    assert not dst.exists()
    assert leftovers(tmp_path) == []


def test_a_failure_mid_write_leaves_dst_unchanged(book, tmp_path, monkeypatch):
    original = book.read_bytes()
    temps_seen = []

    def failing(*args):
        temps_seen.extend(leftovers(tmp_path))
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(cached_module, "_rewrite_sheet", failing)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_cached_values(book, book, VALUES)
    assert temps_seen and temps_seen[0].startswith(".book.xlsx.")  # it failed mid-write
    assert book.read_bytes() == original
    assert leftovers(tmp_path) == []


def test_a_hostile_source_is_refused_before_anything_is_written(tmp_path):
    src = tmp_path / "fake.xlsx"
    src.write_text("not a workbook")
    dst = tmp_path / "out.xlsx"
    with pytest.raises(WorkbookError) as err:
        write_cached_values(src, dst, {})
    assert str(err.value) == f"{src}: not an .xlsx file (not a zip archive)"
    assert not dst.exists() and leftovers(tmp_path) == []


def test_permissions_of_the_replaced_file_are_kept(book):
    os.chmod(book, 0o640)
    write_cached_values(book, book, VALUES)
    assert stat.S_IMODE(book.stat().st_mode) == 0o640


# -- arguments ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "error", "message"),
    [
        ({("Calc", "B1"): math.nan}, ValueError, "values[('Calc', 'B1')]: nan is not a finite"),
        ({("Calc", "B1"): ErrorValue("#SPILL!")}, ValueError, "'#SPILL!' is not an Excel error"),
        ({("Calc", "1B"): 1}, ValueError, "values[('Calc', '1B')]: '1B' is not a cell reference"),
        ({("Calc", "XFE1"): 1}, ValueError, "'XFE1' is outside the sheet"),
        ({("Calc", "B1"): "x" * 32768}, ValueError, "text of 32,768 characters is longer"),
        ({"Calc!B1": 1}, TypeError, "values: key 'Calc!B1' is not a (sheet_name, 'A1') pair"),
    ],
)
def test_bad_arguments(book, tmp_path, values, error, message):
    dst = tmp_path / "out.xlsx"
    with pytest.raises(error) as err:
        write_cached_values(book, dst, values)
    assert message in str(err.value)
    assert not dst.exists()


def test_sheet_names_restricts_the_sheets_written(book, tmp_path):
    dst = tmp_path / "out.xlsx"
    write_cached_values(book, dst, VALUES, sheet_names=["Data"])
    assert read(dst, CALC_PART) == read(book, CALC_PART)
    with pytest.raises(WorkbookError) as err:
        write_cached_values(book, dst, VALUES, sheet_names=["Calc", "Missing"])
    assert str(err.value) == f"{book}: no worksheet named 'Missing'"
    assert leftovers(tmp_path) == []


# -- atomic helpers ----------------------------------------------------------------------------


def test_atomic_save_workbook(tmp_path):
    wb = openpyxl.Workbook()
    wb.active["A1"] = 1
    dst = tmp_path / "saved.xlsx"
    atomic_save_workbook(wb, dst)
    assert openpyxl.load_workbook(dst).active["A1"].value == 1
    assert leftovers(tmp_path) == []


def test_atomic_save_workbook_failure_keeps_dst(tmp_path, monkeypatch):
    dst = tmp_path / "saved.xlsx"
    dst.write_bytes(b"old")
    wb = openpyxl.Workbook()

    def broken_save(path):
        Path(path).write_bytes(b"partial")
        raise OSError("no space left on device")

    monkeypatch.setattr(wb, "save", broken_save)
    with pytest.raises(OSError, match="no space"):
        atomic_save_workbook(wb, dst)
    assert dst.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def test_atomic_path_yields_a_sibling_temp_file(tmp_path):
    dst = tmp_path / "a.xlsx"
    with atomic_path(dst) as tmp:
        assert tmp.parent == tmp_path and tmp.exists() and tmp.name.endswith(".xlsx")
        assert not dst.exists()
        tmp.write_bytes(b"new")
    assert dst.read_bytes() == b"new"
    with pytest.raises(KeyboardInterrupt), atomic_path(dst) as tmp:
        tmp.write_bytes(b"half")
        raise KeyboardInterrupt
    assert dst.read_bytes() == b"new"
    assert leftovers(tmp_path) == []


# -- LibreOffice -------------------------------------------------------------------------------

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(
    SOFFICE is None,
    reason="LibreOffice (soffice) not found; install Debian's libreoffice-calc-nogui",
)
def test_libreoffice_opens_the_rewritten_file(book, tmp_path):
    dst = tmp_path / "out.xlsx"
    write_cached_values(book, dst, VALUES)
    out = tmp_path / "csv"
    profile = (tmp_path / "profile").as_uri()
    proc = subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--convert-to",
            "csv",
            "--outdir",
            str(out),
            str(dst),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    with (out / "out.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][1] == "2"
    assert rows[1][1] == "x1"
    assert rows[3][1] == "#DIV/0!"
    assert [rows[r][3] for r in range(3)] == ["10", "20", "35"]
