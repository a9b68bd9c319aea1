"""cvp-xl recalc: CVP_* mixed with native formulas, values stored next to formulas."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import zipfile

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import close, requires_libreoffice
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.table import Table

from cvp_xl.commands.cli import main
from cvp_xl.commands.recalc import compute, recalc
from cvp_xl.errors import ErrorValue, WorkbookError


@pytest.fixture
def mixed(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Deal"
    ws.append(["value_s", 1000])
    ws.append(["price_s", 600])
    ws.append(["value_a", 700])
    ws.append(["price_a", 450])
    ws["C1"] = "=CVP_DIFFERENTIAL(B1,B2,B3,B4)"        # 150
    ws["C2"] = "=C1*2"                                   # depends on a CVP_* cell: 300
    ws["C3"] = "=IFERROR(CVP_ROI(B1,B2),0)"             # (1000-600)/600 = 0.6666...
    ws["C4"] = "=IFERROR(CVP_ROI(B1,0),-1)"             # #DIV/0! caught: -1
    ws["C5"] = "=SUM(B1:B4)"                             # 2750
    ws["C6"] = "=_xludf.CVP_INCENTIVE(B1,B2)"            # 400
    ws["C7"] = "=CVP_ROI(B1,0)"                          # #DIV/0!
    ws["C8"] = "=CVP_NOPE(1)"                            # no such CVP function: #NAME?
    ws["C9"] = '=CVP_NEXT_BEST(A1:A2,B1:B2,B3:B4)'       # incentives 1000-700, 600-450: value_s
    ws["C10"] = "=CVP_PAYBACK(B2,B3:B4)"                 # 600 - 700 < 0: 600/700 periods
    ws["C1"].number_format = "#,##0.00"
    other = wb.create_sheet("Other")
    other["A1"] = "=Deal!C1+1"                           # 151
    path = tmp_path / "mixed.xlsx"
    wb.save(path)
    return path


def test_recalc_computes_and_keeps_formulas(mixed, tmp_path):
    out = tmp_path / "out.xlsx"
    result = recalc(mixed, out)
    values = openpyxl.load_workbook(out, data_only=True)
    ws = values["Deal"]
    assert ws["C1"].value == 150
    assert ws["C2"].value == 300
    assert ws["C3"].value == pytest.approx((1000 - 600) / 600, rel=1e-12)
    assert ws["C4"].value == -1
    assert ws["C5"].value == 2750
    assert ws["C6"].value == 400
    assert ws["C7"].value == "#DIV/0!"
    assert ws["C8"].value == "#NAME?"
    assert ws["C9"].value == "value_s"
    assert ws["C10"].value == pytest.approx(600 / 700, rel=1e-12)
    assert values["Other"]["A1"].value == 151
    formulas = openpyxl.load_workbook(out)
    assert formulas["Deal"]["C1"].value == "=CVP_DIFFERENTIAL(B1,B2,B3,B4)"
    assert formulas["Deal"]["C1"].number_format == "#,##0.00"
    assert [str(e) for e in result.errors] == [
        "Deal!C7: #DIV/0! (CVP_ROI: cost: is 0; ROI = (benefit - cost) / cost needs a "
        "non-zero cost)",
        "Deal!C8: #NAME? (unknown function CVP_NOPE)"]
    assert result.values[("Deal", "C7")] == ErrorValue("#DIV/0!")
    frame = pd.read_excel(out, sheet_name="Deal", header=None)
    assert frame.iloc[0, 2] == 150


def test_recalc_in_place(mixed):
    before = zipfile.ZipFile(mixed).namelist()
    recalc(mixed)
    assert openpyxl.load_workbook(mixed, data_only=True)["Deal"]["C1"].value == 150
    assert zipfile.ZipFile(mixed).namelist() == before


def test_customer_edits_are_recomputed(mixed, tmp_path):
    wb = openpyxl.load_workbook(mixed)
    wb["Deal"]["B2"] = 900  # the customer negotiated the price up
    wb.save(mixed)
    recalc(mixed)
    # hand: (1000 - 900) - (700 - 450) = -150
    assert openpyxl.load_workbook(mixed, data_only=True)["Deal"]["C1"].value == -150


def test_not_an_xlsx_is_refused_and_nothing_written(tmp_path):
    bad = tmp_path / "notes.xlsx"
    bad.write_text("just text")
    out = tmp_path / "out.xlsx"
    with pytest.raises(WorkbookError) as info:
        recalc(bad, out)
    assert str(info.value) == f"{bad}: not an .xlsx file (not a zip archive)"
    assert not out.exists()
    assert bad.read_text() == "just text"


# -- the one rule: computed, or kept and named ------------------------------------------------

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def gaps(tmp_path):
    """Formulas the engine lacks or got wrong, each with the value Excel and LibreOffice give."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append(["Item", "Qty", "Price"])
    ws.append(["a", 2, 1.5])
    ws.append(["b", 3, 2.0])
    ws.append(["c", 4, 2.5])
    ws.append(["Total", "=SUBTOTAL(109,T[Qty])", None])  # the total row Excel adds: 9
    ws["G6"], ws["G7"], ws["G8"] = 1, 10, 100
    ws.row_dimensions[7].hidden = True                  # hidden by hand, no filter
    table = Table(displayName="T", ref="A1:C5", totalsRowCount=1)
    ws.add_table(table)
    ws["E1"] = "=SUM(T[Qty])"                            # 2+3+4 = 9
    ws["E2"] = "=SUMPRODUCT(T[Qty],T[Price])"            # 3+6+10 = 19
    ws["D2"] = "=T[[#This Row],[Qty]]*T[[#This Row],[Price]]"   # 2*1.5 = 3
    ws["D4"] = "=T[[#This Row],[Qty]]*T[[#This Row],[Price]]"   # 4*2.5 = 10
    ws["E3"] = "=SUBTOTAL(9,G6:G8)"                      # keeps the hidden row: 111
    ws["E4"] = "=SUBTOTAL(109,G6:G8)"                    # skips row 7: 1+100 = 101
    ws["E5"] = "=_xlfn.AGGREGATE(9,0,B2:B5)"                   # nested subtotal B5 skipped: 9
    ws["E6"] = "=_xlfn.AGGREGATE(14,6,C2:C4,2)"                # second largest price: 2
    ws["E7"] = "=_xlfn.AGGREGATE(9,5,G6:G8)"                   # without the hidden row: 101
    ws["E8"] = "=Rate*2"                                 # Data's own Rate (C2 = 1.5): 3
    ws["E9"] = "=N(TRUE)"                                # 1
    ws["E10"] = '=--("A"="B")'                           # FALSE as a number: 0
    ws["E11"] = "=DEC2BIN(-2,4)"                         # negative: ten digits, 1111111110
    ws["E12"] = "=DEC2HEX(10,4)"                         # 000A
    other = wb.create_sheet("Other")
    other["A1"] = "=Rate*2"                              # the workbook's Rate (10): 20
    other["A2"] = 10
    wb.defined_names["Rate"] = DefinedName("Rate", attr_text="Other!$A$2")
    ws.defined_names["Rate"] = DefinedName("Rate", attr_text="Data!$C$2")
    path = tmp_path / "gaps.xlsx"
    wb.save(path)
    return path


