"""The case-history workbook: the values it stores are Python's; the formulas engine and
LibreOffice recompute the same."""

from __future__ import annotations

import datetime as dt
import re

import openpyxl
import pandas as pd
import pytest
from helpers import NO_LIBREOFFICE, close, requires_libreoffice

from cvp_xl.commands.recalc import compute
from cvp_xl.errors import WorkbookError
from cvp_xl.hosts.libreoffice import find_soffice, read_values
from cvp_xl.workbooks.case_histories import (
    CASES_CSV,
    MAX_CASE_SHEETS,
    SUMMARY,
    build,
    build_example_workbooks,
    expected_values,
)
from cvp_xl.workbooks.case_table import read_cases, read_cases_csv
from cvp_xl.xlsx.share_safe import unsafe_functions


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

    if find_soffice() is None:
        pytest.skip(NO_LIBREOFFICE)

    out = tmp_path_factory.mktemp("case_books_lo")
    paths = recalc_with_libreoffice([books["example"][0], books["tricky"][0]], out)
    return {"example": paths[0], "tricky": paths[1]}


def _serials(values: dict) -> dict:
    """Dates as Excel serial numbers (the stored values of date cells are numbers)."""
    from openpyxl.utils.datetime import to_excel

    return {k: to_excel(v) if isinstance(v, dt.datetime) else v for k, v in values.items()}


@pytest.mark.parametrize("name", ["example", "tricky"])
def test_stored_values_are_python_values(books, name):
    path, cases = books[name]
    cached = _serials(read_values(path))
    expected = expected_values(cases)
    assert len(expected) > 100
    assert set(expected) == set(_formulas(path))  # every formula cell has its Python value
    for key, value in expected.items():
        assert close(cached.get(key, ""), value), f"{key}: {cached.get(key)!r} != {value!r}"


@pytest.mark.parametrize("name", ["example", "tricky"])
def test_the_formulas_engine_computes_the_stored_values(books, name, differences):
    path, _ = books[name]
    assert differences(path, compute(path).values) == {}


@pytest.mark.parametrize("name", ["example", "tricky"])
def test_libreoffice_computes_the_stored_values(books, libreoffice, name, differences,
                                                stored_values):
    path, _ = books[name]
    recomputed = stored_values(libreoffice[name], list(stored_values(path)))
    assert differences(path, recomputed) == {}


@requires_libreoffice
@pytest.mark.parametrize("name", ["example", "tricky"])
def test_libreoffice_recomputes_the_same_numbers(books, libreoffice, name):
    path, cases = books[name]
    lo = _serials(read_values(libreoffice[name]))
    for key, value in expected_values(cases).items():
        assert close(lo.get(key, ""), value), f"LibreOffice {key}: {lo.get(key)!r} != {value!r}"


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


@pytest.mark.parametrize("name", ["example", "tricky"])
def test_formulas_call_only_share_safe_functions(books, name):
    assert unsafe_functions(books[name][0]) == []


def test_workbook_is_share_safe_and_protected(books):
    path, _ = books["example"]
    wb = openpyxl.load_workbook(path)
    for (sheet, ref), formula in _formulas(path).items():
        assert "CVP_" not in formula.upper(), f"{sheet}!{ref} calls the add-in"
    assert wb[SUMMARY].protection.sheet
    case = wb["Case 1"]
    assert case.protection.sheet and not case["B3"].protection.locked
    assert case["B6"].protection.locked
    assert case.print_area == "'Case 1'!$A$1:$D$20"
    assert case.page_setup.fitToHeight == 1 and case.page_setup.fitToWidth == 1
    assert case.sheet_properties.pageSetUpPr.fitToPage
    assert not wb["Case histories"].protection.sheet  # Excel cannot grow a protected table
    assert wb.sheetnames == ["Case histories", SUMMARY] + [f"Case {n}" for n in range(1, 8)]


def test_what_a_customer_reads_has_no_spreadsheet_jargon(books):
    """The Summary's note said "Native COUNTIFS, SUMIFS and AVERAGEIFS (SUMPRODUCT for labels
    with digits or ~) over the table" (issue 15): a customer reads the sheets' text, not how
    the formulas work."""
    wb = openpyxl.load_workbook(books["example"][0])
    jargon = re.compile(r"COUNTIFS|SUMIFS|AVERAGEIFS|SUMPRODUCT|INDEX|native", re.I)
    texts = {f"{ws.title}!{c.coordinate}": c.value for ws in wb.worksheets
             for row in ws.iter_rows() for c in row
             if isinstance(c.value, str) and c.data_type == "s"}  # text, not formulas
    assert texts[f"{SUMMARY}!A2"].startswith("Documented value per year of the case histories")
    assert not {ref: t for ref, t in texts.items() if jargon.search(t)}


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


def test_a_1904_template_stores_dates_of_its_own_date_system(tmp_path, books, example_cases):
    path, _ = books["example"]
    wb = openpyxl.load_workbook(path)
    wb.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    template = tmp_path / "mac.xlsx"
    wb.save(template)
    build(template, example_cases, template=template)
    ws = openpyxl.load_workbook(template, data_only=True)["Case 3"]
    assert ws.parent.epoch == openpyxl.utils.datetime.CALENDAR_MAC_1904
    assert ws["B17"].value == dt.datetime(2025, 2, 3)


def test_a_template_with_formulas_of_its_own_is_refused(tmp_path, books, example_cases):
    path, _ = books["example"]
    wb = openpyxl.load_workbook(path)
    wb.create_sheet("Mine")["A1"] = "=COUNTA(cases_customer)"
    template = tmp_path / "mine.xlsx"
    wb.save(template)
    before = template.read_bytes()
    with pytest.raises(WorkbookError, match=r"formulas outside the Summary and case sheets, "
                       r"which cvp-xl cannot compute: Mine!A1; move them"):
        build(template, example_cases, template=template)
    assert template.read_bytes() == before


def test_labels_criteria_could_misread_are_compared_with_equals(tmp_path, example_cases,
                                                                differences):
    odd = example_cases.copy()
    odd.loc[0, "segment"] = "2024"  # a criterion "=2024" would match the number 2024
    odd.loc[1, "segment"] = "TRUE"
    odd.loc[2, "segment"] = " Food processing"
    path = build(tmp_path / "odd.xlsx", odd)
    ws = openpyxl.load_workbook(path)[SUMMARY]
    formulas = {ws.cell(r, 1).value: ws.cell(r, 3).value for r in range(7, 14)}
    for label in ("2024", "TRUE", " Food processing"):
        assert formulas[label].startswith("=SUMPRODUCT("), label
    assert formulas["Metal fabrication"].startswith("=COUNTIFS(")
    assert differences(path, compute(path).values) == {}
