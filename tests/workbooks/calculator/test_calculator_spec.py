"""Calculator specs: the examples load, and every kind of mistake has an exact message."""

from __future__ import annotations

import pytest

from cvp_xl.workbooks import example
from cvp_xl.workbooks.calculator import SpecError, load_spec, parse_spec

SPECS = sorted(example("calculators").glob("*.yaml"))

GOOD = """\
name: Test calculator
currency: USD
offering:
  name: Ours
  one_time: 100
  recurring: 10
alternatives:
  - name: Theirs
    recurring: 5
horizon_years: 3
discount_rate: 8%
inputs:
  - name: Stops per year with theirs
    unit: stops/year
    base: 10
    low: 8
    high: 12
    min: 0
  - name: Stops per year with ours
    unit: stops/year
    base: 4
  - name: Cost per hour of downtime
    unit: USD/hour
    base: 500
  - name: Hours per stop
    unit: hours/stop
    base: 2
value_elements:
  - name: Downtime avoided
    category: economic
    equation: >
      (Stops per year with theirs - Stops per year with ours)
      × Hours per stop × Cost per hour of downtime
"""


def test_there_are_three_example_specs_from_different_industries():
    assert len(SPECS) >= 3
    currencies = {load_spec(p).currency for p in SPECS}
    assert currencies >= {"USD", "EUR"}


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_example_specs_load(path):
    spec = load_spec(path)
    assert spec.inputs and spec.elements and spec.alternatives
    for el in spec.elements:
        assert el.unit.startswith(spec.currency + "/")


def test_good_spec():
    # line numbers in the messages below count the lines of GOOD from 1
    spec = parse_spec(GOOD, "good.yaml")
    assert spec.discount_rate == 0.08
    assert spec.elements[0].unit == "USD/year"
    assert spec.input("stops per year with OURS").base == 4


def _error(text: str) -> str:
    with pytest.raises(SpecError) as info:
        parse_spec(text, "calc.yaml")
    return str(info.value)


def test_unknown_input_in_an_equation_names_the_closest():
    text = GOOD.replace("× Hours per stop × Cost per hour of downtime",
                        "× Hours per stop × Cost per hour downtime")
    assert _error(text) == ("calc.yaml:31: value element 'Downtime avoided': unknown quantity "
                            "'Cost per hour downtime'; did you mean 'Cost per hour of downtime'?")


def test_a_value_element_that_is_not_money_per_period():
    text = GOOD.replace("× Hours per stop × Cost per hour of downtime", "× Hours per stop")
    assert _error(text) == ("calc.yaml:31: value element 'Downtime avoided': its unit is "
                            "'hour/year', not money per period (e.g. USD/year)")


def test_low_above_high():
    text = GOOD.replace("low: 8\n    high: 12", "low: 12\n    high: 8")
    assert _error(text) == "calc.yaml:16: input 'Stops per year with theirs': low (12) is " \
                           "greater than high (8)"


def test_missing_currency():
    text = GOOD.replace("currency: USD\n", "")
    assert _error(text) == "calc.yaml:1: missing 'currency' (e.g. currency: USD)"


def test_yaml_that_does_not_parse():
    text = GOOD.replace("  - name: Hours per stop", "  - name: Hours per stop: [")
    assert _error(text) == "calc.yaml:25: not valid YAML: mapping values are not allowed here"


def test_unknown_key_suggests_the_right_one():
    text = GOOD.replace("horizon_years: 3", "horizon_year: 3")
    assert _error(text) == "calc.yaml:10: unknown key 'horizon_year'; did you mean " \
                           "'horizon_years'?"


def test_category_must_be_known():
    text = GOOD.replace("category: economic", "category: emotional")
    assert _error(text) == ("calc.yaml:30: value element 'Downtime avoided': category must be "
                            "one of technical, economic, service, social, got 'emotional'")


def test_base_outside_the_allowed_range():
    text = GOOD.replace("base: 10\n", "base: -1\n")
    assert _error(text) == ("calc.yaml:15: input 'Stops per year with theirs': base (-1) is "
                            "outside the allowed range at least 0")


def test_no_such_file(tmp_path):
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path / "nope.yaml")
    assert str(info.value) == f"{tmp_path / 'nope.yaml'}: no such file"
