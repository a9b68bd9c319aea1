"""Registry entries for value-based pricing and positioning (DOMAIN.md §2, §3, §5)."""

from __future__ import annotations

from cvp_xl.catalog.guards import (
    above,
    amounts,
    any_equal,
    any_pair,
    at_most,
    below,
    either,
    elementwise,
    first_failing,
    numbers,
    same_size,
    scalars,
    single,
    static_shape,
)
from cvp_xl.domain import positioning, pricing
from cvp_xl.registry import Argument, Example, Function, NoTranslation, register

PRICING = "CVP Pricing"
POSITIONING = "CVP Positioning"
FAVORABLE, CONTENTION = "favorable difference", "contention"


def _side(view: str, tol: str) -> str:
    return f"IF(ABS({view})<={tol},0,SIGN({view}))"


def _point_type_native(s: str, c: str, t: str) -> str:
    side_s = _side(s, t)
    body = (f'IF({side_s}={_side(c, t)},CHOOSE({side_s}+2,"unfavorable difference","parity",'
            f'"favorable difference"),"contention")')
    return scalars(body, (s, c, t), (below(t), "#NUM!"))


def _reference_value_native(p: str, u: str) -> str:
    return elementwise(f"{p}*{u}", (p, u), (either(below(p), at_most(u)), "#NUM!"))


def _eve_native(r: str, pos: str, neg: str) -> str:
    """Reference value, then each list: not a number (#VALUE!), then a negative (#NUM!)."""
    return first_failing(f"{r}+SUM({pos})-SUM({neg})", single(r), numbers(r), (below(r), "#NUM!"),
                         amounts(pos), (below(pos), "#NUM!"), amounts(neg), (below(neg), "#NUM!"))


def _price_range_native(r: str, e: str) -> str:
    return scalars(f"IF({{1,0}},{r},{e})", (r, e),
                   (either(below(r), any_pair(e, "<", r, always=True)), "#NUM!"))


def _value_capture_native(p: str, r: str, e: str) -> str:
    return elementwise(f"({p}-{r})/({e}-{r})", (p, r, e),
                       (either(below(p), below(r), any_pair(e, "<", r, always=True)), "#NUM!"),
                       (any_pair(e, "=", r), "#DIV/0!"))


def _price_for_share_native(r: str, e: str, s: str) -> str:
    return elementwise(f"{e}-{s}*({e}-{r})", (r, e, s),
                       (either(below(r), any_pair(e, "<", r, always=True), below(s),
                               above(s, 1)), "#NUM!"))


def _value_map_native(w: str, s: str, a: str) -> str:
    """Gale's score; a weight sum of 0 or a competitor score of 0 fail in the arithmetic.

    The function pairs the items of its three ranges in reading order, whatever their shapes;
    ``SUMPRODUCT`` only pairs ranges of one shape.  Ranges of as many cells in different
    shapes (a row and a column) have no translation.
    """
    shapes = [static_shape(x) for x in (w, s, a)]
    if None not in shapes and len(set(shapes)) > 1 and len({r * c for r, c in shapes}) == 1:
        raise NoTranslation("CVP_VALUE_MAP", "weights, scores_s and scores_a hold as many cells "
                            "in different shapes, and the native SUMPRODUCT pairs ranges of one "
                            "shape only")
    return first_failing(f"SUMPRODUCT({w},{s}/{a})*100/SUM({w})", numbers(w, s, a),
                         same_size(w, s, a), (either(below(w), below(s), below(a)), "#NUM!"))


def _relative_price_native(ps: str, pa: str) -> str:
    return elementwise(f"100*{ps}/{pa}", (ps, pa), (either(below(ps), below(pa)), "#NUM!"),
                       (any_equal(pa, 0), "#DIV/0!"))


# -- pricing -----------------------------------------------------------------------------------