GAP_VALUES = {
    ("Data", "B5"): 9, ("Data", "E1"): 9, ("Data", "E2"): 19, ("Data", "D2"): 3,
    ("Data", "D4"): 10, ("Data", "E3"): 111, ("Data", "E4"): 101, ("Data", "E5"): 9,
    ("Data", "E6"): 2, ("Data", "E7"): 101, ("Data", "E8"): 3, ("Data", "E9"): 1,
    ("Data", "E10"): 0, ("Data", "E11"): "1111111110", ("Data", "E12"): "000A",
    ("Other", "A1"): 20,
}


def test_engine_gaps_give_the_hand_values(gaps, tmp_path):
    result = recalc(gaps, tmp_path / "out.xlsx")
    assert result.kept == [] and result.errors == []
    for key, expected in GAP_VALUES.items():
        assert close(result.values[key], expected), (key, result.values[key], expected)
    assert result.summary() == (f"{tmp_path / 'out.xlsx'}: 16 formula cells: 16 computed, "
                                "0 kept (not recomputed), 0 errors")


@requires_libreoffice
def test_engine_gaps_agree_with_libreoffice(gaps):
    from cvp_xl.hosts.libreoffice import libreoffice_values

    ours = compute(gaps).values
    theirs = libreoffice_values(gaps)
    for key in GAP_VALUES:
        assert close(ours[key], theirs[key]), (key, ours[key], theirs[key])


