"""Properties of word equations (Hypothesis) and hostile input.

* A random expression tree, written out as a word equation with random spellings, operators
  and parentheses, evaluates (1) like the tree itself under Excel's rules, (2) like its own
  to_formula() translation computed by the formulas engine, and (3) the same per customer
  as over an array of customers (to 1e-9: numpy's vectorised power may differ from its scalar
  power in the last bit).
* Any text at all, with any names and values, gives a value or a CvpError, and the parser's
  work on it, counted in steps (:func:`cvp_xl.wordeq.parse.steps_to_read`), stays within a
  stated bound linear in the text's length: no wall clock anywhere.
* Code-like and oversized input is refused within that bound and runs nothing.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import math
import os
import pkgutil
import subprocess
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cvp_xl.wordeq as wordeq
from cvp_xl.errors import CvpDivZeroError, CvpError, CvpNumError, CvpValueError
from cvp_xl.wordeq import evaluate, parse, to_formula, unit
from cvp_xl.wordeq.parse import steps_to_read

formulas = pytest.importorskip("formulas")
from formulas.tokens.operand import XlError  # noqa: E402

# Names chosen to stress the matcher: one is a prefix of another, one contains " x ", one is
# "x" itself, some contain operator characters or start with a digit or a minus sign.
POOL = [
    "Stops per year",
    "Stops per year with ours",
    "Hours lost per stop",
    "Hours",
    "Cost (USD) per hour",
    "Margin x factor",
    "x",
    "Q3 sales",
    "O'Brien's rate",
    "R&D hours",
    "Discount %",
    "Year-on-year growth",
    "3M tape cost",
    "\u221220% scenario",
]
REFS = {name: f"B{i + 1}" for i, name in enumerate(POOL)}
NUMBERS = ["2", "0.5", "15%", "1.25", "3", "1e-3", "100", ".5", "12.5%", "7"]

PROPERTY = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
FUZZ = settings(max_examples=250, deadline=None, database=None)

# -- random expression trees -------------------------------------------------------------

leaf = st.one_of(
    st.sampled_from(POOL).map(lambda name: ("ref", name)),
    st.sampled_from(NUMBERS).map(lambda text: ("num", text)),
)
small_integer = st.one_of(
    st.sampled_from(["0", "1", "2", "3"]).map(lambda text: ("num", text)),
    st.sampled_from(["1", "2"]).map(lambda text: ("neg", ("num", text))),
)


def extend(children):
    return st.one_of(
        st.tuples(st.just("neg"), children),
        st.tuples(st.just("bin"), st.sampled_from("+-*/"), children, children),
        st.tuples(st.just("bin"), st.just("^"), children, small_integer),
        st.tuples(
            st.just("call"),
            st.sampled_from(["MIN", "MAX"]),
            st.lists(children, min_size=1, max_size=3),
        ),
        st.tuples(st.just("call"), st.just("ABS"), st.lists(children, min_size=1, max_size=1)),
        st.tuples(st.just("call"), st.just("ROUND"), st.tuples(children, small_integer).map(list)),
    )


trees = st.recursive(leaf, extend, max_leaves=10)
# Values like 123/997 have no short decimal form, so ROUND never meets an exact half that
# Excel (15 significant digits) and the formulas package (exact binary) would break apart.
values = st.integers(-(10**6), 10**6).map(lambda i: i / 997)
value_sets = st.lists(values, min_size=len(POOL), max_size=len(POOL))

PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "^": 3}
GLYPHS = {
    "+": ["+"],
    "-": ["-", "\u2212", "\u2013"],
    "*": ["*", "\u00d7", "\u00b7", "x", "X"],
    "/": ["/", "\u00f7"],
    "^": ["^"],
}


def spell(name: str, rnd) -> str:
    text = rnd.choice([name, name.upper(), name.lower()])
    text = "".join(rnd.choice([" ", "  ", "\n "]) if ch == " " else ch for ch in text)
    return f"[{text}]" if rnd.random() < 0.3 else text


def render(node, rnd) -> tuple[str, int]:
    """Write a tree as a word equation; returns (text, precedence of its top operator)."""
    kind = node[0]
    if kind == "ref":
        text, prec = spell(node[1], rnd), 5
    elif kind == "num":
        text, prec = node[1], 5
    elif kind == "neg":
        inner, inner_prec = render(node[1], rnd)
        if inner_prec < 4:
            inner = f"({inner})"
        text, prec = rnd.choice(["-", "\u2212"]) + inner, 4
    elif kind == "bin":
        op = node[1]
        prec = PRECEDENCE[op]
        left, left_prec = render(node[2], rnd)
        right, right_prec = render(node[3], rnd)
        if left_prec < prec:
            left = f"({left})"
        if right_prec <= prec:
            right = f"({right})"
        glyph = rnd.choice(GLYPHS[op])
        if glyph in "xX":
            glyph = f" {glyph} "
        else:
            space = rnd.choice(["", " "])
            glyph = f"{space}{glyph}{space}"
        text = f"{left}{glyph}{right}"
    else:
        name = rnd.choice([node[1], node[1].lower(), node[1].title()])
        separator = rnd.choice([",", ";", ", "])
        text, prec = f"{name}(" + separator.join(render(arg, rnd)[0] for arg in node[2]) + ")", 5
    if rnd.random() < 0.1:
        text, prec = f"({text})", 5
    return text, prec


class RefDivZero(Exception):
    pass


class RefNum(Exception):
    pass


def excel_round(x: float, digits: float) -> float:
    """Excel's ROUND, by hand: 15 significant digits, then half away from zero."""
    exponent = Decimal(1).scaleb(-int(digits))
    return float(Decimal(format(x, ".15g")).quantize(exponent, rounding=ROUND_HALF_UP))


