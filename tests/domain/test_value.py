"""The fundamental value equation family: hand calculations, errors, invariants."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import cash_flows, money, positive_money

from cvp_xl import (
    CvpDivZeroError,
    CvpNAError,
    CvpNumError,
    CvpValueError,
    breakeven_price,
    differential,
    incentive,
    next_best,
    payback,
    roi,
)
from cvp_xl.errors import ErrorValue


def test_differential_is_the_incentive_gap():
    # hand: incentive ours 1000 - 600 = 400; alternative 700 - 450 = 250; gap 150
    assert differential(1000, 600, 700, 450) == 150.0
    assert differential(1000, 600, 700, 450) == incentive(1000, 600) - incentive(700, 450)


def test_breakeven_price_makes_the_differential_zero():
    # hand: 450 + (1000 - 700) = 750, and at 750 the customer is indifferent
    price = breakeven_price(1000, 700, 450)
    assert price == 750.0
    assert differential(1000, price, 700, 450) == 0.0


def test_ranges_keep_their_shape_and_scalars_broadcast():
    got = differential(np.array([[1000.0, 800.0]]), 600, [[700, 700]], 450)
    assert got.shape == (1, 2)
    assert got.tolist() == [[150.0, -50.0]]


@pytest.mark.parametrize("bad,message", [
    ("abc", "price_s: expected a number, got 'abc'"),
    ("12", "price_s: expected a number, got '12'"),
    (None, "price_s: expected a number, got a blank cell"),
    (True, "price_s: expected a number, got TRUE"),
    (ErrorValue("#N/A"), "price_s: the input is the error #N/A"),
])
def test_bad_price_is_named(bad, message):
    with pytest.raises(Exception) as info:
        differential(1000, bad, 700, 450)
    assert info.value.message == message


def test_an_error_input_keeps_its_code():
    with pytest.raises(CvpDivZeroError):
        roi(ErrorValue("#DIV/0!"), 10)


def test_item_of_a_range_is_named():
    with pytest.raises(CvpValueError) as info:
        incentive([[1], ["x"], [3]], 0)
    assert info.value.message == "value (item 2): expected a number, got 'x'"


def test_nan_is_num_error():
    with pytest.raises(CvpNumError) as info:
        incentive(math.nan, 1)
    assert info.value.message == "value: expected a finite number, got nan"


def test_roi_zero_cost():
    with pytest.raises(CvpDivZeroError) as info:
        roi([[100], [200]], [[10], [0]])
    assert str(info.value) == ("#DIV/0! cost: is 0; ROI = (benefit - cost) / cost "
                               "needs a non-zero cost")


def test_next_best_with_a_flat_list_and_ties():
    # hand: incentives 5, 5, 4; the first of the tie wins
    assert next_best(["A", "B", "C"], [10, 20, 5], [5, 15, 1]) == "A"


def test_next_best_needs_alternatives():
    with pytest.raises(CvpValueError) as info:
        next_best([], [], [])
    assert info.value.message == (
        "values: expected a number or a range of numbers, got an empty range")


def test_payback_interpolates_within_the_period():
    # hand: cumulative -1000 + 300 = -700, -700 + 500 = -200, -200 + 800 = 600;
    # turns in period 3: 2 + 200 / 800 = 2.25
    assert payback(1000, [300, 500, 800]) == 2.25


def test_payback_never_reached():
    with pytest.raises(CvpNAError) as info:
        payback(1_000_000, [[1000], [2500.5]])
    assert info.value.message == ("payback not reached: cumulative cash flow after 2 periods "
                                  "is -996,499.5")


@given(money, money, money, money)
def test_differential_is_antisymmetric(vs, ps, va, pa):
    assert differential(vs, ps, va, pa) == -differential(va, pa, vs, ps)


@given(positive_money, cash_flows, st.floats(min_value=0, max_value=1))
def test_payback_never_shortens_when_cash_flows_shrink(investment, flows, factor):
    smaller = [f * factor if f > 0 else f for f in flows]
    try:
        shrunk = payback(investment, smaller)
    except CvpNAError:
        return
    assert payback(investment, flows) <= shrunk + 1e-9 * max(1.0, shrunk)


@given(positive_money, cash_flows)
def test_payback_lies_within_the_horizon(investment, flows):
    try:
        years = payback(investment, flows)
    except CvpNAError:
        assert np.all(-investment + np.cumsum(flows) < 0)
        return
    assert 0 <= years <= len(flows)


def test_a_single_cell_range_is_a_number_but_a_block_is_not():
    assert payback([[10.0]], [[4.0], [6.0]]) == 2.0  # hand: -10 + 4 + 6 = 0 at the end of 2
    with pytest.raises(CvpValueError) as info:
        payback([[10.0], [5.0]], [[4.0]])
    assert info.value.message == ("investment: expected a single number, got a range of "
                                  "2 rows x 1 column")
