"""The batch summary, written row by row (openpyxl's write-only mode), reads back as before.

The expected values are the rows given to :func:`write_summary` below: each must come back
from the file exactly as given (numbers as numbers, text as text, blanks as blanks), with the
header's style, the number formats, the link of each file, the frozen panes and the filter.
"""

from __future__ import annotations

import csv

import openpyxl

from cvp_xl.commands.summary import COLUMNS, headers, write_summary

ROWS = [
    {"Customer id": "C-1", "Customer name": "Acme", "Table row": 2, "Status": "written",
     "Scenario": "Base", "Total value per year": 1234.5, "Differential": -10.0, "ROI": 0.25,
     "Payback (years)": 1.5, "NPV": 99.0, "Next best alternative": "Status quo",
     "File": "C-1.xlsx"},
    # a name a spreadsheet would read as a formula, no results (skipped), a note
    {"Customer id": "C-2", "Customer name": "=1+2", "Table row": 3, "Status": "skipped",
     "Notes": "blank; expected a number in miles/year"},
]


def test_the_summary_reads_back_as_written(tmp_path):
    frame = write_summary("EUR", ROWS, tmp_path)
    ws = openpyxl.load_workbook(tmp_path / "summary.xlsx")["Summary"]
    heads = headers("EUR")
    assert [c.value for c in ws[1]] == heads
    assert list(frame.columns) == heads
    col = {name: k + 1 for k, (name, _) in enumerate(COLUMNS)}
    first = {name: ws.cell(2, col[name]).value for name, _ in COLUMNS}
    assert first == {name: ROWS[0].get(name) for name, _ in COLUMNS}
    second = ws.cell(3, col["Customer name"])
    assert (second.value, second.data_type, second.quotePrefix) == ("=1+2", "s", True)
    assert ws.cell(3, col["Total value per year"]).value is None
    assert ws.cell(3, col["Notes"]).value == "blank; expected a number in miles/year"
    # formats and links as before the summary was streamed
    assert ws.cell(2, col["Total value per year"]).number_format == "#,##0"
    assert ws.cell(3, col["Total value per year"]).number_format == "#,##0"  # blank, formatted
    assert ws.cell(2, col["ROI"]).number_format == "0.0%"
    assert ws.cell(2, col["File"]).hyperlink.target == "C-1.xlsx"
    head = ws.cell(1, 1)
    assert (head.font.b, head.fill.fgColor.rgb, head.alignment.wrap_text) == (True, "FFDDEBF7",
                                                                                True)
    assert ws.row_dimensions[1].height == 30
    assert ws.freeze_panes == "C2" and ws.auto_filter.ref == "A1:O3"
    # "Next best alternative" is 21 characters; its column is 2 wider: 23 characters, stored as
    # Excel stores a width (ECMA-376 18.3.1.13): 23 digits of 7 pixels and 5 pixels of
    # padding, 166 pixels, in 1/256 of a digit: int(166 / 7 * 256) / 256 = 23.7109375
    assert ws.column_dimensions["M"].width == int(166 / 7 * 256) / 256
    with open(tmp_path / "summary.csv", encoding="utf-8", newline="") as handle:
        lines = list(csv.reader(handle))
    assert lines[0] == heads and lines[2][1] == "'=1+2"


def test_an_empty_summary_has_its_headers(tmp_path):
    write_summary("USD", [], tmp_path)
    ws = openpyxl.load_workbook(tmp_path / "summary.xlsx")["Summary"]
    assert [c.value for c in ws[1]] == headers("USD") and ws.max_row == 1
    assert ws.auto_filter.ref == "A1:O2"


def test_past_excels_limit_of_links_a_file_is_text(tmp_path, monkeypatch):
    """Excel links at most 65,530 cells of a sheet (XlsxWriter warns and drops the rest):
    the summary links the first ones and writes the others' file names as text.  The limit
    is lowered to 1 here, so that two rows show it."""
    from cvp_xl.commands import summary

    monkeypatch.setattr(summary, "_LINKS", 1)
    rows = [dict(ROWS[0]), {**ROWS[0], "Customer id": "C-3", "File": "C-3.xlsx"}]
    write_summary("EUR", rows, tmp_path)
    ws = openpyxl.load_workbook(tmp_path / "summary.xlsx")["Summary"]
    col = [name for name, _ in COLUMNS].index("File") + 1
    assert ws.cell(2, col).hyperlink.target == "C-1.xlsx"
    assert (ws.cell(3, col).value, ws.cell(3, col).hyperlink) == ("C-3.xlsx", None)