def reference(node, env: dict[str, float]) -> float:
    """The tree's value by Excel's rules, in plain Python floats."""
    kind = node[0]
    if kind == "ref":
        return env[node[1]]
    if kind == "num":
        text = node[1]
        return float(Decimal(text[:-1]) / 100) if text.endswith("%") else float(text)
    if kind == "neg":
        return -reference(node[1], env)
    if kind == "call":
        args = [reference(arg, env) for arg in node[2]]
        if node[1] == "MIN":
            return min(args)
        if node[1] == "MAX":
            return max(args)
        if node[1] == "ABS":
            return abs(args[0])
        return excel_round(*args)
    op, a, b = node[1], reference(node[2], env), reference(node[3], env)
    if op == "/" and b == 0:
        raise RefDivZero
    if op == "^":
        if a == 0 and b == 0:
            raise RefNum
        if a == 0 and b < 0:
            raise RefDivZero
        try:
            result = a**b
        except OverflowError:
            raise RefNum from None
    else:
        result = {"+": a + b, "-": a - b, "*": a * b}[op] if op != "/" else a / b
    if not math.isfinite(result):
        raise RefNum
    return result


def excel_value(formula: str, inputs: dict[str, float]):
    func = formulas.Parser().ast(formula)[1].compile()
    return np.asarray(func(*[inputs[name] for name in func.inputs]), dtype=object).ravel()[0]


@PROPERTY
@given(tree=trees, first=value_sets, second=value_sets, rnd=st.randoms(use_true_random=False))
def test_equation_evaluates_like_its_tree_and_its_excel_formula(tree, first, second, rnd):
    text, _ = render(tree, rnd)
    env = dict(zip(POOL, first, strict=True))
    try:
        expected = reference(tree, env)
        expected_error = None
    except (RefDivZero, RefNum) as error:
        expected_error = type(error)

    formula = to_formula(text, REFS)
    inputs = {REFS[name]: value for name, value in env.items()}
    if expected_error is None:
        got = evaluate(text, POOL, first)
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-12), (text, formula)
        excel = excel_value(formula, inputs)
        assert not isinstance(excel, XlError), (text, formula, excel)
        assert float(excel) == pytest.approx(got, rel=1e-9, abs=1e-12), (text, formula)
    else:
        kind = CvpDivZeroError if expected_error is RefDivZero else CvpNumError
        with pytest.raises(kind) as raised:
            evaluate(text, POOL, first)
        # Excel shows an error too; for 0^0 Excel says #NUM! but formulas (like LibreOffice)
        # computes 1, so that one case is not compared.
        if not raised.value.message.startswith("0^0"):
            assert isinstance(excel_value(formula, inputs), XlError), (text, formula)

    # Per customer or over an array of customers: the same numbers, or an error either way.
    columns = [np.array(pair) for pair in zip(first, second, strict=True)]
    try:
        one_by_one = [evaluate(text, POOL, first), evaluate(text, POOL, second)]
    except CvpError:
        with pytest.raises(CvpError):
            evaluate(text, POOL, columns)
    else:
        # numpy's vectorised power may round differently from its scalar one, by one unit in
        # the last place (x^3 over an array is not always x^3 of each item, bit for bit)
        assert np.broadcast_to(evaluate(text, POOL, columns), 2).tolist() == pytest.approx(
            one_by_one, rel=1e-9, abs=1e-12
        ), text


