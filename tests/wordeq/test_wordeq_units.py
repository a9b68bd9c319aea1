"""Units of word equations: the result's unit, mismatches, money per period."""

from __future__ import annotations

import pytest

from cvp_xl.errors import CvpValueError
from cvp_xl.wordeq import currency_and_period, is_money_per_period, parse, unit

DOMAIN_NAMES = [
    "Unplanned stops per year with the alternative",
    "Unplanned stops per year with ours",
    "Hours lost per stop",
    "Contribution margin lost per hour",
]
DOMAIN_EQUATION = (
    "Savings from fewer unplanned stops per year = (Unplanned stops per year with the "
    "alternative - Unplanned stops per year with ours) x Hours lost per stop x Contribution "
    "margin lost per hour"
)


def test_domain_example_comes_out_in_money_per_year():
    # stops/year x hours/stop x USD/hour = USD/year (DOMAIN.md §4: money per period)
    units = ["stops/year", "stops per year", "hours/stop", "USD/hour"]
    result = unit(DOMAIN_EQUATION, DOMAIN_NAMES, units)
    assert result == "USD/year"
    assert is_money_per_period(result)
    assert currency_and_period(result) == ("USD", "year")


@pytest.mark.parametrize(
    ("equation", "units", "expected"),
    [
        ("a * b", ["kWh/year", "EUR/kWh"], "EUR/year"),
        ("a / b", ["USD", "month"], "USD/month"),
        ("a * b", ["customers", "USD per customer per year"], "USD/year"),
        ("a * b", ["trucks", "USD/(truck*year)"], "USD/year"),
        ("a * b", ["batches/yr", "$/batch"], "USD/year"),
        ("a * (1 - b)", ["€/month", "%"], "EUR/month"),
        ("a * b", ["m²", "USD/m^2/year"], "USD/year"),
        ("a / b", ["hours", "hours"], "1"),
        ("a / b", ["USD", "hour*stop"], "USD/(stop*hour)"),
        ("a * b", ["USD/hour", "hour/stop"], "USD/stop"),
        ("a ^ 2", ["m", ""], "meter^2"),
        ("a * 15% + a", ["Stops", None], "stop"),
        ("MIN(a, b) * 2", ["USD/year", "USD/yr"], "USD/year"),
        ("ROUND(a, 2)", ["GBP / quarter", None], "GBP/quarter"),
        ("ROUND(a, b)", ["USD", "1"], "USD"),
        ("ABS(-a)", ["FTE", None], "FTE"),
        ("a ^ b", ["%", "ratio"], "1"),
        # A space multiplies and binds tighter than "/": USD per (machine x hour).
        ("a * b", ["USD/machine hour", "machine hour"], "USD"),
        ("a * b", ["USD machine hour^-1", "hour"], "USD*machine"),
        # Units are never converted: minutes per hour stay minutes per hour.
        ("a / b", ["minutes", "hours"], "minute/hour"),
    ],
)
def test_result_units(equation, units, expected):
    assert unit(equation, ["a", "b"], units) == expected


MISMATCHES = [
    (
        "Stops per year + Hours lost per stop",
        "cannot add 'Hours lost per stop' (hour/stop) to 'Stops per year' (stop/year)",
    ),
    (
        "Stops per year - Hours lost per stop",
        "cannot subtract 'Hours lost per stop' (hour/stop) from 'Stops per year' (stop/year)",
    ),
    (
        "Stops per year * Hours lost per stop + Minutes lost",
        "cannot add 'Minutes lost' (minute) to 'Stops per year * Hours lost per stop' (hour/year)",
    ),
    (
        "Hours lost per stop + Minutes lost / Stops",
        "cannot add 'Minutes lost / Stops' (minute/stop) to 'Hours lost per stop' (hour/stop); "
        "convert them to one unit first",
    ),
    ("Cost + 100", "cannot add '100' (no unit) to 'Cost' (USD)"),
    (
        "MAX(Cost, Stops per year)",
        "cannot compare 'Stops per year' (stop/year) with 'Cost' (USD) in MAX",
    ),
    ("2 ^ Cost", "the exponent 'Cost' (USD) must be a pure number"),
    (
        "Stops per year ^ Rate",
        "cannot raise 'Stops per year' (stop/year) to a power that depends on inputs ('Rate')",
    ),
    ("ROUND(Cost, Stops)", "the digits 'Stops' (stop) of ROUND must be a pure number"),
]
UNIT_NAMES = ["Stops per year", "Hours lost per stop", "Minutes lost", "Cost", "Rate", "Stops"]
UNITS = ["stops/year", "hours/stop", "minutes", "USD", "%", "stops"]


