"""Registry entries for customer value research and pilots (DOMAIN.md §3; the guide's pilots).

``CVP_DRIVER_WEIGHTS`` turns survey importance ratings into value-driver weights that sum to
100 (the weights of ``CVP_VALUE_MAP``); ``CVP_PILOT_LIFT`` gives a pilot's lift over its
baseline with a confidence interval (Welch's t, or the paired t).

Native translations: ``CVP_DRIVER_WEIGHTS`` with ``MMULT`` and ``TRANSPOSE``, ``CVP_PILOT_LIFT``
with ``BETAINV`` for the t quantile (``T.INV.2T`` truncates fractional degrees of freedom in
Excel, LibreOffice and the formulas engine, so it cannot give Welch's interval; see
:mod:`cvp_xl.domain.research`).  Both are array formulas: a row of cells.
"""

from __future__ import annotations

import math

from cvp_xl.domain import research
from cvp_xl.registry import Argument, Example, Function, register

CATEGORY = "CVP Research"
BLANK_RATING_NOTE = ("MMULT reads a blank cell as 0 in LibreOffice (a respondent's weights "
                     "come out wrong) and as #VALUE! in Excel; the function refuses it")
NEGATIVE_RATING_NOTE = "native arithmetic rescales a negative rating; the function refuses it"
PAIRS_NOTE = ("the native formula pairs cells by position and does not check that each pair "
              "is complete")
CONFIDENCE_NOTE = "BETAINV's error for a level outside 0 to 1 differs between spreadsheets"
TEXT_NOTE = ("the native formula fails on the text too, but LibreOffice 7.4 gives #NUM! where "
             "Excel and the formulas engine give #VALUE!")

# Student's sleep data (Cushny and Peebles 1905; Student 1908), R's data set ``sleep``: extra
# hours of sleep of 10 patients with drug 1 (here the baseline) and with drug 2 (the pilot).
_G1 = [[0.7], [-1.6], [-0.2], [-1.2], [-0.1], [3.4], [3.7], [0.8], [0.0], [2.0]]
_G2 = [[1.9], [0.8], [1.1], [0.1], [-0.1], [4.4], [5.5], [1.6], [4.6], [3.4]]
#: qt(0.975, 9): the two-sided 95 % quantile of t with 9 degrees of freedom (2.262 in t tables).
_T9 = 2.262157162798205
#: qt(0.95, 147/29): the two-sided 90 % quantile of t with 147/29 = 5.069 degrees of freedom.
_T_147_29 = 2.009008077916049

register(Function(
    name="CVP_DRIVER_WEIGHTS",
    func=research.driver_weights,
    description=(
        "Value-driver weights from survey importance ratings (one row per respondent, one column "
        "per driver): each row rescaled to sum to 100, then averaged. A row of weights summing "
        "to 100, for CVP_VALUE_MAP."
    ),
    category=CATEGORY,
    args=(
        Argument("ratings", "Importance ratings: a row per respondent, a column per driver "
                            "(any scale, 0 or more, no blanks)", kind="range"),
    ),
    returns="array",
    native=research.driver_weights_native,
    examples=(
        Example(([[8, 6, 4, 2], [10, 10, 5, 5], [3, 3, 3, 1]],),
                [[310 / 9, 280 / 9, 200 / 9, 110 / 9]],
                "hand: rows rescaled to 100: (40, 30, 20, 10), (33.33, 33.33, 16.67, 16.67), "
                "(30, 30, 30, 10); averages (40 + 100/3 + 30) / 3 = 310/9 = 34.44, "
                "(30 + 100/3 + 30) / 3 = 280/9, (20 + 50/3 + 30) / 3 = 200/9, "
                "(10 + 50/3 + 10) / 3 = 110/9; sum 900/9 = 100"),
        Example(([[50, 30, 20], [40, 40, 20]],), [[45.0, 35.0, 20.0]],
                "hand: constant-sum answers already sum to 100; (50 + 40) / 2 = 45, "
                "(30 + 40) / 2 = 35, (20 + 20) / 2 = 20"),
        Example(([[2, 6, 2]],), [[20.0, 60.0, 20.0]],
                "hand: one respondent, 2 + 6 + 2 = 10; 100 x 2/10 = 20, 100 x 6/10 = 60"),
        Example(([[8, 0], [0, 0]],), "#DIV/0!", "hand: the second respondent rated nothing",
                message="ratings (row 2): every rating is 0; weights are rescaled to sum to "
                        "100, so at least one must be above 0"),
        Example(([[8, 6], [5, None]],), "#VALUE!", "a blank rating is not 0",
                message="ratings (row 2, column 2): expected a rating, got a blank cell; rate "
                        "every driver (0 for no importance)",
                native=False, native_note=BLANK_RATING_NOTE),
        Example(([[8, 6], [5, "high"]],), "#VALUE!", "text is not a rating",
                message="ratings (row 2, column 2): expected a number, got 'high'"),
        Example(([[8, -6], [5, 5]],), "#NUM!", "ratings are not negative",
                message="ratings (row 1, column 2): expected a rating of 0 or more, got -6",
                native=False, native_note=NEGATIVE_RATING_NOTE),
    ),
))

