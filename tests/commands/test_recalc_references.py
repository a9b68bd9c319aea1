"""recalc reads references as Excel does in one cell (issue 10): whole columns cost what the
sheet holds, a plain formula intersects a range with its own row, names it lacks are #NAME?,
and nothing the engine logs reaches the command's output.

Every expected value is LibreOffice's recomputation of the same file (``libreoffice_values``)
and, where written out, a hand calculation.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import openpyxl
import pytest
from click.testing import CliRunner
from helpers import close, requires_libreoffice
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.formula import ArrayFormula

from cvp_xl.commands.cli import main
from cvp_xl.commands.recalc import compute, recalc
from cvp_xl.errors import ErrorValue

A = ["x", "y", None, "w"]   # Data!A1:A4 (A3 empty)
B = [1, 2.5, "z", None]     # Data!B1:B4 (B4 empty)


@pytest.fixture(scope="module")
def whole_columns(tmp_path_factory):
    """The shape of the .xlsm that ran for 10 minutes: 89 cells of =A:A&"/"&B:B over 4 rows,
    and whole columns in the functions where empty cells do and do not count."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    for r, (a, b) in enumerate(zip(A, B), start=1):
        ws.cell(r, 1, a)
        ws.cell(r, 2, b)
    for r in range(1, 90):
        ws.cell(r, 3, '=A:A&"/"&B:B')
    ws["D1"] = "=SUM(B:B)"                    # 1 + 2.5 = 3.5
    ws["D2"] = "=COUNTA(A:A)"                 # x, y, w: 3
    ws["D3"] = '=COUNTIF(A:A,"<>x")'          # every cell but A1: 1,048,576 - 1 = 1,048,575
    ws["D4"] = "=COUNTBLANK(A:A)"             # all but x, y, w: 1,048,576 - 3 = 1,048,573
    ws["D5"] = '=VLOOKUP("y",A:B,2,FALSE)'    # B2: 2.5
    ws["D6"] = '=COUNTIFS(A:A,"",B:B,"")'     # rows 4.. lack A or B; both empty from 5: 1,048,572
    ws["D7"] = "=ROWS(A:A)"                   # Excel: 1,048,576 (not recomputed here)
    ws["D8"] = '=INDEX(B:B,MATCH("y",A:A,0))' # the row of y: B2 = 2.5
    ws["D9"] = "=INDEX(A:A,50)"               # an empty cell: 0
    ws["D10"] = '=MATCH("w",A:A,0)'           # 4
    ws["D11"] = "=SUM(Amounts)*2"             # Amounts is Data!$B:$B: (1 + 2.5) * 2 = 7
    wb.defined_names["Amounts"] = DefinedName("Amounts", attr_text="Data!$B:$B")
    path = tmp_path_factory.mktemp("whole") / "whole.xlsx"
    wb.save(path)
    return path


#: Hand values; LibreOffice gives the same (test_whole_columns_agree_with_libreoffice).
WHOLE_VALUES = {
    **{("Data", f"C{r}"): f"{a or ''}/{b if b is not None else ''}"
       for r, (a, b) in enumerate(zip(A, B), start=1)},
    ("Data", "C5"): "/", ("Data", "C89"): "/",
    ("Data", "D1"): 3.5, ("Data", "D2"): 3, ("Data", "D3"): 1_048_575,
    ("Data", "D4"): 1_048_573, ("Data", "D5"): 2.5, ("Data", "D6"): 1_048_572,
    ("Data", "D8"): 2.5, ("Data", "D9"): 0, ("Data", "D10"): 4, ("Data", "D11"): 7,
}

CAPPED = textwrap.dedent("""
    import resource, sys
    resource.setrlimit(resource.RLIMIT_AS, ({cap}, {cap}))
    from cvp_xl.commands.cli import main
    sys.argv = ["cvp-xl", "recalc", {path!r}, "-o", {out!r}]
    main()
""")


