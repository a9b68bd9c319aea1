"""Reading, checking and writing case-history tables (cvp_xl.workbooks.case_table).

Tables are written as the case-history workbook writes them
(:func:`cvp_xl.workbooks.case_histories.build`), with a template to keep a table."""

from __future__ import annotations

import datetime as dt
import zipfile

import openpyxl
import pandas as pd
import pytest

from cvp_xl.errors import WorkbookError
from cvp_xl.workbooks.case_histories import CASES_CSV, build
from cvp_xl.workbooks.case_table import (
    COLUMNS,
    CaseTableError,
    RowProblem,
    find_tables,
    read_cases,
    read_cases_csv,
)


@pytest.fixture(scope="module")
def example() -> pd.DataFrame:
    return read_cases_csv(CASES_CSV)


@pytest.fixture
def table(tmp_path, example):
    path = tmp_path / "cases.xlsx"
    build(path, example)
    return path


def test_example_csv_reads_with_the_documented_types(example):
    assert list(example.columns) == list(COLUMNS)
    assert len(example) == 7
    first = example.iloc[0]
    assert first["customer"] == "Northwind Plastics"
    assert first["documented value per year"] == 86_400.0
    assert first["period"] == "2024"  # a period is text, even when it looks like a year
    assert first["date"] == pd.Timestamp("2025-01-20")
    assert example["date"].dtype == "datetime64[ns]"
    assert example["before"].dtype == float


def test_read_write_read_is_identical(tmp_path, table, example):
    first = read_cases(table)
    pd.testing.assert_frame_equal(first, example)
    again = tmp_path / "again.xlsx"
    build(again, first, template=table)
    second = read_cases(again)
    assert first.equals(second)
    pd.testing.assert_frame_equal(first, second)
    # and writing a table onto itself keeps it too
    build(again, second, template=again)
    assert read_cases(again).equals(first)


def test_write_keeps_the_table_its_validation_and_names(tmp_path, table, example):
    build(table, example.iloc[:3], template=table)  # shrink the table in place
    wb = openpyxl.load_workbook(table)
    ws = wb["Case histories"]
    assert ws.tables["Cases"].ref == "A1:N4"
    assert ws.tables["Cases"].tableStyleInfo.name == "TableStyleMedium2"
    sqrefs = {dv.promptTitle: str(dv.sqref) for dv in ws.data_validations.dataValidation}
    assert sqrefs["Category"] == "F2:F4"
    assert sqrefs["Date"] == "N2:N4"
    assert wb.defined_names["cases_value_element"].attr_text == "'Case histories'!$E$2:$E$4"
    assert ws["N4"].number_format == "yyyy-mm-dd"
    assert ws["A5"].value is None  # rows past the table are cleared
    assert len(read_cases(table)) == 3


def test_text_that_looks_like_a_formula_stays_text(tmp_path, example):
    df = example.copy()
    df.loc[0, "situation"] = "=HYPERLINK(\"http://example.invalid\")"
    df.loc[1, "customer"] = "+44 Holdings"
    path = tmp_path / "t.xlsx"
    build(path, df)
    ws = openpyxl.load_workbook(path)["Case histories"]
    assert ws["C2"].data_type == "s" and ws["A3"].data_type == "s"
    assert read_cases(path).equals(df)


def _edit(path, edits):
    wb = openpyxl.load_workbook(path)
    ws = wb["Case histories"]
    for ref, value in edits.items():
        if isinstance(value, tuple):  # (value, number format)
            value, ws[ref].number_format = value
        ws[ref] = value
    wb.save(path)


def test_every_bad_row_is_reported_by_row_and_column(table):
    _edit(table, {
        "J7": "about 40k",  # text in documented value
        "F3": "financial",  # unknown category
        "N5": "last spring",  # a date that is not a date
        "A6": None,  # a missing customer
        "K2": "euro",
        "G4": True,
        "N8": (45_000, "General"),  # a date serial in a cell not formatted as a date
        "M4": "   ",
    })
    with pytest.raises(CaseTableError) as info:
        read_cases(table)
    assert [str(p) for p in info.value.problems] == [
        "row 2, column 'currency': expected a 3-letter currency code such as EUR, got 'euro'",
        "row 3, column 'category': expected one of technical, economic, service, social, "
        "got 'financial'",
        "row 4, column 'before': expected a number, got TRUE",
        "row 4, column 'verified by': expected the name of who verified it, got a blank cell",
        "row 5, column 'date': expected a date, got 'last spring'",
        "row 6, column 'customer': expected a customer name, got a blank cell",
        "row 7, column 'documented value per year': expected a number, got 'about 40k'",
        "row 8, column 'date': expected a date, got 45000",
    ]
    assert info.value.problems[0] == RowProblem(2, "currency", "expected a 3-letter currency "
                                                "code such as EUR, got 'euro'")
    assert str(info.value).startswith(f"{table}: 8 problems in the case-history table:\n  row 2")


