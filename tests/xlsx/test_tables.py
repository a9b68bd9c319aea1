"""The one table reader (cvp_xl.xlsx.tables): CSV and workbook cells, headers, conversions."""

from __future__ import annotations

import datetime as dt
import pickle

import openpyxl
import pandas as pd
import pytest
from openpyxl.worksheet.table import Table

from cvp_xl.errors import ErrorValue, WorkbookError
from cvp_xl.xlsx import tables


def _workbook(path, rows, *, epoch=None, table=None, sheet="Data"):
    wb = openpyxl.Workbook()
    if epoch is not None:
        wb.epoch = epoch
    ws = wb.active
    ws.title = sheet
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if value is not None:
                ws.cell(r, c, value)
    if table:
        ws.add_table(Table(displayName=table, ref=f"A1:{chr(64 + len(rows[0]))}{len(rows)}"))
    wb.save(path)
    return path


# -- cells ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("value,blank", [
    (None, True), (float("nan"), True), (pd.NaT, True), ("", True), ("  \t", True),
    (0, False), ("0", False), (False, False), (dt.date(2025, 1, 1), False),
])
def test_is_blank(value, blank):
    assert tables.is_blank(value) is blank


@pytest.mark.parametrize("value,number", [
    (3, 3.0), (-1.5, -1.5), (" 86400 ", 86400.0), ("+2E3", 2000.0), (".5", 0.5), ("5.", 5.0),
    ("1,000", None), ("22750 EUR", None), ("inf", None), ("nan", None), ("1_000", None),
    ("１２", None), (True, None), (float("inf"), None), (None, None), ("", None),
])
def test_as_number_takes_plain_numbers_only(value, number):
    assert tables.as_number(value) == number


def test_is_number_is_a_number_cell_not_text():
    import numpy as np

    assert tables.is_number(2) and tables.is_number(np.float64(2.5)) and tables.is_number(
        np.int64(3))
    assert not any(tables.is_number(v) for v in ("2", True, np.bool_(True), float("nan"), None))


@pytest.mark.parametrize("value,text", [
    ("Q1", "Q1"), (" Q1 ", " Q1 "), ("   ", None), (None, None), (2024, "2024"),
    (2024.0, "2024"), (8.5, "8.5"), (True, None), (float("nan"), None),
    (dt.date(2025, 1, 1), None),
])
def test_as_text(value, text):
    assert tables.as_text(value) == text


def test_as_text_can_strip():
    assert tables.as_text("  C-0001 ", strip=True) == "C-0001"


@pytest.mark.parametrize("value,date", [
    (dt.datetime(2025, 6, 30, 12), dt.date(2025, 6, 30)), (dt.date(2025, 6, 30),
                                                           dt.date(2025, 6, 30)),
    (" 2025-06-30 ", dt.date(2025, 6, 30)), ("30/06/2025", None), ("2025-6-30", None),
    ("2025-02-30", None), (45_838, None), (None, None),
])
def test_as_date(value, date):
    assert tables.as_date(value) == date


def test_numbers_from_text_keeps_what_is_not_a_number():
    got = tables.numbers_from_text(pd.Series(["86400", " 8.5 ", "", "  ", "22750 EUR", "-1200"]))
    assert got.tolist() == [86400.0, 8.5, None, None, "22750 EUR", -1200.0]
    assert all(type(v) is float for v in got.iloc[[0, 1, 5]])


@pytest.mark.parametrize("value,text", [
    ("abc", "'abc'"), (None, "a blank cell"), ("", "an empty text"), (True, "TRUE"),
    (ErrorValue("#N/A"), "#N/A"), (45_000, "45000"),
    (dt.datetime(2025, 1, 20), "the date 2025-01-20"),
    (dt.datetime(2025, 1, 20, 8, 30), "the date 2025-01-20 08:30:00"),
    (dt.date(2025, 1, 20), "the date 2025-01-20"), (dt.time(8, 30), "the time 08:30:00"),
])
def test_shown(value, text):
    assert tables.shown(value) == text


