"""CVP_WORDEQ and CVP_WORDEQ_UNIT: the shape rule, exact errors, native translation, hosts.

The registry's worked examples go through every host in tests/conformance; here the forms a
spreadsheet user reaches for (a two-column table, one column or row per customer) are written
into a real workbook and recomputed by the formulas engine, next to their native translations.
Every expected number is a hand calculation written beside it.
"""

from __future__ import annotations

import openpyxl
import pytest
from helpers import close
from openpyxl.worksheet.formula import ArrayFormula

from cvp_xl.catalog.wordeq import cvp_wordeq, cvp_wordeq_unit, native_wordeq
from cvp_xl.commands.recalc import compute
from cvp_xl.errors import CvpError, ErrorValue
from cvp_xl.hosts import formulas_host
from cvp_xl.hosts.native import NoTranslation, to_native, workbook_cells
from cvp_xl.registry import get

DOWNTIME = ("Savings = (Stops with the alternative - Stops with ours) "
            "x Hours lost per stop x Margin per hour")
NAMES = ["Stops with the alternative", "Stops with ours", "Hours lost per stop",
         "Margin per hour"]
COLUMN = [[n] for n in NAMES]
ROW = [NAMES]
ONE = [12, 4, 6, 1500]  # hand: (12 - 4) x 6 x 1500 = 72000
TWO = [10, 4, 5, 1200]  # hand: (10 - 4) x 5 x 1200 = 36000
THREE = [8, 8, 6, 1500]  # hand: (8 - 8) x 6 x 1500 = 0
UNITS = ["stops/year", "stops/year", "hours/stop", "USD/hour"]


# -- the shape rule ----------------------------------------------------------------------------


@pytest.mark.parametrize("names,values", [
    (COLUMN, [[v] for v in ONE]),  # a column and a column
    (ROW, [ONE]),  # a row and a row
    (COLUMN, [ONE]),  # a column and a row of the same size
    (ROW, [[v] for v in ONE]),  # a row and a column of the same size
    ([NAMES[:2], NAMES[2:]], [ONE[:2], ONE[2:]]),  # two blocks of one shape, reading order
])
def test_one_customer(names, values):
    assert cvp_wordeq(DOWNTIME, names, values) == 72000.0


def test_two_column_table():
    table = [[n, v] for n, v in zip(NAMES, ONE)]
    assert cvp_wordeq(DOWNTIME, table) == 72000.0


def test_table_with_one_column_per_customer():
    table = [[n, a, b, c] for n, a, b, c in zip(NAMES, ONE, TWO, THREE)]
    assert cvp_wordeq(DOWNTIME, table) == [[72000.0, 36000.0, 0.0]]


def test_names_in_a_column_values_one_column_per_customer():
    values = [[a, b, c] for a, b, c in zip(ONE, TWO, THREE)]
    assert cvp_wordeq(DOWNTIME, COLUMN, values) == [[72000.0, 36000.0, 0.0]]


def test_names_in_a_row_values_one_row_per_customer():
    assert cvp_wordeq(DOWNTIME, ROW, [ONE, TWO, THREE]) == [[72000.0], [36000.0], [0.0]]


def test_one_name_per_customer_follows_the_values():
    # hand: 2 x 10 = 20, 2 x 20 = 40; a row of values gives a row, a column a column
    assert cvp_wordeq("2 x Hours", [["Hours"]], [[10, 20]]) == [[20.0, 40.0]]
    assert cvp_wordeq("2 x Hours", [["Hours"]], [[10], [20]]) == [[20.0], [40.0]]


def test_unused_quantities_are_not_checked():
    # hand: 6 x 1500 = 9000; the stops may be blank or text, the equation does not use them
    assert cvp_wordeq("Hours lost per stop x Margin per hour", COLUMN,
                      [[None], ["n/a"], [6], [1500]]) == 9000.0


def test_equation_without_quantities_per_customer():
    assert cvp_wordeq("= 2 x 3", COLUMN, [[a, b] for a, b in zip(ONE, TWO)]) == [[6.0, 6.0]]


