"""Evaluating word equations: values, arrays per customer, Excel's error cases, ROUND."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from cvp_xl.args import shape_text
from cvp_xl.errors import CvpDivZeroError, CvpNumError, CvpValueError
from cvp_xl.wordeq import evaluate, parse

NAMES = ["Hours lost per stop", "Stops per year", "Cost per hour"]


def test_scalar_result_is_a_float():
    result = evaluate("Hours lost per stop * Stops per year", NAMES, [6, 4, 0])
    assert type(result) is float
    assert result == 24.0


def test_accepts_python_and_numpy_numbers():
    values = [np.float32(1.5), Decimal("2.5"), Fraction(1, 4)]
    # 1.5 + 2.5 + 0.25 = 4.25
    assert evaluate("Hours lost per stop + Stops per year + Cost per hour", NAMES, values) == 4.25
    assert evaluate("Hours lost per stop * 2", NAMES, [np.int64(3), None, None]) == 6.0


def test_unused_values_are_not_checked():
    assert evaluate("Stops per year * 2", NAMES, ["n/a", 4, None]) == 8.0


def test_arrays_per_customer_and_broadcast_numbers():
    hours = np.array([6.0, 2.0, 0.5])
    stops = np.array([4, 10, 8])  # integers are fine
    result = evaluate(
        "Hours lost per stop * Stops per year * Cost per hour", NAMES, [hours, stops, 100]
    )
    np.testing.assert_array_equal(result, [2400.0, 2000.0, 400.0])
    assert result.dtype == np.float64


def test_two_dimensional_arrays_and_lists():
    hours = np.array([[1.0, 2.0], [3.0, 4.0]])
    result = evaluate("Hours lost per stop * Stops per year", NAMES, [hours, [[1, 1], [2, 2]], 0])
    np.testing.assert_array_equal(result, [[1.0, 2.0], [6.0, 8.0]])


def test_result_never_aliases_an_input():
    hours = np.array([1.0, 2.0])
    for equation in ["Hours lost per stop", "(Hours lost per stop)", "MIN(Hours lost per stop)"]:
        result = evaluate(equation, NAMES, [hours, 0, 0])
        result[0] = 99.0
        assert hours[0] == 1.0


def test_inputs_are_never_modified():
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([0.5, 0.5, 0.5])
    copies = a.copy(), b.copy()
    evaluate("-(Hours lost per stop - Stops per year) * Stops per year * 2", NAMES, [a, b, 0])
    evaluate("-ABS(Hours lost per stop) * MAX(Hours lost per stop, 2)", NAMES, [a, b, 0])
    np.testing.assert_array_equal(a, copies[0])
    np.testing.assert_array_equal(b, copies[1])


def test_vectorised_equals_one_customer_at_a_time():
    rng = np.random.default_rng(7)
    columns = [rng.uniform(-50, 50, 200) for _ in NAMES]
    equation = (
        "ROUND(Hours lost per stop ^ 2 / (ABS(Stops per year) + 1), 2) "
        "- MAX(Cost per hour, 0) * 15% + MIN(Hours lost per stop, Stops per year)"
    )
    vector = evaluate(equation, NAMES, columns)
    one_by_one = [evaluate(equation, NAMES, [c[i] for c in columns]) for i in range(200)]
    np.testing.assert_array_equal(vector, one_by_one)


def test_matches_hand_written_numpy():
    rng = np.random.default_rng(3)
    a, b, c = (rng.uniform(1, 100, 1000) for _ in range(3))
    result = evaluate(
        "(Hours lost per stop - Stops per year) x Cost per hour / 3", NAMES, [a, b, c]
    )
    np.testing.assert_array_equal(result, (a - b) * c / 3)


# -- Excel's error cases -----------------------------------------------------------------


def test_division_by_zero_names_the_divisor():
    with pytest.raises(CvpDivZeroError) as error:
        evaluate("Cost per hour / Stops per year", NAMES, [1, 0, 5])
    assert error.value.message == "division by zero: 'Stops per year' is 0"
    assert str(error.value) == "#DIV/0! division by zero: 'Stops per year' is 0"


def test_division_by_zero_in_any_customer_raises_and_names_the_item():
    hours = np.array([1.0, 2.0, 3.0])
    stops = np.array([0.5, 2.0, 3.0])
    with pytest.raises(CvpDivZeroError) as error:
        evaluate("Cost per hour / (Hours lost per stop - Stops per year)", NAMES, [hours, stops, 5])
    assert error.value.message == (
        "division by zero: '(Hours lost per stop - Stops per year)' is 0 at item 2"
    )
    grid = np.array([[1.0, 2.0], [3.0, 0.0]])
    with pytest.raises(CvpDivZeroError) as error:
        evaluate("1 / Stops per year", NAMES, [0, grid, 0])
    assert error.value.message == "division by zero: 'Stops per year' is 0 at row 2, column 2"


@pytest.mark.parametrize(
    ("equation", "kind", "message"),
    [
        # Excel: =0^0 is #NUM!, =0^-1 is #DIV/0!, =(-8)^(1/3) is #NUM!, 1E300*1E300 is #NUM!.
        ("0^0", CvpNumError, "0^0 is undefined: '0' and its exponent '0' are both 0"),
        ("0^-1", CvpDivZeroError, "division by zero: '0' is 0 and its exponent '-1' is negative"),
        (
            "(-8)^(1/3)",
            CvpNumError,
            "'(-8)' is negative and its exponent '(1/3)' is not a whole number",
        ),
        ("1e300 * 1e300", CvpNumError, "number too large in '1e300 * 1e300'"),
        ("2 + 1e300 * 1e300 / 2", CvpNumError, "number too large in '1e300 * 1e300'"),
        ("10^400", CvpNumError, "number too large in '10^400'"),
        ("1 / 0", CvpDivZeroError, "division by zero: '0' is 0"),
    ],
)
def test_excel_error_cases(equation, kind, message):
    with pytest.raises(kind) as error:
        evaluate(equation, [], [])
    assert type(error.value) is kind
    assert error.value.message == message


def test_power_errors_in_arrays_name_the_item():
    base = np.array([2.0, -8.0])
    with pytest.raises(CvpNumError) as error:
        evaluate("Hours lost per stop ^ 0.5", NAMES, [base, 0, 0])
    assert error.value.message == (
        "'Hours lost per stop' is negative and its exponent '0.5' is not a whole number at item 2"
    )


# -- bad values, word for word -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "'Hours lost per stop' is blank; expected a number"),
        (float("nan"), "'Hours lost per stop' is blank; expected a number"),
        ("abc", "'Hours lost per stop': expected a number, got 'abc'"),
        ("12", "'Hours lost per stop': expected a number, got '12'"),
        (True, "'Hours lost per stop': expected a number, got True"),
        (float("inf"), "'Hours lost per stop': expected a finite number, got inf"),
        pytest.param(
            10**400,
            "'Hours lost per stop': expected a finite number, got 1" + "0" * 56 + "...",
            id="huge-int",
        ),
        (1 + 2j, "'Hours lost per stop': expected a number, got (1+2j)"),
        (
            np.array([1.0, None, 3.0], dtype=object),
            "'Hours lost per stop' is blank at item 2; expected a number",
        ),
        (
            np.array([1.0, np.nan, 3.0]),
            "'Hours lost per stop' is blank at item 2; expected a number",
        ),
        (
            np.array([1, "abc"], dtype=object),
            "'Hours lost per stop' at item 2: expected a number, got 'abc'",
        ),
        (np.array(["a", "b"]), "'Hours lost per stop' at item 1: expected a number, got 'a'"),
        (np.array([True, False]), "'Hours lost per stop' at item 1: expected a number, got True"),
        (
            np.array([[1.0, 2.0], [3.0, np.inf]]),
            "'Hours lost per stop' at row 2, column 2: expected a finite number, got inf",
        ),
        (
            np.zeros((2, 2, 2)),
            "'Hours lost per stop': expected a number or a 1-D or 2-D array, got a 3-D array",
        ),
        (
            [[1, 2], [3]],
            "'Hours lost per stop': expected a number or a 1-D or 2-D array of numbers",
        ),
    ],
)
def test_bad_values_word_for_word(value, message):
    for equation in ["Hours lost per stop * 2", "Hours lost per stop / 2"]:
        with pytest.raises(CvpValueError) as error:
            evaluate(equation, NAMES, [value, 1, 1])
        assert error.value.message == message


def test_bad_array_items_are_found_whatever_the_operators():
    # NaN or infinity hidden by a later operation (x * 0, MIN) is still reported.
    hours = np.array([1.0, 2.0, np.inf])
    for equation in [
        "Hours lost per stop * 0",
        "Stops per year / Hours lost per stop",
        "MIN(Hours lost per stop, 1)",
        "1 ^ Hours lost per stop",
        "Hours lost per stop - Hours lost per stop",
    ]:
        with pytest.raises(CvpValueError) as error:
            evaluate(equation, NAMES, [hours, np.ones(3), 0])
        assert error.value.message == (
            "'Hours lost per stop' at item 3: expected a finite number, got inf"
        ), equation


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            [np.ones(3), np.ones(4), 0],
            "'Hours lost per stop' has 3 items but 'Stops per year' has 4 items; "
            "all arrays must have one shape",
        ),
        (
            [np.ones(3), np.ones((2, 3)), 0],
            "'Hours lost per stop' has 3 items but 'Stops per year' has 2 rows x 3 columns; "
            "all arrays must have one shape",
        ),
        (
            # shapes are named by cvp_xl.args.shape_text, as in every other message
            [np.ones(1), np.ones((1, 1)), 0],
            f"'Hours lost per stop' has {shape_text((1,))} but 'Stops per year' has "
            "1 row x 1 column; all arrays must have one shape",
        ),
    ],
)
def test_arrays_of_different_shapes(values, message):
    with pytest.raises(CvpValueError) as error:
        evaluate("Hours lost per stop * Stops per year", NAMES, values)
    assert error.value.message == message


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([1, 2], "names has 3 items but values has 2"),
        ([1, 2, 3, 4], "names has 3 items but values has 4"),
        (
            {"Hours lost per stop": 1},
            "values must be a list aligned with names, got {'Hours lost per stop': 1}",
        ),
        ("123", "values must be a list aligned with names, got '123'"),
        (5, "values must be a list aligned with names, got 5"),
    ],
)
def test_values_must_align_with_names(values, message):
    with pytest.raises(CvpValueError) as error:
        evaluate("Stops per year", NAMES, values)
    assert error.value.message == message


def test_names_and_values_example_from_the_brief():
    with pytest.raises(CvpValueError) as error:
        evaluate("a", ["a", "b", "c"], [1, 2, 3, 4])
    assert error.value.message == "names has 3 items but values has 4"


# -- ROUND is Excel's --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "digits", "expected"),
    [
        # Half away from zero (Excel, LibreOffice): 2.5 -> 3, -2.5 -> -3, 0.5 -> 1.
        (2.5, 0, 3.0),
        (-2.5, 0, -3.0),
        (0.5, 0, 1.0),
        # Excel and LibreOffice 7 give 2.68, 0.29 and 1.01 (binary rounding: 2.67, 0.28, 1.0).
        (2.675, 2, 2.68),
        (0.285, 2, 0.29),
        (1.005, 2, 1.01),
        # Negative digits round to tens, hundreds: 1234.5 -> 1200.
        (1234.5, -2, 1200.0),
        (-1250, -2, -1300.0),
        # Digits are truncated toward zero: ROUND(2.5, 0.9) = ROUND(2.5, 0) = 3.
        (2.5, 0.9, 3.0),
        (2.45, 1.99, 2.5),
        # Far more digits than a double holds: the number itself.
        (1 / 3, 400, 1 / 3),
        (1e300, 2, 1e300),
        (123.0, -400, 0.0),
        (-0.4, 0, 0.0),
    ],
)
def test_round_is_excel_round(number, digits, expected):
    result = evaluate("ROUND(a, b)", ["a", "b"], [number, digits])
    assert result == expected
    assert str(result) != "-0.0"


def test_round_over_arrays():
    result = parse("ROUND(a, 1)", ["a"]).evaluate([np.array([1.25, -1.25, 2.675])])
    np.testing.assert_array_equal(result, [1.3, -1.3, 2.7])
