"""The case-history workbook: recomputed by LibreOffice, equal to its cached values and Python."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd
import pytest
from helpers import close, requires_libreoffice

from cvp_xl.cases import read_cases, read_cases_csv
from cvp_xl.hosts.libreoffice import read_values
from cvp_xl.workbooks.cases import (
    CASES_CSV,
    MAX_CASE_SHEETS,
    SUMMARY,
    build,
    build_example_workbooks,
    expected_values,
)


@pytest.fixture(scope="module")
def example_cases() -> pd.DataFrame:
    return read_cases_csv(CASES_CSV)


@pytest.fixture(scope="module")
def books(tmp_path_factory, example_cases):
    """The example workbook and one with awkward labels (wildcards, case, a tilde)."""
    folder = tmp_path_factory.mktemp("case_books")
    example = build_example_workbooks(folder)[0]
    odd = example_cases.copy()
    odd.loc[0, "segment"] = "Food*"
    odd.loc[1, "segment"] = "food*"  # the same segment for Excel's criteria (case ignored)
    odd.loc[2, "segment"] = "<10 staff"
    odd.loc[3, "value element"] = "Fewer ~stops?"
    odd.loc[4, "currency"] = "USD"
    tricky = build(folder / "tricky.xlsx", odd)
    return {"example": (example, example_cases), "tricky": (tricky, odd)}


@pytest.fixture(scope="module")
def libreoffice(books, tmp_path_factory):
    from cvp_xl.hosts.libreoffice import recalc_with_libreoffice

    out = tmp_path_factory.mktemp("case_books_lo")
    paths = recalc_with_libreoffice([books["example"][0], books["tricky"][0]], out)
    return {"example": paths[0], "tricky": paths[1]}


@pytest.mark.parametrize("name", ["example", "tricky"])
def test_cached_values_equal_python(books, name):
    path, cases = books[name]
    cached = read_values(path)
    expected = expected_values(cases)
    assert len(expected) > 100
    for key, value in expected.items():
        assert close(cached.get(key, ""), value), f"{key}: {cached.get(key)!r} != {value!r}"


@requires_libreoffice
@pytest.mark.parametrize("name", ["example", "tricky"])
def test_libreoffice_recomputes_the_same_numbers(books, libreoffice, name):
    path, cases = books[name]
    lo = read_values(libreoffice[name])
    cached = read_values(path)
    for key, value in expected_values(cases).items():
        assert close(lo.get(key, ""), value), f"LibreOffice {key}: {lo.get(key)!r} != {value!r}"
    for key in _formulas(path):
        assert close(lo.get(key, ""), cached.get(key, "")), f"{key} differs from the cached value"


@requires_libreoffice
def test_table_reads_back_from_libreoffice_shared_strings(books, libreoffice):
    """LibreOffice writes shared strings, not inline ones: the reader takes both."""
    path, cases = books["example"]
    assert read_cases(libreoffice["example"]).equals(cases)


def _formulas(path):
    wb = openpyxl.load_workbook(path)
    return {(ws.title, c.coordinate): c.value for ws in wb.worksheets
            for row in ws.iter_rows() for c in row if c.data_type == "f"}


def test_summary_by_segment_hand_checked(books):
    """Hand: Food processing has Contoso 13800 and Adventure Works 47600, both EUR."""
    path, _ = books["example"]
    ws = openpyxl.load_workbook(path, data_only=True)[SUMMARY]
    rows = {ws.cell(r, 1).value: r for r in range(7, 14)}
    r = rows["Food processing"]
    assert ws.cell(r, 2).value == "EUR"
    assert ws.cell(r, 3).value == 2
    assert ws.cell(r, 4).value == 61_400  # 13800 + 47600
    assert ws.cell(r, 5).value == 30_700  # 61400 / 2


def test_tricky_labels_count_each_group_once(books):
    path, _ = books["tricky"]
    cached = read_values(path)
    ws = openpyxl.load_workbook(path)[SUMMARY]
    labels = [ws.cell(r, 1).value for r in range(7, 14)]
    assert "Food*" in labels and "food*" not in labels  # grouped as Excel's criteria group
    r = 7 + labels.index("Food*")
    assert cached[(SUMMARY, f"C{r}")] == 2  # Northwind twice; 'Food packaging' not matched by *
    tilde_row = [c.row for c in ws["A"] if c.value == "Fewer ~stops?"][0]
    assert ws.cell(tilde_row, 3).value.startswith("=SUMPRODUCT(")


def test_workbook_is_share_safe_and_protected(books):
    path, _ = books["example"]
    wb = openpyxl.load_workbook(path)
    for (sheet, ref), formula in _formulas(path).items():
        assert "CVP_" not in formula.upper(), f"{sheet}!{ref} calls the add-in"
    assert wb[SUMMARY].protection.sheet
    case = wb["Case 1"]
    assert case.protection.sheet and not case["B3"].protection.locked
    assert case["B6"].protection.locked
    assert case.print_area == "'Case 1'!$A$1:$C$20"
    assert case.page_setup.fitToHeight == 1 and case.page_setup.fitToWidth == 1
    assert case.sheet_properties.pageSetUpPr.fitToPage
    assert not wb["Case histories"].protection.sheet  # Excel cannot grow a protected table
    assert wb.sheetnames == ["Case histories", SUMMARY] + [f"Case {n}" for n in range(1, 8)]


def test_case_sheet_shows_its_row(books):
    path, cases = books["example"]
    ws = openpyxl.load_workbook(path, data_only=True)["Case 3"]
    assert ws["A2"].value == "Contoso Foods"
    assert ws["B14"].value == 13_800 and ws["C14"].value == "EUR"
    assert ws["B17"].value == dt.datetime(2025, 2, 3)
    assert ws["B12"].value == 320 and ws["C12"].value == "hours per year"


def test_rebuild_on_a_template_keeps_the_table_and_regenerates_sheets(tmp_path, books,
                                                                      example_cases):
    path, _ = books["example"]
    copy = tmp_path / "copy.xlsx"
    copy.write_bytes(path.read_bytes())
    fewer = example_cases.iloc[:2]
    build(copy, fewer, template=copy)
    wb = openpyxl.load_workbook(copy)
    assert wb.sheetnames == ["Case histories", SUMMARY, "Case 1", "Case 2"]
    assert read_cases(copy).equals(fewer.reset_index(drop=True))
    assert MAX_CASE_SHEETS == 250