def test_units_table_and_blank_unit():
    table = [[n, u] for n, u in zip(NAMES, UNITS)]
    assert cvp_wordeq_unit(DOWNTIME, table) == "USD/year"
    # hand: hours/year x 15% (pure) x USD/hour; a blank unit is a pure number
    assert cvp_wordeq_unit("Hours x Share x Rate", [["Hours"], ["Share"], ["Rate"]],
                           [["hours/year"], [None], ["USD/hour"]]) == "USD/year"


# -- every error, word for word ----------------------------------------------------------------

NA = ErrorValue("#N/A")
ERRORS = [
    # unknown quantity, with and without a close name
    (cvp_wordeq, ("Loss = Hours lost per stop x Cost per hour downtime",
                  [["Hours lost per stop"], ["Cost per hour of downtime"]], [[6], [1500]]),
     "#NAME?", "unknown quantity 'Cost per hour downtime'; "
               "did you mean 'Cost per hour of downtime'?"),
    (cvp_wordeq, ("Savings x Tonnes", COLUMN, [[v] for v in ONE]),
     "#NAME?", "unknown quantity 'Savings'"),
    # blank and text values, naming the quantity (and the customer's item)
    (cvp_wordeq, (DOWNTIME, COLUMN, [[12], [4], [None], [1500]]),
     "#VALUE!", "'Hours lost per stop' is blank; expected a number"),
    (cvp_wordeq, (DOWNTIME, COLUMN, [[12], [4], ["six"], [1500]]),
     "#VALUE!", "'Hours lost per stop': expected a number, got 'six'"),
    (cvp_wordeq, (DOWNTIME, COLUMN, [[12], [4], [True], [1500]]),
     "#VALUE!", "'Hours lost per stop': expected a number, got True"),
    (cvp_wordeq, (DOWNTIME, COLUMN, [[12, 10], [4, 4], [6, None], [1500, 1200]]),
     "#VALUE!", "'Hours lost per stop' is blank at item 2; expected a number"),
    (cvp_wordeq, (DOWNTIME, ROW, [ONE, [10, 4, "five", 1200]]),
     "#VALUE!", "'Hours lost per stop' at item 2: expected a number, got 'five'"),
    (cvp_wordeq, ("Hours", [["Hours"]]),
     "#VALUE!", "'Hours' is blank; expected a number"),
    # an error in an input passes on, with its own code
    (cvp_wordeq, (DOWNTIME, COLUMN, [[12], [4], [NA], [1500]]),
     "#N/A", "'Hours lost per stop': the input is the error #N/A"),
    (cvp_wordeq, (DOWNTIME, COLUMN, [[12, 10], [4, NA], [6, 5], [1500, 1200]]),
     "#N/A", "'Stops with ours' at item 2: the input is the error #N/A"),
    (cvp_wordeq, (NA, COLUMN, [[v] for v in ONE]),
     "#N/A", "equation: the input is the error #N/A"),
    (cvp_wordeq, (DOWNTIME, [["Stops with the alternative"], [NA]], [[1], [2]]),
     "#N/A", "names (item 2): the input is the error #N/A"),
    # unbalanced parentheses, with the position
    (cvp_wordeq, ("Savings = (Stops with ours - 1 x Hours lost per stop", COLUMN,
                  [[v] for v in ONE]),
     "#VALUE!", "unbalanced parenthesis at position 11: '(' is never closed"),
    (cvp_wordeq, ("Stops with ours) x 2", COLUMN, [[v] for v in ONE]),
     "#VALUE!", "unbalanced parenthesis at position 16: ')' has no matching '('"),
    # division by zero, for one customer and per customer
    (cvp_wordeq, ("Margin per hour / Stops with ours", COLUMN, [[12], [0], [6], [1500]]),
     "#DIV/0!", "division by zero: 'Stops with ours' is 0"),
    (cvp_wordeq, ("Margin per hour / Stops with ours", COLUMN,
                  [[12, 12], [4, 0], [6, 6], [1500, 1500]]),
     "#DIV/0!", "division by zero: 'Stops with ours' is 0 at item 2"),
    # sizes that do not pair
    (cvp_wordeq, (DOWNTIME, COLUMN, [[12], [4], [6]]),
     "#VALUE!", "names has 4 items but values has 3; give one value per name, or one column "
                "per customer with a value for each name"),
    (cvp_wordeq, (DOWNTIME, ROW, [[12, 4, 6], [10, 4, 5]]),
     "#VALUE!", "names has 4 items but values has 2 rows x 3 columns; give one value per "
                "name, or one row per customer with a value for each name"),
    (cvp_wordeq, (DOWNTIME, COLUMN, [[12, 10], [4, 4], [6, 5]]),
     "#VALUE!", "names has 4 items but values has 3 rows x 2 columns; give one value per "
                "name, or one column per customer with a value for each name"),
    (cvp_wordeq, (DOWNTIME, [NAMES[:2], NAMES[2:]], [ONE[:2], ONE[2:], [1, 2]]),
     "#VALUE!", "names has 4 items but values has 3 rows x 2 columns; give one value per "
                "name"),
    (cvp_wordeq, (DOWNTIME, COLUMN),
     "#VALUE!", "values is missing: give values of the same size as names, or names as a "
                "table with the names in its first column and the values in the next"),
    # the equation and the names themselves
    (cvp_wordeq, (None, COLUMN, [[v] for v in ONE]),
     "#VALUE!", "equation: expected the text of a word equation, got a blank cell"),
    (cvp_wordeq, (5, COLUMN, [[v] for v in ONE]),
     "#VALUE!", "equation: expected the text of a word equation, got 5"),
    (cvp_wordeq, ([["a"], ["b"]], COLUMN, [[v] for v in ONE]),
     "#VALUE!", "equation: expected one cell with the text of a word equation, got 2 cells"),
    (cvp_wordeq, (DOWNTIME, [["Stops with ours"], [None]], [[1], [2]]),
     "#VALUE!", "names (item 2): expected a name, got a blank cell"),
    (cvp_wordeq, (DOWNTIME, [["Stops with ours"], ["stops  WITH ours"]], [[1], [2]]),
     "#VALUE!", "names items 1 and 2 are the same name 'stops WITH ours' (case and spaces "
                "are ignored)"),
    # units
    (cvp_wordeq_unit, ("Stops with ours + Hours lost per stop", COLUMN, [[u] for u in UNITS]),
     "#VALUE!", "cannot add 'Hours lost per stop' (hour/stop) to 'Stops with ours' "
                "(stop/year)"),
    (cvp_wordeq_unit, (DOWNTIME, COLUMN, [[u] for u in UNITS[:3]]),
     "#VALUE!", "names has 4 items but units has 3; give one unit per name"),
    (cvp_wordeq_unit, (DOWNTIME, COLUMN),
     "#VALUE!", "units is missing: give units of the same size as names, or names as a "
                "table with the names in its first column and the units in the next"),
    (cvp_wordeq_unit, (DOWNTIME, [[n, u, u] for n, u in zip(NAMES, UNITS)]),
     "#VALUE!", "names has 3 columns; a table of names and units has 2"),
    (cvp_wordeq_unit, (DOWNTIME, COLUMN, [["stops/year"], ["stops/year"], ["hours/stop"],
                                          ["USD/hour?"]]),
     "#VALUE!", "the unit of 'Margin per hour' is not understood: 'USD/hour?' "
                "('?' cannot be part of a unit)"),
    (cvp_wordeq_unit, (DOWNTIME, COLUMN, [[u] for u in UNITS[:3]] + [[NA]]),
     "#N/A", "'Margin per hour': the input is the error #N/A"),
    (cvp_wordeq_unit, ("Loss = Hours lost per stop x Cost per hour downtime",
                       [["Hours lost per stop"], ["Cost per hour of downtime"]],
                       [["hours/stop"], ["USD/hour"]]),
     "#NAME?", "unknown quantity 'Cost per hour downtime'; "
               "did you mean 'Cost per hour of downtime'?"),
]


