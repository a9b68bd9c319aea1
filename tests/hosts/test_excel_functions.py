"""The engine's gaps closed in cvp_xl.hosts.excel_functions: VDB over fractional periods,
INDEX and OFFSET returning ranges, whole-row references, TEXT with date and time formats,
implicit intersection, array formulas over a smaller area.

One workbook holds every case; it is computed by recalc and by LibreOffice (one run), and each
value is checked against a hand calculation, a value Excel stored or a published example.
"""

from __future__ import annotations

import math

import openpyxl
import pytest
from helpers import close, requires_libreoffice
from openpyxl.worksheet.formula import ArrayFormula

from cvp_xl.commands.recalc import compute
from cvp_xl.errors import ErrorValue

R = 1.25 / 14  # the declining-balance rate of VDB(1,0,14,...,1.25): factor / life

#: ``{(sheet, cell): (formula, expected, where the value comes from)}``; an array formula is
#: given at its first cell as ``("{=...}", "C1:C2")`` with one expected value per cell below.
CASES = {
    # -- VDB: Excel's values (tests/corpus/xlcalculator/VDB.xlsx) and Microsoft's examples --
    ("V", "A1"): ("=VDB(1,0,14,3.5,4.5,1.25)", 0.06872629045468406,
                  "Excel, VDB.xlsx D27; by hand: straight line from t = 3.5, "
                  "(1 - R/2) * (1 - R)**3 / 10.5"),
    ("V", "A2"): ("=VDB(1,0,14,2.5,3.5,1.25)", 0.07074765193864536,
                  "Excel, VDB.xlsx D26; by hand: (1 - R/2) * (1 - R)**2 * R"),
    ("V", "A3"): ("=VDB(1,0,14,13.5,14,1.25)", 0.03436314522734203,
                  "Excel, VDB.xlsx D37; by hand: half of A1 (the same straight line)"),
    ("V", "A4"): ("=VDB(1,0,14,0.5,1.5,1.25)", 0.08529974489795919,
                  "Excel, VDB.xlsx D24; by hand: (1 - R/2) * R"),
    ("V", "B1"): ("=ROUND(VDB(2400,300,3650,0,1),2)", 1.32, "Microsoft's VDB example"),
    ("V", "B2"): ("=ROUND(VDB(2400,300,120,0,1),2)", 40.00, "Microsoft's VDB example"),
    ("V", "B3"): ("=ROUND(VDB(2400,300,10,0,1),2)", 480.00, "Microsoft's VDB example"),
    ("V", "B4"): ("=ROUND(VDB(2400,300,120,6,18),2)", 396.31, "Microsoft's VDB example"),
    ("V", "B5"): ("=ROUND(VDB(2400,300,120,6,18,1.5),2)", 311.81, "Microsoft's VDB example"),
    ("V", "B6"): ("=ROUND(VDB(2400,300,10,0,0.875,1.5),2)", 315.00,
                  "Microsoft's VDB example; by hand 0.875 * 2400 * 0.15"),
    ("V", "B7"): ("=VDB(2400,300,10,2,5,2,TRUE)", 2400 * (0.8**2 - 0.8**5),
                  "by hand: declining balance only, years 3 to 5: 2400 * (0.8^2 - 0.8^5)"),
    ("V", "B8"): ("=VDB(1,0,14,2.5,3.5,1.25,TRUE)", (1 - R / 2) * (1 - R) ** 2 * R,
                  "by hand: as A2 (no switch happens before 3.5)"),
    # -- INDEX and OFFSET (A1:B3 = 1 10 / 2 20 / 3 30; C1 = 3, C2 = 1) ------------------------
    ("I", "E1"): ("=SUM(INDEX(A1:B3,0,1))", 6, "by hand: 1+2+3"),
    ("I", "E2"): ("=SUM(INDEX(A1:B3,0,2))", 60, "by hand: 10+20+30"),
    ("I", "E3"): ("=SUM(INDEX(A1:B3,2,0))", 22, "by hand: 2+20"),
    ("I", "E4"): ("=SUM(INDEX(A1:B3,0,0))", 66, "by hand: 6+60"),
    ("I", "E5"): ("=SUM(OFFSET(A1,1,0,2,2))", 55, "by hand: A2:B3, 2+3+20+30"),
    ("I", "E6"): ("=SUM(A1:INDEX(A1:A3,2))", 3, "by hand: A1:A2, 1+2"),
    ("I", "E7"): ("=SUMPRODUCT(INDEX(A1:B3,0,1),INDEX(A1:B3,0,2))", 140,
                  "by hand: 1*10+2*20+3*30"),
    ("I", "E8"): ("=INDEX(A1:B3,2,2)", 20, "by hand"),
    ("I", "E9"): ("=ROWS(INDEX(A1:B3,0,1))", 3, "by hand"),
    ("I", "E10"): ("=AVERAGE(OFFSET(A1,0,1,3,1))", 20, "by hand: B1:B3"),
    ("I", "E11"): ("=INDEX(A1:B3,3,0)", ErrorValue("#VALUE!"),
                   "Excel's implicit intersection: A3:B3 shares no row or column with E11"),
    ("I", "E12"): ("=INDEX(A1:B3,4,1)", ErrorValue("#REF!"), "row 4 of a 3-row range"),
    ("I", "E13"): ("=INDEX(A1:B3,-1,1)", ErrorValue("#VALUE!"), "a negative row"),
    ("I", "E14"): ("=SUM(OFFSET(B1,0,0,3))", 60, "by hand: B1:B3 (the width of B1)"),
    ("I", "E15"): ("=OFFSET(A1,-1,0)", ErrorValue("#REF!"), "above row 1"),
    ("I", "E16"): ("=INDEX(A1:A3,2)", 2, "one column: the position is a row"),
    ("I", "E17"): ("=INDEX(A1:B1,2)", 10, "one row: the position is a column"),
    ("I", "G1"): ("{=INDEX(A1:B3,C1:C2,1)}", "G1:G2", [3, 1], "by hand: rows 3 and 1"),
    ("I", "H1"): ("{=INDEX(A1:B3,0,2)}", "H1:H3", [10, 20, 30], "by hand: column 2"),
    ("I", "I1"): ("{=INDEX(A1:B3,2,0)}", "I1:J1", [2, 20], "by hand: row 2"),
    ("I", "K1"): ("{=OFFSET(A1,1,0,2,2)}", "K1:L2", [2, 20, 3, 30], "by hand: A2:B3"),
    ("I", "M1"): ("{=INDEX(A1:B3,0,1)*2}", "M1:M3", [2, 4, 6], "by hand"),
    # -- whole rows (O!A1:C1 = 1 2 3; O!A2 = 10, B2 = 20, E2 = 50; O!A3 = 100) ---------------
    ("R", "A1"): ("=SUM(O!1:1)", 6, "by hand: 1+2+3"),
    ("R", "A2"): ("=SUM(O!1:2)", 86, "by hand: 6+10+20+50"),
    ("R", "A3"): ("=SUM(O!$2:$2)", 80, "by hand: 10+20+50"),
    ("R", "A4"): ("=COUNTA(O!1:1)", 3, "by hand"),
    ("R", "A5"): ("=INDEX(O!2:2,5)", 50, "by hand: E2"),
    ("R", "A6"): ("=MATCH(20,O!2:2,0)", 2, "by hand: B2"),
    ("R", "A7"): ("=SUMPRODUCT(O!1:1,O!2:2)", 50, "by hand: 1*10+2*20"),
    ("R", "A8"): ("=INDEX(O!1:2,2,5)", 50, "by hand: E2"),
    ("R", "A9"): ("=SUM(INDEX(O!1:2,2,0))", 80, "by hand: row 2"),
    ("R", "A10"): ("=INDEX(O!A:A,3)", 100, "by hand: A3 (a whole column starts at row 1)"),
    ("R", "C1"): ("{=O!1:1*2}", "C1:H1", [2, 4, 6, 0, 0, 0], "by hand: empty cells are 0"),
    # -- TEXT with date and time formats (Excel's values: tests/corpus/poi/DateFormatTests.xlsx,
    # the same dates and times there in the 1904 system) --------------------------------------
    ("T", "A1"): ('=TEXT(DATE(1952,10,11)+0.607951388887,"d-m-y")', "11-10-52",
                  "Excel, DateFormatTests.xlsx A2 (m of October is 10)"),
    ("T", "A2"): ('=TEXT(0.607951388887,"hh:mm:ss a/p")', "02:35:27 p",
                  "Excel, DateFormatTests.xlsx A11 (a 12-hour clock)"),
    ("T", "A3"): ('=TEXT(0.607951388887,"HH:MM:SS.000 AM/PM")', "02:35:27.000 PM",
                  "Excel, DateFormatTests.xlsx A18"),
    ("T", "A4"): ('=TEXT(0.1702084375,"h:m:s.00")', "4:5:6.01",
                  "Excel, DateFormatTests.xlsx A40: 6.0085 s rounded to 6.01"),
    ("T", "A5"): ('=TEXT(0.1702084375,"hh:mm:ss.000 am/pm")', "04:05:06.009 AM",
                  "Excel, DateFormatTests.xlsx A32"),
    ("T", "A6"): ('=TEXT(DATE(2024,1,10),"dd/mm/yyyy")', "10/01/2024", "by hand"),
    ("T", "A7"): ('=TEXT(DATE(2024,1,10),"d")', "10", "by hand: the 10th"),
    ("T", "A8"): ('=TEXT(DATE(1952,10,11),"d-m-yy")', "11-10-52", "by hand"),
    # -- a range returned to one cell: Excel's implicit intersection (X!A1:A3 = 1 2 3,
    # X!E1:G1 = 7 8 9, X!B1:B3 = 10 20 30) ---------------------------------------------------
    ("X", "C2"): ("=A1:A3", 2, "the formula's row: A2"),
    ("X", "D5"): ("=A1:A3", ErrorValue("#VALUE!"), "row 5 is not in A1:A3"),
    ("X", "F3"): ("=E1:G1", 8, "the formula's column: F1"),
    ("X", "H3"): ("=E1:G1", ErrorValue("#VALUE!"), "column H is not in E1:G1"),
    ("X", "C3"): ("=INDEX(A1:B3,0,1)", 3, "column 1 of A1:B3 is A1:A3; row 3: A3"),
    ("X", "D2"): ("{=A1:A3}", "D2", [1], "an array formula over one cell: the first value"),
    ("Y", "B9"): ("=X!A1:A3", ErrorValue("#VALUE!"), "row 9 is not in X!A1:A3"),
    ("Y", "D2"): ("=X!A1:B3", ErrorValue("#VALUE!"), "column D is not in X!A1:B3"),
    ("Y", "B2"): ("=X!A1:B3", 20, "row 2, column B of another sheet: X!B2"),
    # -- an array formula over an area smaller or larger than its result --------------------
    ("A", "D1"): ("{=A1:B3}", "D1:D2", [1, 2], "Excel shows the top-left part: A1, A2"),
    ("A", "F1"): ("{=A1:B3*2}", "F1:G4",
                  [2, 20, 4, 40, 6, 60, ErrorValue("#N/A"), ErrorValue("#N/A")],
                  "by hand; the row past the result is #N/A"),
}

