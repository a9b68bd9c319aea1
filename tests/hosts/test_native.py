"""Translation of CVP_* calls into native Excel formulas.

Each expected formula is the function's definition (``cvp_xl/domain``) behind the checks of
its arguments, written out here by hand from ``cvp_xl/catalog/guards.py``: every input a
number (``COUNT`` of the cells against how many there are; the first error among them passes
on, else ``#VALUE!``), ranges of one shape, then the function's domain in its own order.
What LibreOffice computes from them is checked in ``tests/hosts/test_native_guards.py``.
"""

from __future__ import annotations

import pytest

from cvp_xl.errors import CvpNameError, CvpValueError
from cvp_xl.hosts.native import NoTranslation, cvp_calls, to_native

ROI = "IF(COUNT(B1,B2)<2,SUM(B1,B2)+#VALUE!,(B1-B2)/B2)"


@pytest.mark.parametrize("formula,native", [
    ("=CVP_ROI(B1,B2)", "=" + ROI),
    ("=IFERROR(CVP_ROI(B1,B2),0)", f"=IFERROR({ROI},0)"),
    ("=CVP_DIFFERENTIAL(B2,B3,C2,C3)",
     "=IF(COUNT(B2,B3,C2,C3)<4,SUM(B2,B3,C2,C3)+#VALUE!,(B2-B3)-(C2-C3))"),
    # an expression of single cells is checked with ISNUMBER: COUNT("12") would count it
    ("=CVP_DIFFERENTIAL(B2,B3,C2*2,C3)+1",
     "=(IF(OR(COUNT(B2,B3,C3)<3,NOT(ISNUMBER((C2*2)))),SUM(B2,B3,(C2*2),C3)+#VALUE!,"
     "(B2-B3)-((C2*2)-C3)))+1"),
    ("=_xludf.CVP_INCENTIVE(Inputs!$B$2,'My sheet'!C3)",
     "=IF(COUNT(Inputs!$B$2,'My sheet'!C3)<2,SUM(Inputs!$B$2,'My sheet'!C3)+#VALUE!,"
     "Inputs!$B$2-'My sheet'!C3)"),
    ("=-CVP_INCENTIVE(A1,-B1)",
     "=-(IF(OR(COUNT(A1)<1,NOT(ISNUMBER((-B1)))),SUM(A1,(-B1))+#VALUE!,A1-(-B1)))"),
    # a literal number needs no check
    ("=CVP_ROI(B1,100)", "=IF(COUNT(B1)<1,SUM(B1)+#VALUE!,(B1-100)/100)"),
    # ranges: counted against their size, paired by shape; a zero cost anywhere fails whole
    ("=CVP_ROI(B2:B4,C2:C4)",
     "=IF(COUNT(B2:B4,C2:C4)<ROWS(B2:B4)*COLUMNS(B2:B4)+ROWS(C2:C4)*COLUMNS(C2:C4),"
     "SUM(B2:B4,C2:C4)+#VALUE!,IF(OR(ROWS(B2:B4)<>ROWS(C2:C4),COLUMNS(B2:B4)<>COLUMNS(C2:C4)),"
     "#VALUE!,IF(COUNTIF(C2:C4,0)>0,#DIV/0!,(B2:B4-C2:C4)/C2:C4)))"),
    # one range with one cell: nothing to pair, and a zero cost fails every element anyway
    ("=CVP_ROI(B2:B4,C2)",
     "=IF(COUNT(B2:B4,C2)<1+ROWS(B2:B4)*COLUMNS(B2:B4),SUM(B2:B4,C2)+#VALUE!,(B2:B4-C2)/C2)"),
    ("=CVP_REALIZATION(E5,D5)", "=IF(COUNT(E5,D5)<2,SUM(E5,D5)+#VALUE!,IF(D5<0,#NUM!,E5/D5))"),
    ("=CVP_VALUE_CAPTURE(B1,B2,B3)",
     "=IF(COUNT(B1,B2,B3)<3,SUM(B1,B2,B3)+#VALUE!,IF(OR(B1<0,B2<0,B3<B2),#NUM!,"
     "(B1-B2)/(B3-B2)))"),
    # blank cells in the lists count as none (COUNTA against COUNT); negatives are refused
    ("=CVP_EVE(B7,C2:C4,D2:D3)",
     "=IF(COUNT(B7)<1,SUM(B7)+#VALUE!,IF(B7<0,#NUM!,IF(COUNTA(C2:C4)>COUNT(C2:C4),"
     "SUM(C2:C4)+#VALUE!,IF(MIN(C2:C4)<0,#NUM!,IF(COUNTA(D2:D3)>COUNT(D2:D3),"
     "SUM(D2:D3)+#VALUE!,IF(MIN(D2:D3)<0,#NUM!,B7+SUM(C2:C4)-SUM(D2:D3)))))))"),
    # a literal statistic is known now: only that statistic is computed
    ('=CVP_CASE_STATS(B2:B6,C2:C6,"Food","count")',
     "=IF(COUNTA(B2:B6)>COUNT(B2:B6),SUM(B2:B6)+#VALUE!,IF(OR(ROWS(B2:B6)<>ROWS(C2:C6),"
     'COLUMNS(B2:B6)<>COLUMNS(C2:C6)),#VALUE!,IF(SUMPRODUCT((C2:C6="Food")*ISNUMBER(B2:B6))=0,'
     'NA(),SUMPRODUCT((C2:C6="Food")*ISNUMBER(B2:B6)))))'),
    ('=CVP_CASE_STATS(B2:B6,,,"average")', "=#VALUE!"),
    ("=SUM(A1:A3)", "=SUM(A1:A3)"),
])
def test_to_native(formula, native):
    assert to_native(formula) == native


