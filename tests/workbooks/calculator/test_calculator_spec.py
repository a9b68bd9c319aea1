"""Calculator specs: the examples load, every optional key is optional, every kind of mistake
(hostile YAML too) has an exact, bounded message, and the sensitivity costs what the spec's size
says."""

from __future__ import annotations

import copy
import tracemalloc

import numpy as np
import pytest
import yaml
from helpers import SMALL_SPEC as GOOD

from cvp_xl import wordeq
from cvp_xl.errors import CvpDivZeroError
from cvp_xl.workbooks import example
from cvp_xl.workbooks.calculator import SpecError, load_spec, parse_spec
from cvp_xl.workbooks.calculator import model as calc_model

SPECS = sorted(example("calculators").glob("*.yaml"))



def test_there_are_three_example_specs_from_different_industries():
    assert len(SPECS) >= 3
    currencies = {load_spec(p).currency for p in SPECS}
    assert currencies >= {"USD", "EUR"}


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_example_specs_load(path):
    spec = load_spec(path)
    assert spec.inputs and spec.elements and spec.alternatives
    for el in spec.elements:
        assert el.unit.startswith(spec.currency + "/")


def test_good_spec():
    # line numbers in the messages below count the lines of GOOD from 1
    spec = parse_spec(GOOD, "good.yaml")
    assert spec.discount_rate == 0.08
    assert spec.elements[0].unit == "USD/year"
    assert spec.input("stops per year with OURS").base == 4


def _error(text: str) -> str:
    with pytest.raises(SpecError) as info:
        parse_spec(text, "calc.yaml")
    return str(info.value)


def test_unknown_input_in_an_equation_names_the_closest():
    text = GOOD.replace("× Hours per stop × Cost per hour of downtime",
                        "× Hours per stop × Cost per hour downtime")
    assert _error(text) == ("calc.yaml:31: value element 'Downtime avoided': unknown quantity "
                            "'Cost per hour downtime'; did you mean 'Cost per hour of downtime'?")


def test_a_value_element_that_is_not_money_per_period():
    text = GOOD.replace("× Hours per stop × Cost per hour of downtime", "× Hours per stop")
    assert _error(text) == ("calc.yaml:31: value element 'Downtime avoided': its unit is "
                            "'hour/year', not money per period (e.g. USD/year)")


def test_low_above_high():
    text = GOOD.replace("low: 8\n    high: 12", "low: 12\n    high: 8")
    assert _error(text) == "calc.yaml:16: input 'Stops per year with theirs': low (12) is " \
                           "greater than high (8)"


def test_missing_currency():
    text = GOOD.replace("currency: USD\n", "")
    assert _error(text) == "calc.yaml:1: missing 'currency' (e.g. currency: USD)"


def test_yaml_that_does_not_parse():
    text = GOOD.replace("  - name: Hours per stop", "  - name: Hours per stop: [")
    assert _error(text) == "calc.yaml:25: not valid YAML: mapping values are not allowed here"


def test_unknown_key_suggests_the_right_one():
    text = GOOD.replace("horizon_years: 3", "horizon_year: 3")
    assert _error(text) == "calc.yaml:10: unknown key 'horizon_year'; did you mean " \
                           "'horizon_years'?"


def test_category_must_be_known():
    text = GOOD.replace("category: economic", "category: emotional")
    assert _error(text) == ("calc.yaml:30: value element 'Downtime avoided': category must be "
                            "one of technical, economic, service, social, got 'emotional'")


def test_base_outside_the_allowed_range():
    text = GOOD.replace("base: 10\n", "base: -1\n")
    assert _error(text) == ("calc.yaml:15: input 'Stops per year with theirs': base (-1) is "
                            "outside the allowed range at least 0")


def test_no_such_file(tmp_path):
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path / "nope.yaml")
    assert str(info.value) == f"{tmp_path / 'nope.yaml'}: no such file"


# -- every optional key is optional ------------------------------------------------------------

