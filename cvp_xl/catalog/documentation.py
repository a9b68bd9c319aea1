"""Registry entries for documenting value: realization and case-history statistics.

DOMAIN.md §4 (value case histories) and §5 (customer value management).
"""

from __future__ import annotations

from cvp_xl.domain import documentation
from cvp_xl.registry import Argument, Example, Function, register

CATEGORY = "CVP Documentation"
BLANK_NOTE = "Excel's arithmetic reads a blank cell as 0; the function refuses it"
SHAPE_NOTE = ("ranges of different sizes: the native formula's element-by-element comparison "
              "pads with #N/A in Excel")

register(Function(
    name="CVP_REALIZATION",
    func=documentation.realization,
    description=(
        "Value realization: documented / promised, the share of the value promised at the sale "
        "that was documented with the customer. Ranges of one size are computed element by "
        "element."
    ),
    category=CATEGORY,
    args=(
        Argument("documented", "Value documented with the customer for the period, in money"),
        Argument("promised", "Value promised for the same period (from the calculator), >= 0"),
    ),
    elementwise=True,
    native=lambda d, p: f"IF({p}<0,#NUM!,{d}/{p})",
    examples=(
        Example((45_000, 60_000), 0.75, "hand: 45000 / 60000 = 0.75, i.e. 75 % realized"),
        Example((-6_000, 40_000), -0.15,
                "hand: -6000 / 40000 = -0.15 (the customer lost value)"),
        Example(([[30_000], [66_000], [0]], [[60_000], [60_000], [25_000]]),
                [[0.5], [1.1], [0.0]],
                "hand: 30000/60000 = 0.5; 66000/60000 = 1.1; 0/25000 = 0"),
        Example((45_000, 0), "#DIV/0!", "nothing was promised: the ratio is undefined",
                message="promised: is 0; realization = documented / promised needs a "
                        "promised value above 0"),
        Example((45_000, -500), "#NUM!", "a promise of a loss is refused, not divided by",
                message="promised: expected a promised value of 0 or more, got -500"),
        Example(("about 40k", 60_000), "#VALUE!", "text is not an amount of money",
                message="documented: expected a number, got 'about 40k'"),
        Example((None, 60_000), "#VALUE!", "a blank documented value is refused, not read as 0",
                message="documented: expected a number, got a blank cell",
                native=False, native_note=BLANK_NOTE),
    ),
))

_VALUES = [[52_000], [None], [31_000], [18_500], [40_000]]
_SEGMENTS = [["Food"], ["Food"], ["Chemicals"], ["food"], ["Chemicals"]]

register(Function(
    name="CVP_CASE_STATS",
    func=documentation.case_stats,
    description=(
        "count, mean (default), median, min or max of documented values from case histories, "
        "optionally only those whose segment equals segment (text ignores case). Blank cells are "
        "skipped; #N/A when no value is left."
    ),
    category=CATEGORY,
    args=(
        Argument("values", "Documented value per year of each case (blanks are skipped)",
                 kind="range"),
        Argument("segments", "Segment of each case, same size as values", kind="range",
                 optional=True),
        Argument("segment", "The segment to describe (needs segments)", kind="text",
                 optional=True),
        Argument("statistic", "count, mean, median, min or max (default mean)", kind="text",
                 optional=True),
    ),
    native=documentation.case_stats_native,
    examples=(
        Example((_VALUES,), 35_375.0,
                "hand: blank skipped; (52000 + 31000 + 18500 + 40000) / 4 = 141500 / 4 = 35375"),
        Example((_VALUES, _SEGMENTS, "Food"), 35_250.0,
                "hand: Food and food rows 52000, blank, 18500; (52000 + 18500) / 2 = 35250"),
        Example((_VALUES, _SEGMENTS, "Chemicals", "count"), 2.0,
                "hand: Chemicals rows 31000 and 40000 give 2 cases"),
        Example((_VALUES, None, None, "median"), 35_500.0,
                "hand: sorted 18500, 31000, 40000, 52000; (31000 + 40000) / 2 = 35500"),
        Example(([[7], [3], [5]], None, None, "MEDIAN"), 5.0,
                "hand: sorted 3, 5, 7; the middle value is 5"),
        Example((_VALUES, _SEGMENTS, "Chemicals", "min"), 31_000.0,
                "hand: min(31000, 40000) = 31000"),
        Example((_VALUES, _SEGMENTS, "food", "max"), 52_000.0,
                "hand: max(52000, 18500) = 52000"),
        Example(([[-1_200], [None], [800]], None, None, "min"), -1_200.0,
                "hand: min(-1200, 800) = -1200 (blank skipped)"),
        Example((_VALUES, _SEGMENTS, "Food", "average"), "#VALUE!",
                "'average' is not one of the statistics",
                message="statistic: expected one of count, mean, median, min, max, "
                        "got 'average'"),
        Example((_VALUES, _SEGMENTS, "Metals", "count"), "#N/A",
                "no case is in the segment Metals",
                message="no values in segment 'Metals'"),
        Example(([[52_000], ["about 40k"]],), "#VALUE!", "a figure typed as text is refused",
                message="values (item 2): expected a number, got 'about 40k'"),
        Example(([[None], [None]],), "#N/A", "hand: nothing but blank cells",
                message="values: no numbers to describe (every cell is blank)"),
        Example((_VALUES, [["Food"], ["Food"], ["Chemicals"]], "Food"), "#VALUE!",
                "5 values cannot be paired with 3 segments",
                message="values has 5 items but segments has 3",
                native=False, native_note=SHAPE_NOTE),
        Example((_VALUES, _SEGMENTS, None), "#VALUE!",
                "a blank segment is refused, not matched against blank segments",
                message="segment: expected a segment name, got a blank cell",
                native=False,
                native_note="the native comparison segments = blank matches blank segments"),
    ),
))
