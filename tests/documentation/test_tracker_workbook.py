"""The value tracker: recomputed by LibreOffice, equal to its cached values and to Python."""

from __future__ import annotations

import datetime as dt
import shutil

import openpyxl
import pytest
from helpers import close, requires_libreoffice

from cvp_xl.hosts.libreoffice import read_values
from cvp_xl.workbooks.tracker import (
    EXAMPLES,
    FIRST_ROW,
    OVER_TIME,
    SHEET,
    add_period,
    build_example_workbooks,
    expected_values,
    read_tracker,
)
from cvp_xl.xlsx.values import ErrorValue


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    """The example tracker, and a copy with the example 2025-Q2 period added."""
    folder = tmp_path_factory.mktemp("trackers")
    example = build_example_workbooks(folder)[0]
    added = folder / "added.xlsx"
    shutil.copy(example, added)
    add_period(added, EXAMPLES / "2025-Q2.csv")
    return {"example": example, "added": added}


@pytest.fixture(scope="module")
def libreoffice(books, tmp_path_factory):
    from cvp_xl.hosts.libreoffice import recalc_with_libreoffice

    out = tmp_path_factory.mktemp("trackers_lo")
    paths = recalc_with_libreoffice([books["example"], books["added"]], out)
    return dict(zip(("example", "added"), paths))


def _formula_cells(path):
    wb = openpyxl.load_workbook(path)
    return {(ws.title, c.coordinate) for ws in wb.worksheets for row in ws.iter_rows()
            for c in row if c.data_type == "f"}


@pytest.mark.parametrize("name", ["example", "added"])
def test_cached_values_equal_python(books, name):
    path = books[name]
    expected = expected_values(read_tracker(path))
    cached = read_values(path)
    assert set(expected) == _formula_cells(path)  # every formula cell is checked
    for key, value in expected.items():
        assert close(cached.get(key, ""), value), f"{key}: {cached.get(key)!r} != {value!r}"


@requires_libreoffice
@pytest.mark.parametrize("name", ["example", "added"])
def test_libreoffice_recomputes_the_same_values(books, libreoffice, name):
    path = books[name]
    lo = read_values(libreoffice[name])
    for key, value in expected_values(read_tracker(path)).items():
        assert close(lo.get(key, ""), value), f"LibreOffice {key}: {lo.get(key)!r} != {value!r}"


def test_hand_checked_rows(books):
    """Hand calculations on the example data (workbooks/tracker/tracker.csv), as of 2025-06-15."""
    ws = openpyxl.load_workbook(books["example"], data_only=True)[SHEET]
    rows = {(ws.cell(r, 1).value, ws.cell(r, 2).value): r for r in range(FIRST_ROW, 18)}
    r = rows[("Northwind Plastics", "2024-Q4")]
    assert close(ws.cell(r, 7).value, 22_400 / 21_000)  # realization 1.0667
    assert ws.cell(r, 8).value == 42_000  # cumulative promised 21000 + 21000
    assert ws.cell(r, 9).value == 40_900  # cumulative documented 18500 + 22400
    assert ws.cell(rows[("Contoso Foods", "2024-Q4")], 10).value == "overdue"  # 166 days > 90
    assert ws.cell(rows[("Contoso Foods", "2025-Q1")], 10).value == "open"  # 76 days
    assert ws.cell(rows[("Contoso Foods", "2025-Q1")], 7).value in ("", None)
    over = openpyxl.load_workbook(books["example"], data_only=True)[OVER_TIME]
    assert [over.cell(r, 1).value for r in range(4, 7)] == ["2024-Q3", "2024-Q4", "2025-Q1"]
    # hand: 2024-Q4 promised 21000 + 4000 + 8500 = 33500; documented 22400 + 9100 = 31500
    # over the promised value of the documented rows 21000 + 8500 = 29500
    assert over["C5"].value == 33_500 and over["D5"].value == 31_500
    assert close(over["E5"].value, 31_500 / 29_500)


def test_layout_rules_protection_and_chart(books):
    wb = openpyxl.load_workbook(books["added"])
    ws = wb[SHEET]
    last = FIRST_ROW + 9 + 4 - 1
    rules = {str(cf.sqref): [r.formula for r in cf.rules] for cf in ws.conditional_formatting}
    assert rules == {f"A{FIRST_ROW}:J{last}": [[f'$J{FIRST_ROW}="overdue"']]}
    assert {str(dv.sqref) for dv in ws.data_validations.dataValidation} == {
        f"{c}{FIRST_ROW}:{c}{last}" for c in "ACDE"}
    assert ws.protection.sheet and not ws["B2"].protection.locked
    assert not ws[f"E{last}"].protection.locked and ws[f"G{last}"].protection.locked
    assert "IF(D9<0,#NUM!,E9/D9)" in ws["G9"].value  # CVP_REALIZATION's native translation
    assert ws["B2"].value == dt.datetime(2025, 6, 15)
    for formula in (c.value for row in ws.iter_rows() for c in row if c.data_type == "f"):
        assert "CVP_" not in formula.upper()
    with __import__("zipfile").ZipFile(books["added"]) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 1
        assert b"lineChart" in z.read(charts[0])


def test_overdue_statuses_follow_the_as_of_cell(books, tmp_path):
    copy = tmp_path / "later.xlsx"
    shutil.copy(books["example"], copy)
    wb = openpyxl.load_workbook(copy)
    wb[SHEET]["B2"] = dt.datetime(2025, 7, 1)  # 2025-Q1 is now 92 days past its end
    wb.save(copy)
    from cvp_xl.recalc import recalc

    recalc(copy)
    statuses = [v for (s, ref), v in read_values(copy).items() if s == SHEET and ref[0] == "J"
                and ref != "J8"]
    assert statuses.count("overdue") == 3  # Contoso Q4 and Q1, Tailspin Q1
    assert ErrorValue("#N/A") not in statuses