#: Where LibreOffice does not give Excel's value.
NOT_LIBREOFFICE = {
    # LibreOffice interpolates within the whole-period schedule: 0.0713608 for A2
    ("V", "A1"), ("V", "A2"), ("V", "A3"),
    # a position outside the range: #REF! in Excel (its INDEX and OFFSET pages), #VALUE! in
    # LibreOffice 7.4
    ("I", "E12"), ("I", "E15"),
    # LibreOffice 7.4 writes "y" as a letter (11-10-y), and cuts 26.99999 seconds to 26 where
    # Excel rounds them to 27 (Excel's values, DateFormatTests.xlsx)
    ("T", "A1"), ("T", "A2"), ("T", "A3"),
}


def _expected():
    """``{(sheet, cell): expected}`` for every cell, array cells included."""
    from cvp_xl.xlsx.a1 import cells

    out = {}
    for (sheet, ref), case in CASES.items():
        if case[0].startswith("{"):
            for cell, value in zip(cells(case[1]), case[2], strict=True):
                out[(sheet, cell)] = value
        else:
            out[(sheet, ref)] = case[1]
    return out


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    wb = openpyxl.Workbook()
    wb.active.title = "V"
    index = wb.create_sheet("I")
    for i, (a, b) in enumerate([(1, 10), (2, 20), (3, 30)], start=1):
        index[f"A{i}"], index[f"B{i}"] = a, b
    index["C1"], index["C2"] = 3, 1
    wb.create_sheet("R")
    wb.create_sheet("T")
    cross = wb.create_sheet("X")
    for i in range(1, 4):
        cross[f"A{i}"], cross[f"B{i}"] = i, 10 * i
    cross["E1"], cross["F1"], cross["G1"] = 7, 8, 9
    wb.create_sheet("Y")
    other = wb.create_sheet("O")
    other["A1"], other["B1"], other["C1"] = 1, 2, 3
    other["A2"], other["B2"], other["E2"] = 10, 20, 50
    other["A3"] = 100
    area = wb.create_sheet("A")
    for i, (a, b) in enumerate([(1, 10), (2, 20), (3, 30)], start=1):
        area[f"A{i}"], area[f"B{i}"] = a, b
    for (sheet, ref), case in CASES.items():
        if case[0].startswith("{"):
            wb[sheet][ref] = ArrayFormula(case[1], case[0][1:-1])
        else:
            wb[sheet][ref] = case[0]
    path = tmp_path_factory.mktemp("gaps") / "gaps.xlsx"
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def ours(book):
    return compute(book)


