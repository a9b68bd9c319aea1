"""The word-equation language: names, operators, precedence, result names and parse errors.

Expected numbers are hand calculations or Excel's documented rules, written out next to each
case; every error message is asserted word for word, as the user sees it.
"""

from __future__ import annotations

import pytest

from cvp_xl.errors import CvpError, CvpNameError, CvpNumError, CvpValueError
from cvp_xl.wordeq import MAX_DEPTH, MAX_LENGTH, evaluate, parse, to_formula

# DOMAIN.md §4, the value word equation composed there.
DOMAIN_EQUATION = """Savings from fewer unplanned stops per year =
    (Unplanned stops per year with the alternative - Unplanned stops per year with ours)
    x Hours lost per stop x Contribution margin lost per hour"""
DOMAIN_NAMES = [
    "Unplanned stops per year with the alternative",
    "Unplanned stops per year with ours",
    "Hours lost per stop",
    "Contribution margin lost per hour",
]


def test_domain_example_by_hand():
    # Hand calculation: the alternative stops 12 times a year, ours 4 times; each stop loses
    # 6 hours; an hour of downtime loses USD 1,500 of contribution margin.
    #   (12 - 4) stops/year x 6 hours/stop x 1,500 USD/hour = 8 x 6 x 1,500 = 72,000 USD/year
    eq = parse(DOMAIN_EQUATION, DOMAIN_NAMES)
    assert eq.result_name == "Savings from fewer unplanned stops per year"
    assert eq.quantities == tuple(DOMAIN_NAMES)
    assert eq.text == DOMAIN_EQUATION
    assert eq.evaluate([12, 4, 6, 1500]) == 72000.0
    assert evaluate(DOMAIN_EQUATION, DOMAIN_NAMES, [12, 4, 6, 1500]) == 72000.0


@pytest.mark.parametrize(
    ("equation", "expected"),
    [
        # Excel: negation binds tighter than ^, so -2^2 = (-2)^2 = 4.
        ("-2^2", 4.0),
        # Excel: ^ is left-associative, so 2^3^2 = (2^3)^2 = 8^2 = 64 (not 2^9 = 512).
        ("2^3^2", 64.0),
        # Left to right: (10 - 2) - 3 = 5.
        ("10-2-3", 5.0),
        # 15% is 0.15; 2 x 0.15 = 0.3.
        ("2*15%", 0.3),
        # (2^-2)^2 = 0.25^2 = 0.0625 (formulas and LibreOffice 7 agree).
        ("2^-2^2", 0.0625),
        # Explicit parentheses: -(2^2) = -4.
        ("-(2^2)", -4.0),
        # * and / left to right: (12 / 4) * 3 = 9, not 12 / 12 = 1.
        ("12/4*3", 9.0),
        # * before +: 1 + (2 * 3) = 7.
        ("1+2*3", 7.0),
        # ^ before *: 2 * (3^2) = 18; and with a sign on the right: 2 * ((-3)^2) = 18.
        ("2*3^2", 18.0),
        ("2*-3^2", 18.0),
        # Signs collapse: --3 = 3, +-+3 = -3.
        ("--3", 3.0),
        ("+-+3", -3.0),
        # a - -b is a + b.
        ("5 - -2", 7.0),
        # 50% of 50%: 0.5 * 0.5 = 0.25; 50%^2 = 0.25 (% binds tighter than ^).
        ("50%*50%", 0.25),
        ("50%^2", 0.25),
        # Decimals and exponents.
        (".5 + 1.5e3 + 2E-1", 1500.7),
    ],
)
def test_precedence_matches_excel(equation, expected):
    assert evaluate(equation, [], []) == pytest.approx(expected, rel=1e-12)


def test_typeset_operators_are_ascii_operators():
    names = ["a", "b", "c"]
    # (10 - 4) x 3 / 2 = 9, written five ways.
    for text in [
        "(a - b) * c / 2",
        "(a − b) × c ÷ 2",
        "(a – b) · c / 2",
        "(a - b) ⋅ c / 2",
        "(a - b) x c / 2",
        "(a - b) X c / 2",
    ]:
        assert evaluate(text, names, [10, 4, 3]) == 9.0, text
        assert to_formula(text, {"a": "B1", "b": "B2", "c": "B3"}) == "=(B1-B2)*B3/2"


def test_x_is_an_operator_only_standalone_and_outside_names():
    names = ["Margin x factor", "x", "Hours"]
    # "Margin x factor" is one name (longest match); then " x " multiplies; then the name x.
    assert evaluate("Margin x factor x x", names, [2, 5, 7]) == 10.0
    assert parse("Margin x factor x x", names).quantities == ("Margin x factor", "x")
    # x needs a space before it: "Hours x(x)" multiplies, "2x" is not "2 times".
    assert evaluate("Hours x(x)", names, [0, 3, 4]) == 12.0
    with pytest.raises(CvpNameError) as error:
        evaluate("2x Hours", names, [0, 3, 4])
    assert error.value.message == "unknown quantity '2x Hours'; did you mean 'Hours'?"


