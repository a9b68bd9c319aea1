"""Translation of CVP_* calls into native Excel formulas."""

from __future__ import annotations

import pytest

from cvp_xl.errors import CvpNameError, CvpValueError
from cvp_xl.hosts.native import NoTranslation, cvp_calls, to_native


@pytest.mark.parametrize("formula,native", [
    ("=CVP_ROI(B1,B2)", "=(B1-B2)/B2"),
    ("=IFERROR(CVP_ROI(B1,B2),0)", "=IFERROR((B1-B2)/B2,0)"),
    ("=CVP_DIFFERENTIAL(B2,B3,C2,C3)", "=(B2-B3)-(C2-C3)"),
    ("=CVP_DIFFERENTIAL(B2,B3,C2*2,C3)+1", "=((B2-B3)-((C2*2)-C3))+1"),
    ("=_xludf.CVP_INCENTIVE(Inputs!$B$2,'My sheet'!C3)", "=Inputs!$B$2-'My sheet'!C3"),
    ("=CVP_BREAKEVEN_PRICE(value_s,value_a,price_a)", "=price_a+(value_s-value_a)"),
    ("=SUM(A1:A3)", "=SUM(A1:A3)"),
    ('=CVP_INCENTIVE(CVP_ROI(A1,B1),"a,b")', '=((A1-B1)/B1)-("a,b")'),
    ("=-CVP_INCENTIVE(A1,-B1)", "=-(A1-(-B1))"),
])
def test_to_native(formula, native):
    assert to_native(formula) == native


def test_no_translation_is_reported():
    with pytest.raises(NoTranslation) as info:
        to_native("=CVP_PAYBACK(A1,B1:B5)")
    assert str(info.value) == "CVP_PAYBACK has no native-formula translation"


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
