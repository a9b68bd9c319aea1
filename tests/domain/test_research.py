"""Customer value research math beyond the registry examples (the conformance suite runs those
through every host): percentile rules, evidence and its source text, driver weights, pilot lift.
"""

from __future__ import annotations

import datetime as dt
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvp_xl.domain import research as rs
from cvp_xl.errors import CvpDivZeroError, CvpNumError, CvpValueError

# Student's sleep data (R's ``sleep``): extra hours of sleep with drug 1 and drug 2.
G1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
G2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


# -- percentile rules and evidence -------------------------------------------------------------


@pytest.mark.parametrize("text,rule", [
    ("P25/P50/P75", (25.0, 50.0, 75.0)),
    ("10/50/90", (10.0, 50.0, 90.0)),
    (" p5 / P50 / P97.5 ", (5.0, 50.0, 97.5)),
    ("P50/P50/P50", (50.0, 50.0, 50.0)),
])
def test_a_rule_reads_three_percentiles(text, rule):
    assert rs.parse_rule(text) == rule


@pytest.mark.parametrize("text,message", [
    ("P25/P75", "percentile rule 'P25/P75': expected three percentiles for low, base and high, "
                "such as P25/P50/P75"),
    ("Q1/median/Q3", "percentile rule 'Q1/median/Q3': expected three percentiles for low, base "
                     "and high, such as P25/P50/P75"),
    ("P25/P50/P175", "percentile rule 'P25/P50/P175': percentiles are from 0 to 100"),
    ("P75/P50/P25", "percentile rule 'P75/P50/P25': expected low <= base <= high"),
])
def test_a_bad_rule_is_refused_with_a_reason(text, message):
    with pytest.raises(rs.RuleError) as info:
        rs.parse_rule(text)
    assert str(info.value) == message


def test_percentiles_are_excels_percentile_inc():
    # hand, PERCENTILE.INC: sorted 2.5, 3.0, 3.2, 3.5, 3.8, 4.0, 4.5, 5.0 (n = 8);
    # P25: h = 7 x 0.25 = 1.75 -> 3.0 + 0.75 x (3.2 - 3.0) = 3.15
    # P50: h = 3.5 -> 3.5 + 0.5 x (3.8 - 3.5) = 3.65;  P75: h = 5.25 -> 4.0 + 0.25 x 0.5 = 4.125
    x = [3.0, 4.5, 2.5, 3.8, 4.0, 3.2, 3.5, 5.0]
    assert [rs.percentile(x, p) for p in (25, 50, 75)] == pytest.approx([3.15, 3.65, 4.125],
                                                                         rel=1e-12)
    assert rs.percentile([7.0], 25) == 7.0  # one value: every percentile is that value
    assert rs.percentile(x, 0) == 2.5 and rs.percentile(x, 100) == 5.0


def test_evidence_counts_observations_customers_and_methods():
    day = dt.date(2026, 5, 2)
    e = rs.summarize([700, 950, 1100, 820, 900, 760],
                     ["Northwind", "Contoso", "Fabrikam", "Wingtip", "Panel", " panel "],
                     ["field value assessment"] * 4 + ["benchmark"] * 2,
                     [day, day, day, dt.date(2026, 7, 10), dt.date(2026, 3, 30), day])
    # hand: sorted 700, 760, 820, 900, 950, 1100; P25 h = 1.25 -> 760 + 0.25 x 60 = 775;
    # P50 h = 2.5 -> 820 + 0.5 x 80 = 860; P75 h = 3.75 -> 900 + 0.75 x 50 = 937.5
    assert (e.n, e.customers) == (6, 5)  # "Panel" and " panel " are one customer
    assert (e.low, e.base, e.high, e.median) == (775.0, 860.0, 937.5, 860.0)
    assert (e.minimum, e.maximum, e.spread) == (700.0, 1100.0, 162.5)
    assert e.methods == (("field value assessment", 4), ("benchmark", 2))
    assert (e.first, e.last) == (dt.date(2026, 3, 30), dt.date(2026, 7, 10))
    assert rs.provenance(e) == ("4 field value assessments and 2 benchmarks at 5 customers, "
                                "2026-Q1–Q3, P25/P50/P75")


def test_evidence_refuses_an_unknown_method_and_nothing_at_all():
    with pytest.raises(CvpValueError) as info:
        rs.summarize([1.0], ["A"], ["interview"], [dt.date(2026, 1, 1)])
    assert info.value.message == ("methods: expected one of field value assessment, focus "
                                  "group, survey, customer's own data, benchmark, pilot, got "
                                  "'interview'")
    with pytest.raises(CvpValueError, match="values: no observations"):
        rs.summarize([], [], [], [])


