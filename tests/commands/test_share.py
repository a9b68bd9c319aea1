"""``cvp-xl share``: what it prints, what it writes, and that the shared copy means the same.

The workbook is the one issue 12 describes: ``=CVP_DIFFERENTIAL(A1,A2,A3,A4)`` with A3 blank
and ``=CVP_ROI(B2,C9)`` with C9 blank are ``#VALUE!`` with the add-in; shared without guards
they read 90 and ``#DIV/0!``.  Every expected value is a hand calculation written next to its
cell; LibreOffice recomputes the shared copy.
"""

from __future__ import annotations

import openpyxl
import pytest
from click.testing import CliRunner
from helpers import requires_libreoffice
from openpyxl.worksheet.formula import ArrayFormula

from cvp_xl.commands.cli import main
from cvp_xl.commands.share import share
from cvp_xl.errors import ErrorValue

RANGES = "ROWS(D1:D3)*COLUMNS(D1:D3)+ROWS(E1:E3)*COLUMNS(E1:E3)"
PAIRED = "OR(ROWS(D1:D3)<>ROWS(E1:E3),COLUMNS(D1:D3)<>COLUMNS(E1:E3))"

#: Each cell that holds a call: the native formula it becomes, and its value (hand).
SHARED = {
    # A3 blank: refused as the function refuses it (Excel's arithmetic would read 0: 150)
    "B1": ("=IF(COUNT(A1,A2,A3,A4)<4,SUM(A1,A2,A3,A4)+#VALUE!,(A1-A2)-(A3-A4))",
           ErrorValue("#VALUE!")),
    # C9 blank: #VALUE! (unguarded, (B2-C9)/C9 would be #DIV/0!)
    "B3": ("=IF(COUNT(B2,C9)<2,SUM(B2,C9)+#VALUE!,(B2-C9)/C9)", ErrorValue("#VALUE!")),
    # (1000 - 600) - (450 - 450) = 400
    "B4": ("=IF(COUNT(A1,A2,A4,A4)<4,SUM(A1,A2,A4,A4)+#VALUE!,(A1-A2)-(A4-A4))", 400),
}
#: The array formulas: native text and the value of each of their three cells (hand).
ARRAYS = {
    # E2 = 0: the function refuses the whole range (unguarded: 1, #DIV/0!, 2)
    "F1:F3": (f"=IF(COUNT(D1:D3,E1:E3)<{RANGES},SUM(D1:D3,E1:E3)+#VALUE!,IF({PAIRED},#VALUE!,"
              "IF(COUNTIF(E1:E3,0)>0,#DIV/0!,(D1:D3-E1:E3)/E1:E3)))",
              [ErrorValue("#DIV/0!")] * 3),
    # 100 - 50 = 50, 200 - 0 = 200, 300 - 100 = 200
    "G1:G3": (f"=IF(COUNT(D1:D3,E1:E3)<{RANGES},SUM(D1:D3,E1:E3)+#VALUE!,IF({PAIRED},#VALUE!,"
              "D1:D3-E1:E3))", [50, 200, 200]),
}


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def deal(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Deal"
    ws["A1"], ws["A2"], ws["A4"] = 1000, 600, 450  # A3 left blank
    ws["B1"] = "=CVP_DIFFERENTIAL(A1,A2,A3,A4)"
    ws["B2"] = 200_000
    ws["B3"] = "=CVP_ROI(B2,C9)"  # C9 left blank
    ws["B4"] = "=CVP_DIFFERENTIAL(A1,A2,A4,A4)"
    ws["B5"] = "=CVP_PAYBACK(A2,D1:D3)"  # 600 paid back by 100, 200, 300: 2 + 300/300 = 3
    ws["B6"] = "#N/A"  # an error typed into a cell
    for row, (d, e) in enumerate([(100, 50), (200, 0), (300, 100)], start=1):
        ws[f"D{row}"], ws[f"E{row}"] = d, e
    ws["F1"] = ArrayFormula("F1:F3", "=CVP_ROI(D1:D3,E1:E3)")
    ws["G1"] = ArrayFormula("G1:G3", "=CVP_INCENTIVE(D1:D3,E1:E3)")
    path = tmp_path / "deal.xlsx"
    wb.save(path)
    return path


def test_share_prints_each_change_and_the_errors_already_there(deal, tmp_path):
    out = tmp_path / "shared.xlsx"
    result = run("share", deal, "-o", out)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"Deal!B1: =CVP_DIFFERENTIAL(A1,A2,A3,A4) -> {SHARED['B1'][0]}  [native formula]",
        f"Deal!F1:F3: {{=CVP_ROI(D1:D3,E1:E3)}} -> {{{ARRAYS['F1:F3'][0]}}}  [native formula]",
        f"Deal!G1:G3: {{=CVP_INCENTIVE(D1:D3,E1:E3)}} -> {{{ARRAYS['G1:G3'][0]}}}  "
        "[native formula]",
        f"Deal!B3: =CVP_ROI(B2,C9) -> {SHARED['B3'][0]}  [native formula]",
        f"Deal!B4: =CVP_DIFFERENTIAL(A1,A2,A4,A4) -> {SHARED['B4'][0]}  [native formula]",
        "Deal!B5: =CVP_PAYBACK(A2,D1:D3) -> 3.0  "
        "[value kept: CVP_PAYBACK has no native-formula translation]",
        f"{out}: 6 cells changed",
    ]
    assert result.stderr.splitlines() == [
        f"{deal}: 4 cells already errors before sharing:",
        "  Deal!B1: #VALUE! (CVP_DIFFERENTIAL: value_a: expected a number, got a blank cell)",
        "  Deal!F1: #DIV/0! (CVP_ROI: cost: is 0; ROI = (benefit - cost) / cost needs a "
        "non-zero cost)",
        "  Deal!B3: #VALUE! (CVP_ROI: cost: expected a number, got a blank cell)",
        "  Deal!B6: #N/A (typed in the cell)",
    ]


