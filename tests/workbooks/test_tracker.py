"""The value tracker: the values it stores are Python's (also after a period is added); the
formulas engine and LibreOffice recompute the same."""

from __future__ import annotations

import datetime as dt
import shutil

import openpyxl
import pytest
from helpers import NO_LIBREOFFICE, close, requires_libreoffice

from cvp_xl.commands.recalc import compute
from cvp_xl.errors import ErrorValue, WorkbookError
from cvp_xl.hosts.libreoffice import find_soffice, read_values
from cvp_xl.workbooks.tracker import (
    EXAMPLES,
    FIRST_ROW,
    OVER_TIME,
    SHEET,
    TrackerInputError,
    add_period,
    build_example_workbooks,
    expected_values,
    read_tracker,
)
from cvp_xl.xlsx.share_safe import unsafe_functions

NAMES = ["example", "added", "edited"]


def _edit(wb):
    """Inputs edited by hand: the as-of date, a blank documented value, promised values that
    make realization an error (#NUM!, #DIV/0!)."""
    ws = wb[SHEET]
    ws["B2"] = dt.datetime(2025, 7, 1)
    ws[f"E{FIRST_ROW + 3}"] = 0  # Contoso 2024-Q4 documented as 0
    ws[f"D{FIRST_ROW + 5}"] = -1  # Northwind 2025-Q1 promised -1: #NUM!
    ws[f"D{FIRST_ROW + 7}"] = 0  # Fabrikam 2025-Q1 promised 0: #DIV/0!


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    """The example tracker; a copy with the example 2025-Q2 period added; and a copy edited by
    hand (:func:`_edit`), then with the period added."""
    folder = tmp_path_factory.mktemp("trackers")
    example = build_example_workbooks(folder)[0]
    added, edited = folder / "added.xlsx", folder / "edited.xlsx"
    shutil.copy(example, added)
    add_period(added, EXAMPLES / "2025-Q2.csv")
    wb = openpyxl.load_workbook(example)
    _edit(wb)
    wb.save(edited)
    add_period(edited, EXAMPLES / "2025-Q2.csv")
    return {"example": example, "added": added, "edited": edited}


@pytest.fixture(scope="module")
def libreoffice(books, tmp_path_factory):
    from cvp_xl.hosts.libreoffice import recalc_with_libreoffice

    if find_soffice() is None:
        pytest.skip(NO_LIBREOFFICE)
    out = tmp_path_factory.mktemp("trackers_lo")
    paths = recalc_with_libreoffice([books[name] for name in NAMES], out)
    return dict(zip(NAMES, paths))


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


@pytest.mark.parametrize("name", NAMES)
def test_the_formulas_engine_computes_the_stored_values(books, name, differences):
    assert differences(books[name], compute(books[name]).values) == {}


@pytest.mark.parametrize("name", NAMES)
def test_libreoffice_computes_the_stored_values(books, libreoffice, name, differences,
                                                stored_values):
    recomputed = stored_values(libreoffice[name], list(stored_values(books[name])))
    assert differences(books[name], recomputed) == {}


@pytest.mark.parametrize("name", NAMES)
def test_formulas_call_only_share_safe_functions(books, name):
    assert unsafe_functions(books[name]) == []


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
    from cvp_xl.commands.recalc import recalc

    recalc(copy)
    statuses = [v for (s, ref), v in read_values(copy).items() if s == SHEET and ref[0] == "J"
                and ref != "J8"]
    assert statuses.count("overdue") == 3  # Contoso Q4 and Q1, Tailspin Q1
    assert ErrorValue("#N/A") not in statuses


def _copy(books, tmp_path, edit=None):
    path = tmp_path / "tracker.xlsx"
    shutil.copy(books["example"], path)
    if edit is not None:
        wb = openpyxl.load_workbook(path)
        edit(wb)
        wb.save(path)
    return path, path.read_bytes()


def test_add_period_refuses_cells_the_formulas_cannot_read(books, tmp_path):
    def edit(wb):
        ws = wb[SHEET]
        ws[f"D{FIRST_ROW + 1}"] = "4000"  # text: SUMPRODUCT gives #VALUE!
        ws[f"C{FIRST_ROW + 2}"] = "2024-12-31"
        ws[f"E{FIRST_ROW + 3}"] = "  "

    path, before = _copy(books, tmp_path, edit)
    with pytest.raises(TrackerInputError) as info:
        add_period(path, EXAMPLES / "2025-Q2.csv")
    assert [str(p) for p in info.value.problems] == [
        f"Tracker row {FIRST_ROW + 1}, column 'promised': expected a number, got '4000'",
        f"Tracker row {FIRST_ROW + 2}, column 'period end': expected a date (YYYY-MM-DD), "
        "got '2024-12-31'",
        f"Tracker row {FIRST_ROW + 3}, column 'documented': expected a number or a blank "
        "cell, got '  '",
    ]
    assert str(info.value).startswith(f"{path}: 3 problems; nothing was written:")
    assert path.read_bytes() == before


def test_add_period_refuses_text_settings_and_formulas_of_its_own(books, tmp_path):
    path, before = _copy(books, tmp_path, lambda wb: wb[SHEET].__setitem__("B2", "2025-06-15"))
    with pytest.raises(WorkbookError, match=r"B2 \(as of\): expected a date, got '2025-06-15'"):
        add_period(path, EXAMPLES / "2025-Q2.csv")
    assert path.read_bytes() == before
    path, before = _copy(books, tmp_path, lambda wb: wb[SHEET].__setitem__("L2", "=B3*2"))
    with pytest.raises(WorkbookError, match="formulas cvp-xl does not write and cannot "
                                            "compute: Tracker!L2; move them"):
        add_period(path, EXAMPLES / "2025-Q2.csv")
    assert path.read_bytes() == before


def test_add_period_recomputes_values_in_python_after_edits(books):
    """Edited inputs (a documented value, the as-of date, promised values) reach every value;
    the formulas engine and LibreOffice agree (the tests above, with "edited")."""
    ws = openpyxl.load_workbook(books["edited"], data_only=True)[SHEET]
    assert ws[f"J{FIRST_ROW + 6}"].value == "overdue"  # Contoso 2025-Q1: 92 days
    assert ws[f"G{FIRST_ROW + 3}"].value == 0
    assert ws[f"G{FIRST_ROW + 5}"].value == "#NUM!"
    assert ws[f"G{FIRST_ROW + 7}"].value == "#DIV/0!"
    over = openpyxl.load_workbook(books["edited"], data_only=True)[OVER_TIME]
    assert over["A6"].value == "2025-Q1"
    assert close(over["E6"].value, (19_900 + 7_800) / (-1 + 0))
