"""The LAMBDA library: its stored form, and adding it to a workbook without touching the rest.

Where the form of a LAMBDA name in ``xl/workbook.xml`` comes from: no Excel-saved workbook
with LAMBDA names was at hand, so the form asserted here is the one Excel 365 was observed to
write in a public field report of workbooks it saved (Excel 16.115 on macOS and Microsoft 365
build 2609 on Windows): ``LAMBDA(value, rate, [periods], ... ISOMITTED(periods) ...)`` typed in
the Name Manager is stored as ``_xlfn.LAMBDA(_xlpm.value,_xlpm.rate,_xlop.periods, ...
_xlfn.ISOMITTED(_xlpm.periods) ...)``, without a leading ``=``, spaces between parameters
removed; the description in the ``comment`` attribute, a line break in it as ``_x000a_``, at most
255 characters.  ``_xlfn.``/``_xlpm.`` agree with Microsoft's documentation of the file format
(MS-XLSX 2.2.2, future functions) and with libxlsxwriter's LAMBDA example.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from lambda_engine import lambda_values
from lxml import etree
from openpyxl import Workbook, load_workbook
from openpyxl.formula.tokenizer import Token, Tokenizer
from openpyxl.utils.formulas import FORMULAE
from openpyxl.workbook.defined_name import DefinedName as OpenpyxlName

from cvp_xl.commands.functions import add_functions
from cvp_xl.errors import WorkbookError
from cvp_xl.hosts.lambdas import (
    NotLambda,
    lambda_able,
    lambda_name,
    left_out_test,
    library,
    not_lambda,
    stored_form,
    substitute,
)
from cvp_xl.registry import Argument, Function, functions, get
from cvp_xl.xlsx.defined_names import (
    DefinedName,
    escape_xstring,
    read_defined_names,
    set_defined_names,
    unescape_xstring,
)

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _grow(value, rate, periods=None):
    return value * (1 + rate) ** (1 if periods is None else periods)


#: The function of the field report (``ANA.GROW``), as a registry entry: growth over periods,
#: one period when ``periods`` is left out.
GROW = Function(
    name="CVP_TEST_GROW",
    func=_grow,
    description="Value after growing at rate for periods (one period by default).",
    category="Test",
    args=(Argument("value", "Starting value"), Argument("rate", "Growth per period"),
          Argument("periods", "How many periods (default 1)", optional=True)),
    native=lambda v, r, p=None: f"{v}*(1+{r})" if p is None else f"{v}*(1+{r})^{p}",
)


def test_an_optional_parameter_is_stored_as_excel_stores_it():
    made = lambda_name(GROW)
    # Excel's form (field report): _xlop. in the list, _xlpm. in the body, _xlfn.ISOMITTED;
    # the two bodies by hand from the translation: v*(1+r) and v*(1+r)^p; "left out" is
    # ISOMITTED or one blank cell (the registry reads a blank optional argument as left out)
    left_out = ("IF(_xlfn.ISOMITTED(_xlpm.periods),TRUE,AND(IFERROR(ROWS(_xlpm.periods)"
                "*COLUMNS(_xlpm.periods),1)=1,ISBLANK(_xlpm.periods)))")
    assert made.refers_to == (
        f"_xlfn.LAMBDA(_xlpm.value,_xlpm.rate,_xlop.periods,IF({left_out},"
        "_xlpm.value*(1+_xlpm.rate),_xlpm.value*(1+_xlpm.rate)^_xlpm.periods))")
    assert made.shown == (
        "=LAMBDA(value,rate,[periods],IF(IF(ISOMITTED(periods),TRUE,AND(IFERROR(ROWS(periods)"
        "*COLUMNS(periods),1)=1,ISBLANK(periods))),value*(1+rate),value*(1+rate)^periods))")


def test_substituted_calls_give_the_values_excel_computed(tmp_path):
    # the field report: Excel computed ANA.GROW(100, 0.1, 2) = 121 and ANA.GROW(100, 0.1) = 110
    wb = Workbook()
    ws = wb.active
    ws["A1"] = substitute(GROW, ["100", "0.1", "2"])
    ws["A2"] = substitute(GROW, ["100", "0.1"])
    ws["A3"] = substitute(GROW, ["100", "0.1", ""])  # an empty argument counts as left out
    ws["B1"] = 2
    ws["A4"] = substitute(GROW, ["100", "0.1", "B1"])  # 2 periods, from a cell
    ws["A5"] = substitute(GROW, ["100", "0.1", "B2"])  # a blank cell: as left out
    wb.save(tmp_path / "grow.xlsx")
    values = lambda_values(tmp_path / "grow.xlsx")
    for cell, expected in (("A1", 121), ("A2", 110), ("A3", 110), ("A4", 121), ("A5", 110)):
        assert values[("SHEET", cell)] == pytest.approx(expected, rel=1e-12), cell


def test_newer_functions_get_their_prefixes():
    # MS-XLSX 2.2.2: functions after Excel 2007 carry _xlfn.; FILTER and SORT _xlfn._xlws.
    assert stored_form('IFS(A1>0,"a",TRUE,"b")&CONCAT(A1:A2)&SUM(A1)') == (
        '_xlfn.IFS(A1>0,"a",TRUE,"b")&_xlfn.CONCAT(A1:A2)&SUM(A1)')
    assert stored_form("SORT(FILTER(A1:A9,A1:A9>2))") == (
        "_xlfn._xlws.SORT(_xlfn._xlws.FILTER(A1:A9,A1:A9>2))")
    assert stored_form("_xlfn.XLOOKUP(1,A1:A2,B1:B2)") == "_xlfn.XLOOKUP(1,A1:A2,B1:B2)"
    assert stored_form("CVP_ROI(A1,A2)+IF(A1,1,2)") == "CVP_ROI(A1,A2)+IF(A1,1,2)"
    assert stored_form('"IFS(" & A1') == '"IFS(" & A1'  # text is not a call


def test_a_left_out_argument_the_translation_refuses_is_its_error():
    def pick(x, y=None, z=None):
        return x

    def native(x, y=None, z=None):
        # the registry's convention: an argument left out is None, or empty ("()" once the
        # registry has wrapped it), as in CVP_CASE_STATS's translation
        def left(v):
            return v is None or v.strip() in ("", "()")

        if left(y) != left(z):
            from cvp_xl.errors import CvpValueError

            raise CvpValueError("give y and z, or neither")
        return x if left(y) else f"{x}+{y}*{z}"

    entry = Function("CVP_TEST_PICK", pick, "Test.", "Test",
                     (Argument("x", "x"), Argument("y", "y", optional=True),
                      Argument("z", "z", optional=True)), native=native)
    y, z = left_out_test("_xlpm.y"), left_out_test("_xlpm.z")  # its doctest shows the text
    assert lambda_name(entry).body == (
        f"IF({y},IF({z},_xlpm.x,#VALUE!),IF({z},#VALUE!,_xlpm.x+_xlpm.y*_xlpm.z))")
    # y left out; z given as C1, which counts as left out when it is one blank cell
    assert substitute(entry, ["A1", "", "C1"]) == (
        "=IF(AND(IFERROR(ROWS(C1)*COLUMNS(C1),1)=1,ISBLANK(C1)),A1,#VALUE!)")
    assert substitute(entry, ["A1", "", "2"]) == (
        "=IF(AND(IFERROR(ROWS(2)*COLUMNS(2),1)=1,ISBLANK(2)),A1,#VALUE!)")
    assert substitute(entry, ["A1"]) == "=A1"
    with pytest.raises(ValueError, match=r"^CVP_TEST_PICK: the argument x is required$"):
        substitute(entry, ["", "B1", "C1"])


@pytest.mark.parametrize("func,native,message", [
    (lambda r: 0, lambda r: r, "CVP_TEST_BAD: 'r' cannot be a LAMBDA parameter name"),
    (lambda ab12: 0, lambda ab12: ab12,
     "CVP_TEST_BAD: 'ab12' cannot be a LAMBDA parameter name"),
    (lambda x: 0, lambda x: f"LET(y,{x},y*2)",
     "CVP_TEST_BAD: the translation uses LET, which binds names"),
    # "=" 1 + "_xlfn.LAMBDA(" 13 + "_xlpm.x," 8 + 2000 x "_xlpm.x" and 1999 "+" + ")" 1
    # = 1 + 13 + 8 + 15999 + 1 = 16,022 characters
    (lambda x: 0, lambda x: "+".join([x] * 2000),
     "CVP_TEST_BAD: the LAMBDA would be 16,022 characters long; Excel allows 8,192"),
])
def test_what_cannot_be_a_lambda_says_why(func, native, message):
    import inspect

    name = next(iter(inspect.signature(func).parameters))
    entry = Function("CVP_TEST_BAD", func, "Test.", "Test", (Argument(name, "x"),),
                     native=native)
    with pytest.raises(NotLambda) as info:
        lambda_name(entry)
    assert str(info.value) == message


def test_the_library_is_every_function_translated_from_its_arguments():
    names = [m.name for m in library()]
    assert names == [e.name for e in functions() if lambda_able(e) and not not_lambda(e)]
    assert "CVP_WORDEQ" not in names  # translated from the contents of its cells
    assert not_lambda(get("CVP_WORDEQ")) == (
        "its native formula is made from the contents of its argument cells, which a LAMBDA "
        "cannot read: it needs Python")
    assert not_lambda(get("CVP_PAYBACK")) == (
        "it has no native-formula translation: it needs Python")
    for made in library():
        entry = get(made.name)
        assert made.comment == entry.description
        assert made.parameters == tuple(a.name for a in entry.args)


# -- the defined names in the file ---------------------------------------------------------------

_DECLARED = re.compile(r"^_xlfn\.LAMBDA\(((?:_xlpm\.[A-Za-z_]\w*,)*)((?:_xlop\.[A-Za-z_]\w*,)*)")


def _names_xml(path: Path) -> tuple[bytes, list]:
    with zipfile.ZipFile(path) as archive:
        raw = archive.read("xl/workbook.xml")
    root = etree.fromstring(raw)
    return raw, list(root.iter(f"{MAIN}definedName"))


def _assert_excel_form(raw: bytes, element) -> None:
    """One <definedName> against the form Excel writes (module docstring)."""
    name, text = element.get("name"), element.text
    made = lambda_name(name)
    assert set(element.attrib) == {"name", "comment"}, name
    assert element.get("comment") == escape_xstring(get(name).description)
    assert len(unescape_xstring(element.get("comment"))) <= 255
    assert not text.startswith("="), name
    declared = _DECLARED.match(text)
    assert declared, f"{name}: {text[:60]}"
    required = [p[len("_xlpm."):] for p in declared[1].split(",") if p]
    optional = [p[len("_xlop."):] for p in declared[2].split(",") if p]
    assert required + optional == list(made.parameters)
    assert optional == [p for p, o in zip(made.parameters, made.optional) if o]
    body = text[declared.end():-1]
    assert "_xlop." not in body and "[" not in declared[0]
    registry = {e.name for e in functions()}
    for tok in Tokenizer("=" + body).items:
        if tok.type == Token.FUNC and tok.subtype == Token.OPEN:
            fn = tok.value[:-1]
            assert fn in FORMULAE or fn in registry or fn.startswith("_xlfn."), f"{name}: {fn}"
            assert fn.upper() != "ISOMITTED", f"{name}: ISOMITTED without _xlfn."
        if tok.type == Token.OPERAND and tok.value.lower().startswith("_xlpm."):
            assert tok.value[len("_xlpm."):] in made.parameters, f"{name}: {tok.value}"
    # escaped as XML text: < > & never appear raw
    assert escape(text).encode() in raw, name


def test_added_names_have_excel_s_form(tmp_path):
    plain = tmp_path / "plain.xlsx"
    Workbook().save(plain)
    add_functions(plain, tmp_path / "book.xlsx")
    raw, elements = _names_xml(tmp_path / "book.xlsx")
    assert [e.get("name") for e in elements] == sorted(m.name for m in library())
    assert any("&lt;" in escape(e.text) for e in elements)  # CVP_POINT_TYPE's <= is escaped
    for element in elements:
        _assert_excel_form(raw, element)


def test_the_library_workbook_has_excel_s_form(tmp_path):
    from cvp_xl.workbooks.function_library import build_function_library

    path = build_function_library(tmp_path / "cvp-functions.xlsx")
    raw, elements = _names_xml(path)
    assert sorted(e.get("name") for e in elements) == sorted(m.name for m in library())
    for element in elements:
        _assert_excel_form(raw, element)


def test_comments_round_trip_as_xstrings():
    text = "Two lines\nand a literal _x0041_"
    assert escape_xstring(text) == "Two lines_x000a_and a literal _x005F_x0041_"
    assert unescape_xstring(escape_xstring(text)) == text


# -- adding to a workbook that exists ------------------------------------------------------------


def _customer_book(path: Path, **names: str) -> Path:
    """A workbook of the customer's own: two sheets, a formula, a style, a defined name."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Inputs"
    ws["A1"], ws["A2"], ws["A3"] = 1000, 600, "=A1-A2"
    ws["A1"].number_format = "#,##0"
    wb.create_sheet("Notes")["B2"] = "=Inputs!A3*2"
    for name, refers_to in {"Rate": "Inputs!$A$1", **names}.items():
        wb.defined_names[name] = OpenpyxlName(name, attr_text=refers_to)
    wb.save(path)
    return path