def test_blank_rows_are_skipped_and_iso_text_dates_accepted(table, example):
    _edit(table, {"N2": "2025-01-20"})
    wb = openpyxl.load_workbook(table)
    ws = wb["Case histories"]
    for c in range(1, 15):
        ws.cell(5, c).value = None
    wb.save(table)
    got = read_cases(table)
    assert len(got) == 6
    assert got.iloc[0]["date"] == pd.Timestamp("2025-01-20")
    assert got["customer"].tolist() == example.drop(index=3)["customer"].tolist()


def test_case_is_normalised_for_category_and_currency(table):
    _edit(table, {"F2": " Technical ", "K2": "eur"})
    got = read_cases(table)
    assert got.iloc[0]["category"] == "technical" and got.iloc[0]["currency"] == "EUR"


def test_header_problems(tmp_path, table):
    _edit(table, {"B1": "Sector"})
    with pytest.raises(CaseTableError) as info:
        read_cases(table)
    assert [str(p) for p in info.value.problems] == [
        "row 1, column 'Sector': not a case-history column (expected: "
        + ", ".join(COLUMNS) + ")",
        "row 1, column 'segment': missing from the table's header row",
    ]


def test_csv_problems_are_reported_by_line(tmp_path):
    text = CASES_CSV.read_text(encoding="utf-8").splitlines()
    text[2] = text[2].replace("22750", "22750 EUR")
    text[4] = text[4].replace(",economic,", ",Economics,")
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(CaseTableError) as info:
        read_cases_csv(path)
    assert [str(p) for p in info.value.problems] == [
        "line 3, column 'documented value per year': expected a number, got '22750 EUR'",
        "line 5, column 'category': expected one of technical, economic, service, social, "
        "got 'Economics'",
    ]


def test_refused_files_and_missing_tables(tmp_path):
    not_xlsx = tmp_path / "x.xlsx"
    not_xlsx.write_text("customer,segment\n", encoding="utf-8")
    with pytest.raises(WorkbookError, match=r"not an \.xlsx file \(not a zip archive\)"):
        read_cases(not_xlsx)
    plain = tmp_path / "plain.xlsx"
    openpyxl.Workbook().save(plain)
    assert find_tables(plain) == []
    with pytest.raises(WorkbookError, match="no Excel table found"):
        read_cases(plain)


def test_bad_dataframe_is_refused_before_writing(tmp_path, example):
    df = example.copy()
    df.loc[2, "documented value per year"] = float("nan")
    df["category"] = df["category"].astype(object)
    df.loc[4, "category"] = "financial"
    path = tmp_path / "never.xlsx"
    with pytest.raises(CaseTableError) as info:
        build(path, df)
    assert [str(p) for p in info.value.problems] == [
        "row 4, column 'documented value per year': expected a number, got a blank cell",
        "row 6, column 'category': expected one of technical, economic, service, social, "
        "got 'financial'",
    ]
    assert not path.exists()


def test_reader_handles_error_cells_and_1904_dates(tmp_path, table, example):
    """Error cells and the 1904 date system (shared strings: test_cases_workbook.py)."""
    wb = openpyxl.load_workbook(table)
    wb.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    wb["Case histories"]["J3"] = "#N/A"
    wb["Case histories"]["J3"].data_type = "e"
    wb.save(table)
    with pytest.raises(CaseTableError) as info:
        read_cases(table)
    assert [str(p) for p in info.value.problems] == [
        "row 3, column 'documented value per year': expected a number, got #N/A"]
    with zipfile.ZipFile(table) as z:
        assert 'date1904="1"' in z.read("xl/workbook.xml").decode()
    wb = openpyxl.load_workbook(table)
    wb["Case histories"]["J3"] = 22_750
    wb.save(table)
    assert read_cases(table)["date"].tolist() == example["date"].tolist()


def test_large_tables_read_and_check_quickly(tmp_path, example):
    big = pd.concat([example] * 300, ignore_index=True)  # 2,100 rows
    big.loc[1500, "category"] = "financial"
    path = tmp_path / "big.xlsx"
    with pytest.raises(CaseTableError):
        build(path, big)
    big.loc[1500, "category"] = "economic"
    build(path, big)
    got = read_cases(path)
    assert len(got) == 2100 and got.iloc[1500]["category"] == "economic"
    assert got.iloc[-1]["date"] == dt.datetime(2025, 1, 15)
