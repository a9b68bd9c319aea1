"""Payback as DOMAIN.md §4 defines it, and results that stay numbers.

"Payback: the time until cumulative net cash flow first reaches zero, interpolating linearly
within the period in which it turns; none when it never turns."  The calculator's cash flows
are a year-0 flow ``-outlay`` and the same net flow ``yearly`` in each year 1..H, so the
cumulative flow at time t is ``-outlay + t * yearly``.

Every expected value below is a hand calculation written next to it; the built workbooks are
recomputed by LibreOffice and by the formulas engine, which must give the values Python
stored.
"""

from __future__ import annotations

import math

import numpy as np
import openpyxl
import pandas as pd
import pytest
from helpers import requires_libreoffice

from cvp_xl.commands.recalc import compute
from cvp_xl.workbooks.calculator import model, parse_spec
from cvp_xl.workbooks.calculator.builder import build

# Every optional key is absent: no min, max, low, high, source or was on the inputs, no
# one_time, recurring or value_per_year on the alternative, no version or description, no
# tangible or note on the element.  Value per year = hours x 40 USD/hour.
SPEC = """\
name: Payback test
currency: USD
offering:
  name: Ours
  one_time: {one_time}
  recurring: {recurring}
alternatives:
  - name: Theirs
horizon_years: {horizon}
discount_rate: 10%
inputs:
  - name: Hours saved per year
    unit: hours/year
    base: {hours}
  - name: Cost per hour
    unit: USD/hour
    base: 40
value_elements:
  - name: Labor saved
    category: economic
    equation: Hours saved per year x Cost per hour
"""

# name: (one_time, recurring, hours, horizon) -> (payback, payback note, roi note)
CASES = {
    # value 500 x 40 = 20,000 a year; yearly = 20,000 - 5,000 = 15,000; outlay 25,000:
    # cumulative -25,000 + 15,000 t = 0 at t = 25,000 / 15,000 = 1.6667 years (within 3)
    "pays-back": ((25_000, 5_000, 500, 3), (25_000 / 15_000, "", "")),
    # nothing up front, yearly = 20,000 - 25,000 = -5,000: the cumulative flow starts at 0
    # and only falls, so it never turns (the old calculator showed 0 here)
    "never-nothing-up-front": ((0, 25_000, 500, 3), (math.nan, "never", "")),
    # 25,000 up front and -5,000 a year: it only falls from -25,000
    "never-with-outlay": ((25_000, 25_000, 500, 3), (math.nan, "never", "")),
    # as pays-back, but a horizon of 1 year: 1.6667 > 1
    "later-than-horizon": ((25_000, 5_000, 500, 1), (math.nan, "not within 1 year", "")),
    # 30,000 / 15,000 = 2.0 years on a horizon of 2: the last day still counts
    "at-the-horizon": ((30_000, 5_000, 500, 2), (2.0, "", "")),
    # nothing up front, 20,000 a year: the cumulative flow is 0 at t = 0 and rises: payback 0;
    # ours costs nothing, so ROI on the extra spend is not defined
    "nothing-to-pay-back": ((0, 0, 500, 3), (0.0, "", model.NOT_DEFINED)),
}


def spec_for(name: str):
    one_time, recurring, hours, horizon = CASES[name][0]
    return parse_spec(SPEC.format(one_time=one_time, recurring=recurring, hours=hours,
                                  horizon=horizon), f"{name}.yaml")


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    out = tmp_path_factory.mktemp("payback")
    made = {}
    for name in CASES:
        path = out / f"{name}.xlsx"
        layout = build(spec_for(name), path)
        made[name] = (path, layout)
    return made


@pytest.fixture(scope="module")
def libreoffice(books):
    from cvp_xl.hosts.libreoffice import libreoffice_values_many

    paths = [path for path, _ in books.values()]
    return dict(zip(paths, libreoffice_values_many(paths)))