def test_every_other_part_is_kept_byte_for_byte(tmp_path):
    src = _customer_book(tmp_path / "customer.xlsx")
    report = add_functions(src, tmp_path / "with-functions.xlsx")
    assert report.names.added == [m.name for m in library()]
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(tmp_path / "with-functions.xlsx") as b:
        assert [i.filename for i in a.infolist()] == [i.filename for i in b.infolist()]
        for info in a.infolist():
            if info.filename != "xl/workbook.xml":
                other = b.getinfo(info.filename)
                assert (info.CRC, info.compress_size) == (other.CRC, other.compress_size)
    names = read_defined_names(tmp_path / "with-functions.xlsx")
    assert names["Rate"] == DefinedName("Rate", "Inputs!$A$1", None)
    wb = load_workbook(tmp_path / "with-functions.xlsx")
    assert wb["Notes"]["B2"].value == "=Inputs!A3*2"


def test_the_names_go_where_the_schema_puts_them(tmp_path):
    src = tmp_path / "no-names.xlsx"
    Workbook().save(src)  # openpyxl writes <calcPr> and no <definedNames>
    add_functions(src)
    root = etree.fromstring(zipfile.ZipFile(src).read("xl/workbook.xml"))
    order = [etree.QName(child).localname for child in root]
    assert order.index("sheets") < order.index("definedNames") < order.index("calcPr")


