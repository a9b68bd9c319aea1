"""Translating word equations into native Excel formulas, checked against real engines.

The formulas package recomputes every translated formula here; where LibreOffice is installed
(``soffice``), a workbook of translated formulas is recalculated by LibreOffice Calc too.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import numpy as np
import pytest

from cvp_xl.errors import CvpNameError, CvpRefError, CvpValueError
from cvp_xl.wordeq import evaluate, parse, to_formula

formulas = pytest.importorskip("formulas")
from formulas.tokens.operand import XlError  # noqa: E402

DOMAIN_EQUATION = """Savings from fewer unplanned stops per year =
    (Unplanned stops per year with the alternative - Unplanned stops per year with ours)
    x Hours lost per stop x Contribution margin lost per hour"""
DOMAIN_REFS = {
    "Unplanned stops per year with the alternative": "B3",
    "Unplanned stops per year with ours": "B4",
    "Hours lost per stop": "B5",
    "Contribution margin lost per hour": "B6",
}


def excel_value(formula: str, inputs: dict[str, float]):
    """Compute a formula with the formulas engine; inputs by (upper-case) reference."""
    func = formulas.Parser().ast(formula)[1].compile()
    args = [inputs[name] for name in func.inputs]
    return np.asarray(func(*args), dtype=object).ravel()[0]


def test_domain_example_formula():
    formula = to_formula(DOMAIN_EQUATION, DOMAIN_REFS)
    assert formula == "=(B3-B4)*B5*B6"
    # Hand calculation as in test_wordeq_parse: (12 - 4) x 6 x 1,500 = 72,000.
    assert excel_value(formula, {"B3": 12, "B4": 4, "B5": 6, "B6": 1500}) == 72000


@pytest.mark.parametrize(
    ("equation", "formula"),
    [
        ("-a^2", "=(-B1)^2"),
        ("-(a^2)", "=-(B1^2)"),
        ("a^b^c", "=(B1^B2)^B3"),
        ("a^(b^c)", "=B1^(B2^B3)"),
        ("a^-b", "=B1^(-B2)"),
        ("a - (b - c)", "=B1-(B2-B3)"),
        ("(a - b) - c", "=B1-B2-B3"),
        ("a / (b * c)", "=B1/(B2*B3)"),
        ("a * (b + c)", "=B1*(B2+B3)"),
        ("a * -b", "=B1*(-B2)"),
        ("a - -b", "=B1-(-B2)"),
        ("-a * b", "=-B1*B2"),
        ("-(a + b)", "=-(B1+B2)"),
        ("--a", "=B1"),
        ("((a))", "=B1"),
        ("a * 15%", "=B1*0.15"),
        ("a * 0.7%", "=B1*0.007"),
        ("a * 1200.50 + 1e-5 + 2.5E20", "=B1*1200.5+1E-05+2.5E+20"),
        (
            "min(a; b, 3) + Max(a,b) + abs(a) + round(a, -1)",
            "=MIN(B1,B2,3)+MAX(B1,B2)+ABS(B1)+ROUND(B1,-1)",
        ),
        ("Out = a × b ÷ c − 1", "=B1*B2/B3-1"),
        ("a·b⋅c", "=B1*B2*B3"),
    ],
)
def test_formulas(equation, formula):
    refs = {"a": "B1", "b": "B2", "c": "B3"}
    assert to_formula(equation, refs) == formula


@pytest.mark.parametrize(
    "equation",
    [
        "-a^2",
        "a^b^c",
        "a^-b",
        "2^-b^2",
        "a - (b - c) * 2",
        "-(a + b) / c",
        "ROUND(a / c, 2) + MIN(a, b) * 15%",
        "MAX(a - b, 0) ^ 2 - ABS(b - c)",
        "a * -b ^ 2",
        "10 - a - b - c",
    ],
)
def test_formulas_engine_agrees_with_evaluate(equation):
    names = ["a", "b", "c"]
    refs = {"a": "B1", "b": "B2", "c": "B3"}
    values = [1.7, -2.25, 3.5]
    expected = evaluate(equation, names, values)
    got = excel_value(to_formula(equation, refs), {"B1": 1.7, "B2": -2.25, "B3": 3.5})
    assert got == pytest.approx(expected, rel=1e-12)


def test_division_by_zero_is_an_excel_error_too():
    formula = to_formula("a / (b - c)", {"a": "B1", "b": "B2", "c": "B3"})
    value = excel_value(formula, {"B1": 1.0, "B2": 2.0, "B3": 2.0})
    assert isinstance(value, XlError)
    assert str(value) == "#DIV/0!"


@pytest.mark.parametrize(
    "ref", ["B3", "$B$3", "Inputs!$C$4", "'My sheet'!A1", "'It''s'!B2", "stops_alt", "Inputs!rate"]
)
def test_references_that_are_accepted(ref):
    assert to_formula("a * 2", {"a": ref}) == f"={ref}*2"


@pytest.mark.parametrize(
    "ref", ['B3)+HYPERLINK("x")', "B3 ", "", "A1:B2", "=B3", "TRUE", "Sheet!FALSE", "R", 3, None]
)
def test_references_that_are_refused(ref):
    with pytest.raises(CvpValueError) as error:
        to_formula("a * 2", {"a": ref})
    shown = repr(ref)
    assert error.value.message == (
        f"the reference for 'a' is not a cell or a defined name: {shown}"
    )


def test_refs_match_names_like_parse():
    assert to_formula("HOURS lost  per stop * 2", {"Hours lost per stop": "B5"}) == "=B5*2"
    with pytest.raises(CvpNameError) as error:
        to_formula("Hours lost * 2", {"Hours lost per stop": "B5"})
    assert (
        error.value.message == "unknown quantity 'Hours lost'; did you mean 'Hours lost per stop'?"
    )


def test_word_equation_method_needs_every_reference():
    eq = parse("a + b", ["a", "b"])
    assert eq.to_formula({"A": "C1", "b": "C2", "unused": "C9"}) == "=C1+C2"
    with pytest.raises(CvpRefError) as error:
        eq.to_formula({"a": "C1"})
    assert error.value.message == "no cell reference for 'b'"
    with pytest.raises(CvpValueError) as error:
        eq.to_formula({"a": "C1", "A": "C3", "b": "C2"})
    assert error.value.message == (
        "refs names 'A' twice with different references (case and spaces are ignored)"
    )
    with pytest.raises(CvpValueError) as error:
        eq.to_formula(["C1", "C2"])
    assert (
        error.value.message == "refs must map quantity names to cell references, got ['C1', 'C2']"
    )


def test_formula_length_limit():
    equation = "+".join(["a"] * 600)  # 1,199 characters
    ref = "'" + "S" * 20 + "'!$A$1"  # 27 characters
    with pytest.raises(CvpValueError) as error:
        to_formula(equation, {"a": ref})
    # "=" + 600 references + 599 "+" = 1 + 16,200 + 599 = 16,800
    assert error.value.message == (
        "the formula would be 16,800 characters long; Excel's limit is 8,192"
    )


# -- LibreOffice Calc, a real spreadsheet program ------------------------------------------

LIBREOFFICE_CASES = [
    # (equation, hand-computed Excel result where one is given, else None)
    ("-2^2", 4.0),
    ("2^3^2", 64.0),
    ("10-2-3", 5.0),
    ("2*15%", 0.3),
    ("2^-2^2", 0.0625),
    ("ROUND(2.675, 2)", 2.68),
    ("ROUND(-2.5, 0)", -3.0),
    ("ROUND(0.285, 2)", 0.29),
    ("-a^2 + a^b^c", None),
    ("(a - b) x c x 15%", None),
    ("MIN(a, b, c) - MAX(a; b) / ABS(c - 10)", None),
    ("ROUND(a / c, 1) * -b", None),
    ("a - (b - (c - a)) * 2 ^ -b", None),
]


@pytest.mark.skipif(
    shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed"
)
def test_libreoffice_computes_what_evaluate_computes(tmp_path: Path):
    openpyxl = pytest.importorskip("openpyxl")
    names, inputs = ["a", "b", "c"], [1.5, 2.0, 3.25]
    refs = {"a": "$B$1", "b": "$B$2", "c": "$B$3"}
    book = openpyxl.Workbook()
    sheet = book.active
    for row, value in enumerate(inputs, 1):
        sheet.cell(row, 2, value)
    expected = []
    for row, (equation, by_hand) in enumerate(LIBREOFFICE_CASES, 5):
        sheet.cell(row, 1, to_formula(equation, refs))
        value = evaluate(equation, names, inputs)
        if by_hand is not None:
            assert value == pytest.approx(by_hand, rel=1e-12)
        expected.append((row, equation, value))
    source = tmp_path / "wordeq.xlsx"
    book.save(source)
    out = tmp_path / "out"
    profile = (tmp_path / f"profile-{uuid.uuid4().hex}").as_uri()
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile}",
            "--headless",
            "--calc",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    computed = openpyxl.load_workbook(out / "wordeq.xlsx", data_only=True).active
    for row, equation, value in expected:
        assert computed.cell(row, 1).value == pytest.approx(value, rel=1e-9), equation
