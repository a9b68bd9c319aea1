"""Registry entries for documenting value: realization and case-history statistics.

DOMAIN.md §4 (value case histories) and §5 (customer value management).
"""

from __future__ import annotations

from cvp_xl.catalog.guards import (
    CELL,
    OMITTED,
    SHAPE_NOTE,
    amounts,
    any_equal,
    below,
    columns,
    elementwise,
    first_failing,
    kind,
    literal_text,
    rows,
    same_size,
    single,
)
from cvp_xl.domain import documentation
from cvp_xl.domain.documentation import STATISTICS
from cvp_xl.registry import Argument, Example, Function, register

CATEGORY = "CVP Documentation"


def _realization_native(d: str, p: str) -> str:
    return elementwise(f"{d}/{p}", (d, p), (below(p), "#NUM!"), (any_equal(p, 0), "#DIV/0!"))


def _statistic_checks(t: str) -> tuple[int | str, list]:
    """The statistic's place in :data:`STATISTICS` (1 to 5, 0 for none) and its checks.

    A literal or omitted statistic is known now: the formula computes that one statistic
    (or is ``#VALUE!`` for a name that is not one).  A cell's statistic is matched when the
    formula computes: an error passes on, a name that is not a statistic is ``#VALUE!``.
    """
    named = "mean" if kind(t) == OMITTED else literal_text(t)
    if named is not None:
        named = named.lower() or "mean"
        return (STATISTICS.index(named) + 1 if named in STATISTICS else 0), []
    names = "{" + ",".join(f'"{s}"' for s in STATISTICS) + "}"
    places = "{" + ",".join(str(k) for k in range(1, len(STATISTICS) + 1)) + "}"
    # "=" ignores case as the function does, and reads no wildcards (MATCH would: "m*")
    index = f'SUMPRODUCT((IF({t}&""="","mean",{t})={names})*{places})'
    return index, [single(t), (f"ISERROR({t})", t), (f"{index}=0", "#VALUE!")]


def _quoted(text: str) -> str:
    """A formula's string literal for ``text``."""
    return '"' + text.replace('"', '""') + '"'


def _case_stats_native(values: str, segments: str | None = None, segment: str | None = None,
                       statistic: str | None = None) -> str:
    """The native formula of :func:`~cvp_xl.domain.documentation.case_stats`, share-safe.

    The checks come first, in the function's order: the statistic, the values (numbers or
    blank), then the segments (one per value) and the segment (one name, not blank).  A
    segments argument that is one blank cell counts as none, as in the function.  Every
    statistic is computed inside ``SUMPRODUCT`` so that no array entry is needed: with ``c``
    1 for each selected value and 0 for the others, and ``x`` the values with the others
    replaced by 1E+300, the median is ``(SMALL(x, INT((n+1)/2)) + SMALL(x, INT(n/2)+1)) / 2``,
    min and max ``SMALL(x, 1)`` and ``SMALL(x, n)``.
    """
    v, g, s = values, segments, segment
    index, checks = _statistic_checks(statistic)
    if index == 0:
        return "#VALUE!"  # a literal that is no statistic: the function refuses it first
    checks.append(amounts(v))
    named = literal_text(s)
    if named is not None:  # a literal segment: only "" can be wrong, and always is
        s = _quoted(named)
    s_given = kind(s) != OMITTED
    if kind(g) == OMITTED:
        if s_given and named is None:  # a segment without segments is refused unless blank
            checks += [single(s), (f'IFERROR({s}&""<>"",TRUE)', "#VALUE!")]
        elif named:
            return first_failing("#VALUE!", *checks)
        chosen = f"ISNUMBER({v})*1"
    elif kind(g) == CELL:  # one blank cell counts as no segments
        if not s_given:
            checks.append((f"NOT(ISBLANK({g}))", "#VALUE!"))
            chosen = f"ISNUMBER({v})*1"
        else:
            given = f"NOT(ISBLANK({g}))"
            checks += [
                (f'AND(ISBLANK({g}),IFERROR({s}&""<>"",TRUE))', "#VALUE!"),
                (f"AND({given},{rows(v)}*{columns(v)}<>1)", "#VALUE!"),
                single(s),
                (f"AND({given},ISERROR({s}))", s),
                (f'AND({given},{s}&""="")', "#VALUE!"),
            ]
            chosen = f"IF(ISBLANK({g}),1,{g}={s})*ISNUMBER({v})"
    else:
        checks.append(same_size(v, g))
        if not s_given or named == "":  # refused once the values and segments pair
            return first_failing("#VALUE!", *checks)
        if named is None:
            checks += [single(s), (f"ISERROR({s})", s), (f'{s}&""=""', "#VALUE!")]
        # a blank segment cell never matches, though Excel finds blank = 0 and blank = FALSE
        blank_cells = "" if named else f'*({g}<>"")'
        chosen = f"({g}={s}){blank_cells}*ISNUMBER({v})"
    c = f"({chosen})"
    n = f"SUMPRODUCT({chosen})"
    x = f"{v}*{c}+(1-{c})*1E+300"
    branches = (
        n,
        f"SUMPRODUCT({c}*{v})/{n}",
        f"SUMPRODUCT(SMALL({x},INT(({n}+1)/2))+SMALL({x},INT({n}/2)+1))/2",
        f"SUMPRODUCT(SMALL({x},1))",
        f"SUMPRODUCT(SMALL({x},{n}))",
    )
    if isinstance(index, int):
        body = branches[index - 1]
    else:
        body = f"CHOOSE({index},{','.join(branches)})"
    return first_failing(body, *checks, (f"{n}=0", "NA()"))

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
    native=_realization_native,
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
                message="documented: expected a number, got a blank cell"),
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
    native=_case_stats_native,
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
                message="segment: expected a segment name, got a blank cell"),
    ),
))