@pytest.mark.parametrize("func,args,code,message", ERRORS,
                         ids=[f"{f.__name__}-{i}" for i, (f, *_) in enumerate(ERRORS)])
def test_error_messages(func, args, code, message):
    with pytest.raises(CvpError) as info:
        func(*args)
    assert (info.value.code, info.value.message) == (code, message)


@pytest.mark.parametrize("func,args,code,message", ERRORS[:4])
def test_xlwings_host_shows_the_error_in_the_cell(func, args, code, message):
    from cvp_xl.hosts.xlwings_host import make_udf

    udf = make_udf(get("CVP_WORDEQ" if func is cvp_wordeq else "CVP_WORDEQ_UNIT"))
    assert udf(*args) == f"{code} {message}"


def test_xlwings_host_per_customer_and_table():
    from cvp_xl.hosts.xlwings_host import make_udf

    udf = make_udf(get("CVP_WORDEQ"))
    assert udf(DOWNTIME, COLUMN, [[a, b] for a, b in zip(ONE, TWO)]) == [[72000.0, 36000.0]]
    assert udf(DOWNTIME, [[n, v] for n, v in zip(NAMES, ONE)]) == 72000.0


# -- native translation ------------------------------------------------------------------------


def reader(book: dict):
    def cells(ref: str):
        if ref not in book:
            raise LookupError(f"{ref} is not in the test book")
        return book[ref]
    return cells