def test_lambda_helper_errors_are_error_cells_and_randbetween_is_whole(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    ws["A1"], ws["A2"], ws["A3"] = 2, 3, 4
    # MAP of 1/(x-3): hand calculation -1, #DIV/0!, 1
    ws["B1"] = ArrayFormula("B1:B3", "=_xlfn.MAP(A1:A3,_xlfn.LAMBDA(_xlpm.x,1/(_xlpm.x-3)))")
    ws["C1"] = "=ISERROR(B2)"          # the error is an error, not the text '#DIV/0!'
    ws["D1"] = "=RANDBETWEEN(1,6)"
    ws["D2"] = "=CHAR(1)"             # Excel stores the control character as _x0001_
    path = tmp_path / "lambda.xlsx"
    wb.save(path)
    result = recalc(path)
    assert result.values[("S", "B1")] == -1
    assert result.values[("S", "B2")] == ErrorValue("#DIV/0!")
    assert result.values[("S", "B3")] == 1
    assert result.values[("S", "C1")] is True
    assert result.values[("S", "D1")] in {1, 2, 3, 4, 5, 6}
    assert ("S", "D1") in result.volatile
    with zipfile.ZipFile(path) as z:
        assert b"<v>_x0001_</v>" in z.read("xl/worksheets/sheet1.xml")


def test_omitted_optional_arguments_are_missing(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    for i, v in enumerate([52000, 31000, 18500, 40000, 12000, 9000], start=1):
        ws[f"B{i}"] = v
    ws["C1"] = '=CVP_CASE_STATS(B1:B6,,,"count")'   # six values: 6
    ws["C2"] = "=CVP_CASE_STATS(B1:B6)"              # mean: 162500 / 6
    path = tmp_path / "omitted.xlsx"
    wb.save(path)
    values = compute(path).values
    assert values[("Sheet", "C1")] == 6
    assert close(values[("Sheet", "C2")], 162500 / 6)


def test_circular_references_are_named_not_stale(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    ws["A1"] = 5
    ws["C1"] = "=D1+A1"
    ws["D1"] = "=C1*2"
    ws["E1"] = "=C1+1"          # downstream of the cycle
    ws["F1"] = "=A1*3"          # independent: 15
    path = tmp_path / "circular.xlsx"
    wb.save(path)
    result = recalc(path)
    assert [str(k) for k in result.kept] == [
        "S!C1: not recomputed (circular reference: C1 → D1 → C1); it has no stored value",
        "S!D1: not recomputed (circular reference: D1 → C1 → D1); it has no stored value",
        "S!E1: not recomputed (depends on C1, which was not recomputed); it has no stored value",
    ]
    assert result.values[("S", "F1")] == 15
    out = cli("recalc", path, "--strict")
    assert out.exit_code == 1
    assert out.stdout == f"{path}: 4 formula cells: 1 computed, 3 kept (not recomputed), 0 errors\n"


def test_unsupported_function_keeps_the_stored_value_and_names_the_cell(tmp_path):
    path = tmp_path / "ets.xlsx"
    raw_xlsx(path, '<row r="1"><c r="A1"><v>4</v></c>'
                   '<c r="B1"><f>_xlfn.BASE(A1,2)</f><v>123.5</v></c>'
                   '<c r="C1"><f>B1*2</f><v>1</v></c>'
                   '<c r="D1"><f>XFD1+1</f><v>7</v></c></row>')
    result = recalc(path)
    assert [str(k) for k in result.kept] == [
        "Sheet1!B1: not recomputed (BASE is not supported); kept the stored value",
        "Sheet1!D1: not recomputed (references to the last row or column of a sheet (XFD1) "
        "are not supported); kept the stored value"]
    assert result.values[("Sheet1", "C1")] == 247   # computed from the stored 123.5: 2 * 123.5
    with zipfile.ZipFile(path) as z:
        sheet = z.read("xl/worksheets/sheet1.xml")
    assert b"<v>123.5</v>" in sheet and b"<v>247</v>" in sheet and b"<v>7</v>" in sheet


def test_a_macro_function_keeps_the_stored_value_and_is_named(tmp_path):
    """A function neither Excel's nor cvp-xl's (a VBA or add-in function) is never computed as
    #NAME?: the cell keeps the value Excel stored (in an .xlsx too), or is named without one."""
    path = tmp_path / "macro.xlsx"
    raw_xlsx(path, '<row r="1"><c r="A1"><v>4</v></c>'
                   '<c r="B1" t="str"><f>myFunc("def")</f><v>defabc</v></c>'
                   '<c r="C1"><f>_xludf.Tax(A1)</f></c>'
                   '<c r="D1"><f>C1+1</f></c></row>')
    result = recalc(path)
    assert [str(k) for k in result.kept] == [
        "Sheet1!B1: not recomputed (myFunc is not an Excel function: a macro or add-in "
        "function); kept the stored value",
        "Sheet1!C1: not recomputed (Tax is not an Excel function: a macro or add-in "
        "function); it has no stored value",
        "Sheet1!D1: not recomputed (depends on C1, which was not recomputed); it has no "
        "stored value"]
    assert result.values == {("Sheet1", "B1"): "defabc"}   # the value the file stored
    assert result.errors == []
    with zipfile.ZipFile(path) as z:
        assert b"<v>defabc</v>" in z.read("xl/worksheets/sheet1.xml")


# -- external links are never followed --------------------------------------------------------


def external_link_book(tmp_path):
    """A workbook whose C1 is =[1]Sheet1!A1*2, the link pointing at other.xlsx beside it."""
    other = tmp_path / "other.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Sheet1"
    wb.active["A1"] = 4242.5          # secret: must appear nowhere in the output
    wb.save(other)
    path = tmp_path / "linked.xlsx"
    raw_xlsx(path, '<row r="1"><c r="A1"><v>1</v></c><c r="C1"><f>[1]Sheet1!A1*2</f>'
                   '<v>10</v></c><c r="D1"><f>C1+A1</f><v>11</v></c></row>',
             external="other.xlsx")
    return path, other


def test_external_links_are_never_followed(tmp_path):
    path, other = external_link_book(tmp_path)
    out = tmp_path / "out.xlsx"
    result = cli("recalc", path, "-o", out)
    assert result.exit_code == 0
    assert result.stderr == ("  Sheet1!C1: not recomputed (refers to another workbook (an "
                             "external link), which is never opened); kept the stored value\n")
    values = openpyxl.load_workbook(out, data_only=True)["Sheet1"]
    assert values["C1"].value == 10 and values["D1"].value == 11   # stored 10, plus A1
    with zipfile.ZipFile(out) as z:
        text = b"".join(z.read(n) for n in z.namelist())
    assert b"4242" not in text and b"8485" not in text
    assert "4242" not in result.output and "8485" not in result.output


def test_no_file_but_the_named_one_is_opened(tmp_path):
    path, other = external_link_book(tmp_path)
    script = textwrap.dedent(f"""
        import sys
        opened = []
        def hook(event, args):
            if event == "open" and isinstance(args[0], str) and "other" in args[0]:
                opened.append(args[0])
        sys.addaudithook(hook)
        from cvp_xl.commands.recalc import recalc
        recalc({str(path)!r})
        print(opened)
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


# -- no traceback, ever; the file untouched -----------------------------------------------------


@pytest.mark.parametrize(("rows", "message"), [
    ('<row r="1"><c r="ZZZZ1"><v>1</v></c></row>',
     "not a valid .xlsx file: sheet 'Sheet1': 'ZZZZ1' is not a cell reference"),
    ('<row r="1"><c r="A1"><v>abc</v></c></row>',
     "not a valid .xlsx file: sheet 'Sheet1', cell A1: stored value 'abc' is not a number"),
    ('<row r="1"><c r="A1" t="s"><v>7</v></c></row>',
     "not a valid .xlsx file: sheet 'Sheet1', cell A1: shared string '7' does not exist"),
])
def test_malformed_parts_are_messages_and_the_file_untouched(tmp_path, rows, message):
    path = tmp_path / "bad.xlsx"
    raw_xlsx(path, rows)
    before = path.read_bytes()
    result = cli("recalc", path)
    assert result.exit_code == 2
    assert result.stderr == f"Error: {path}: {message}\n"
    assert path.read_bytes() == before


def test_a_renamed_xls_is_refused(tmp_path):
    path = tmp_path / "old.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))  # an OLE2 (.xls) header
    result = cli("recalc", path)
    assert result.exit_code == 2
    assert result.stderr == f"Error: {path}: not an .xlsx file (not a zip archive)\n"


# -- bounded work -------------------------------------------------------------------------------

LIMITED = textwrap.dedent("""
    import resource, sys
    cap = {cap}
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    from cvp_xl.commands.cli import main
    sys.argv = ["cvp-xl", "recalc", {path!r}]
    main()
""")


def run_capped(path, cap=1536 * 2**20):
    return subprocess.run([sys.executable, "-c", LIMITED.format(cap=cap, path=str(path))],
                          capture_output=True, text=True, timeout=600)


def test_a_far_cell_costs_what_the_file_holds(tmp_path):
    path = tmp_path / "far.xlsx"
    raw_xlsx(path, '<row r="1"><c r="A1"><f>XFC1048575*2</f></c></row>'
                   '<row r="1048575"><c r="XFC1048575"><v>21</v></c></row>'
                   '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>',
             dimension="A1:XFD1048576")
    assert path.stat().st_size < 5000
    run = run_capped(path)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert openpyxl.load_workbook(path, data_only=True, read_only=True)["Sheet1"]["A1"].value \
        == 42   # hand: 21 * 2


def test_too_many_formulas_are_refused_before_any_work(tmp_path):
    path = tmp_path / "many.xlsx"
    rows = "".join(f'<row r="{r}"><c r="A{r}"><f>B{r}+1</f></c></row>'
                   for r in range(1, 80_001))
    raw_xlsx(path, rows)
    before = path.read_bytes()
    run = run_capped(path, cap=1024 * 2**20)
    assert run.returncode == 2
    assert run.stderr == (f"Error: {path}: refused: more than 50,000 formula cells (the "
                          "formula limit; raise it with --max-formulas)\n")
    assert path.read_bytes() == before


# -- rewriting keeps everything: macros, links ----------------------------------------------------


def test_macros_survive_and_symlinks_are_followed(tmp_path):
    real = tmp_path / "real" / "book.xlsm"
    real.parent.mkdir()
    raw_xlsx(real, '<row r="1"><c r="A1"><v>2</v></c><c r="B1"><f>A1*3</f></c></row>',
             macros=b"VBA-PROJECT-BYTES")
    link = tmp_path / "link.xlsm"
    link.symlink_to(real)
    result = cli("recalc", link)
    assert result.exit_code == 0, result.output
    assert link.is_symlink()
    with zipfile.ZipFile(real) as z:
        assert z.read("xl/vbaProject.bin") == b"VBA-PROJECT-BYTES"
        assert b"macroEnabled" in z.read("[Content_Types].xml")
        assert b"<v>6</v>" in z.read("xl/worksheets/sheet1.xml")   # hand: 2 * 3


# -- a raw workbook, written part by part ---------------------------------------------------------


def raw_xlsx(path, rows: str, *, dimension=None, external=None, macros=None):
    """Write a minimal workbook with one sheet whose <sheetData> holds `rows` (as Excel would)."""
    kind = ("application/vnd.ms-excel.sheet.macroEnabled.main+xml" if macros else
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml")
    types = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats'
             '.org/package/2006/content-types"><Default Extension="rels" ContentType="'
             'application/vnd.openxmlformats-package.relationships+xml"/><Default Extension='
             '"xml" ContentType="application/xml"/><Default Extension="bin" ContentType='
             '"application/vnd.ms-office.vbaProject"/>'
             f'<Override PartName="/xl/workbook.xml" ContentType="{kind}"/>'
             '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
             'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
    rels = ('<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>')
    refs = ""
    parts = {}
    if external:
        types += ('<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="'
                  'application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/>')
        rels += ('<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/'
                 '2006/relationships/externalLink" Target="externalLinks/externalLink1.xml"/>')
        refs = '<externalReferences><externalReference r:id="rId2"/></externalReferences>'
        parts["xl/externalLinks/externalLink1.xml"] = (
            f'<externalLink xmlns="{MAIN_NS}" xmlns:r="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships"><externalBook r:id="rId1"><sheetNames>'
            '<sheetName val="Sheet1"/></sheetNames><sheetDataSet><sheetData sheetId="0">'
            '<row r="1"><cell r="A1"><v>5</v></cell></row></sheetData></sheetDataSet>'
            '</externalBook></externalLink>')
        parts["xl/externalLinks/_rels/externalLink1.xml.rels"] = (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            f'relationships/externalLinkPath" Target="{external}" TargetMode="External"/>'
            '</Relationships>')
    if macros:
        rels += ('<Relationship Id="rId3" Type="http://schemas.microsoft.com/office/2006/'
                 'relationships/vbaProject" Target="vbaProject.bin"/>')
        parts["xl/vbaProject.bin"] = macros
    types += "</Types>"
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    parts.update({
        "[Content_Types].xml": types,
        "_rels/.rels": ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                        'relationships"><Relationship Id="rId1" Type="http://schemas.'
                        'openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
                        'Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (f'<workbook xmlns="{MAIN_NS}" xmlns:r="http://schemas.openxmlformats'
                            '.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1"'
                            f' sheetId="1" r:id="rId1"/></sheets>{refs}</workbook>'),
        "xl/_rels/workbook.xml.rels": ('<Relationships xmlns="http://schemas.openxmlformats.org/'
                                       f'package/2006/relationships">{rels}</Relationships>'),
        "xl/worksheets/sheet1.xml": (f'<worksheet xmlns="{MAIN_NS}">{dim}<sheetData>{rows}'
                                     '</sheetData></worksheet>'),
    })
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def date1904_book(tmp_path):
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    wb = openpyxl.Workbook()
    wb.epoch = CALENDAR_MAC_1904
    ws = wb.active
    ws.title = "S"
    ws["A1"] = 43830                 # 2024-01-01 in the 1904 system: 45292 - 1462
    ws["B1"] = "=DATE(2024,1,1)"     # 43830
    ws["B2"] = "=YEAR(A1)"           # 2024
    ws["B3"] = "=EDATE(A1,1)"        # 2024-02-01: 43830 + 31 = 43861
    ws["B4"] = "=WEEKDAY(A1)"        # 2024-01-01 is a Monday: 2
    path = tmp_path / "mac.xlsx"
    wb.save(path)
    return path


def test_the_1904_date_system(tmp_path):
    values = compute(date1904_book(tmp_path)).values
    assert [values[("S", f"B{i}")] for i in range(1, 5)] == [43830, 2024, 43861, 2]


@requires_libreoffice
def test_the_1904_date_system_agrees_with_libreoffice(tmp_path):
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, to_excel

    from cvp_xl.hosts.libreoffice import libreoffice_values

    path = date1904_book(tmp_path)
    ours, theirs = compute(path).values, libreoffice_values(path)
    for i in range(1, 5):
        value = theirs[("S", f"B{i}")]   # a date-formatted number comes back as a datetime
        if not isinstance(value, (int, float)):
            value = to_excel(value, CALENDAR_MAC_1904)
        assert close(ours[("S", f"B{i}")], value)


def test_strict_fails_a_calculator_that_reports_invalid_inputs(tmp_path):
    from cvp_xl.workbooks import example
    from cvp_xl.workbooks.calculator.builder import build
    from cvp_xl.workbooks.calculator.spec import load_spec

    spec = load_spec(example("calculators/fleet-routing.yaml"))
    path = tmp_path / "calc.xlsx"
    build(spec, path)
    wb = openpyxl.load_workbook(path)
    inputs = wb["Inputs"]
    cell = next(c for row in inputs.iter_rows(min_row=2) for c in row
                if isinstance(c.value, (int, float)) and not isinstance(c.value, bool))
    cell.value = "lots"               # a typed word where a number belongs
    wb.save(path)
    result = cli("recalc", path, "--strict")
    assert result.exit_code == 1
    assert "  Summary!B7: the calculator reports invalid inputs: Fix " in result.stderr