register(Function(
    name="CVP_REFERENCE_VALUE",
    func=pricing.reference_value,
    description=(
        "Reference value by unit equivalence: the next best alternative's price x how many of "
        "its units one unit of ours replaces. Ranges of one size are computed element by "
        "element."
    ),
    category=PRICING,
    args=(
        Argument("alternative_price", "Price of one unit of the next best alternative (0 or more)"),
        Argument("alternative_units_per_unit",
                 "How many units of the alternative one unit of ours replaces (above 0)"),
    ),
    elementwise=True,
    native=_reference_value_native,
    examples=(
        Example((0.02, 3), 0.06,
                "LeveragePoint, 'Prices as Quoted' chart help: one super towel replaces three "
                "conventional towels at $0.02 each; reference value 3 x 0.02 = 0.06"),
        Example(([[0.02], [1.5]], [[3], [2]]), [[0.06], [3.0]],
                "hand: 0.02 x 3 = 0.06; 1.5 x 2 = 3"),
        Example((0.02, 0), "#NUM!", "one unit of ours must replace some of the alternative",
                message="alternative_units_per_unit: expected more than 0 (units of the "
                        "alternative that one unit of ours replaces), got 0"),
        Example((-0.02, 3), "#NUM!", "a price is not negative",
                message="alternative_price: expected a price of 0 or more, got -0.02"),
    ),
))

register(Function(
    name="CVP_EVE",
    func=pricing.eve,
    description=(
        "Total economic value: reference value + sum of positive - sum of negative "
        "differentiation values. Enter negative values as positive amounts; blank cells "
        "count as none."
    ),
    category=PRICING,
    args=(
        Argument("reference_value",
                 "The next best alternative's price in our units (0 or more)"),
        Argument("positive_values",
                 "Positive differentiation values, in money (each 0 or more)", kind="range"),
        Argument("negative_values",
                 "Negative differentiation values, entered as positive amounts", kind="range"),
    ),
    native=_eve_native,
    examples=(
        Example((0.06, [[0.03], [0.01]], [[0.005]]), 0.06 + 0.04 - 0.005,
                "hand (towel figures composed for this repository): reference 0.06 "
                "(LeveragePoint unit equivalence) + 0.03 + 0.01 - 0.005 = 0.095"),
        Example((100, [[30], [None], [20]], [[15], [None]]), 135.0,
                "hand: 100 + (30 + 20) - 15 = 135; blank cells count as none, as SUM skips them"),
        Example((100, [[30], [20]], [[None]]), 150.0,
                "hand: 100 + 50 - 0 = 150; no negative differentiation value"),
        Example((100, [[30]], [[-15]]), "#NUM!",
                "negative differentiation value is entered as a positive amount",
                message="negative_values: is -15; enter negative differentiation value as a "
                        "positive amount (it is subtracted)"),
        Example((100, [[30], [-5]], [[15]]), "#NUM!",
                "a negative amount in the positive list is a sign mistake",
                message="positive_values (item 2): is -5; enter negative differentiation value "
                        "as a positive amount in negative_values"),
        Example((100, [["abc"], [20]], [[15]]), "#VALUE!", "text is not an amount of money",
                message="positive_values (item 1): expected a number, got 'abc'"),
        Example((-1, [[30]], [[15]]), "#NUM!", "a reference value is a price, not negative",
                message="reference_value: expected 0 or more (the next best alternative's "
                        "price in our units), got -1"),
    ),
))

register(Function(
    name="CVP_PRICE_RANGE",
    func=pricing.price_range,
    description=(
        "Value-based price range as two cells in a row: floor (the reference value: the "
        "customer keeps all differentiation value) and ceiling (the total economic value: "
        "it keeps none)."
    ),
    category=PRICING,
    args=(
        Argument("reference_value",
                 "The next best alternative's price in our units (0 or more)"),
        Argument("economic_value", "Total economic value of our offering (CVP_EVE)"),
    ),
    returns="array",
    native=_price_range_native,
    examples=(
        Example((0.06, 0.095), [[0.06, 0.095]],
                "hand (towel figures): floor = reference value 0.06, ceiling = economic "
                "value 0.095"),
        Example((100, 100), [[100.0, 100.0]],
                "hand: no differentiation value; floor and ceiling coincide"),
        Example((100, 90), "#NUM!", "negative net differentiation value leaves no range",
                message="economic_value: 90 is below reference_value 100; the net "
                        "differentiation value is negative, so there is no value-based price "
                        "range"),
    ),
))

