"""Macros and every other part survive every command that rewrites a workbook (issue 10).

A macro-enabled workbook is made here the way Excel makes one: an .xlsx package with the VBA
project ``xl/vbaProject.bin`` (its bytes copied from ``tests/corpus/xlcalculator/reader.xlsm``,
a file Excel saved), its relationship, the macro-enabled content type of the workbook part and
a ribbon customisation (``customUI/customUI14.xml``).  Each command that rewrites a file in
place or to ``-o`` keeps every part name, in order, and every part it does not mean to change
byte for byte; the commands that rebuild a workbook through openpyxl (``track --add``,
``upgrade``) refuse an ``.xlsm`` and leave it byte for byte as it was.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from helpers import requires_libreoffice
from openpyxl.comments import Comment

from cvp_xl.commands.cli import main

ROOT = Path(__file__).resolve().parents[2]
READER = ROOT / "tests" / "corpus" / "xlcalculator" / "reader.xlsm"
POI_XLSM = ROOT / "tests" / "corpus" / "poi" / "testNames.xlsm"
MACRO_TYPE = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
PLAIN_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
UI = b'<customUI xmlns="http://schemas.microsoft.com/office/2009/07/customui"/>'


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def macro_enable(src: Path, dst: Path) -> Path:
    """Copy the .xlsx `src` to `dst` as Excel saves an .xlsm: with a VBA project (Excel's
    bytes, from reader.xlsm) and a ribbon part, each with its relationship and content type."""
    with zipfile.ZipFile(READER) as reader:
        vba = reader.read("xl/vbaProject.bin")
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(PLAIN_TYPE.encode(), MACRO_TYPE.encode()).replace(
                    b"</Types>", b'<Default Extension="bin" '
                    b'ContentType="application/vnd.ms-office.vbaProject"/></Types>')
            elif info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rIdVba" Type='
                                    b'"http://schemas.microsoft.com/office/2006/relationships/'
                                    b'vbaProject" Target="vbaProject.bin"/></Relationships>')
            elif info.filename == "_rels/.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rIdUi" Type='
                                    b'"http://schemas.microsoft.com/office/2007/relationships/'
                                    b'ui/extensibility" Target="customUI/customUI14.xml"/>'
                                    b"</Relationships>")
            zout.writestr(info, data)
        zout.writestr("xl/vbaProject.bin", vba)
        zout.writestr("customUI/customUI14.xml", UI)
    return dst


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


@pytest.fixture
def deal(tmp_path) -> Path:
    """An .xlsm with CVP calls: B1 becomes a native formula; B5 (CVP_PAYBACK has no native
    translation) keeps its value and gets a note beside the comment A1 already has."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Deal"
    ws["A1"], ws["A2"], ws["A3"], ws["A4"] = 1000, 600, 450, 450
    ws["A1"].comment = Comment("Entered by the customer", "Ann")
    ws["B1"] = "=CVP_DIFFERENTIAL(A1,A2,A3,A4)"
    ws["B5"] = "=CVP_PAYBACK(A2,D1:D3)"
    ws["D1"], ws["D2"], ws["D3"] = 100, 200, 300
    plain = tmp_path / "plain.xlsx"
    wb.save(plain)
    return macro_enable(plain, tmp_path / "deal.xlsm")


#: Commands that rewrite BOOK (or write -o OUT): the parts each means to change.
REWRITING = [
    pytest.param(("share", "{book}", "-o", "{out}"),
                 {"xl/worksheets/sheet1.xml", "xl/comments/comment1.xml",
                  "xl/drawings/commentsDrawing1.vml"}, id="share -o"),
    pytest.param(("share", "{book}"),
                 {"xl/worksheets/sheet1.xml", "xl/comments/comment1.xml",
                  "xl/drawings/commentsDrawing1.vml"}, id="share in place"),
    pytest.param(("recalc", "{book}", "-o", "{out}"), {"xl/worksheets/sheet1.xml"},
                 id="recalc -o"),
    pytest.param(("recalc", "{book}"), {"xl/worksheets/sheet1.xml"}, id="recalc in place"),
    pytest.param(("add-functions", "{book}", "-o", "{out}"), {"xl/workbook.xml"},
                 id="add-functions -o"),
]


@pytest.mark.parametrize(("args", "changed"), REWRITING)
def test_a_command_that_rewrites_an_xlsm_keeps_every_part(deal, tmp_path, args, changed):
    out = tmp_path / "out.xlsm"
    before = parts(deal)
    result = run(*(a.format(book=deal, out=out) for a in args))
    assert result.exit_code == 0, result.output
    written = out if "{out}" in args else deal
    after = parts(written)
    assert names(written) == list(before)  # every part, in its order, none added
    assert after["xl/vbaProject.bin"] == before["xl/vbaProject.bin"]
    assert after["customUI/customUI14.xml"] == UI
    assert MACRO_TYPE.encode() in after["[Content_Types].xml"]
    differ = {name for name in before if after[name] != before[name]}
    assert differ == changed


