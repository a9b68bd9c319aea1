"""Registry entries for the fundamental value equation family (DOMAIN.md §1, §4)."""

from __future__ import annotations

from cvp_xl.catalog.guards import SHAPE_NOTE, any_equal, elementwise
from cvp_xl.domain import value
from cvp_xl.registry import Argument, Example, Function, register

CATEGORY = "CVP Value"
LOGICAL_NOTE = ("LibreOffice has no logical type: it reads TRUE as the number 1, so the native "
                 "formula's ISNUMBER check lets it through there (Excel refuses it, as the "
                 "function does)")

register(Function(
    name="CVP_DIFFERENTIAL",
    func=value.differential,
    description=(
        "Customer's value differential against the next best alternative: "
        "(value_s - price_s) - (value_a - price_a). Positive means the customer has a reason "
        "to buy ours. Ranges of one size are computed element by element."
    ),
    category=CATEGORY,
    args=(
        Argument("value_s", "Value of our offering to the customer, in money (excluding price)"),
        Argument("price_s", "Price of our offering"),
        Argument("value_a", "Value of the next best alternative to the customer, in money"),
        Argument("price_a", "Price of the next best alternative"),
    ),
    elementwise=True,
    native=lambda vs, ps, va, pa: elementwise(f"({vs}-{ps})-({va}-{pa})", (vs, ps, va, pa)),
    examples=(
        Example((1000, 600, 700, 450), 150.0,
                "hand: (1000 - 600) - (700 - 450) = 400 - 250 = 150"),
        Example((-200, 0, 0, 0), -200.0, "hand: (-200 - 0) - (0 - 0) = -200"),
        Example(([[1000], [800]], [[600], [600]], [[700], [700]], [[450], [450]]),
                [[150.0], [-50.0]],
                "hand: row 1 (1000-600)-(700-450) = 150; row 2 (800-600)-(700-450) = -50"),
        Example((1000, "abc", 700, 450), "#VALUE!", "the text 'abc' is not a price",
                message="price_s: expected a number, got 'abc'"),
        Example((1000, 600, None, 450), "#VALUE!", "a blank value is refused, not read as 0",
                message="value_a: expected a number, got a blank cell"),
        Example(([[1000], [800]], [[600], [600], [600]], 700, 450), "#VALUE!",
                "ranges of 2 and 3 rows cannot be paired",
                message="price_s: a range of 3 rows x 1 column does not match "
                        "value_s (2 rows x 1 column)", native=False, native_note=SHAPE_NOTE),
    ),
))

register(Function(
    name="CVP_INCENTIVE",
    func=value.incentive,
    description="Customer's incentive to buy an offering: value - price. "
                "Ranges of one size are computed element by element.",
    category=CATEGORY,
    args=(
        Argument("value", "Value of the offering to the customer, in money (excluding price)"),
        Argument("price", "Price of the offering"),
    ),
    elementwise=True,
    native=lambda v, p: elementwise(f"{v}-{p}", (v, p)),
    examples=(
        Example((1000, 600), 400.0, "hand: 1000 - 600 = 400"),
        Example((0.1, 0.3), 0.1 - 0.3, "hand: 0.1 - 0.3 in binary floating point"),
        Example((True, 1), "#VALUE!", "TRUE is not an amount of money",
                message="value: expected a number, got TRUE", native=False,
                native_note=LOGICAL_NOTE),
    ),
))

register(Function(
    name="CVP_NEXT_BEST",
    func=value.next_best,
    description="Name of the next best alternative: the one with the largest incentive "
                "value - price (the first one on ties).",
    category=CATEGORY,
    args=(
        Argument("names", "Names of the alternatives (status quo, rivals, make in-house...)",
                 kind="range"),
        Argument("values", "Value of each alternative to the customer, in money", kind="range"),
        Argument("prices", "Price of each alternative", kind="range"),
    ),
    returns="text",
    examples=(
        Example(([["Status quo"], ["Rival A"], ["Make in-house"]], [[0], [900], [700]],
                 [[0], [500], [250]]), "Make in-house",
                "hand: incentives 0, 900 - 500 = 400, 700 - 250 = 450; the largest is 450"),
        Example(([["A"], ["B"]], [[10], [20]], [[5], [15]]), "A",
                "hand: incentives 5 and 5 tie; the first wins"),
        Example(([["A"], ["B"], ["C"]], [[10], [20]], [[5], [15], [1]]), "#VALUE!",
                "3 names cannot be paired with 2 values",
                message="names has 3 items but values has 2"),
        Example(([["A"], [None]], [[10], [20]], [[5], [15]]), "#VALUE!",
                "a blank name cannot be reported", message="names (item 2): expected a name, "
                "got a blank cell"),
    ),
))