FULL = {
    "name": "Every key", "version": "2", "description": "All keys given",
    "currency": "USD",
    "offering": {"name": "Ours", "one_time": 100, "recurring": 10},
    "alternatives": [{"name": "Status quo", "one_time": 0, "recurring": 5, "value_per_year": 0},
                     {"name": "Rival", "one_time": 50, "recurring": 8, "value_per_year": 20}],
    "horizon_years": 3, "discount_rate": 0.08,
    "inputs": [{"name": "Hours saved", "unit": "hours/year", "base": 10, "low": 8, "high": 12,
                "min": 0, "max": 100, "source": "Time study", "was": "Hours"},
               {"name": "Cost per hour", "unit": "USD/hour", "base": 50}],
    "value_elements": [{"name": "Time", "category": "economic", "tangible": False,
                        "equation": "Hours saved x Cost per hour", "note": "Plant data"}],
}
#: (where, key, the attribute it sets, its value when the key is absent) — the defaults the spec
#: module documents: version "1", empty texts, prices and value 0, low and high at base, no
#: allowed range, no earlier names, elements tangible.
OPTIONAL_KEYS = [
    ((), "version", lambda s: s.version, "1"),
    ((), "description", lambda s: s.description, ""),
    (("offering",), "one_time", lambda s: s.offering.one_time, 0.0),
    (("offering",), "recurring", lambda s: s.offering.recurring, 0.0),
    (("alternatives", 0), "one_time", lambda s: s.alternatives[0].one_time, 0.0),
    (("alternatives", 0), "recurring", lambda s: s.alternatives[0].recurring, 0.0),
    (("alternatives", 0), "value_per_year", lambda s: s.alternatives[0].value_per_year, 0.0),
    (("alternatives", 1), "value_per_year", lambda s: s.alternatives[1].value_per_year, 0.0),
    (("inputs", 0), "low", lambda s: s.inputs[0].low, 10.0),
    (("inputs", 0), "high", lambda s: s.inputs[0].high, 10.0),
    (("inputs", 0), "min", lambda s: s.inputs[0].min, None),
    (("inputs", 0), "max", lambda s: s.inputs[0].max, None),
    (("inputs", 0), "source", lambda s: s.inputs[0].source, ""),
    (("inputs", 0), "was", lambda s: s.inputs[0].was, ()),
    (("value_elements", 0), "tangible", lambda s: s.elements[0].tangible, True),
    (("value_elements", 0), "note", lambda s: s.elements[0].note, ""),
]


def _without(where, key) -> dict:
    data = copy.deepcopy(FULL)
    part = data
    for step in where:
        part = part[step]
    del part[key]
    return data


@pytest.mark.parametrize("where, key, read, default", OPTIONAL_KEYS,
                         ids=[f"{'.'.join(map(str, w))}.{k}".lstrip(".")
                              for w, k, _, _ in OPTIONAL_KEYS])
def test_each_optional_key_may_be_left_out(tmp_path, where, key, read, default):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(_without(where, key), sort_keys=False), encoding="utf-8")
    assert read(load_spec(path)) == default


def test_every_optional_key_left_out_at_once(tmp_path):
    data = copy.deepcopy(FULL)
    for where, key, _, _ in OPTIONAL_KEYS:
        part = data
        for step in where:
            part = part[step]
        part.pop(key, None)
    path = tmp_path / "minimal.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    spec = load_spec(path)
    assert [read(spec) for _, _, read, _ in OPTIONAL_KEYS] == [
        default for _, _, _, default in OPTIONAL_KEYS]


# -- hostile and clumsy YAML: refused by file and line, bounded ----------------------------------


def _load_error(tmp_path, text: str | bytes, name: str = "calc.yaml") -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_spec(path)
    return str(info.value).replace(str(tmp_path), "TMP")