def test_the_hand_calculations_are_excel_s_values():
    """The hand formulas in CASES give the values Excel stored in VDB.xlsx."""
    assert math.isclose((1 - R / 2) * (1 - R) ** 3 / 10.5, 0.06872629045468406, rel_tol=1e-12)
    assert math.isclose((1 - R / 2) * (1 - R) ** 2 * R, 0.07074765193864536, rel_tol=1e-12)
    assert math.isclose((1 - R / 2) * R, 0.08529974489795919, rel_tol=1e-12)


def test_every_case_gives_the_expected_value(ours):
    assert [str(k) for k in ours.kept] == []
    wrong = {key: (ours.values.get(key), expected) for key, expected in _expected().items()
             if not close(ours.values.get(key), expected)}
    assert wrong == {}


@requires_libreoffice
def test_libreoffice_agrees(book, ours):
    from cvp_xl.hosts.libreoffice import libreoffice_values

    theirs = libreoffice_values(book)
    differ = {key: (ours.values.get(key), theirs.get(key)) for key in _expected()
              if key not in NOT_LIBREOFFICE and not close(ours.values.get(key), theirs.get(key))}
    assert differ == {}
    # where LibreOffice differs from Excel, it does so as its own VDB does
    assert math.isclose(theirs[("V", "A2")], 0.5 * (1 - R) ** 2 * R + 0.5 / 11 * (1 - R) ** 3,
                        rel_tol=1e-12)