register(Function(
    name="CVP_BREAKEVEN_PRICE",
    func=value.breakeven_price,
    description="Break-even (relative worth) price of our offering, at which the customer is "
                "indifferent: price_a + (value_s - value_a).",
    category=CATEGORY,
    args=(
        Argument("value_s", "Value of our offering to the customer, in money (excluding price)"),
        Argument("value_a", "Value of the next best alternative to the customer, in money"),
        Argument("price_a", "Price of the next best alternative"),
    ),
    elementwise=True,
    native=lambda vs, va, pa: elementwise(f"{pa}+({vs}-{va})", (vs, va, pa)),
    examples=(
        Example((1000, 700, 450), 750.0,
                "customervaluecenter.org 'relative worth'; hand: 450 + (1000 - 700) = 750"),
        Example(([[1000, 1200]], 700, [[450, 500]]), [[750.0, 1000.0]],
                "hand: 450 + (1000 - 700) = 750; 500 + (1200 - 700) = 1000"),
    ),
))

register(Function(
    name="CVP_ROI",
    func=value.roi,
    description="Return on investment as a fraction: (benefit - cost) / cost. "
                "Format the cell as a percentage.",
    category=CATEGORY,
    args=(
        Argument("benefit", "Total benefit to the customer over the period, in money"),
        Argument("cost", "Total cost to the customer over the same period, in money"),
    ),
    elementwise=True,
    native=lambda b, c: elementwise(f"({b}-{c})/{c}", (b, c), (any_equal(c, 0), "#DIV/0!")),
    examples=(
        Example((200_000, 50_000), 3.0,
                "prezentor.com 'How to build and use ROI calculators in sales': "
                "benefit 200,000 on a cost of 50,000 gives 300 %"),
        Example((30_000, 40_000), -0.25, "hand: (30000 - 40000) / 40000 = -0.25"),
        Example((1000, 0), "#DIV/0!", "ROI is undefined for a cost of 0",
                message="cost: is 0; ROI = (benefit - cost) / cost needs a non-zero cost"),
        Example((200_000, None), "#VALUE!",
                "a blank cost is refused, not read as 0 (which would give #DIV/0!)",
                message="cost: expected a number, got a blank cell"),
        Example(([[1000], [2000]], [[500], [0]]), "#DIV/0!",
                "hand: the cost of row 2 is 0, so the whole range is refused, not row 2 alone",
                message="cost: is 0; ROI = (benefit - cost) / cost needs a non-zero cost"),
    ),
))

register(Function(
    name="CVP_PAYBACK",
    func=value.payback,
    description="Periods until the cumulative cash flow covers the investment paid at time 0, "
                "interpolated linearly within the period; #N/A when never.",
    category=CATEGORY,
    args=(
        Argument("investment", "Amount paid at time 0 (0 or more)"),
        Argument("cash_flows", "Net cash flow of periods 1, 2, ... (a row or a column)",
                 kind="range"),
    ),
    examples=(
        Example((1000, [[400], [400], [400]]), 2.5,
                "hand: cumulative -600, -200, +200; 2 + 200/400 = 2.5"),
        Example((1000, [[-100, 600, 1000]]), 2.5,
                "hand: cumulative -1100, -500, +500; 2 + 500/1000 = 2.5"),
        Example((0, [[100]]), 0.0, "hand: nothing to pay back"),
        Example((0, [[-50], [100]]), 1.5,
                "hand: nothing paid up front; cumulative -50, +50; 1 + 50/100 = 1.5"),
        Example((0, [[-100], [-100]]), "#N/A",
                "DOMAIN.md §4: no payback when the cumulative flow never turns positive, "
                "whatever the investment; hand: cumulative -100, -200",
                message="payback not reached: cumulative cash flow after 2 periods is -200"),
        Example((1000, [[100], [100]]), "#N/A", "hand: cumulative -900, -800 never reaches 0",
                message="payback not reached: cumulative cash flow after 2 periods is -800"),
        Example((-5, [[100]]), "#NUM!", "an investment is paid, not received",
                message="investment: expected an amount of 0 or more (paid at time 0), got -5"),
    ),
))