BOOK = {
    "A1": [[DOWNTIME]],
    "B3:B6": COLUMN,
    "$B$3:$B$6": COLUMN,
    "Inputs!$B$3:$B$6": COLUMN,
    "'My sheet'!B3:C6": [[n, v] for n, v in zip(NAMES, ONE)],
    "B3:E3": ROW,
    "A2": [["Savings = (Stops with ours"]],
    "A3": [["MAX(Stops with ours, Hours lost per stop)"]],
    "stops": [[1], [2], [3], [4]],
}


@pytest.mark.parametrize("formula,native", [
    ("=CVP_WORDEQ(A1,B3:B6,C3:C6)", "=(C3-C4)*C5*C6"),
    ("=CVP_WORDEQ(A1,$B$3:$B$6,$C$3:$C$6)", "=($C$3-$C$4)*$C$5*$C$6"),
    ("=CVP_WORDEQ(A1,B3:B6,C$3:C$6)", "=(C$3-C$4)*C$5*C$6"),
    ("=CVP_WORDEQ(A1,Inputs!$B$3:$B$6,Inputs!$D$3:$D$6)",
     "=(Inputs!$D$3-Inputs!$D$4)*Inputs!$D$5*Inputs!$D$6"),
    ("=CVP_WORDEQ(A1,'My sheet'!B3:C6)",
     "=('My sheet'!C3-'My sheet'!C4)*'My sheet'!C5*'My sheet'!C6"),
    ("=CVP_WORDEQ(A1,B3:E3,B4:E4)", "=(B4-C4)*D4*E4"),
    ("=CVP_WORDEQ(A1,B3:B6,D10:G10)", "=(D10-E10)*F10*G10"),  # a column of names, a row
    ("=CVP_WORDEQ(A1,B3:B6,stops)",
     "=(INDEX(stops,1,1)-INDEX(stops,2,1))*INDEX(stops,3,1)*INDEX(stops,4,1)"),
    ('=CVP_WORDEQ("Margin per hour x ""2""" ,B3:B6,C3:C6)', None),  # text, not a number
    ('=CVP_WORDEQ("Margin per hour / (Stops with ours)",B3:B6,C3:C6)', "=C6/C4"),
    ("=CVP_WORDEQ(A1,B3:B6,C3:E6)", "=(C3:E3-C4:E4)*C5:E5*C6:E6"),  # per customer
    ("=CVP_WORDEQ(A1,B3:E3,B4:E9)", "=(B4:B9-C4:C9)*D4:D9*E4:E9"),
    ("=IFERROR(CVP_WORDEQ(A1,B3:B6,C3:C6),0)+1", "=IFERROR((C3-C4)*C5*C6,0)+1"),
    ("=2*CVP_WORDEQ(A1,B3:B6,C3:C6)", "=2*((C3-C4)*C5*C6)"),
])
def test_to_native_reads_the_cells(formula, native):
    if native is None:
        with pytest.raises(NoTranslation):
            to_native(formula, cells=reader(BOOK))
        return
    assert to_native(formula, cells=reader(BOOK)) == native