register(Function(
    name="CVP_PILOT_LIFT",
    func=research.pilot_lift,
    description=(
        "Pilot lift and its confidence interval as a row: mean(pilot) - mean(baseline), low, "
        "high. Welch's t, or the paired t when paired is TRUE; blanks skipped; confidence "
        "default 0.95."
    ),
    category=CATEGORY,
    args=(
        Argument("baseline", "Measurements without the offering (before the pilot, or at "
                             "sites without it)", kind="range"),
        Argument("pilot", "Measurements of the same value element with the offering, same unit",
                 kind="range"),
        Argument("paired", "TRUE when each pilot cell pairs with the baseline cell in the same "
                           "position (default FALSE)", kind="any", optional=True),
        Argument("confidence", "Confidence level of the interval, between 0 and 1 "
                               "(default 0.95)", optional=True),
    ),
    returns="array",
    native=research.pilot_lift_native,
    examples=(
        Example((_G1, _G2), [[1.58, -0.20548323071171, 3.36548323071171]],
                "R, t.test(extra ~ group, data = sleep) (Welch): df = 17.776, 95 percent "
                "confidence interval -3.3654832 0.2054832 for drug 1 - drug 2, means 0.75 and "
                "2.33; pilot - baseline turns it into 1.58 (-0.2054832 to 3.3654832); full "
                "digits -3.36548323071171 and 0.20548323071171 as easystats/parameters' tests "
                "record R's result"),
        Example((_G1, _G2, True),
                [[1.58, 1.58 - _T9 * math.sqrt(13.616 / 90), 1.58 + _T9 * math.sqrt(13.616 / 90)]],
                "R, t.test(extra[group == 1], extra[group == 2], paired = TRUE): df = 9, 95 "
                "percent interval -2.4598858 -0.7001142, mean difference -1.58. By hand: "
                "differences 1.2, 2.4, 1.3, 1.3, 0, 1, 1.8, 0.8, 4.6, 1.4, mean 1.58, sum of "
                "squared deviations 13.616, se = sqrt(13.616 / 9 / 10) = 0.38896; "
                "1.58 -/+ 2.262157 x 0.38896 = 0.7001142 to 2.4598858"),
        Example(([[5], [7], [None], [6], [8]], [[3], [4], [2], [3], [None]], None, 0.9),
                [[-3.5, -3.5 - _T_147_29 * math.sqrt(7 / 12),
                  -3.5 + _T_147_29 * math.sqrt(7 / 12)]],
                "hand (stops per week, blanks skipped): baseline 5, 7, 6, 8: mean 6.5, "
                "variance 5/3; pilot 3, 4, 2, 3: mean 3, variance 2/3; lift -3.5; "
                "se^2 = 5/12 + 2/12 = 7/12; df = (7/12)^2 / ((5/12)^2/3 + (2/12)^2/3) = 147/29; "
                "90 %: t = qt(0.95, 147/29) = 2.00901; -3.5 -/+ 2.00901 x 0.76376"),
        Example(([[5], ["n/a"], [6]], [[3], [4], [2]]), "#VALUE!",
                "a measurement typed as text is refused, not skipped",
                message="baseline (item 2): expected a number, got 'n/a'",
                native=False, native_note=TEXT_NOTE),
        Example(([[5], [None], [None]], [[3], [4], [2]]), "#DIV/0!",
                "hand: one baseline measurement has no spread",
                message="baseline: needs at least 2 measurements to estimate a spread, got 1"),
        Example(([[5], [5], [5]], [[3], [3]]), "#DIV/0!",
                "hand: no spread in either group, so no interval",
                message="baseline and pilot: every measurement of each is the same; Welch's "
                        "interval needs a spread in at least one of them"),
        Example(([[5], [7], [6]], [[3], [4], [2]], None, 1.5), "#NUM!",
                "a confidence level is between 0 and 1",
                message="confidence: expected a level between 0 and 1 (0.95 for 95 %), got 1.5",
                native=False, native_note=CONFIDENCE_NOTE),
        Example(([[5], [7], [6]], [[3], [4]], True), "#VALUE!",
                "paired measurements come in pairs",
                message="paired: baseline has 3 cells but pilot has 2; each pilot measurement "
                        "needs the baseline measurement it is paired with",
                native=False, native_note=PAIRS_NOTE),
        Example(([[5], [7], [6]], [[3], [None], [2]], True), "#VALUE!",
                "a pair with one side blank is refused",
                message="pilot (item 2): is blank but baseline (item 2) has a measurement; a "
                        "paired measurement needs both",
                native=False, native_note=PAIRS_NOTE),
        Example(([[5], [7], [6]], [[3], [4], [2]], "yes"), "#VALUE!",
                "paired takes TRUE or FALSE",
                message="paired: expected TRUE or FALSE, got 'yes'"),
    ),
))