def test_whole_columns_cost_what_the_sheet_holds(whole_columns, tmp_path):
    """Under a 1 GiB address-space cap (the same formulas as =A1:A1048576 took 2.4 GB)."""
    out = tmp_path / "out.xlsx"
    run = subprocess.run(
        [sys.executable, "-c", CAPPED.format(cap=1024 * 2**20, path=str(whole_columns),
                                             out=str(out))],
        capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert run.stdout == (f"{out}: 100 formula cells: 99 computed, 1 kept (not recomputed), "
                          "0 errors\n")
    assert run.stderr == (
        "  Data!D7: not recomputed (A:A spans 1,048,576 cells and is read in ROWS, where its "
        "empty cells could change the result; references past 65,536 cells are read to the "
        "used range only in SUM, COUNT, lookups and the like); it has no stored value\n")
    got = openpyxl.load_workbook(out, data_only=True)["Data"]
    for (_, ref), expected in WHOLE_VALUES.items():
        assert close(got[ref].value, expected), (ref, got[ref].value, expected)


@requires_libreoffice
def test_whole_columns_agree_with_libreoffice(whole_columns):
    from cvp_xl.hosts.libreoffice import libreoffice_values

    ours = compute(whole_columns).values
    theirs = libreoffice_values(whole_columns)
    for key, expected in WHOLE_VALUES.items():
        assert close(theirs[key], expected), (key, theirs[key])
        assert close(ours[key], theirs[key]), (key, ours[key], theirs[key])
    assert theirs[("Data", "D7")] == 1_048_576  # what the kept cell would be


@pytest.fixture(scope="module")
def intersections(tmp_path_factory):
    """Ranges used as one value in plain formulas, next to the array forms of the same."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    for r, v in enumerate([1, 2, 3], start=1):
        ws.cell(r, 1, v)                          # A1:A3 = 1, 2, 3
    ws["B2"] = "=SUM(A1:A3*2)"                    # row 2: SUM(A2*2) = 4
    ws["B5"] = "=SUM(A1:A3*2)"                    # row 5 is outside A1:A3: #VALUE!
    ws["B3"] = "=SUMPRODUCT(A1:A3*2)"             # array arguments: 2+4+6 = 12
    ws["B6"] = "=SUMPRODUCT(A1:A3*2)"             # the same outside rows 1-3: 12
    ws["B7"] = ArrayFormula("B7", "=SUM(A1:A3*2)")  # an array formula: 12
    ws["B1"] = "=(A1:A3)+10"                      # row 1: A1+10 = 11
    ws["C3"] = "=SUM(Prices*2)"                   # the name Prices = A1:A3; row 3: 6
    ws["C4"] = "=SUM(A1:A3)"                      # a range given whole: 6
    ws["D1"] = "=-A1:A3"                          # row 1: -1
    ws["E2"] = "=Undefined*2"                     # no such name: #NAME?
    wb.defined_names["Prices"] = DefinedName("Prices", attr_text="Data!$A$1:$A$3")
    path = tmp_path_factory.mktemp("intersect") / "intersect.xlsx"
    wb.save(path)
    return path


INTERSECT_VALUES = {
    ("Data", "B2"): 4, ("Data", "B5"): ErrorValue("#VALUE!"), ("Data", "B3"): 12,
    ("Data", "B6"): 12, ("Data", "B7"): 12, ("Data", "B1"): 11, ("Data", "C3"): 6,
    ("Data", "C4"): 6, ("Data", "D1"): -1, ("Data", "E2"): ErrorValue("#NAME?"),
}


def test_a_plain_formula_reads_a_range_in_its_own_row(intersections, tmp_path):
    result = recalc(intersections, tmp_path / "out.xlsx")
    assert result.kept == []
    for key, expected in INTERSECT_VALUES.items():
        assert close(result.values[key], expected), (key, result.values[key], expected)
    assert sorted(str(e) for e in result.errors) == [
        "Data!B5: #VALUE!", "Data!E2: #NAME? (Undefined is not a defined name)"]


@requires_libreoffice
def test_intersections_agree_with_libreoffice(intersections):
    from cvp_xl.hosts.libreoffice import libreoffice_values

    ours = compute(intersections).values
    theirs = libreoffice_values(intersections)
    for key, expected in INTERSECT_VALUES.items():
        assert close(theirs[key], expected), (key, theirs[key])
        assert close(ours[key], theirs[key]), (key, ours[key], theirs[key])


def test_what_the_engine_logs_stays_out_of_the_output(tmp_path):
    """A name pointing at a sheet the workbook lacks: formulas logs ``Error in loading``; the
    command says it once, as a problem naming the reference, and nothing else."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = 2
    ws["B1"] = "=X*2"                 # X is Sheet9!A1, a sheet that does not exist
    ws["C1"] = "=A1*3"                # 6
    wb.defined_names["X"] = DefinedName("X", attr_text="Sheet9!$A$1")
    path = tmp_path / "missing.xlsx"
    wb.save(path)
    result = CliRunner().invoke(main, ["recalc", str(path), "--strict"])
    assert result.exit_code == 1
    assert result.stdout == (f"{path}: 2 formula cells: 1 computed, 0 kept (not recomputed), "
                             "1 error\n")
    assert result.stderr == (
        "  Sheet!B1: #REF!\n"
        "  'SHEET9'!A1: the formulas engine could not resolve this reference; the cells that "
        "read it hold #REF!\n")
    assert openpyxl.load_workbook(path, data_only=True)["Sheet"]["C1"].value == 6