@pytest.mark.parametrize("formula,reason", [
    ("=CVP_WORDEQ(A1,B3:B6,C3:C6)", None),
    ("=CVP_WORDEQ(A2,B3:B6,C3:C6)",
     "#VALUE! unbalanced parenthesis at position 11: '(' is never closed"),
    ("=CVP_WORDEQ(A9,B3:B6,C3:C6)", "cannot read the equation at A9: A9 is not in the test "
                                    "book"),
    ("=CVP_WORDEQ(A1,B3:B6,C3:C5)", "#VALUE! names has 4 items but values has 3; give one "
                                    "value per name, or one column per customer with a value "
                                    "for each name"),
    ("=CVP_WORDEQ(A3,B3:B6,C3:E6)", "MIN and MAX over per-customer ranges would take the "
                                    "smallest or largest of all customers at once"),
    ("=CVP_WORDEQ(A1,B3:B6,stops)", None),
    ("=CVP_WORDEQ(A1,B3:B6,C3:C6&D3)", "cannot read the values at C3:C6&D3: C3:C6&D3 is not "
                                       "in the test book"),
])
def test_no_translation_says_why(formula, reason):
    if reason is None:  # translatable with a reader; without one, the reason says so
        with pytest.raises(NoTranslation) as info:
            to_native(formula)
        assert str(info.value) == (
            "CVP_WORDEQ has no native-formula translation: it is translated from the contents "
            "of its argument cells, and no workbook was given to read them from")
        return
    with pytest.raises(NoTranslation) as info:
        to_native(formula, cells=reader(BOOK))
    assert str(info.value) == f"CVP_WORDEQ has no native-formula translation: {reason}"
    assert info.value.reason == reason


def test_other_functions_ignore_the_reader():
    assert to_native("=CVP_ROI(B1,B2)", cells=reader({})) == (
        "=IF(COUNT(B1,B2)<2,SUM(B1,B2)+#VALUE!,(B1-B2)/B2)")


def test_native_wordeq_directly():
    assert native_wordeq("A1", "B3:B6", "C3:C6", cells=reader(BOOK)) == "(C3-C4)*C5*C6"
    assert native_wordeq('("Stops with ours - 1")', "(B3:B6)", "(C3:C6)",
                         cells=reader(BOOK)) == "C4-1"


def test_workbook_cells_reads_constants_formulas_and_names():
    from openpyxl.workbook.defined_name import DefinedName

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Calc"
    inputs = wb.create_sheet("My inputs")
    ws["A1"] = "=B1*2"
    ws["B1"] = 3
    inputs["B2"], inputs["B3"] = "Hours", "Rate"
    inputs["C2"].value, inputs["C2"].data_type = "#N/A", "e"
    wb.defined_names["rates"] = DefinedName("rates", attr_text="'My inputs'!$B$2:$C$3")
    cells = workbook_cells(wb, "Calc", {("Calc", "A1"): 6})
    assert cells("A1:B1") == [[6, 3]]
    assert cells("'My inputs'!B2:C3") == [["Hours", NA], ["Rate", None]]
    assert cells("RATES") == [["Hours", NA], ["Rate", None]]
    with pytest.raises(LookupError, match="neither a cell reference nor a defined name"):
        cells("nowhere")
    with pytest.raises(LookupError, match="there is no sheet named 'Other'"):
        cells("Other!A1")
    with pytest.raises(LookupError, match="holds a formula whose value is not known"):
        workbook_cells(wb, "Calc")("A1")
    assert cells("'My inputs'!D9") == [[None]]
    assert (9, 4) not in inputs._cells  # reading creates no cell in the workbook