def test_share_of_an_xlsm_rewrites_the_calls_and_keeps_the_old_comment(deal, tmp_path):
    out = tmp_path / "shared.xlsm"
    result = run("share", deal, "-o", out)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == f"{out}: 2 cells changed"
    ws = openpyxl.load_workbook(out, keep_vba=True)["Deal"]
    # (1000 - 600) - (450 - 450) = 400, guarded as the function refuses blanks
    assert ws["B1"].value == ("=IF(COUNT(A1,A2,A3,A4)<4,SUM(A1,A2,A3,A4)+#VALUE!,"
                              "(A1-A2)-(A3-A4))")
    # 600 paid back by 100, 200, 300: 2 years + 300/300 = 3
    assert ws["B5"].value == 3
    assert ws["B5"].comment.text == (
        "Was =CVP_PAYBACK(A2,D1:D3)\nCVP_PAYBACK has no native-formula translation; the value "
        "computed by cvp-xl is kept instead.")
    assert (ws["A1"].comment.text, ws["A1"].comment.author) == ("Entered by the customer", "Ann")


def _payback_book(tmp_path) -> Path:
    """An .xlsm whose one CVP call has no native translation, on a sheet without comments."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"], ws["A2"], ws["A3"] = 600, 400, 300
    ws["B1"] = "=CVP_PAYBACK(A1,A2:A3)"  # 400 then 200 of 300: 1 + 200/300 = 1.666...
    plain = tmp_path / "plain.xlsx"
    wb.save(plain)
    return macro_enable(plain, tmp_path / "book.xlsm")


def test_share_adds_a_comments_part_where_a_sheet_had_none(tmp_path):
    book = _payback_book(tmp_path)
    out = tmp_path / "out.xlsm"
    assert run("share", book, "-o", out).exit_code == 0
    before, after = parts(book), parts(out)
    added = [n for n in names(out) if n not in before]
    assert added == ["xl/comments1.xml", "xl/drawings/vmlDrawing1.vml",
                     "xl/worksheets/_rels/sheet1.xml.rels"]
    assert names(out)[:len(before)] == list(before)
    assert {n for n in before if after[n] != before[n]} == {
        "[Content_Types].xml", "xl/worksheets/sheet1.xml"}
    assert after["xl/vbaProject.bin"] == before["xl/vbaProject.bin"]
    cell = openpyxl.load_workbook(out)["Sheet"]["B1"]
    assert cell.value == pytest.approx(1 + 200 / 300, rel=1e-15)
    assert cell.comment.text.startswith("Was =CVP_PAYBACK(A1,A2:A3)\n")


@requires_libreoffice
def test_libreoffice_reads_the_note_share_added_in_new_parts(tmp_path):
    from cvp_xl.hosts.libreoffice import recalc_with_libreoffice

    out = tmp_path / "out.xlsm"
    assert run("share", _payback_book(tmp_path), "-o", out).exit_code == 0
    (again,) = recalc_with_libreoffice(out, tmp_path / "libreoffice")
    cell = openpyxl.load_workbook(again, data_only=True)["Sheet"]["B1"]
    assert cell.value == pytest.approx(1 + 200 / 300, rel=1e-15)  # hand: 1 + 200/300
    assert cell.comment.text.startswith("Was =CVP_PAYBACK(A1,A2:A3)\n")


@requires_libreoffice
def test_libreoffice_reads_the_shared_xlsm_and_its_notes(deal, tmp_path):
    """LibreOffice recomputes the shared copy and saves it again: the values and both notes
    (the one the file had, the one share added) come back from LibreOffice's file."""
    from cvp_xl.hosts.libreoffice import recalc_with_libreoffice

    out = tmp_path / "shared.xlsm"
    assert run("share", deal, "-o", out).exit_code == 0
    (again,) = recalc_with_libreoffice(out, tmp_path / "libreoffice")
    ws = openpyxl.load_workbook(again, data_only=True)["Deal"]
    assert ws["B1"].value == 400  # LibreOffice computes the native formula: hand, 400
    assert ws["B5"].value == 3  # the kept value
    assert ws["B5"].comment.text.startswith("Was =CVP_PAYBACK(A2,D1:D3)\n")
    assert ws["A1"].comment.text == "Entered by the customer"


@pytest.mark.skipif(not POI_XLSM.exists(), reason="the Apache POI corpus is not vendored")
def test_share_of_an_xlsm_excel_saved_keeps_every_part_but_the_values(tmp_path):
    """A macro workbook saved by Excel (Apache POI's test data): nothing to translate, so
    only the worksheets' cached values are rewritten."""
    out = tmp_path / "out.xlsm"
    result = run("share", POI_XLSM, "-o", out)
    assert result.exit_code == 0, result.output
    before, after = parts(POI_XLSM), parts(out)
    assert names(out) == list(before)
    assert all(after[n] == before[n] for n in before if not n.startswith("xl/worksheets/"))


