"""Value-based pricing and positioning math: published examples, hand calculations, exact errors.

Every expected value says where it came from: a published example quoted in DOMAIN.md, or a
hand calculation written out next to it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cvp_xl import CvpDivZeroError, CvpNAError, CvpNumError, CvpValueError, roi
from cvp_xl.domain.positioning import (
    fair_value_gap,
    point_type,
    relative_price,
    resonating_focus,
    value_map,
)
from cvp_xl.domain.pricing import eve, price_for_share, price_range, reference_value, value_capture
from cvp_xl.errors import ErrorValue

FAV, UNFAV, CONT = "favorable difference", "unfavorable difference", "contention"


def message(exc_type, func, *args) -> str:
    with pytest.raises(exc_type) as info:
        func(*args)
    return info.value.message


# -- published examples (DOMAIN.md) ------------------------------------------------------------


def test_towel_unit_equivalence():
    # LeveragePoint, "Prices as Quoted" chart help: one super towel replaces three conventional
    # towels at $0.02 each, so the reference value per super towel is $0.06.
    assert math.isclose(reference_value(0.02, 3), 0.06, rel_tol=1e-12)


def test_roi_published_example():
    # prezentor.com, "How to build and use ROI calculators in sales": benefit 200,000 on a
    # cost of 50,000 gives 300 %.
    assert roi(200_000, 50_000) == 3.0


# -- reference value and EVE -------------------------------------------------------------------


def test_reference_value_element_by_element():
    # hand: 0.02 x 3 = 0.06; 1.5 x 2 = 3
    got = reference_value([[0.02], [1.5]], [[3], [2]])
    assert np.allclose(got, [[0.06], [3.0]], rtol=1e-12)


@pytest.mark.parametrize("args,text", [
    ((0.02, 0), "alternative_units_per_unit: expected more than 0 (units of the alternative "
                "that one unit of ours replaces), got 0"),
    ((-0.02, 3), "alternative_price: expected a price of 0 or more, got -0.02"),
    (([[0.02], [0.03]], [[3], [-1]]), "alternative_units_per_unit (item 2): expected more than "
                                      "0 (units of the alternative that one unit of ours "
                                      "replaces), got -1"),
])
def test_reference_value_refuses(args, text):
    assert message(CvpNumError, reference_value, *args) == text


def test_eve_hand_calculation():
    # hand: 100 + (30 + 20) - (15 + 5) = 130
    assert eve(100, [[30], [20]], [[15], [5]]) == 130.0


def test_eve_skips_blank_cells_like_sum():
    # hand: 100 + (30 + 20) - 15 = 135; the blank cells mean "none"
    assert eve(100, [[30], [None], [20]], [[15], [None]]) == 135.0
    assert eve(100, [[None]], None) == 100.0  # nothing in either list


def test_eve_takes_single_numbers_and_flat_lists():
    # hand: 0.06 + 0.012 + 0.006 - 0.004 = 0.074 (the towel workbook's example figures)
    assert math.isclose(eve(0.06, [0.012, 0.006], 0.004), 0.074, rel_tol=1e-12)


@pytest.mark.parametrize("pos,neg,text", [
    ([[30]], [[-15]], "negative_values: is -15; enter negative differentiation value as a "
                      "positive amount (it is subtracted)"),
    ([[30]], [[15], [-2.5]], "negative_values (item 2): is -2.5; enter negative differentiation "
                             "value as a positive amount (it is subtracted)"),
    ([[30], [-5]], [[15]], "positive_values (item 2): is -5; enter negative differentiation "
                           "value as a positive amount in negative_values"),
])
def test_eve_negative_amount_says_how_to_enter_it(pos, neg, text):
    assert message(CvpNumError, eve, 100, pos, neg) == text


def test_eve_refuses_text_and_passes_errors_on():
    assert message(CvpValueError, eve, 100, [["abc"], [20]], [[15]]) == (
        "positive_values (item 1): expected a number, got 'abc'")
    with pytest.raises(CvpDivZeroError):
        eve(100, [[ErrorValue("#DIV/0!")]], [[15]])
    assert message(CvpValueError, eve, None, [[1]], [[1]]) == (
        "reference_value: expected a number, got a blank cell")


# -- price range, capture, price for a share ---------------------------------------------------


def test_price_range_is_a_row_of_two():
    got = price_range(100, 135)
    assert got.shape == (1, 2)
    assert got.tolist() == [[100.0, 135.0]]


def test_price_range_below_reference_is_refused():
    assert message(CvpNumError, price_range, 100, 90) == (
        "economic_value: 90 is below reference_value 100; the net differentiation value is "
        "negative, so there is no value-based price range")


def test_value_capture_hand_calculation():
    # hand: (121 - 100) / (135 - 100) = 21 / 35 = 0.6; the customer keeps 0.4, i.e. its
    # incentive 135 - 121 = 14 = 0.4 x 35
    assert value_capture(121, 100, 135) == 0.6


def test_price_below_reference_gives_a_negative_share():
    # hand: (90 - 100) / 35 = -0.2857...: allowed; the customer's incentive 135 - 90 = 45 is
    # more than all of the differentiation value 35, the supplier gives away 10 more
    share = value_capture(90, 100, 135)
    assert share == -10 / 35
    assert (1 - share) * 35 == pytest.approx(135 - 90, rel=1e-12)


def test_price_above_economic_value_gives_a_share_above_one():
    # hand: (150 - 100) / 35 = 1.4286: allowed; the customer's incentive 135 - 150 = -15 < 0
    share = value_capture(150, 100, 135)
    assert share == 50 / 35
    assert (1 - share) * 35 == pytest.approx(135 - 150, rel=1e-12)


def test_value_capture_errors():
    assert message(CvpDivZeroError, value_capture, 120, 100, 100) == (
        "economic_value: equals reference_value (100); with no differentiation value there is "
        "no share to capture")
    assert message(CvpDivZeroError, value_capture, [[121], [120]], 100, [[135], [100]]) == (
        "economic_value (item 2): equals reference_value (100); with no differentiation value "
        "there is no share to capture")
    assert message(CvpNumError, value_capture, 120, [[100, 100]], [[135, 90]]) == (
        "economic_value (item 2): 90 is below reference_value (item 2) 100; the net "
        "differentiation value is negative, so there is no value-based price range")
    assert message(CvpNumError, value_capture, -5, 100, 135) == (
        "price: expected a price of 0 or more, got -5")


def test_price_for_share_hand_calculation():
    # hand: 135 - 0.4 x (135 - 100) = 121; share 1 gives the floor, 0 the ceiling
    assert price_for_share(100, 135, 0.4) == pytest.approx(121.0, rel=1e-15)
    assert price_for_share(100, 135, 1) == 100.0
    assert price_for_share(100, 135, 0) == 135.0


@pytest.mark.parametrize("share", [-0.1, 1.5])
def test_price_for_share_outside_zero_to_one(share):
    assert message(CvpNumError, price_for_share, 100, 135, share) == (
        f"customer_share: expected a share from 0 to 1 (0.25 for 25 %), got {share:g}")


@given(st.floats(0, 1e6), st.floats(0.01, 1e6), st.floats(0, 1))
def test_price_for_share_and_capture_are_inverse(ref, diff, share):
    eco = ref + diff
    if eco == ref:  # diff vanished in rounding against a large reference
        return
    price = price_for_share(ref, eco, share)
    assert value_capture(price, ref, eco) == pytest.approx(1 - share, abs=1e-6)


# -- point types -------------------------------------------------------------------------------


@pytest.mark.parametrize("s,c,tol,expected", [
    (5000, 4000, 500, FAV),  # hand: both above 500
    (5000, 300, 500, CONT),  # supplier favorable, customer parity
    (300, 5000, 500, CONT),  # the reverse: the customer values it more than we do
    (-200, 400, 500, "parity"),  # both within 500
    (-2000, -1500, 500, UNFAV),  # both below -500
    (500, -500, 500, "parity"),  # boundary: |view| <= tolerance is parity
    (500.01, 600, 500, FAV),  # just outside the tolerance
    (1000, -800, 0, CONT),  # favorable against unfavorable
    (0, 0, 0, "parity"),
])
def test_point_type(s, c, tol, expected):
    assert point_type(s, c, tol) == expected


def test_point_type_tolerance_must_not_be_negative():
    assert message(CvpNumError, point_type, 100, 100, -1) == (
        "tolerance: expected 0 or more (the largest difference still counted as parity), got -1")


@given(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6), st.floats(0, 1e5))
def test_point_type_does_not_depend_on_who_is_asked_first(s, c, tol):
    assert point_type(s, c, tol) == point_type(c, s, tol)


# -- resonating focus --------------------------------------------------------------------------

NAMES = ["Uptime", "Energy savings", "Training", "Delivery", "Color range"]
VALUES = [5000, 9000, 800, 4100, 0]
TYPES = [FAV, CONT, FAV, FAV, "parity"]


def test_resonating_focus_largest_first():
    # hand: favorable and above 0: Uptime 5000, Training 800, Delivery 4100; largest first
    assert resonating_focus(NAMES, VALUES, TYPES, 3) == [["Uptime"], ["Delivery"], ["Training"]]
    assert resonating_focus(NAMES, VALUES, TYPES) == [["Uptime"], ["Delivery"]]  # n = 2


def test_resonating_focus_without_types_counts_every_positive_value():
    # hand: 9000 and 5000 are the largest positive values
    assert resonating_focus(NAMES, VALUES) == [["Energy savings"], ["Uptime"]]


def test_resonating_focus_types_ignore_case_and_blanks():
    types = [" Favorable Difference ", "CONTENTION", FAV, FAV, "Parity"]
    assert resonating_focus(NAMES, VALUES, types, 1) == [["Uptime"]]


def test_resonating_focus_ties_keep_the_listed_order():
    assert resonating_focus(["A", "B", "C"], [300, 500, 500]) == [["B"], ["C"]]


def test_resonating_focus_skips_rows_left_empty():
    got = resonating_focus([["A"], [None], ["B"], [None]], [[100], [None], [200], [None]],
                           [[FAV], [None], [FAV], [None]])
    assert got == [["B"], ["A"]]


def test_resonating_focus_needs_enough_points():
    assert message(CvpNAError, resonating_focus, NAMES, VALUES, TYPES, 4) == (
        "n: asks for 4 favorable points of difference but there are only 3 (typed favorable "
        "difference, value above 0)")
    assert message(CvpNAError, resonating_focus, ["A", "B"], [100, -5]) == (
        "n: asks for 2 favorable points of difference but there is only 1 (value above 0)")


@pytest.mark.parametrize("args,exc,text", [
    ((NAMES, VALUES, TYPES, 0), CvpNumError, "n: expected a whole number of 1 or more, got 0"),
    ((NAMES, VALUES, TYPES, 1.5), CvpNumError,
     "n: expected a whole number of 1 or more, got 1.5"),
    ((["A", "B"], [1, 2], [FAV, "better"]), CvpValueError,
     "types (item 2): expected parity, favorable difference, unfavorable difference or "
     "contention, got 'better'"),
    ((["A", None], [1, 2]), CvpValueError, "names (item 2): expected a name, got a blank cell"),
    ((["A", "B"], [1, None]), CvpValueError,
     "values (item 2): expected a number, got a blank cell"),
    ((["A", "B", "C"], [1, 2]), CvpValueError, "names has 3 items but values has 2"),
])
def test_resonating_focus_bad_input(args, exc, text):
    assert message(exc, resonating_focus, *args) == text


# -- value map ---------------------------------------------------------------------------------


def test_value_map_hand_calculation():
    # hand (Gale's method; figures composed for these tests): weights sum to 100;
    # 40 x 8/6 + 25 x 7/7 + 20 x 9/6 + 15 x 5/8 = 53.3333 + 25 + 30 + 9.375 = 117.7083
    got = value_map([40, 25, 20, 15], [8, 7, 9, 5], [6, 7, 6, 8])
    assert got == pytest.approx(53 + 1 / 3 + 25 + 30 + 9.375, rel=1e-12)


def test_value_map_parity_is_100():
    assert value_map([[3], [1]], [[6], [4]], [[6], [4]]) == 100.0


def test_value_map_normalises_weights_to_100():
    # hand: weights 4, 2 -> 66.67, 33.33; (4 x 8/6 + 2 x 7/7) x 100 / 6 = 122.2222
    got = value_map([4, 2], [8, 7], [6, 7])
    assert got == pytest.approx((4 * 8 / 6 + 2) * 100 / 6, rel=1e-12)
    assert got == pytest.approx(value_map([200 / 3, 100 / 3], [8, 7], [6, 7]), rel=1e-12)


@given(st.lists(st.tuples(st.floats(0.1, 100), st.floats(0, 10), st.floats(0.1, 10)),
                min_size=1, max_size=8), st.floats(0.01, 100))
def test_value_map_does_not_depend_on_the_scale_of_the_weights(rows, scale):
    w, s, a = (list(col) for col in zip(*rows))
    assert value_map([x * scale for x in w], s, a) == pytest.approx(value_map(w, s, a),
                                                                    rel=1e-9)


@pytest.mark.parametrize("args,exc,text", [
    (([0, 0], [8, 7], [6, 7]), CvpDivZeroError,
     "weights: sum to 0; each weight is normalised as w_i x 100 / sum of weights, so at least "
     "one weight must be above 0"),
    (([40, 60], [8, 7], [6, 0]), CvpDivZeroError,
     "scores_a (item 2): the competitor's score is 0; the relative score s_i / a_i needs a "
     "score above 0"),
    (([40], [8], [0]), CvpDivZeroError,
     "scores_a: the competitor's score is 0; the relative score s_i / a_i needs a score above 0"),
    (([40, -10], [8, 7], [6, 7]), CvpNumError,
     "weights (item 2): expected an importance weight of 0 or more, got -10"),
    (([40, 60], [-8, 7], [6, 7]), CvpNumError,
     "scores_s (item 1): expected a score of 0 or more, got -8"),
    (([40, 60, 10], [8, 7], [6, 7]), CvpValueError, "weights has 3 items but scores_s has 2"),
])
def test_value_map_bad_input(args, exc, text):
    assert message(exc, value_map, *args) == text


def test_relative_price_and_gap():
    # hand: 100 x 10800 / 12000 = 90; 117.7083 - 90 = 27.7083 (below/right: better value)
    assert relative_price(10800, 12000) == 90.0
    assert fair_value_gap(117.5, 90) == 27.5
    assert fair_value_gap(95, 110) == -15.0  # above/left of the line: worse value
    assert relative_price([[1080], [1500]], 1200).tolist() == [[90.0], [125.0]]


def test_relative_price_errors():
    assert message(CvpDivZeroError, relative_price, 1200, 0) == (
        "price_a: is 0; relative price = 100 x price_s / price_a needs a price above 0")
    assert message(CvpNumError, relative_price, -1, 100) == (
        "price_s: expected a price of 0 or more, got -1")