# -- a recomputed workbook: the formulas host and the native translation side by side ----------


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """Names in B3:B6; one customer in C, three customers in C:E; a table in G3:H6; names in a
    row B10:E10 with one row per customer below; each CVP_WORDEQ next to its translation."""
    path = tmp_path_factory.mktemp("wordeq_registry") / "wordeq.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Calc"
    ws["A1"] = DOWNTIME
    for i, name in enumerate(NAMES):
        ws.cell(3 + i, 2, name)
        for j, customer in enumerate((ONE, TWO, THREE)):
            ws.cell(3 + i, 3 + j, customer[i])
        ws.cell(3 + i, 7, name)
        ws.cell(3 + i, 8, ONE[i])
        ws.cell(10, 2 + i, name)
        for j, customer in enumerate((ONE, TWO, THREE)):
            ws.cell(11 + j, 2 + i, customer[i])
    ws["A20"] = "Savings = (Stops with ours"
    calls = {
        "J1": ("=CVP_WORDEQ(A1,B3:B6,C3:C6)", None),
        "J2": ("=CVP_WORDEQ(A1,G3:H6)", None),
        "J3": ("=CVP_WORDEQ(A1,$B$3:$B$6,$C$3:$E$6)", "J3:L3"),
        "J4": ("=CVP_WORDEQ(A1,B10:E10,B11:E13)", "J4:J6"),
        "J8": ("=CVP_WORDEQ_UNIT(A1,B3:B6,M3:M6)", None),
        "J9": ("=CVP_WORDEQ(A20,B3:B6,C3:C6)", None),
    }
    for i, unit in enumerate(UNITS):
        ws.cell(3 + i, 13, unit)
    cells = workbook_cells(wb, "Calc")
    natives = {}
    for ref, (formula, array) in calls.items():
        native_ref = "P" + ref[1:]  # six columns to the right
        native_array = array.replace("J", "P").replace("L", "R") if array else None
        ws[ref] = ArrayFormula(array, formula) if array else formula
        try:
            text = to_native(formula, cells=cells)
        except NoTranslation:
            continue
        ws[native_ref] = ArrayFormula(native_array, text) if native_array else text
        natives[ref] = text
    wb.save(path)
    with formulas_host.capture_messages() as messages:
        values = compute(path).values
    return values, natives, list(messages)


@pytest.mark.parametrize("ref,expected", [
    ("J1", 72000.0),  # hand: (12 - 4) x 6 x 1500
    ("J2", 72000.0),  # the two-column table G3:H6
    ("J3", 72000.0), ("K3", 36000.0), ("L3", 0.0),  # one column per customer: a row
    ("J4", 72000.0), ("J5", 36000.0), ("J6", 0.0),  # one row per customer: a column
])
def test_formulas_host_and_native_agree(book, ref, expected):
    values, natives, _ = book
    assert close(values[("Calc", ref)], expected)
    native_ref = chr(ord(ref[0]) + 6) + ref[1:]  # six columns to the right: J -> P, K -> Q
    assert close(values[("Calc", native_ref)], expected)


def test_native_formulas_written(book):
    _, natives, _ = book
    assert natives == {
        "J1": "=(C3-C4)*C5*C6",
        "J2": "=(H3-H4)*H5*H6",
        "J3": "=($C$3:$E$3-$C$4:$E$4)*$C$5:$E$5*$C$6:$E$6",
        "J4": "=(B11:B13-C11:C13)*D11:D13*E11:E13",
    }


def test_formulas_host_unit_and_error(book):
    values, _, messages = book
    assert values[("Calc", "J8")] == "USD/year"
    assert values[("Calc", "J9")] == ErrorValue("#VALUE!")
    assert ("CVP_WORDEQ", "unbalanced parenthesis at position 11: '(' is never closed") \
        in messages


def test_share_translates_word_equations(tmp_path):
    from cvp_xl.commands.share import share
    from cvp_xl.hosts.libreoffice import read_values

    src, dst = tmp_path / "src.xlsx", tmp_path / "shared.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Calc"
    ws["A1"] = DOWNTIME
    ws["A2"] = "Savings = (Stops with ours"
    for i, (name, value) in enumerate(zip(NAMES, ONE)):
        ws.cell(3 + i, 2, name)
        ws.cell(3 + i, 3, value)
    ws["C4"] = "=2+2"  # a formula among the values: read as its computed value
    ws["E1"] = "=CVP_WORDEQ(A1,$B$3:$B$6,$C$3:$C$6)"
    ws["E2"] = "=CVP_WORDEQ(A2,B3:B6,C3:C6)"
    wb.save(src)
    changes = share(src, dst)
    assert [(c.ref, c.after, c.kind) for c in changes] == [
        ("E1", "=($C$3-$C$4)*$C$5*$C$6", "native"),
        ("E2", "#VALUE!", "value"),
    ]
    shared = openpyxl.load_workbook(dst)["Calc"]
    assert shared["E1"].value == "=($C$3-$C$4)*$C$5*$C$6"
    assert shared["E2"].comment.text.startswith(
        "Was =CVP_WORDEQ(A2,B3:B6,C3:C6)\nCVP_WORDEQ has no native-formula translation: "
        "#VALUE! unbalanced parenthesis at position 11")
    assert read_values(dst)[("Calc", "E1")] == 72000  # hand: (12 - 4) x 6 x 1500