def test_the_shared_copy_holds_the_native_formulas_and_the_functions_values(deal, tmp_path):
    out = tmp_path / "shared.xlsx"
    share(deal, out)
    formulas = openpyxl.load_workbook(out)["Deal"]
    stored = openpyxl.load_workbook(out, data_only=True)["Deal"]
    for ref, (native, value) in SHARED.items():
        assert formulas[ref].value == native
        assert _read(stored[ref]) == value, ref
    for ref, (native, values) in ARRAYS.items():
        top = ref.split(":")[0]
        assert isinstance(formulas[top].value, ArrayFormula)
        assert (formulas[top].value.ref, formulas[top].value.text) == (ref, native)
        column = top[0]
        assert [_read(stored[f"{column}{r}"]) for r in (1, 2, 3)] == values, ref
    assert formulas["B5"].value == 3  # no translation: the value, with a note saying why
    assert formulas["B5"].comment.text == (
        "Was =CVP_PAYBACK(A2,D1:D3)\nCVP_PAYBACK has no native-formula translation; the value "
        "computed by cvp-xl is kept instead.")


@requires_libreoffice
def test_libreoffice_computes_what_the_functions_computed(deal, tmp_path):
    from cvp_xl.hosts.libreoffice import libreoffice_values

    out = tmp_path / "shared.xlsx"
    share(deal, out)
    values = libreoffice_values(out)
    for ref, (_, value) in SHARED.items():
        assert values[("Deal", ref)] == value, ref
    for ref, (_, expected) in ARRAYS.items():
        column = ref[0]
        assert [values[("Deal", f"{column}{r}")] for r in (1, 2, 3)] == expected, ref
    assert values[("Deal", "B5")] == 3


def test_share_in_place_rewrites_the_file(deal):
    changes = share(deal)
    assert [c.ref for c in changes] == ["B1", "F1:F3", "G1:G3", "B3", "B4", "B5"]
    assert openpyxl.load_workbook(deal)["Deal"]["B1"].value == SHARED["B1"][0]


def test_a_call_with_the_wrong_number_of_arguments_keeps_its_value(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = 5
    ws["B1"] = "=CVP_ROI(A1)"
    path = tmp_path / "book.xlsx"
    wb.save(path)
    changes = share(path)
    assert [str(c) for c in changes] == [
        "Sheet!B1: =CVP_ROI(A1) -> #VALUE!  "
        "[value kept: CVP_ROI(benefit, cost) takes 2 arguments, got 1]"]
    cell = openpyxl.load_workbook(path)["Sheet"]["B1"]
    assert (cell.value, cell.data_type) == ("#VALUE!", "e")


def test_a_file_that_is_not_a_workbook_is_refused_and_nothing_written(tmp_path):
    bad, out = tmp_path / "notes.xlsx", tmp_path / "out.xlsx"
    bad.write_text("not a workbook", encoding="utf-8")
    result = run("share", bad, "-o", out)
    assert result.exit_code == 2
    assert result.stderr == f"Error: {bad}: not an .xlsx file (not a zip archive)\n"
    assert not out.exists()


def _read(cell):
    return ErrorValue(cell.value) if cell.data_type == "e" else cell.value