def test_longest_known_name_wins():
    names = ["Hours", "Hours lost per stop", "Stops"]
    eq = parse("Hours lost per stop * Stops + Hours", names)
    assert eq.quantities == ("Hours lost per stop", "Stops", "Hours")
    assert eq.evaluate([1, 6, 10]) == 61.0


def test_names_ignore_case_and_whitespace():
    names = ["Hours lost per stop", "Stops"]
    eq = parse("  hours   LOST\tper\nstop *stops  ", names)
    # quantities are spelled as in names
    assert eq.quantities == ("Hours lost per stop", "Stops")
    assert eq.evaluate([6, 2]) == 12.0


def test_name_must_end_at_a_word_boundary():
    with pytest.raises(CvpNameError) as error:
        parse("Hours * 2", ["Hour"])
    assert error.value.message == "unknown quantity 'Hours'; did you mean 'Hour'?"


def test_brackets_and_names_with_operator_characters():
    names = ["Cost (USD) per hour", "R&D hours", "O'Brien's rate", "Discount %", "Q3 sales"]
    values = [100, 2, 0.5, 0.1, 40]
    # Bracketed, and the same names unbracketed (known names win over operators).
    text = "[Cost (USD) per hour] * [R&D hours] * (1 - [Discount %]) + [O'Brien's rate] * Q3 sales"
    assert evaluate(text, names, values) == pytest.approx(100 * 2 * 0.9 + 0.5 * 40)
    bare = "Cost (USD) per hour * R&D hours * (1 - Discount %) + O'Brien's rate * Q3 sales"
    assert evaluate(bare, names, values) == pytest.approx(100 * 2 * 0.9 + 0.5 * 40)
    # Brackets also ignore case and whitespace.
    assert evaluate("[  cost (usd)   PER hour ]", names, values) == 100.0


def test_names_may_start_with_digits_or_a_sign():
    names = ["3M tape cost", "−20% scenario"]
    assert evaluate("2 * 3M tape cost - −20% scenario", names, [5, 1]) == 9.0
    assert evaluate("-−20% scenario", names, [5, 1]) == -1.0


def test_result_name():
    assert parse("[Savings (USD/year)] = 1 + 1", []).result_name == "Savings (USD/year)"
    assert parse("  Savings   per year = 2", []).result_name == "Savings per year"
    assert parse("= 2", []).result_name is None
    assert parse("2", []).result_name is None
    # The first "=" outside brackets ends the result name.
    assert parse("Out = [a=b] * 2", ["a=b"]).evaluate([3]) == 6.0


def test_functions():
    names = ["a", "b"]
    assert evaluate("MIN(a, b, 3)", names, [5, 4]) == 3.0
    assert evaluate("max(a; b)", names, [5, 4]) == 5.0
    assert evaluate("Abs(b - a)", names, [5, 4]) == 1.0
    assert evaluate("ROUND(a / b, 1)", names, [5, 4]) == 1.3  # 1.25 -> 1.3, half away from 0
    # A name like a function name is still a name when no "(" follows it.
    assert evaluate("Round trips * 2", ["Round trips"], [4]) == 8.0
    assert evaluate("ROUND(Round trips / 3, 0)", ["Round trips"], [4]) == 1.0