@pytest.mark.parametrize(("equation", "message"), MISMATCHES)
def test_unit_mismatches_word_for_word(equation, message):
    with pytest.raises(CvpValueError) as error:
        unit(equation, UNIT_NAMES, UNITS)
    assert error.value.message == message


def test_fixed_exponent_of_a_unit():
    assert unit("Stops per year ^ 2 / Stops", UNIT_NAMES, UNITS) == "stop/year^2"
    assert unit("Stops ^ (1/2) ^ 2", UNIT_NAMES, UNITS) == "stop"


@pytest.mark.parametrize(
    ("units", "message"),
    [
        (["USD//year"], "the unit of 'a' is not understood: 'USD//year' (unexpected '/')"),
        (
            ["USD/1000"],
            "the unit of 'a' is not understood: 'USD/1000' "
            "(a unit cannot contain a number other than 1)",
        ),
        (["USD/(year"], "the unit of 'a' is not understood: 'USD/(year' ('(' is never closed)"),
        (
            ["USD @ year"],
            "the unit of 'a' is not understood: 'USD @ year' ('@' cannot be part of a unit)",
        ),
        (["USD^"], "the unit of 'a' is not understood: 'USD^' ('^' needs a number after it)"),
        (["USD/"], "the unit of 'a' is not understood: 'USD/' (it ends too early)"),
        (
            ["x" * 101],
            "the unit of 'a' is not understood: '" + "x" * 56 + "... "
            "(units are at most 100 characters)",
        ),
        ([5], "the unit of 'a' must be text, got 5"),
        (["USD", "EUR"], "names has 1 items but units has 2"),
    ],
)
def test_bad_units(units, message):
    with pytest.raises(CvpValueError) as error:
        unit("a * 2", ["a"], units)
    assert error.value.message == message


def test_units_of_unused_quantities_are_not_read():
    assert unit("a * 2", ["a", "b"], ["USD", "USD//year"]) == "USD"


def test_word_equation_method():
    eq = parse("a * b", ["a", "b"])
    assert eq.unit(["stops/year", "USD/stop"]) == "USD/year"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("USD/year", ("USD", "year")),
        ("USD per year", ("USD", "year")),
        ("$/yr", ("USD", "year")),
        ("US$/annum", ("USD", "year")),
        ("€ per months", ("EUR", "month")),
        ("£/week", ("GBP", "week")),
        ("CHF/quarter", ("CHF", "quarter")),
        ("JPY/day", ("JPY", "day")),
        ("USD year^-1", ("USD", "year")),
        ("USD", None),
        ("USD/customer/year", None),
        ("USD*hour/minute", None),
        ("hours/year", None),
        ("FTE/year", None),  # FTE is not a currency
        ("USD^2/year", None),
        ("USD/year^2", None),
        ("EUR/year*USD", None),
        ("", None),
    ],
)
def test_money_per_period(text, expected):
    assert currency_and_period(text) == expected
    assert is_money_per_period(text) is (expected is not None)


def test_money_per_period_rejects_unreadable_units():
    with pytest.raises(CvpValueError) as error:
        is_money_per_period("USD//year")
    assert (
        error.value.message
        == "the unit 'USD//year' is not understood: 'USD//year' (unexpected '/')"
    )
