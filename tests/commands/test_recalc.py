"""cvp-xl recalc: CVP_* mixed with native formulas, values stored next to formulas."""

from __future__ import annotations

import zipfile

import openpyxl
import pandas as pd
import pytest

from cvp_xl.commands.recalc import recalc
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
    ws["C8"] = "=NOPE(1)"                                # #NAME?
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
        "Deal!C8: #NAME? (unknown function NOPE)"]
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