@pytest.fixture(scope="module")
def tracker_xlsm(tmp_path_factory) -> Path:
    from cvp_xl.workbooks.tracker import build_example_workbooks

    folder = tmp_path_factory.mktemp("tracker_xlsm")
    return macro_enable(build_example_workbooks(folder)[0], folder / "tracker.xlsm")


def test_track_add_refuses_an_xlsm_and_leaves_it_as_it_was(tracker_xlsm, tmp_path):
    book = shutil.copy(tracker_xlsm, tmp_path / "tracker.xlsm")
    csv = tmp_path / "q3.csv"
    csv.write_text("customer,period,period end,promised,documented,verified by\n"
                   "Northwind Plastics,2025-Q3,2025-09-30,21000,20500,\n", encoding="utf-8")
    before = Path(book).read_bytes()
    result = run("track", book, "--add", csv)
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {book}: refused: a workbook with macros (.xlsm); adding a period rebuilds the "
        "tracker and would lose them (keep the tracker as an .xlsx workbook)\n")
    assert Path(book).read_bytes() == before


def test_cases_refuses_to_write_an_xlsm(tracker_xlsm, tmp_path):
    cases = tmp_path / "cases.xlsm"
    result = run("cases", tracker_xlsm, "--to", cases)
    assert result.exit_code == 2
    assert f"{cases}: " in result.stderr and ".xlsx" in result.stderr
    assert not cases.exists()


def test_upgrade_leaves_an_xlsm_calculator_as_it_was(tmp_path):
    import pandas as pd

    from cvp_xl.commands.batch import build_many
    from cvp_xl.workbooks.calculator import load_spec

    spec_path = ROOT / "workbooks" / "calculators" / "fleet-routing.yaml"
    spec = load_spec(spec_path)
    folder = tmp_path / "calcs"
    table = pd.DataFrame({"customer_id": ["C-0001"], "customer_name": ["Customer 1"],
                          **{i.name: [i.base] for i in spec.inputs}})
    build_many(spec, table, folder)
    book = macro_enable(folder / "C-0001.xlsx", folder / "C-0001.xlsm")
    (folder / "C-0001.xlsx").unlink()
    before = book.read_bytes()
    v2 = tmp_path / "fleet-routing-v2.yaml"  # a new version: another source for one input
    v2.write_text(spec_path.read_text(encoding="utf-8").replace(
        "source: Telematics export (example)", "source: Telematics export 2026 (example)", 1),
        encoding="utf-8")
    result = run("upgrade", folder, "--spec", v2, "--quiet")
    assert result.exit_code == 1, result.output
    assert ("C-0001.xlsm: not upgraded: a workbook with macros (.xlsm); rebuilding it from the "
            "spec would lose them") in result.stderr.splitlines()
    assert book.read_bytes() == before


def test_share_gives_each_cell_of_a_shared_formula_its_own_native_formula(tmp_path):
    """Excel stores a formula filled down as one shared formula (the first cell holds the
    text, the others point at it); share rewrites each cell, none points at a text gone."""
    wb = openpyxl.Workbook()
    ws = wb.active
    for row, benefit in enumerate((200, 300, 400), start=1):
        ws[f"A{row}"], ws[f"C{row}"] = benefit, 100
        ws[f"B{row}"] = f"=CVP_ROI(A{row},C{row})"
    plain = tmp_path / "plain.xlsx"
    wb.save(plain)
    filled = tmp_path / "filled.xlsm"
    with zipfile.ZipFile(plain) as zin, zipfile.ZipFile(filled, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<f>CVP_ROI(A1,C1)</f>",
                                    b'<f t="shared" ref="B1:B3" si="0">CVP_ROI(A1,C1)</f>')
                for row in (2, 3):
                    data = data.replace(f"<f>CVP_ROI(A{row},C{row})</f>".encode(),
                                        b'<f t="shared" si="0"/>')
            zout.writestr(info, data)
    assert parts(filled)["xl/worksheets/sheet1.xml"].count(b't="shared"') == 3
    out = tmp_path / "shared.xlsm"
    assert run("share", filled, "-o", out).exit_code == 0
    formulas = openpyxl.load_workbook(out)["Sheet"]
    stored = openpyxl.load_workbook(out, data_only=True)["Sheet"]
    for row in (1, 2, 3):
        a, c = f"A{row}", f"C{row}"
        assert formulas[f"B{row}"].value == (
            f"=IF(COUNT({a},{c})<2,SUM({a},{c})+#VALUE!,({a}-{c})/{c})")
    # ROI = (benefit - cost) / cost: (200 - 100) / 100 = 1, then 2 and 3
    assert [stored[f"B{row}"].value for row in (1, 2, 3)] == [1, 2, 3]
    assert b't="shared"' not in parts(out)["xl/worksheets/sheet1.xml"]