# -- fuzz: anything in, a value or a CvpError out ------------------------------------------

any_value = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(),
    st.booleans(),
    st.text(max_size=3),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=3),
)


def value_or_cvp_error(call):
    try:
        call()
    except CvpError:
        pass


#: The stated bound on the parser's work: at most this many steps per character of the
#: equation (plus one) per character of the longest name (plus one).  For a given list of
#: names that is linear in the equation's length; the name matcher's walk along a name is the
#: only work that grows with the names.  Measured worst cases are about 7.
STEPS_PER_CHAR = 10


def step_bound(equation: str, names) -> int:
    longest = max((len(" ".join(n.split()).casefold()) for n in names), default=0)
    return STEPS_PER_CHAR * (len(equation) + 1) * (longest + 1)


def test_steps_grow_linearly_with_the_equation():
    names = ["Hours lost per stop", "Cost per hour"]
    one = "Hours lost per stop x Cost per hour - 2^(ABS(Cost per hour) + 15%)"
    steps = [steps_to_read(" + ".join([one] * k), names) for k in (1, 2, 4, 8)]
    # each copy of the text, with its joining " + ", adds the same number of steps
    added = [later - earlier for earlier, later in zip(steps, steps[1:])]
    assert added[1] == 2 * added[0] and added[2] == 4 * added[0], steps
    assert steps[-1] <= step_bound(" + ".join([one] * 8), names)


@FUZZ
@given(
    equation=st.text(max_size=60),
    names=st.lists(st.text(max_size=10), max_size=4),
    data=st.data(),
)
def test_any_text_gives_a_value_or_a_cvp_error(equation, names, data):
    vals = data.draw(st.lists(any_value, min_size=len(names), max_size=len(names)))
    units = data.draw(
        st.lists(
            st.one_of(st.none(), st.text(max_size=12)), min_size=len(names), max_size=len(names)
        )
    )
    value_or_cvp_error(lambda: parse(equation, names))
    assert steps_to_read(equation, names) <= step_bound(equation, names)
    value_or_cvp_error(lambda: evaluate(equation, names, vals))
    value_or_cvp_error(lambda: unit(equation, names, units))
    value_or_cvp_error(lambda: to_formula(equation, {name: "B1" for name in names}))


TOKENS = [
    "(",
    ")",
    "[",
    "]",
    "+",
    "-",
    "*",
    "/",
    "^",
    "\u00d7",
    "\u00f7",
    "\u2212",
    " x ",
    ",",
    ";",
    "=",
    "%",
    " ",
    "2",
    "0",
    "1.5",
    "1e3",
    ".",
    "e",
    "'",
    "MIN(",
    "max(",
    "ABS(",
    "ROUND(",
    "SQRT(",
    "Hours",
    "Hours lost per stop",
    "[Stops per year]",
    "x",
    "Margin x factor",
    "Q3 sales",
    "Discount %",
    "__import__",
]
POOL_UNITS = [
    "stops/year",
    "stops/year",
    "hours/stop",
    "hours",
    "USD/hour",
    "1",
    "",
    "USD",
    "%",
    "hours",
    "%",
    "%",
    "USD",
    "%",
]