def test_a_name_of_unknown_size_gets_every_check():
    # a defined name (or a LAMBDA parameter) may be a cell or a range: checked as either
    assert to_native("=CVP_INCENTIVE(value,price)") == (
        "=IF(OR(SUMPRODUCT(1-ISNUMBER(value))>0,SUMPRODUCT(1-ISNUMBER(price))>0),"
        "SUM(value,price)+#VALUE!,IF(AND(IFERROR(ROWS(value),1)*IFERROR(COLUMNS(value),1)>1,"
        "IFERROR(ROWS(price),1)*IFERROR(COLUMNS(price),1)>1,OR(IFERROR(ROWS(value),1)<>"
        "IFERROR(ROWS(price),1),IFERROR(COLUMNS(value),1)<>IFERROR(COLUMNS(price),1))),"
        "#VALUE!,value-price))")


def test_no_translation_is_reported():
    with pytest.raises(NoTranslation) as info:
        to_native("=CVP_PAYBACK(A1,B1:B5)")
    assert str(info.value) == "CVP_PAYBACK has no native-formula translation"


def test_ranges_of_as_many_cells_in_other_shapes_have_no_translation():
    # CVP_VALUE_MAP pairs items in reading order; SUMPRODUCT pairs ranges of one shape only
    with pytest.raises(NoTranslation) as info:
        to_native("=CVP_VALUE_MAP(A1:C1,B1:B3,C1:C3)")
    assert str(info.value) == (
        "CVP_VALUE_MAP has no native-formula translation: weights, scores_s and scores_a hold "
        "as many cells in different shapes, and the native SUMPRODUCT pairs ranges of one "
        "shape only")


def test_a_formula_longer_than_excel_allows_has_no_translation():
    nested = "A1"
    for _ in range(6):  # each level repeats its argument three times in its checks
        nested = f"CVP_INCENTIVE({nested},B1)"
    with pytest.raises(NoTranslation) as info:
        to_native(f"={nested}")
    assert str(info.value).startswith("CVP_INCENTIVE has no native-formula translation: its "
                                      "native formula would be ")
    assert str(info.value).endswith(" characters long; Excel allows 8,192")


def test_unknown_cvp_function():
    with pytest.raises(CvpNameError) as info:
        to_native("=CVP_NOPE(A1)")
    assert str(info.value) == "#NAME? unknown function CVP_NOPE"


def test_wrong_argument_count():
    with pytest.raises(CvpValueError) as info:
        to_native("=CVP_ROI(A1)")
    assert info.value.message == "CVP_ROI(benefit, cost) takes 2 arguments, got 1"


def test_cvp_calls():
    assert cvp_calls("=SUM(CVP_ROI(A1,B1),_xludf.cvp_incentive(A1,B1))") == [
        "CVP_ROI", "CVP_INCENTIVE"]
    assert cvp_calls("plain text") == []


@pytest.mark.parametrize("kind", ["cells", "ranges", "names"])
def test_translations_call_only_share_safe_functions(kind):
    from cvp_xl.registry import functions
    from cvp_xl.xlsx.share_safe import SHARE_SAFE_FUNCTIONS, functions_in

    for entry in functions():
        if entry.native is None or entry.native_reads_cells:
            continue
        args = {"cells": [f"B{i + 1}" for i in range(len(entry.args))],
                "ranges": [f"{c}1:{c}4" for c in "BCDEFG"[:len(entry.args)]],
                "names": [a.name for a in entry.args]}[kind]
        try:
            text = entry.to_native(*args)
        except NoTranslation:
            continue
        used = set(functions_in("=" + text))
        assert used <= SHARE_SAFE_FUNCTIONS, (entry.name, used - SHARE_SAFE_FUNCTIONS)