def _bomb(levels: int = 10) -> str:
    """The "billion laughs": each level a list of nine aliases of the one before."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{k}: &a{k} [{', '.join([f'*a{k - 1}'] * 9)}]" for k in range(1, levels)]
    return "\n".join(lines) + "\nname: *a9\n"


def test_an_alias_bomb_is_refused_before_it_expands(tmp_path):
    text = _bomb()
    assert len(text) < 2_000  # 2 KB that would expand to 9**10 (3.5 billion) strings
    tracemalloc.start()
    try:
        message = _load_error(tmp_path, text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # a6 (line 7) holds 9**7 + ... values, the first node over the limit of 1,000,000
    assert message == ("TMP/calc.yaml:7: its aliases expand to more than 1,000,000 values; a "
                       "spec needs far fewer")
    assert peak < 20 * 2**20  # bytes: the expansion is counted, never made


def test_aliases_are_allowed_within_the_limit(tmp_path):
    # an anchor for a shared source and a merge key: YAML as a careful author writes it
    text = GOOD.replace("    min: 0\n", "    min: 0\n    source: &study Time study 2024\n")
    text = text.replace("    base: 4\n", "    base: 4\n    source: *study\n")
    path = tmp_path / "aliases.yaml"
    path.write_text(text, encoding="utf-8")
    spec = load_spec(path)
    assert [i.source for i in spec.inputs[:2]] == ["Time study 2024"] * 2


def test_a_structure_that_contains_itself_is_refused(tmp_path):
    assert _load_error(tmp_path, "name: &x [1, *x]\n") == (
        "TMP/calc.yaml:1: an alias is used inside its own anchor (a structure that contains "
        "itself)")


def test_deep_nesting_is_refused_without_recursion_error(tmp_path):
    assert _load_error(tmp_path, "name: x\ninputs: " + "[" * 100_000 + "\n") == (
        "TMP/calc.yaml:2: nested more than 64 levels deep; a spec needs a few")


def test_a_file_over_one_mebibyte_is_refused(tmp_path):
    text = GOOD + "# padding\n" * 110_000  # 1,100,000 bytes more
    size = len(text.encode())
    assert _load_error(tmp_path, text) == (
        f"TMP/calc.yaml: refused: {size:,} bytes is more than a spec needs (limit 1,048,576)")


def test_a_control_character_is_refused_by_line_and_column(tmp_path):
    text = GOOD.replace("name: Ours", "name: Ou\x07rs")
    assert _load_error(tmp_path, text) == (
        "TMP/calc.yaml:4: control character U+0007 in column 11; a spec is plain text (tab "
        "and line breaks are the only control characters allowed)")


def test_a_control_character_made_by_an_escape_is_refused_by_line(tmp_path):
    text = GOOD.replace("name: Ours", 'name: "Ou\\0rs"')
    assert _load_error(tmp_path, text) == (
        "TMP/calc.yaml:4: text with control character U+0000; a spec is plain text (tab and "
        "line breaks are the only control characters allowed)")


def test_text_that_is_not_utf8_is_refused_by_line(tmp_path):
    text = GOOD.replace("name: Ours", "name: Caf\xe9").encode("latin-1")
    assert _load_error(tmp_path, text) == (
        f"TMP/calc.yaml:4: not UTF-8 text (invalid continuation byte at byte "
        f"{text.index(b'Caf') + 3})")


def test_text_longer_than_a_cell_is_refused_never_cut(tmp_path):
    long_text = "word " * 7_000  # 35,000 characters: more than a cell's 32,767
    text = GOOD.replace("    min: 0\n", f"    min: 0\n    source: >\n      {long_text}\n")
    # 35,000 characters and the line break a folded block (">") keeps at its end
    assert _load_error(tmp_path, text) == (
        "TMP/calc.yaml:19: text of 35,001 characters; an Excel cell holds at most 32,767")


def test_a_line_longer_than_a_cell_is_refused(tmp_path):
    # the About sheet keeps the spec line by line: a 40,000-character comment would not fit
    text = GOOD + "# " + "x" * 39_998 + "\n"
    assert _load_error(tmp_path, text) == (
        "TMP/calc.yaml:34: a line of 40,000 characters; the About sheet keeps the spec line by "
        "line and a cell holds at most 32,767")


def test_a_name_longer_than_a_label_is_refused(tmp_path):
    text = GOOD.replace("name: Ours", "name: " + "O" * 256)
    assert _load_error(tmp_path, text) == (
        "TMP/calc.yaml:4: offering: 'name' is 256 characters long; at most 255")


def test_messages_quote_a_refused_value_only_in_part(tmp_path):
    many = "\n" + "  - 1\n" * 100_000
    assert _load_error(tmp_path, GOOD.replace("name: Test calculator\n", f"name: {many}")) == (
        "TMP/calc.yaml:2: 'name' must be text, got a list of 100,000 items")
    text = GOOD.replace("currency: USD", "currency: " + "U" * 10_000)
    assert _load_error(tmp_path, text) == (
        "TMP/calc.yaml:2: currency must be a three-letter code such as USD, got "
        f"'{'U' * 60}...' (10,000 characters)")


def test_numbers_a_float_cannot_hold_are_refused_by_line(tmp_path):
    assert _load_error(tmp_path, GOOD.replace("base: 500", "base: " + "9" * 5_000)) == (
        "TMP/calc.yaml:24: a whole number of 5,000 digits; numbers in a spec have at most 4,300")
    assert _load_error(tmp_path, GOOD.replace("base: 500", "base: " + "9" * 400)) == (
        f"TMP/calc.yaml:24: input 'Cost per hour of downtime': 'base' must be a number, got "
        f"{'9' * 60}...")


def test_a_date_that_does_not_exist_is_refused_by_line(tmp_path):
    assert _load_error(tmp_path, GOOD.replace("base: 500", "base: 2025-02-30")) == (
        "TMP/calc.yaml:24: '2025-02-30' cannot be read: day is out of range for month")


# -- cost linear in the spec's size --------------------------------------------------------------


def _sensitivity_by_definition(spec, given=None):
    """The Sensitivity rows as the docstring defines them, one input moved at a time, every
    element evaluated again: the slow, plain reading the model must agree with."""
    base = calc_model.input_values(spec, "Base", given)
    names = spec.input_names

    def total(values):
        return sum(wordeq.evaluate(el.equation, names, [values[n] for n in names])
                   * calc_model.annual_factor(el.unit) for el in spec.elements)

    rows = []
    for i in spec.inputs:
        at_low, at_high = total({**base, i.name: i.low}), total({**base, i.name: i.high})
        rows.append((i.name, at_low, at_high, total(base)))
    return rows


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_sensitivity_is_the_total_with_one_input_moved(path):
    spec = load_spec(path)
    rng = np.random.default_rng(18)
    customers = {i.name: rng.uniform(i.low, i.high, 40) for i in spec.inputs}
    for given in (None, customers):
        rows = calc_model.sensitivity(spec, given)
        expected = _sensitivity_by_definition(spec, given)
        assert [r["input"] for r in rows] == [e[0] for e in expected]
        for row, (_, at_low, at_high, base) in zip(rows, expected):
            for got, want in ((row["at_low"], at_low), (row["at_high"], at_high),
                              (row["base"], base)):
                np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)


def test_sensitivity_raises_the_first_error_of_the_definition():
    # moving the inputs one at a time in the spec's order, Sites at its low (2) divides
    # 'Per spare site' by 0 before Spare at its low (0) divides 'Per spare' by 0, although
    # 'Per spare' comes first among the elements
    text = """\