register(Function(
    name="CVP_VALUE_CAPTURE",
    func=pricing.value_capture,
    description=(
        "Supplier's share of the differentiation value captured in price: (price - reference) / "
        "(economic value - reference). Below 0: price under the reference; above 1: the "
        "customer's incentive is negative."
    ),
    category=PRICING,
    args=(
        Argument("price", "Our price (0 or more)"),
        Argument("reference_value",
                 "The next best alternative's price in our units (0 or more)"),
        Argument("economic_value",
                 "Total economic value of our offering (above the reference value)"),
    ),
    elementwise=True,
    native=_value_capture_native,
    examples=(
        Example((0.08, 0.06, 0.095), 0.02 / 0.035,
                "hand (towel figures): (0.08 - 0.06) / (0.095 - 0.06) = 0.02 / 0.035 = 4/7"),
        Example((121, 100, 135), 0.6, "hand: (121 - 100) / (135 - 100) = 21 / 35 = 0.6"),
        Example((90, 100, 135), -10 / 35,
                "hand: (90 - 100) / 35 = -0.2857: priced below the reference value, the "
                "customer gets 10 more than all of the differentiation value (allowed)"),
        Example((150, 100, 135), 50 / 35,
                "hand: (150 - 100) / 35 = 1.4286: priced above the economic value, the "
                "customer's incentive 135 - 150 = -15 is negative (allowed)"),
        Example(([[121, 128]], 100, 135), [[0.6, 0.8]],
                "hand: 21 / 35 = 0.6; 28 / 35 = 0.8"),
        Example((120, 100, 100), "#DIV/0!", "no differentiation value to share",
                message="economic_value: equals reference_value (100); with no "
                        "differentiation value there is no share to capture"),
        Example((120, 100, 90), "#NUM!", "negative net differentiation value",
                message="economic_value: 90 is below reference_value 100; the net "
                        "differentiation value is negative, so there is no value-based price "
                        "range"),
        Example((-5, 100, 135), "#NUM!", "a price is not negative",
                message="price: expected a price of 0 or more, got -5"),
    ),
))

register(Function(
    name="CVP_PRICE_FOR_SHARE",
    func=pricing.price_for_share,
    description=(
        "Price that leaves the customer a share (0 to 1) of the differentiation value: "
        "economic value - share x (economic value - reference value)."
    ),
    category=PRICING,
    args=(
        Argument("reference_value",
                 "The next best alternative's price in our units (0 or more)"),
        Argument("economic_value", "Total economic value of our offering (CVP_EVE)"),
        Argument("customer_share",
                 "Customer's share of the differentiation value, 0 to 1 (0.4 for 40 %)"),
    ),
    elementwise=True,
    native=_price_for_share_native,
    examples=(
        Example((100, 135, 0.4), 135 - 0.4 * 35,
                "hand: 135 - 0.4 x (135 - 100) = 135 - 14 = 121"),
        Example((100, 135, 1), 100.0, "hand: share 1 gives the floor, 135 - 35 = 100"),
        Example((100, 135, 0), 135.0, "hand: share 0 gives the ceiling, 135"),
        Example((100, 135, 1.5), "#NUM!", "a share is between 0 and 1",
                message="customer_share: expected a share from 0 to 1 (0.25 for 25 %), got 1.5"),
        Example((100, 90, 0.5), "#NUM!", "negative net differentiation value",
                message="economic_value: 90 is below reference_value 100; the net "
                        "differentiation value is negative, so there is no value-based price "
                        "range"),
    ),
))

# -- positioning -------------------------------------------------------------------------------