def test_limits_accept_up_to_the_edge():
    nested = "(" * MAX_DEPTH + "1" + ")" * MAX_DEPTH
    assert evaluate(nested, [], []) == 1.0
    long_sum = "1" + "+1" * ((MAX_LENGTH - 1) // 2)
    assert len(long_sum) <= MAX_LENGTH
    assert evaluate(long_sum, [], []) == (MAX_LENGTH - 1) // 2 + 1
    assert evaluate("-" * (MAX_LENGTH - 1) + "1", [], []) == -1.0


def test_parse_is_cached_per_normalised_names():
    first = parse("a + b", ["a", "b"])
    second = parse("a + b", ["A", " b "])
    assert first._core is second._core
    assert second.quantities == ("A", " b ")


# -- errors, word for word ---------------------------------------------------------------

NAMES = ["Cost per hour of downtime", "Hours lost per stop", "Stops per year"]

PARSE_ERRORS = [
    (
        "Cost per hour downtime * 2",
        CvpNameError,
        "unknown quantity 'Cost per hour downtime'; did you mean 'Cost per hour of downtime'?",
    ),
    ("Zebra crossings * 2", CvpNameError, "unknown quantity 'Zebra crossings'"),
    ("[Zebra] * 2", CvpNameError, "unknown quantity 'Zebra'"),
    (
        "Savings = (Stops per year * 2",
        CvpValueError,
        "unbalanced parenthesis at position 11: '(' is never closed",
    ),
    (
        "Stops per year * 2) + 1",
        CvpValueError,
        "unbalanced parenthesis at position 19: ')' has no matching '('",
    ),
    (
        "MIN(Stops per year, 2",
        CvpValueError,
        "unbalanced parenthesis at position 4: '(' is never closed",
    ),
    (")", CvpValueError, "unbalanced parenthesis at position 1: ')' has no matching '('"),
    ("[Stops per year * 2", CvpValueError, "unbalanced bracket at position 1: '[' is never closed"),
    (
        "Stops per year] * 2",
        CvpValueError,
        "unbalanced bracket at position 15: ']' has no matching '['",
    ),
    (
        "[ ] * 2",
        CvpValueError,
        "empty brackets at position 1; put a quantity's name between '[' and ']'",
    ),
    ("", CvpValueError, "equation is empty"),
    ("   \n ", CvpValueError, "equation is empty"),
    ("Savings =  ", CvpValueError, "nothing to compute after '=' at position 9"),
    ("Stops per year ×", CvpValueError, "missing a value after '×' at position 16"),
    ("Stops per year x", CvpValueError, "missing a value after 'x' at position 16"),
    ("(Stops per year - )", CvpValueError, "missing a value after '-' at position 17"),
    ("()", CvpValueError, "missing a value after '(' at position 1"),
    ("MIN(1, )", CvpValueError, "missing a value after ',' at position 6"),
    ("-", CvpValueError, "missing a value after '-' at position 1"),
    (
        "Stops per year Hours lost per stop",
        CvpValueError,
        "missing an operator before 'Hours lost per stop' at position 16",
    ),
    ("2 3", CvpValueError, "missing an operator before '3' at position 3"),
    ("(1) (2)", CvpValueError, "missing an operator before '(' at position 5"),
    (
        "Stops per year * * 2",
        CvpValueError,
        "unexpected '*' at position 18; expected a quantity, a number or '('",
    ),
    ("/ 2", CvpValueError, "unexpected '/' at position 1; expected a quantity, a number or '('"),
    (", 2", CvpValueError, "unexpected ',' at position 1; expected a quantity, a number or '('"),
    (
        "SQRT(4)",
        CvpNameError,
        "unknown function 'SQRT' at position 1; the functions are ABS, MAX, MIN and ROUND",
    ),
    ("ROUND(1)", CvpValueError, "ROUND at position 1 needs 2 arguments (number, digits), got 1"),
    ("2 * ABS(1, 2)", CvpValueError, "ABS at position 5 needs 1 argument, got 2"),
    ("MAX()", CvpValueError, "MAX at position 1 needs at least 1 argument"),
    (
        "1,200 * 2",
        CvpValueError,
        "unexpected ',' at position 2; write numbers without thousands separators "
        "(1200, not 1,200)",
    ),
    (
        "(1; 2)",
        CvpValueError,
        "unexpected ';' at position 3; ',' and ';' separate the arguments of a function",
    ),
    (
        "a = 1 = 2",
        CvpValueError,
        "unexpected '=' at position 7; '=' may appear once, after the result's name",
    ),
    (
        "Stops per year >= 2",
        CvpValueError,
        "comparison '>=' at position 16 is not supported; a word equation computes a number",
    ),
    (
        "Stops per year %",
        CvpValueError,
        "'%' at position 16 must come right after a number, as in 15%",
    ),
    ("1e400 * 2", CvpNumError, "number '1e400' at position 1 is too large"),
    ("2nd shift hours * 2", CvpNameError, "unknown quantity '2nd shift hours'"),
    (
        "(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1),
        CvpValueError,
        f"equation is nested more than 50 levels deep at position {MAX_DEPTH + 1}",
    ),
    (
        "ABS(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1),
        CvpValueError,
        f"equation is nested more than 50 levels deep at position {4 * MAX_DEPTH + 1}",
    ),
    ("1" * 2001, CvpValueError, "equation is 2,001 characters long; the limit is 2,000"),
]


@pytest.mark.parametrize(("equation", "kind", "message"), PARSE_ERRORS)
def test_parse_errors_word_for_word(equation, kind, message):
    with pytest.raises(kind) as error:
        parse(equation, NAMES)
    assert type(error.value) is kind
    assert error.value.message == message


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["a", ""], "names item 2 is blank"),
        (["a", "  \t"], "names item 2 is blank"),
        (["a", 5], "names item 2: expected text, got 5"),
        (["a", "+"], "names item 2 ('+') needs at least one letter or digit"),
        (
            ["Hours", "b", "  hours "],
            "names items 1 and 3 are the same name 'hours' (case and spaces are ignored)",
        ),
        ("abc", "names must be a list of quantity names, got 'abc'"),
    ],
)
def test_bad_names(names, message):
    with pytest.raises(CvpValueError) as error:
        parse("1", names)
    assert error.value.message == message


def test_equation_must_be_text():
    with pytest.raises(CvpValueError) as error:
        parse(12, [])
    assert error.value.message == "the equation must be text, got 12"


def test_every_error_is_a_cvp_error_with_an_excel_code():
    for equation, _, _ in PARSE_ERRORS:
        with pytest.raises(CvpError) as error:
            parse(equation, NAMES)
        assert str(error.value).startswith(("#VALUE! ", "#NAME? ", "#NUM! "))