name: Division
currency: USD
offering: {name: Ours}
alternatives: [{name: Theirs}]
horizon_years: 1
discount_rate: 0
inputs:
  - {name: Savings, unit: USD/year, base: 100, low: 50, high: 150}
  - {name: Sites, unit: "1", base: 4, low: 2, high: 6}
  - {name: Spare, unit: "1", base: 1, low: 0, high: 2}
value_elements:
  - {name: Per spare, category: economic, equation: Savings / Spare}
  - {name: Per spare site, category: economic, equation: Savings / (Sites - 2)}
"""
    spec = parse_spec(text, "division.yaml")
    # for many customers each input's ends are per customer (a customer's base widens the
    # range), so the message names the first customer it fails for
    for given, where in ((None, ""), ({"Savings": np.array([100.0, 120.0]),
                                       "Sites": np.array([4.0, 5.0]),
                                       "Spare": np.array([1.0, 2.0])}, " at item 1")):
        with pytest.raises(CvpDivZeroError) as info:
            calc_model.sensitivity(spec, given)
        assert str(info.value) == f"#DIV/0! division by zero: '(Sites - 2)' is 0{where}"


# -- branding ----------------------------------------------------------------------------------


def _branded(tmp_path, block: str, name: str = "calc.yaml"):
    path = tmp_path / name
    path.write_text(GOOD + block, encoding="utf-8")
    return path


def _png(path, size=(40, 20)):
    from PIL import Image

    Image.new("RGB", size, (46, 125, 50)).save(path)


def test_branding_is_read_with_its_logo(tmp_path):
    _png(tmp_path / "logo.png")
    path = _branded(tmp_path, "branding:\n  supplier: Acme Ltd\n  logo: logo.png\n"
                              "  accent: '#2e7d32'\n")
    b = load_spec(path).branding
    assert (b.supplier, b.logo, b.accent, b.line) == ("Acme Ltd", "logo.png", "2E7D32", 35)
    assert b.logo_image == (tmp_path / "logo.png").read_bytes()
    assert parse_spec(GOOD).branding == type(b)()  # no branding: the house look


# (the branding block, what load_spec says); GOOD has 33 lines: 'branding:' is line 34
BRANDING_ERRORS = [
    ("branding: Acme\n", "{p}:34: 'branding' must be a mapping (supplier:, logo:, accent:)"),
    ("branding:\n  acent: red\n", "{p}:35: branding: unknown key 'acent'; did you mean "
                                   "'accent'?"),
    ("branding:\n  accent: green\n", "{p}:35: branding: 'accent' must be a colour as six hex "
                                     "digits such as '#1F6F43', got 'green'"),
    ("branding:\n  logo: /etc/passwd\n", "{p}:35: branding: logo '/etc/passwd' must be a file "
                                         "in the spec's folder or below it (a path relative to "
                                         "the spec, without '..')"),
    ("branding:\n  logo: ../logo.png\n", "{p}:35: branding: logo '../logo.png' must be a file "
                                         "in the spec's folder or below it (a path relative to "
                                         "the spec, without '..')"),
    ("branding:\n  logo: none.png\n", "{p}:35: branding: logo 'none.png': no such file next "
                                      "to the spec ({d})"),
    ("branding:\n  logo: calc.yaml\n", "{p}:35: branding: logo 'calc.yaml' is not a PNG or "
                                       "JPEG image that can be read"),
    ("branding:\n  logo: big.png\n", "{p}:35: branding: logo 'big.png' is 4001 x 10 pixels; "
                                     "at most 4000 on a side"),
    ("branding:\n  logo: logo.gif\n", "{p}:35: branding: logo 'logo.gif' is a GIF image; a "
                                      "logo must be PNG or JPEG"),
]


@pytest.mark.parametrize("block,message", BRANDING_ERRORS,
                         ids=["not-mapping", "unknown", "accent", "absolute", "dotdot",
                              "missing", "not-image", "too-large", "gif"])
def test_branding_mistakes_are_named(tmp_path, block, message):
    from PIL import Image

    _png(tmp_path / "big.png", (4001, 10))
    Image.new("RGB", (10, 10)).save(tmp_path / "logo.gif")
    path = _branded(tmp_path, block)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert str(info.value) == message.format(p=path, d=tmp_path.resolve())


def test_a_formula_over_excels_limit_is_refused_naming_the_element(tmp_path):
    # 400 inputs summed in one element: the Value sheet's formula checks each of them
    # (Inputs!$J$n="ok", 19 characters or more) and reads each (Inputs!$C$n): far over 8,192
    from cvp_xl.workbooks.calculator.builder import build

    names = [f"q{k}" for k in range(1, 401)]
    text = GOOD.split("inputs:\n")[0] + "inputs:\n" + "".join(
        f"  - name: {n}\n    unit: USD/year\n    base: 1\n" for n in names) + (
        "value_elements:\n  - name: Sum\n    category: economic\n    equation: "
        + "+".join(names) + "\n")  # 1,891 characters: within the equation's 2,000
    spec = parse_spec(text, "wide.yaml")
    with pytest.raises(SpecError) as info:
        build(spec, tmp_path / "wide.xlsx")
    message = str(info.value)
    line = spec.elements[0].line  # where the spec defines the element
    head = f"wide.yaml:{line}: value element 'Sum': its formula on the Value sheet would be "
    assert message.startswith(head)
    length = int(message[len(head):].split(" characters")[0].replace(",", ""))
    assert length > 8_192
    assert message.endswith(" characters long; Excel opens no file with a formula over 8,192 "
                            "(split the element, or use fewer inputs in it)")
    assert not (tmp_path / "wide.xlsx").exists()