@pytest.mark.parametrize("first,last,text", [
    (dt.date(2026, 4, 1), dt.date(2026, 6, 30), "2026-Q2"),
    (dt.date(2026, 4, 1), dt.date(2026, 9, 30), "2026-Q2–Q3"),
    (dt.date(2025, 12, 31), dt.date(2026, 1, 1), "2025-Q4–2026-Q1"),
    (dt.date(2026, 3, 31), dt.date(2026, 12, 1), "2026-Q1–Q4"),
])
def test_the_period_is_named_by_quarters(first, last, text):
    assert rs.period_text(first, last) == text


@pytest.mark.parametrize("methods,customers,text", [
    ((("customer's own data", 9),), 9, "9 customers' own figures at 9 customers"),
    ((("survey", 1),), 1, "1 survey at 1 customer"),
    ((("field value assessment", 1), ("focus group", 2), ("pilot", 3)), 4,
     "1 field value assessment, 2 focus groups and 3 pilots at 4 customers"),
])
def test_the_source_text_names_methods_customers_period_and_rule(methods, customers, text):
    e = rs.Evidence(6, customers, methods, dt.date(2026, 4, 2), dt.date(2026, 4, 3),
                    (10.0, 50.0, 90.0), 1, 2, 3, 2, 1, 3)
    assert rs.provenance(e) == f"{text}, 2026-Q2, P10/P50/P90"


# -- value drivers -----------------------------------------------------------------------------


def test_driver_weights_by_hand():
    # hand: rows rescaled to 100: (40, 30, 20, 10), (100/3, 100/3, 50/3, 50/3), (30, 30, 30, 10);
    # column means: 310/9, 280/9, 200/9, 110/9
    got = rs.driver_weights([[8, 6, 4, 2], [10, 10, 5, 5], [3, 3, 3, 1]])
    assert got.shape == (1, 4)
    assert got[0] == pytest.approx([310 / 9, 280 / 9, 200 / 9, 110 / 9], rel=1e-12)