@FUZZ
@given(
    equation=st.lists(st.sampled_from(TOKENS), max_size=30).map("".join),
    numbers=st.lists(st.floats(-1e6, 1e6), min_size=len(POOL), max_size=len(POOL)),
)
def test_token_soup_gives_a_value_or_a_cvp_error(equation, numbers):
    value_or_cvp_error(lambda: evaluate(equation, POOL, numbers))
    assert steps_to_read(equation, POOL) <= step_bound(equation, POOL)
    value_or_cvp_error(lambda: unit(equation, POOL, POOL_UNITS))
    value_or_cvp_error(lambda: to_formula(equation, REFS))


@FUZZ
@given(text=st.text(max_size=30))
def test_any_unit_text_gives_an_answer_or_a_cvp_error(text):
    def check():
        assert wordeq.currency_and_period(text) is None or wordeq.is_money_per_period(text)

    value_or_cvp_error(check)


# -- hostile input ------------------------------------------------------------------------

HOSTILE = [
    "__import__('os').system('echo hacked')",
    "().__class__.__bases__",
    "[].__class__.__base__.__subclasses__()",
    "eval('1+1')",
    "exec('import os')",
    "lambda: 0",
    "{}['a']",
    "a if b else c",
    "'=cmd|' /C calc'!A0",
    '=HYPERLINK("http://example.com")',
]


@pytest.mark.parametrize("equation", HOSTILE)
@pytest.mark.parametrize("names", [[], ["os", "__import__", "eval", "exec", "a", "b", "c"]])
def test_code_is_never_run(equation, names, monkeypatch, capfd):
    calls = []
    monkeypatch.setattr(os, "system", lambda *a, **k: calls.append(a))
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: calls.append(a))
    with pytest.raises(CvpError):
        evaluate(equation, names, [1.0] * len(names))
    assert calls == []
    assert "hacked" not in capfd.readouterr().out


def test_a_known_name_that_looks_like_code_is_just_a_name(monkeypatch):
    calls = []
    monkeypatch.setattr(os, "system", lambda *a, **k: calls.append(a))
    name = "__import__('os').system('echo hacked')"
    assert evaluate(f"[{name}] * 2", [name], [21]) == 42.0
    assert evaluate(f"{name} * 2", [name], [21]) == 42.0
    assert calls == []


@pytest.mark.parametrize(
    ("equation", "message"),
    [
        (
            "(" * 10_000 + "1" + ")" * 10_000,
            "equation is 20,001 characters long; the limit is 2,000",
        ),
        ("(" * 1_999, "equation is nested more than 50 levels deep at position 51"),
        ("x" * 1_000_000, "equation is 1,000,000 characters long; the limit is 2,000"),
        ("ABS(" * 400, "equation is nested more than 50 levels deep at position 201"),
    ],
)
def test_oversized_input_is_refused_within_the_step_bound(equation, message):
    with pytest.raises(CvpValueError) as error:
        evaluate(equation, ["a"], [1])
    assert error.value.message == message
    steps = steps_to_read(equation, ["a"])
    if len(equation) > wordeq.MAX_LENGTH:
        assert steps == 0  # refused before the parser starts
    assert steps <= step_bound(equation, ["a"])


def test_pathological_names_cost_at_most_quadratic_steps():
    # A long name that almost matches at every step: the matcher walks it again from each "a",
    # so the work is quadratic here (n * n / 4 steps), and at worst n * n / 2 plus the rest.
    names = ["a", "a+" * 999 + "b"]
    text = "a+" * 999 + "a"
    n = len(text)
    assert evaluate(text, names, [1, 2]) == 1000.0
    assert steps_to_read(text, names) <= n * n / 2 + STEPS_PER_CHAR * (n + 1)
    # without the long name the same text takes linear work
    assert steps_to_read(text, ["a", "b"]) <= STEPS_PER_CHAR * (n + 1)


def wordeq_modules():
    yield wordeq
    for info in pkgutil.iter_modules(wordeq.__path__):
        yield importlib.import_module(f"{wordeq.__name__}.{info.name}")


@pytest.mark.parametrize("module", list(wordeq_modules()), ids=lambda m: m.__name__)
def test_the_package_never_calls_eval_exec_or_compile(module):
    tree = ast.parse(inspect.getsource(module))
    called = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert not called & {"eval", "exec", "compile", "__import__", "getattr", "globals"}