# -- headers -------------------------------------------------------------------------------------


def test_header_key_ignores_case_spaces_and_underscores():
    assert tables.header_key("  Period_End ") == tables.header_key("period   end") == "period end"
    assert tables.header_key(None) == "" and tables.header_key(2024) == "2024"


def test_match_headers_lists_unknown_repeated_and_missing():
    match = tables.match_headers(["Customer", "Sector", "customer", "PERIOD_END"],
                                 ["customer", "period end", "promised"])
    assert match.positions == {"customer": 0, "period end": 3}
    assert match.extra == [(1, "Sector", "unknown"), (2, "customer", "repeated")]
    assert match.missing == ["promised"]
    assert not match.ok
    assert tables.match_headers(["a", "B"], ["b", "a"]).ok


# -- CSV -----------------------------------------------------------------------------------------


def test_read_csv_reads_every_field_as_text(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("\ufeffcustomer,promised\nÄrzte AG,0012\n,\nNA,NULL\n,\n\n".encode())
    frame = tables.read_csv(path)
    assert list(frame.columns) == ["customer", "promised"]
    # a blank line between entries stays (the tracker numbers lines by position); trailing
    # blank lines go; nothing is read as "missing"
    assert frame.values.tolist() == [["Ärzte AG", "0012"], ["", ""], ["NA", "NULL"]]
    assert list(frame.index) == [2, 3, 4]
    assert frame.attrs["read"].encoding == "UTF-8 with a byte-order mark"


def test_read_csv_refusals_name_the_file(tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(WorkbookError, match=r"nope\.csv: no such file$"):
        tables.read_csv(missing)
    long = tmp_path / "long.csv"
    long.write_text("customer,promised\nA,1\nB,2,3\nC,3\nD,4,5,6\n", encoding="utf-8")
    with pytest.raises(WorkbookError) as info:
        tables.read_csv(long)
    assert str(info.value) == (f"{long}: cannot be read as a UTF-8 CSV file (the header has 2 "
                               "fields; line 3 has 3, line 5 has 4)")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(WorkbookError) as info:
        tables.read_csv(empty, error="not a readable CSV file")
    assert str(info.value) == f"{empty}: not a readable CSV file (no header line)"
    binary = tmp_path / "utf16.csv"
    binary.write_bytes("customer\tpromised\n".encode("utf-16"))
    with pytest.raises(WorkbookError) as info:
        tables.read_csv(binary)
    assert str(info.value) == (f"{binary}: cannot be read as a UTF-8 CSV file (UTF-16 text, as "
                               "Excel's \"Unicode Text\" saves it; save it as \"CSV UTF-8\" "
                               "instead)")


@pytest.mark.parametrize("data,encoding,name", [
    ("customer,city\nMüller,Zürich\n".encode(), "UTF-8", "Müller"),
    ("\ufeffcustomer,city\nMüller,Zürich\n".encode(), "UTF-8 with a byte-order mark", "Müller"),
    # what Excel on Windows saves as "CSV (Comma delimited)": Windows-1252, where 0x80 is €
    ("customer,city\nMüller €,Zürich\n".encode("cp1252"), "Windows-1252", "Müller €"),
    # 0x81 is one of the five bytes Windows-1252 leaves undefined: ISO-8859-1 reads it
    (b"customer,city\nM\xfcller\x81,Z\xfcrich\n", "ISO-8859-1 (Latin-1)", "Müller\x81"),
])
def test_the_encoding_is_found_and_named(tmp_path, data, encoding, name):
    path = tmp_path / "t.csv"
    path.write_bytes(data)
    frame = tables.read_table(path)
    assert frame.attrs["read"].encoding == encoding
    assert frame.loc[2, "customer"] == name


def test_a_file_that_is_utf8_in_part_is_refused_by_line(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes("customer\nMüller\n".encode() + b"M\xfcller\n")
    with pytest.raises(WorkbookError) as info:
        tables.read_table(path, csv_error="not a readable CSV file")
    assert str(info.value) == (f"{path}: not a readable CSV file (line 3: byte 0xfc is not "
                               "UTF-8, though the rest of the file is; save it again as CSV "
                               "UTF-8)")


@pytest.mark.parametrize("text,separator", [
    ("id,name,miles\nC-1,\"Acme; Co\",5\n", ","),
    ("id;name;miles\nC-1;Acme, Inc.;5\n", ";"),
    ("id\tname\tmiles\nC-1\tAcme, Inc.; Co\t5\n", "\t"),
    ("sep=;\nid;name;miles\nC-1;Acme, Inc.;5\n", ";"),  # Excel's hint line
])
def test_the_separator_is_found(tmp_path, text, separator):
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    frame = tables.read_table(path)
    read = frame.attrs["read"]
    assert read.separator == separator
    assert read.decimal == ("," if separator == ";" else ".")
    assert list(frame.columns) == ["id", "name", "miles"]
    assert frame.iloc[0, 2] == "5" and frame.iloc[0, 0] == "C-1"
    assert frame.index[0] == (3 if text.startswith("sep=") else 2)


def test_blank_rows_are_left_out_and_lines_keep_their_numbers(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('id,name,note\nC-1,A,"two\nlines"\n,,\n\nC-2,B,\nTotal:,,\n,,\n,,\n',
                    encoding="utf-8")
    frame = tables.read_table(path)
    # C-1 starts on line 2 and its quoted note ends on line 3; lines 4-5 are blank;
    # C-2 is on line 6; line 7 is a total row
    assert list(frame.index) == [2, 6] and frame.index.name == "line"
    assert frame.values.tolist() == [["C-1", "A", "two\nlines"], ["C-2", "B", None]]
    read = frame.attrs["read"]
    assert read.problems == []
    assert read.notes == ["line 7 is a total row ('Total:'): left out"]


def test_a_short_or_long_line_is_reported_and_the_others_are_read(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,name,miles\nC-1,A,5\nC-2,B,6,7\nC-3,C\nC-4,D,8\n", encoding="utf-8")
    frame = tables.read_table(path)
    assert list(frame["id"]) == ["C-1", "C-4"] and list(frame.index) == [2, 5]
    assert [str(p) for p in frame.attrs["read"].problems] == [
        "line 3: 4 fields where the header has 3; the line is skipped (a separator or quote "
        "too many or too few?)",
        "line 4: 2 fields where the header has 3; the line is skipped (a separator or quote "
        "too many or too few?)",
    ]


def test_text_is_taken_as_typed(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,name\nNA,N/A\nNULL,nan\n", encoding="utf-8")
    assert tables.read_table(path).values.tolist() == [["NA", "N/A"], ["NULL", "nan"]]
    book = _workbook(tmp_path / "t.xlsx", [["id", "name"], ["NA", "N/A"], ["NULL", "NaN"]])
    assert tables.read_table(book).values.tolist() == [["NA", "N/A"], ["NULL", "NaN"]]


def test_read_table_from_csv_has_none_for_blank(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("id,value\nC-1,\n,2\n", encoding="utf-8")
    frame = tables.read_table(path)
    assert frame.values.tolist() == [["C-1", None], [None, "2"]]


# -- numbers as typed ----------------------------------------------------------------------------


@pytest.mark.parametrize("text,decimal,number", [
    ("7%", ".", 0.07), (" 7 % ", ".", 0.07), ("12.5%", ".", 0.125), ("12,5 %", ",", 0.125),
    ("1,234,567", ".", 1234567.0), ("1.234.567", ",", 1234567.0), ("1 234 567", ".", 1234567.0),
    ("1\u00a0234,5", ",", 1234.5), ("1\u202f234.5", ".", 1234.5), ("-1,234.5", ".", -1234.5),
    ("\u22122.5", ".", -2.5), ("+3", ".", 3.0), ("0,08", ",", 0.08), ("2E3", ".", 2000.0),
    ("1,5E3", ",", 1500.0), (".5", ".", 0.5), ("1,234", ".", 1234.0), ("1,234", ",", 1.234),
    ("0.08", "mixed", 0.08), ("0,08", "mixed", 0.08), ("1.234,5", "mixed", 1234.5),
    (42, ".", 42.0), (2.5, ",", 2.5),
])
def test_parse_number_reads_percentages_and_thousands(text, decimal, number):
    assert tables.parse_number(text, decimal) == (number, None)


@pytest.mark.parametrize("text,decimal,why", [
    ("lots", ".", "'lots'"), ("1,23,4", ".", "'1,23,4'"), ("12 EUR", ".", "'12 EUR'"),
    ("$5", ".", "'$5'"), ("inf", ".", "'inf'"), ("nan", ".", "'nan'"), ("1e999", ".", "'1e999'"),
    ("1,234.5", ",", "'1,234.5'"), ("0.08", ",", "'0.08'"), ("1,234 567", ".", "'1,234 567'"),
    ("%", ".", "'%'"), (".", ".", "'.'"), ("1,234e3", ".", "'1,234e3'"), ("  ", ".", "blank"),
    (None, ".", "blank"), (True, ".", "TRUE"),
    ("1,234", "mixed", "'1,234', which could be 1234 or 1.234 (the table uses both . and , as "
                       "decimal marks)"),
])
def test_parse_number_refuses_with_the_reason(text, decimal, why):
    assert tables.parse_number(text, decimal) == (None, why)


@pytest.mark.parametrize("fields,default,mark", [
    (["2400000", "0.08", "1,234"], ".", "."),       # 0.08 can only be a decimal point
    (["2.400.000", "0,62"], ".", ","),               # repeated dots group thousands
    (["1,234", "5,678", 3.5], ",", ","),             # nothing decides: the default
    (["1,234", "5,678"], ".", "."),
    (["1.234,56", "0.5"], ".", "mixed"),
    (["abc", "C-1.005", "12%"], ".", "."),
])
def test_decimal_mark_follows_the_fields_that_show_it(fields, default, mark):
    assert tables.decimal_mark(fields, default) == mark


# every text field of the tests above, and a few more
_FIELDS = ["7%", " 7 % ", "12.5%", "12,5 %", "1,234,567", "1.234.567", "1 234 567", "1\u00a0234,5",
           "1\u202f234.5", "-1,234.5", "\u22122.5", "+3", "0,08", "2E3", "1,5E3", ".5", "1,234",
           "0.08", "1.234,5", "lots", "1,23,4", "12 EUR", "$5", "inf", "nan", "1e999",
           "1,234.5", "1,234 567", "%", ".", "1,234e3", "  ", "2400000", "2.400.000", "0,62",
           "5,678", "1.234,56", "0.5", "abc", "C-1.005", "007", "0,123", "12.", "1" * 400,
           "44.50190933209334", "-0.0"]


@pytest.mark.parametrize("fields,mark", [
    (_FIELDS, "mixed"), ([f for f in _FIELDS if "," not in f and f.count(".") < 2], "."),
    (["0,5", "1.234", "2", "0,5", "lots"], ","), (["1,234", "5,678", "1,234"], "."),
])
def test_parse_number_given_the_mark_of_the_table_reads_no_field_again(fields, mark,
                                                                        monkeypatch):
    """``decimal_mark`` parses each text field once (until the table shows both marks);
    ``parse_number`` given the mark it returned reads that parse, not the field again, with
    the same result as from the mark's text (which parses the field afresh)."""
    from cvp_xl.xlsx import typed_text

    calls = []
    original = typed_text.number_parts
    monkeypatch.setattr(typed_text, "number_parts", lambda t: calls.append(t) or original(t))
    found = tables.decimal_mark(fields)
    assert found == mark
    if mark != "mixed":  # every text read, once however often it comes
        assert sorted(calls) == sorted(set(fields))
    read = len(calls)
    numbers = [tables.parse_number(f, found) for f in fields]
    if mark != "mixed":
        assert len(calls) == read  # none parsed again
    assert numbers == [tables.parse_number(f, str(found)) for f in fields]
    assert any(n is not None for n, _ in numbers)
    sent = pickle.loads(pickle.dumps(found))  # to another process: the text alone
    assert (sent, type(sent)) == (mark, str)


@pytest.mark.parametrize("body,decimal,number", [
    # digits and the decimal mark read as Python reads them (float("44.5019...")); a number
    # past the largest float is no number (as 1e999 is refused above); "12.5" with a decimal
    # comma is refused (a dot then groups thousands, and "5" is not three digits)
    ("44.50190933209334", ".", 44.50190933209334), ("44,50190933209334", ",", 44.50190933209334),
    ("007", ".", 7.0), ("12", ",", 12.0), ("1" * 400, ".", None), ("12.5", ",", None),
])
def test_read_number_of_plain_digits(body, decimal, number):
    from cvp_xl.xlsx.typed_text import read_number

    assert read_number(body, decimal) == number


# -- workbooks -----------------------------------------------------------------------------------


def test_read_rows_reads_cells_as_openpyxl_does(tmp_path):
    rows = [["id", "amount", "when", "ok", None, "note"],
            ["C-1", 12, dt.datetime(2025, 1, 20), True, None, "=not a formula"],
            [2024, 8.5, None, False, None, None],
            [None] * 6,
            ["last", -1.25e-7, dt.datetime(2024, 2, 29, 12), None, None, "x"]]
    path = _workbook(tmp_path / "w.xlsx", rows)
    wb = openpyxl.load_workbook(path)
    wb["Data"]["F2"].data_type = "s"  # text, not a formula
    wb["Data"]["D4"] = "#N/A"
    wb["Data"]["D4"].data_type = "e"
    wb.save(path)
    got = tables.read_rows(path)
    expected = [list(r) for r in openpyxl.load_workbook(path)["Data"].iter_rows(values_only=True)]
    expected[3][3] = ErrorValue("#N/A")
    assert got == expected
    assert got[1][2] == dt.datetime(2025, 1, 20) and got[2][0] == 2024


def test_read_rows_drops_trailing_blank_rows_and_columns(tmp_path):
    path = _workbook(tmp_path / "w.xlsx", [["a", None, None], [1, None, None]])
    wb = openpyxl.load_workbook(path)
    wb["Data"]["C9"].number_format = "0.00"  # a styled, empty cell
    wb.save(path)
    assert tables.read_rows(path) == [["a"], [1]]
    blank = _workbook(tmp_path / "blank.xlsx", [[None]])
    assert tables.read_rows(blank) == []


def test_read_rows_1904_dates(tmp_path):
    path = _workbook(tmp_path / "mac.xlsx", [["when"], [dt.datetime(2025, 3, 31)]],
                     epoch=openpyxl.utils.datetime.CALENDAR_MAC_1904)
    assert tables.read_rows(path) == [["when"], [dt.datetime(2025, 3, 31)]]


def test_read_rows_takes_shared_and_inline_strings(tmp_path):
    """openpyxl writes shared strings; an inline string (as some writers emit) reads the same."""
    import zipfile

    path = _workbook(tmp_path / "s.xlsx", [["name"], ["Contoso"]])
    inline = tmp_path / "inline.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(inline, "w") as out:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                start = text.index('<c r="A2"')
                end = text.index("</c>", start) + 4
                text = text[:start] + '<c r="A2" t="inlineStr"><is><t>Fabrikam</t></is></c>' \
                    + text[end:]
                data = text.encode()
            out.writestr(item, data)
    assert tables.read_rows(path) == [["name"], ["Contoso"]]
    assert tables.read_rows(inline) == [["name"], ["Fabrikam"]]


def test_read_table_from_a_workbook(tmp_path):
    path = _workbook(tmp_path / "w.xlsx", [["customer_id", None, "value"], ["C-1", 5, 2.5],
                                           [None, None, None]])
    frame = tables.read_table(path)
    assert list(frame.columns) == ["customer_id", "Unnamed: 1", "value"]
    assert frame.values.tolist() == [["C-1", 5, 2.5]]


def test_find_tables_and_read_block(tmp_path):
    path = _workbook(tmp_path / "t.xlsx", [["Customer", "Value"], ["A", 1], ["B", 2]],
                     table="Cases", sheet="Case histories")
    (info,) = tables.find_tables(path)
    assert (info.sheet, info.name, info.ref, info.header_rows, info.totals_rows) == (
        "Case histories", "Cases", "A1:B3", 1, 0)
    assert tables.read_block(path, "Case histories", 2, 3, 1, 2) == [["A", 1], ["B", 2]]
    assert tables.read_block(path, "Case histories", 3, 5, 2, 3) == [[2, None], [None, None],
                                                                       [None, None]]
    with pytest.raises(WorkbookError, match="no worksheet named 'Nope'"):
        tables.read_block(path, "Nope", 1, 1, 1, 1)


def test_hostile_or_wrong_files_are_refused_before_parsing(tmp_path):
    fake = tmp_path / "fake.xlsx"
    fake.write_text("customer,value\n", encoding="utf-8")
    for read in (tables.read_rows, tables.find_tables, tables.read_table):
        with pytest.raises(WorkbookError, match=r"not an \.xlsx file \(not a zip archive\)"):
            read(fake)
    with pytest.raises(WorkbookError, match="no such file"):
        tables.read_table(tmp_path / "missing.xlsx")


def test_read_table_from_an_excel_table_with_a_total_row_and_blank_rows(tmp_path):
    path = tmp_path / "t.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Export"
    rows = [["Customers exported 2025-06-30"], [], ["id", "name", "miles"], ["C-1", "A", 5],
            [None, None, None], ["C-2", "B", 6], ["Total", None, "=SUBTOTAL(109,C4:C6)"]]
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row, start=1):
            ws.cell(r, c, v)
    ws["C7"].value = 11  # the total, as Excel would store its value
    ws.add_table(Table(displayName="Customers", ref="A3:C7", totalsRowCount=1))
    ws["E9"] = "a note beside the table"
    wb.save(path)
    frame = tables.read_table(path)
    assert list(frame.columns) == ["id", "name", "miles"]
    assert frame.values.tolist() == [["C-1", "A", 5], ["C-2", "B", 6]]
    assert list(frame.index) == [4, 6] and frame.index.name == "row"
    assert frame.attrs["read"].notes == [
        "read the Excel table 'Customers' (A3:C7) on sheet 'Export'",
        "row 7 is the table's total row: left out"]


def test_read_table_from_a_sheet_with_a_header_below_blank_rows_and_a_total_row(tmp_path):
    path = _workbook(tmp_path / "t.xlsx", [[None], [None, None], ["id", "miles"], ["C-1", 5],
                                           [None, None], ["C-2", 6], ["Grand total:", 11]])
    frame = tables.read_table(path)
    assert frame.values.tolist() == [["C-1", 5], ["C-2", 6]]
    assert list(frame.index) == [4, 6]
    assert frame.attrs["read"].notes == ["the header is on row 3",
                                         "row 7 is a total row ('Grand total:'): left out"]


def test_row_numbers_of_any_frame():
    assert tables.row_numbers(pd.DataFrame({"a": [1, 2]})) == ([2, 3], "row")
    frame = pd.DataFrame({"a": [1, 2]}, index=pd.Index([2, 5], name="line"))
    assert tables.row_numbers(frame) == ([2, 5], "line")