ratings = st.lists(st.lists(st.integers(0, 10), min_size=3, max_size=3).filter(any),
                   min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(ratings, st.integers(1, 9))
def test_weights_sum_to_100_and_ignore_each_respondents_scale(rows, factor):
    w = rs.driver_weights(rows)
    assert math.isclose(w.sum(), 100, rel_tol=1e-12)
    # a respondent who answers on a scale k times wider counts the same
    scaled = [[v * factor for v in rows[0]], *rows[1:]]
    assert rs.driver_weights(scaled)[0] == pytest.approx(w[0], rel=1e-12, abs=1e-12)


def test_segment_weights_with_their_spread():
    got = rs.segment_weights([[4, 6], [6, 4], [1, 3]], ["Food", "food ", "Beverage"])
    assert [(g.segment, g.n) for g in got] == [("Food", 2), ("Beverage", 1), ("All", 3)]
    # hand: Food weights (40, 60) and (60, 40): mean (50, 50);
    # sample SD sqrt(((40 - 50)^2 + (60 - 50)^2) / 1) = sqrt(200) = 14.142
    assert got[0].weights == (50.0, 50.0)
    assert got[0].spread == pytest.approx((math.sqrt(200), math.sqrt(200)), rel=1e-12)
    assert got[1].weights == (25.0, 75.0) and all(math.isnan(s) for s in got[1].spread)
    # hand: all three: (40 + 60 + 25) / 3 = 125/3, (60 + 40 + 75) / 3 = 175/3
    assert got[2].weights == pytest.approx((125 / 3, 175 / 3), rel=1e-12)


def test_segments_must_pair_with_the_respondents():
    with pytest.raises(CvpValueError) as info:
        rs.segment_weights([[1, 2], [3, 4]], ["Food"])
    assert info.value.message == "segments has 1 items but ratings has 2 rows"


# -- pilots -------------------------------------------------------------------------------------


def test_welch_interval_as_r_prints_it():
    # R, t.test(extra ~ group, data = sleep): t = -1.8608, df = 17.776, 95 percent confidence
    # interval -3.3654832 0.2054832 (drug 1 - drug 2); here pilot - baseline, so the ends swap
    r = rs.pilot_interval(G1, G2)
    assert round(r.df, 3) == 17.776
    assert round(r.low, 7) == -0.2054832 and round(r.high, 7) == 3.3654832
    assert round(-r.lift / r.se, 4) == -1.8608
    assert (r.n_baseline, r.n_pilot, r.mean_baseline) == (10, 10, 0.75)
    assert r.mean_pilot == pytest.approx(2.33, rel=1e-12)


def test_paired_interval_as_r_prints_it():
    # R, t.test(extra[group == 1], extra[group == 2], paired = TRUE): t = -4.0621, df = 9,
    # interval -2.4598858 -0.7001142
    r = rs.pilot_interval(G1, G2, paired=True)
    assert r.df == 9.0
    assert round(r.low, 7) == 0.7001142 and round(r.high, 7) == 2.4598858
    assert round(-r.lift / r.se, 4) == -4.0621


@pytest.mark.parametrize("confidence", [0.8, 0.9, 0.95, 0.99])
def test_welch_agrees_with_scipys_own_welch_interval(confidence):
    from scipy import stats

    r = rs.pilot_interval(G1, G2, confidence=confidence)
    want = stats.ttest_ind(G2, G1, equal_var=False).confidence_interval(confidence)
    assert (r.low, r.high) == pytest.approx((want.low, want.high), rel=1e-12)
    paired = rs.pilot_interval(G1, G2, paired=True, confidence=confidence)
    want = stats.ttest_rel(G2, G1).confidence_interval(confidence)
    assert (paired.low, paired.high) == pytest.approx((want.low, want.high), rel=1e-12)


measurements = st.lists(st.floats(-1e4, 1e4, allow_nan=False), min_size=2, max_size=15)


@settings(max_examples=60, deadline=None)
@given(measurements, measurements)
def test_swapping_baseline_and_pilot_mirrors_the_interval(b, p):
    if np.std(b) + np.std(p) < 1e-6:  # no spread: no interval (another test)
        return
    ab, ba = rs.pilot_interval(b, p), rs.pilot_interval(p, b)
    assert ab.lift == pytest.approx(-ba.lift, rel=1e-9, abs=1e-9)
    assert ab.low == pytest.approx(-ba.high, rel=1e-9, abs=1e-9)
    assert ab.low <= ab.lift <= ab.high


def test_a_higher_confidence_gives_a_wider_interval():
    widths = [rs.pilot_interval(G1, G2, confidence=c) for c in (0.8, 0.9, 0.95, 0.99)]
    assert all(a.high - a.low < b.high - b.low for a, b in zip(widths, widths[1:]))


@pytest.mark.parametrize("args,error,message", [
    (([1.0, 2.0], [3.0, 4.0], "TRUE"), CvpValueError,
     "paired: expected TRUE or FALSE, got 'TRUE'"),
    (([1.0, 2.0], [3.0, 4.0], None, 0), CvpNumError,
     "confidence: expected a level between 0 and 1 (0.95 for 95 %), got 0"),
    (([1.0, 2.0, None], [3.0, None, 4.0], True), CvpValueError,
     "pilot (item 2): is blank but baseline (item 2) has a measurement; a paired measurement "
     "needs both"),
    (([1.0, None], [3.0, None], True), CvpDivZeroError,
     "baseline: needs at least 2 pairs to estimate a spread, got 1"),
    (([1.0, 2.0], [3.0], None), CvpDivZeroError,
     "pilot: needs at least 2 measurements to estimate a spread, got 1"),
])
def test_a_pilot_that_gives_no_interval_says_why(args, error, message):
    with pytest.raises(error) as info:
        rs.pilot_interval(*args)
    assert info.value.message == message


def test_identical_differences_give_a_zero_width_paired_interval():
    # hand: every pair differs by exactly -2, so the differences have no spread
    r = rs.pilot_interval([5, 7, 6], [3, 5, 4], paired=True)
    assert (r.lift, r.low, r.high, r.se) == (-2.0, -2.0, -2.0, 0.0)


def test_the_t_distribution_is_loaded_only_for_an_interval():
    code = ("import sys; import cvp_xl.domain.research as r; import cvp_xl.registry as g; "
            "g.functions(); before = 'scipy' in sys.modules; "
            "r.pilot_interval([1, 2, 3], [2, 3, 5]); print(before, 'scipy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.split() == ["False", "True"]


def test_the_native_translation_uses_betainv_not_t_inv_2t():
    # T.INV.2T truncates the degrees of freedom (Excel, LibreOffice 7.4, the formulas engine),
    # so Welch's interval is translated with BETAINV; every call in it is share-safe
    from cvp_xl.xlsx.share_safe import SHARE_SAFE_FUNCTIONS, functions_in

    text = "=" + rs.pilot_lift_native("A1:A9", "B1:B9", "C1", "D1")
    assert "T.INV" not in text and "BETAINV(1-IF(ISBLANK(D1),0.95,D1)" in text
    assert set(functions_in(text)) <= SHARE_SAFE_FUNCTIONS
    assert set(functions_in("=" + rs.driver_weights_native("A1:D9"))) <= SHARE_SAFE_FUNCTIONS
