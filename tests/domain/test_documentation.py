"""CVP_REALIZATION and CVP_CASE_STATS beyond the registry examples (the conformance suite
runs those)."""

from __future__ import annotations

import numpy as np
import pytest

from cvp_xl.domain.documentation import case_stats, realization
from cvp_xl.errors import CvpDivZeroError, CvpNAError, CvpNumError, CvpValueError, ErrorValue
from cvp_xl.registry import get

VALUES = [[52_000], [None], [31_000], [18_500], [40_000]]
SEGMENTS = [["Food"], ["Food"], ["Chemicals"], ["food"], ["Chemicals"]]


def test_realization_is_documented_over_promised():
    # hand: 45000 / 60000 = 0.75
    assert realization(45_000, 60_000) == 0.75
    got = realization(np.array([[30_000.0, 66_000.0]]), 60_000)
    assert got.tolist() == [[0.5, 1.1]]


@pytest.mark.parametrize("promised,error,message", [
    (0, CvpDivZeroError,
     "promised: is 0; realization = documented / promised needs a promised value above 0"),
    (-500, CvpNumError, "promised: expected a promised value of 0 or more, got -500"),
    ([[100], [-2_500_000]], CvpNumError,
     "promised: expected a promised value of 0 or more, got -2500000"),
])
def test_realization_refuses_zero_and_negative_promises(promised, error, message):
    with pytest.raises(error) as info:
        realization([[1], [2]] if isinstance(promised, list) else 1, promised)
    assert info.value.message == message


def test_case_stats_defaults_to_the_mean_and_skips_blanks():
    # hand: (52000 + 31000 + 18500 + 40000) / 4 = 35375
    assert case_stats(VALUES) == 35_375.0
    assert case_stats(VALUES, None, None, None) == 35_375.0
    assert case_stats(VALUES, None, None, "") == 35_375.0


@pytest.mark.parametrize("statistic,expected", [
    ("count", 2.0),  # hand: Food 52000 and food 18500 (the blank is skipped)
    ("mean", 35_250.0),  # hand: (52000 + 18500) / 2
    ("median", 35_250.0),  # hand: two values, their mean
    ("min", 18_500.0),
    ("max", 52_000.0),
    ("Max", 52_000.0),
])
def test_case_stats_within_a_segment_ignores_case(statistic, expected):
    assert case_stats(VALUES, SEGMENTS, "FOOD", statistic) == expected


@pytest.mark.parametrize("args,error,message", [
    ((VALUES, SEGMENTS, "Food", "sum"), CvpValueError,
     "statistic: expected one of count, mean, median, min, max, got 'sum'"),
    ((VALUES, SEGMENTS, "Food", 3), CvpValueError,
     "statistic: expected one of count, mean, median, min, max, got 3"),
    ((VALUES, SEGMENTS, "Metals"), CvpNAError, "no values in segment 'Metals'"),
    ((VALUES, None, "Food"), CvpValueError,
     "segments: expected the segment of each value (needed with segment), got a blank cell"),
    ((VALUES, [["Food", "Food", "Chemicals", "food", "Chemicals"]], "Food"), CvpValueError,
     "segments: a range of 1 row x 5 columns does not match values (5 rows x 1 column)"),
    (([[1], [True]],), CvpValueError, "values (item 2): expected a number, got TRUE"),
    (([[1], [ErrorValue("#DIV/0!")]],), CvpDivZeroError,
     "values (item 2): the input is the error #DIV/0!"),
])
def test_case_stats_errors_say_what_is_wrong(args, error, message):
    with pytest.raises(error) as info:
        case_stats(*args)
    assert info.value.message == message


def test_native_translation_leaves_out_omitted_arguments():
    entry = get("CVP_CASE_STATS")
    one = entry.to_native("Cases!J2:J9")
    # the guard of the values comes first; an omitted statistic is the mean, nothing else
    assert one.startswith("IF(COUNTA(Cases!J2:J9)>COUNT(Cases!J2:J9),")
    assert "ISNUMBER(Cases!J2:J9)*1" in one
    four = entry.to_native("J2:J9", "B2:B9", '"Food"', "M1")
    assert '(B2:B9="Food")' in four and 'IF(M1&""="","mean",M1)' in four


def test_registry_entries_are_in_the_documentation_category():
    for name in ("CVP_REALIZATION", "CVP_CASE_STATS"):
        assert get(name).category == "CVP Documentation"
    assert get("CVP_CASE_STATS").signature == (
        "CVP_CASE_STATS(values, [segments], [segment], [statistic])")