def _same(got, want) -> bool:
    if isinstance(want, float) and math.isnan(want):
        return got in (None, "")  # no payback: an empty result, never a number or text
    if isinstance(want, str):
        return (got or "") == want
    return isinstance(got, (int, float)) and not isinstance(got, bool) and \
        math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-12)


@pytest.mark.parametrize("name", CASES)
def test_the_model_computes_the_hand_calculation(name):
    years, note, roi_note = CASES[name][1]
    results = model.evaluate(spec_for(name))
    assert isinstance(results.payback, float)  # NaN when there is none, never text
    assert math.isnan(results.payback) if math.isnan(years) else _same(results.payback, years)
    assert results.payback_note == note
    assert results.roi_note == roi_note
    assert isinstance(results.roi, float)


@pytest.mark.parametrize("name", CASES)
def test_the_stored_payback_is_the_hand_calculation(name, books):
    years, note, roi_note = CASES[name][1]
    path, layout = books[name]
    summary = openpyxl.load_workbook(path, data_only=True)["Summary"]
    assert _same(summary[layout.results["payback"]].value, years)
    assert _same(summary[layout.results["payback_note"]].value, note)
    assert _same(summary[layout.results["roi_note"]].value, roi_note)


@requires_libreoffice
@pytest.mark.parametrize("name", CASES)
def test_libreoffice_recomputes_the_hand_calculated_payback(name, books, libreoffice):
    years, note, roi_note = CASES[name][1]
    path, layout = books[name]
    lo = libreoffice[path]
    assert _same(lo.get(("Summary", layout.results["payback"])), years)
    assert _same(lo.get(("Summary", layout.results["payback_note"])), note)
    assert _same(lo.get(("Summary", layout.results["roi_note"])), roi_note)


@requires_libreoffice
@pytest.mark.parametrize("name", CASES)
def test_libreoffice_agrees_on_every_formula_cell(name, books, libreoffice, differences):
    path, _ = books[name]
    assert differences(path, libreoffice[path]) == {}


@pytest.mark.parametrize("name", ["pays-back", "never-nothing-up-front", "later-than-horizon"])
def test_the_formulas_engine_agrees_on_every_formula_cell(name, books, differences):
    path, _ = books[name]
    assert differences(path, compute(path).values) == {}


def test_vectorised_results_stay_numbers():
    # Hours 500, 100, 2000 at 40 USD/hour; 25,000 up front, 5,000 a year:
    #   500:  20,000 - 5,000 = 15,000 a year -> 25,000 / 15,000 = 1.6667 years
    #   100:   4,000 - 5,000 = -1,000 a year -> never
    #   2000: 80,000 - 5,000 = 75,000 a year -> 25,000 / 75,000 = 0.3333 years
    spec = spec_for("pays-back")
    results = model.evaluate(spec, {"Hours saved per year": np.array([500.0, 100.0, 2000.0])})
    assert results.payback.dtype == np.float64
    np.testing.assert_allclose(results.payback, [25_000 / 15_000, np.nan, 25_000 / 75_000],
                               rtol=1e-15)
    assert list(results.payback_note) == ["", "never", ""]
    one = [model.pick(results, k) for k in range(3)]
    assert [type(r.payback) for r in one] == [float, float, float]
    assert [r.payback_note for r in one] == ["", "never", ""]
    frame = pd.DataFrame({"payback": [r.payback for r in one], "roi": [r.roi for r in one]})
    assert frame.dtypes.to_dict() == {"payback": np.float64, "roi": np.float64}


def test_payback_helper_cases():
    # the four shapes of -outlay + t * yearly, horizon 3
    assert model.payback(25_000, 10_000.0, 3) == (2.5, "")        # 25,000 / 10,000
    assert model.payback(-1_000, 200.0, 3) == (0.0, "")           # ahead from the start
    assert model.payback(0, 0.0, 3)[1] == "never"                  # flat at 0: never turns
    years, note = model.payback(0, -44_440.0, 3)                   # the Low case
    assert math.isnan(years) and note == "never"
