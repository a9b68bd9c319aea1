"""Formula text for the engine: structured references with a column name's own spaces, and
ranges as Excel reads them in one cell (implicit intersection, whole columns) (issue 10)."""

from __future__ import annotations

import pytest

from cvp_xl.xlsx.contents import Table
from cvp_xl.xlsx.formula_text import as_excel_reads, rewrite

# POI's table-sample.xlsx: Tabelle1 over C4:G9, a header row and a totals row, and a column
# whose name ends with a space ("Field 4 ", as the table part of the file spells it).
T = Table("Tabelle1", "Tabelle1", "C4:G9",
          ("Field 1", "Field 2", "Field 3", "Field 4 ", "Field 5"), 1, 1)


def test_a_column_name_ending_with_a_space_is_that_column():
    # Field 4 is the fourth column: F; data rows 5-8, totals row 9 (from the table's ref)
    got = rewrite("Tabelle1[[#This Row],[Field 4 ]]/Tabelle1[[#Totals],[Field 4 ]]",
                  sheet="Tabelle1", row=6, tables=[T])
    assert got.problem is None
    assert got.text == "='Tabelle1'!$F$6/'Tabelle1'!$F$9"
    assert rewrite("SUBTOTAL(109,Tabelle1[[Field 4 ]])", sheet="Tabelle1", row=9,
                   tables=[T]).text == "=SUBTOTAL(109,'Tabelle1'!$F$5:$F$8)"
    assert rewrite("[@[Field 4 ]]*2", sheet="Tabelle1", row=7,
                   tables=[T]).text == "='Tabelle1'!$F$7*2"


def test_spaces_around_areas_and_between_items_do_not_count():
    got = rewrite("SUM(Tabelle1[[#This Row], [Field 2]:[Field 3]])", sheet="Tabelle1",
                  row=5, tables=[T])
    assert got.text == "=SUM('Tabelle1'!$D$5:$E$5)"   # Field 2, Field 3: columns D, E


def test_a_name_without_its_space_is_another_column():
    got = rewrite("SUM(Tabelle1[[Field 4]])", sheet="Tabelle1", row=9, tables=[T])
    assert got.problem == "table Tabelle1 has no column 'Field 4'"


# -- as_excel_reads: implicit intersection and whole columns -----------------------------------
# Data holds cells to row 3, column B (USED); the formula is in C2 unless said otherwise.

USED = {"DATA": (3, 2), "OTHER": (10, 4)}


def read(text, cell=(2, 3), array=False, **kw):
    return as_excel_reads(text, sheet="Data", cell=cell, array=array, used=USED, **kw)


@pytest.mark.parametrize("formula, expected", [
    # a range as an operand is its cell in the formula's row (a column) or column (a row)
    ("=A1:A3*2", "=$A$2*2"),
    ("=(A1:A3)+1", "=($A$2)+1"),
    ("=-Other!A1:A9", "=-Other!$A$2"),
    ("=A1:F1&\"x\"", "=$C$1&\"x\""),
    ("=A5:A9*2", "=#VALUE!*2"),                      # row 2 is outside rows 5-9
    ("=IF(A1:A3>1,1,0)", "=IF($A$2>1,1,0)"),
    ("=1:1*2", "=$C$1*2"),                           # a whole row: the formula's column
    # where Excel evaluates arrays, or a range is given whole, nothing changes
    ("=SUMPRODUCT(A1:A3*2)", "=SUMPRODUCT(A1:A3*2)"),
    ("=SUM(INDEX(A1:A3*2,0))", "=SUM(INDEX(A1:A3*2,0))"),
    ("=SUM(A1:A3)", "=SUM(A1:A3)"),
    ("=A1:A3 B2:C2", "=A1:A3 B2:C2"),                # the intersection operator
    # whole columns read to the last used row (3 here, the formula's row if lower)
    ("=SUM(A:A)", "=SUM($A$1:$A$3)"),
    ("=VLOOKUP(1,Other!A:B,2,0)", "=VLOOKUP(1,Other!$A$1:$B$10,2,0)"),
    ("=MATCH(1,A:A,0)", "=MATCH(1,$A$1:$A$3,0)"),
    ("=INDEX(B:B,7)", "=INDEX($B$1:$B$4,MIN(7,4))"),   # row 7 is empty, and so is row 4
    ("=COUNTBLANK(A:A)", "=(COUNTBLANK($A$1:$A$3)+1048573)"),   # 1,048,576 - 3 rows
    ('=COUNTIF(A:A,"<>x")', '=(COUNTIF($A$1:$A$3,"<>x")+COUNTIF($A$4,"<>x")*1048573)'),
])
def test_ranges_as_excel_reads_them_in_one_cell(formula, expected):
    got = read(formula)
    assert (got.text, got.problem) == (expected, None)


def test_an_array_formula_keeps_its_ranges():
    assert read("=SUM(A1:A3*2)", array=True).text == "=SUM(A1:A3*2)"


def test_a_name_for_a_range_is_read_as_its_cell():
    got = read("=SUM(Prices*2)", name_ranges={"PRICES": "Data!$A$1:$A$3"})
    assert (got.text, got.names) == ("=SUM(Data!$A$2*2)", {"PRICES"})


@pytest.mark.parametrize("formula, where", [
    ("=ROWS(A:A)", "in ROWS"),
    ("=MATCH(1,A:A)", "in MATCH"),                   # an approximate match
    ("=SUMPRODUCT(--(A:A=\"\"))", "in SUMPRODUCT"),
    ("=ROWS(A1:INDEX(A:A,9))", "in INDEX"),           # INDEX's reference used as one
])
def test_a_whole_column_whose_empty_cells_could_count_is_a_problem(formula, where):
    assert read(formula).problem == (
        f"A:A spans 1,048,576 cells and is read {where}, where its empty cells could change "
        "the result; references past 65,536 cells are read to the used range only in SUM, "
        "COUNT, lookups and the like")


def test_a_whole_row_is_read_whole():
    got = read("=SUMPRODUCT(1:1,2:2)")
    assert (got.text, got.problem) == ("=SUMPRODUCT(1:1,2:2)", None)   # 16,384 cells each