register(Function(
    name="CVP_POINT_TYPE",
    func=positioning.point_type,
    description=(
        "Point type of a value element: parity, favorable difference, unfavorable difference, "
        "or contention when the views disagree. Views: ours minus the alternative's, in money, "
        "positive = better; |view| <= tolerance is parity."
    ),
    category=POSITIONING,
    args=(
        Argument("supplier_view", "Ours minus the alternative's, as the supplier sees it, money"),
        Argument("customer_view", "Ours minus the alternative's, as the customer sees it, money"),
        Argument("tolerance", "Largest difference still counted as parity (0 or more)"),
    ),
    returns="text",
    native=_point_type_native,
    examples=(
        Example((5000, 4000, 500), FAVORABLE,
                "hand: both views above the tolerance 500: both favorable"),
        Example((5000, 300, 500), CONTENTION,
                "hand: supplier 5000 > 500 favorable; customer |300| <= 500 parity: they "
                "disagree"),
        Example((-200, 400, 500), "parity", "hand: |-200| and |400| are both <= 500"),
        Example((-2000, -1500, 500), "unfavorable difference",
                "hand: both views below -500: both unfavorable"),
        Example((500, -500, 500), "parity", "hand: |500| <= 500 on both sides (boundary)"),
        Example((1000, -800, 0), CONTENTION,
                "hand: tolerance 0; supplier favorable, customer unfavorable"),
        Example((0, 0, 0), "parity", "hand: no difference at all"),
        Example((100, 100, -1), "#NUM!", "a tolerance is a size, not negative",
                message="tolerance: expected 0 or more (the largest difference still counted "
                        "as parity), got -1"),
    ),
))

_NAMES = [["Uptime"], ["Energy savings"], ["Training"], ["Delivery"], ["Color range"]]
_VALUES = [[5000], [9000], [800], [4100], [0]]
_TYPES = [[FAVORABLE], [CONTENTION], [FAVORABLE], [FAVORABLE], ["parity"]]

register(Function(
    name="CVP_RESONATING_FOCUS",
    func=positioning.resonating_focus,
    description=(
        "The n (default 2) favorable points of difference of greatest value, largest first, "
        "as a column. With types, only 'favorable difference' counts; values must be above 0. "
        "#N/A when fewer exist."
    ),
    category=POSITIONING,
    args=(
        Argument("names", "Names of the value elements", kind="range"),
        Argument("values", "Value of each element to the customer, in money", kind="range"),
        Argument("types", "Point type of each element (CVP_POINT_TYPE); omit to count every "
                          "positive value", kind="range", optional=True),
        Argument("n", "How many points to return (default 2)", optional=True),
    ),
    returns="array",
    examples=(
        Example((_NAMES, _VALUES, _TYPES, 3), [["Uptime"], ["Delivery"], ["Training"]],
                "hand: favorable with value > 0: Uptime 5000, Training 800, Delivery 4100 "
                "(Energy savings is a point of contention); largest first"),
        Example((_NAMES, _VALUES), [["Energy savings"], ["Uptime"]],
                "hand: without types every positive value counts: 9000, 5000 are largest"),
        Example((_NAMES, _VALUES, None, 3), [["Energy savings"], ["Uptime"], ["Delivery"]],
                "hand: types left blank (as if omitted), n = 3: 9000, 5000, 4100"),
        Example(([["A"], ["B"], ["C"]], [[300], [500], [500]]), [["B"], ["C"]],
                "hand: B and C tie at 500; the one listed first comes first"),
        Example(([["A"], ["B"], [None]], [[100], [200], [None]]), [["B"], ["A"]],
                "hand: the empty third row is room for more elements and is skipped"),
        Example((_NAMES, _VALUES, _TYPES, 4), "#N/A",
                "hand: only Uptime, Training and Delivery qualify",
                message="n: asks for 4 favorable points of difference but there are only 3 "
                        "(typed favorable difference, value above 0)"),
        Example((_NAMES, _VALUES, _TYPES, 2.5), "#NUM!", "n counts points",
                message="n: expected a whole number of 1 or more, got 2.5"),
        Example(([["A"], ["B"]], [[100], [200]], [[FAVORABLE], ["better"]]), "#VALUE!",
                "'better' is not a point type",
                message="types (item 2): expected parity, favorable difference, unfavorable "
                        "difference or contention, got 'better'"),
        Example(([["A"], ["B"]], [[100], [None]]), "#VALUE!",
                "an element with a name needs a value",
                message="values (item 2): expected a number, got a blank cell"),
    ),
))

_W, _S, _A = [[40], [25], [20], [15]], [[8], [7], [9], [5]], [[6], [7], [6], [8]]