def test_adding_again_updates_only_what_changed(tmp_path):
    src = _customer_book(tmp_path / "customer.xlsx")
    add_functions(src)
    again = add_functions(src)
    assert again.names.added == again.names.updated == []
    assert again.names.unchanged == [m.name for m in library()]
    # an older version of one function, as a previous run might have written it
    set_defined_names(src, src, [DefinedName("CVP_ROI", "_xlfn.LAMBDA(_xlpm.b,_xlpm.c,0)",
                                             "old")])
    third = add_functions(src)
    assert third.names.updated == ["CVP_ROI"]
    assert read_defined_names(src)["CVP_ROI"].refers_to == lambda_name("CVP_ROI").refers_to


def test_a_name_of_the_customer_s_own_is_never_overwritten(tmp_path):
    src = _customer_book(tmp_path / "customer.xlsx", CVP_ROI="Inputs!$A$3")
    before = src.read_bytes()
    with pytest.raises(WorkbookError) as info:
        add_functions(src)
    assert str(info.value) == (
        f"{src}: the defined name CVP_ROI already refers to Inputs!$A$3; rename or delete it "
        "in Excel (Formulas > Name Manager), then try again")
    assert src.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["customer.xlsx"]  # no temporary file left


def test_a_file_that_is_not_a_workbook_is_refused(tmp_path):
    notes = tmp_path / "notes.xlsx"
    notes.write_text("not a workbook")
    with pytest.raises(WorkbookError) as info:
        add_functions(notes)
    assert str(info.value) == f"{notes}: not an .xlsx file (not a zip archive)"
    assert notes.read_text() == "not a workbook"