def test_offset_onto_a_formula_cell_is_named_not_guessed(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    ws["A1"], ws["A2"] = 1, "=A1*2"
    ws["B1"] = "=SUM(OFFSET(A1,0,0,2,1))"   # reads A2, a formula: not recomputed, named
    ws["B2"] = "=SUM(OFFSET(A1,0,0,1,1))"   # reads A1 only: 1
    path = tmp_path / "offset.xlsx"
    wb.save(path)
    result = compute(path)
    assert [str(k) for k in result.kept] == [
        "S!B1: not recomputed (a function in it (or in a cell it depends on) was called in a "
        "way that cannot be computed as Excel does); it has no stored value"]
    assert result.values[("S", "B2")] == 1
    assert ("S", "B2") in result.volatile


def test_an_elapsed_time_format_is_named_not_guessed(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    ws["A1"] = '=TEXT(1.5,"[h]:mm")'      # Excel: 36:00 (formulas 1.3.4 reads mm as the month)
    path = tmp_path / "elapsed.xlsx"
    wb.save(path)
    assert [str(k) for k in compute(path).kept] == [
        "S!A1: not recomputed (a function in it (or in a cell it depends on) was called in a "
        "way that cannot be computed as Excel does); it has no stored value"]


def test_several_values_in_one_cell_are_named_not_guessed(tmp_path):
    """``=A1:A3*2`` in C2 is A2*2 = 4 in Excel: a range operand meets the formula's row first
    (:func:`cvp_xl.xlsx.formula_text.as_excel_reads`).  A range given to a function that
    wants one value (``ABS(A1:A3)``: Excel's ABS(A2) = 2) is computed whole by the engine, so
    the cell is named rather than given the first value."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    for i in range(1, 4):
        ws[f"A{i}"] = i
    ws["C2"] = "=A1:A3*2"                 # by hand: A2*2 = 4
    ws["D2"] = "=C2+1"                    # 5
    ws["E2"] = "=ABS(A1:A3)"
    ws["F2"] = "=E2+1"
    path = tmp_path / "intersect.xlsx"
    wb.save(path)
    reason = ("it computes several values where Excel shows one (a range or array used as one "
              "value: Excel's implicit intersection), here or in a cell it depends on")
    result = compute(path)
    assert [str(k) for k in result.kept] == [
        f"S!E2: not recomputed ({reason}); it has no stored value",
        f"S!F2: not recomputed ({reason}); it has no stored value"]
    assert (result.values[("S", "C2")], result.values[("S", "D2")]) == (4, 5)