register(Function(
    name="CVP_VALUE_MAP",
    func=positioning.value_map,
    description=(
        "Relative performance score on Gale's customer value map: sum of w_i x s_i / a_i with "
        "weights normalised to 100 (w_i x 100 / sum of w). 100 = parity with the competitor."
    ),
    category=POSITIONING,
    args=(
        Argument("weights", "Importance weight of each attribute (0 or more, not all 0)",
                 kind="range"),
        Argument("scores_s", "Our performance score on each attribute (0 or more)",
                 kind="range"),
        Argument("scores_a", "The competitor's score on each attribute (above 0)",
                 kind="range"),
    ),
    native=_value_map_native,
    examples=(
        Example((_W, _S, _A), 40 * 8 / 6 + 25 * 7 / 7 + 20 * 9 / 6 + 15 * 5 / 8,
                "hand (Gale's method, figures composed for this repository): weights sum to "
                "100; 40 x 8/6 + 25 x 7/7 + 20 x 9/6 + 15 x 5/8 = 53.333 + 25 + 30 + 9.375 "
                "= 117.708"),
        Example(([[4], [2]], [[8], [7]], [[6], [7]]), (4 * 8 / 6 + 2 * 7 / 7) * 100 / 6,
                "hand: weights 4 and 2 normalised to 66.667 and 33.333; "
                "(4 x 8/6 + 2 x 7/7) x 100 / 6 = 122.222"),
        Example(([[0], [0]], [[8], [7]], [[6], [7]]), "#DIV/0!",
                "weights that sum to 0 cannot be normalised",
                message="weights: sum to 0; each weight is normalised as w_i x 100 / sum of "
                        "weights, so at least one weight must be above 0"),
        Example(([[40], [60]], [[8], [7]], [[6], [0]]), "#DIV/0!",
                "a competitor score of 0 makes s_i / a_i undefined",
                message="scores_a (item 2): the competitor's score is 0; the relative score "
                        "s_i / a_i needs a score above 0"),
        Example(([[40], [-10]], [[8], [7]], [[6], [7]]), "#NUM!", "weights are not negative",
                message="weights (item 2): expected an importance weight of 0 or more, got -10"),
        Example(([[40], [60], [10]], [[8], [7]], [[6], [7]]), "#VALUE!",
                "3 weights cannot be paired with 2 scores",
                message="weights has 3 items but scores_s has 2"),
    ),
))

register(Function(
    name="CVP_RELATIVE_PRICE",
    func=positioning.relative_price,
    description=(
        "Relative price on the customer value map: 100 x price_s / price_a (100 = the same "
        "price as the competitor). Ranges of one size are computed element by element."
    ),
    category=POSITIONING,
    args=(
        Argument("price_s", "Our price (0 or more)"),
        Argument("price_a", "The competitor's price (above 0)"),
    ),
    elementwise=True,
    native=_relative_price_native,
    examples=(
        Example((1080, 1200), 90.0, "hand: 100 x 1080 / 1200 = 90"),
        Example(([[1080], [1500]], 1200), [[90.0], [125.0]],
                "hand: 100 x 1080 / 1200 = 90; 100 x 1500 / 1200 = 125"),
        Example((1200, 0), "#DIV/0!", "no relative price against a price of 0",
                message="price_a: is 0; relative price = 100 x price_s / price_a needs a price "
                        "above 0"),
        Example((-1, 100), "#NUM!", "a price is not negative",
                message="price_s: expected a price of 0 or more, got -1"),
    ),
))

register(Function(
    name="CVP_FAIR_VALUE_GAP",
    func=positioning.fair_value_gap,
    description=(
        "Position against the value map's fair-value line: relative quality - relative price. "
        "Positive: below/right of the line, better customer value; negative: worse."
    ),
    category=POSITIONING,
    args=(
        Argument("relative_quality", "Relative performance score, 100 = parity (CVP_VALUE_MAP)"),
        Argument("relative_price", "Relative price, 100 = parity (CVP_RELATIVE_PRICE)"),
    ),
    elementwise=True,
    native=lambda q, p: elementwise(f"{q}-{p}", (q, p)),
    examples=(
        Example((117.5, 90), 27.5,
                "hand: 117.5 - 90 = 27.5, below and right of the line: better value"),
        Example((95, 110), -15.0, "hand: 95 - 110 = -15, above and left: worse value"),
        Example(([[100, 120]], [[100, 120]]), [[0.0, 0.0]],
                "hand: on the fair-value line the gap is 0"),
    ),
))
