"""Built calculators: LibreOffice and the formulas engine recompute what the file carries.

For every example spec and every scenario the workbook is built once; one
LibreOffice run recomputes all of them.  Every formula cell must equal the
value cached in the file (1e-9 relative), and the key results must equal
the Python model of the spec.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from helpers import close, requires_libreoffice

from cvp_xl.commands.cli import main
from cvp_xl.commands.recalc import compute, recalc
from cvp_xl.errors import ErrorValue
from cvp_xl.workbooks import example
from cvp_xl.workbooks.calculator import load_spec, parse_spec
from cvp_xl.workbooks.calculator import model as calc_model
from cvp_xl.workbooks.calculator.builder import build
from cvp_xl.workbooks.calculator.spec import SCENARIOS
from cvp_xl.xlsx.share_safe import unsafe_functions

SPECS = sorted(  # compressed-air-leaks, fleet-routing, low-voc-coating, packaging-line-...
    example("calculators").glob("*.yaml"))
CASES = [(p, s) for p in SPECS for s in SCENARIOS]
IDS = [f"{p.stem}-{s}" for p, s in CASES]
RESULT_KEYS = ["total_per_year", "differential", "incentive_s", "breakeven_price", "roi",
               "payback", "npv", "roi_note", "payback_note"]


def _same(a, b) -> bool:
    """Equal within 1e-9; a missing result (NaN in Python) is an empty cell, not text."""
    a = "" if a is None or (isinstance(a, float) and math.isnan(a)) else a
    b = "" if b is None or (isinstance(b, float) and math.isnan(b)) else b
    return close(a, b)


def formula_cells(path: Path) -> dict:
    """Every formula cell with the value cached in the file (an error cell as ErrorValue)."""
    formulas = openpyxl.load_workbook(path)
    values = openpyxl.load_workbook(path, data_only=True)

    def cached(cell):
        return ErrorValue(cell.value) if cell.data_type == "e" else cell.value

    return {(ws.title, c.coordinate): cached(values[ws.title][c.coordinate])
            for ws in formulas.worksheets for row in ws.iter_rows() for c in row
            if c.data_type == "f"}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("calculators")
    books = {}
    for path, scenario in CASES:
        spec = load_spec(path)
        target = out / f"{path.stem}-{scenario}.xlsx"
        layout = build(spec, target, scenario=scenario)
        books[(path, scenario)] = (spec, target, layout)
    # a filled-in copy with a bad input, recomputed alongside
    spec, base, layout = books[(SPECS[0], "Base")]
    bad = out / "bad-input.xlsx"
    shutil.copy(base, bad)
    wb = openpyxl.load_workbook(bad)
    first = spec.inputs[2]
    wb["Inputs"][f"D{layout.input_rows[first.name]}"] = "abc"
    wb.save(bad)
    return books, bad, (spec, layout, first)


@pytest.fixture(scope="module")
def libreoffice(built):
    from cvp_xl.hosts.libreoffice import libreoffice_values_many

    books, bad, _ = built
    paths = [target for _, target, _ in books.values()] + [bad]
    values = libreoffice_values_many(paths)
    return dict(zip(paths, values))


@requires_libreoffice
@pytest.mark.parametrize("path,scenario", CASES, ids=IDS)
def test_libreoffice_recomputes_the_cached_values(path, scenario, built, libreoffice):
    books, _, _ = built
    _, target, _ = books[(path, scenario)]
    lo = libreoffice[target]
    cells = formula_cells(target)
    assert len(cells) > 100
    wrong = {k: (lo.get(k), v) for k, v in cells.items() if not _same(lo.get(k), v)}
    assert wrong == {}


@pytest.mark.parametrize("path,scenario", CASES, ids=IDS)
def test_cached_values_are_the_python_model(path, scenario, built):
    books, _, _ = built
    spec, target, layout = books[(path, scenario)]
    results = calc_model.evaluate(spec, scenario=scenario)
    summary = openpyxl.load_workbook(target, data_only=True)["Summary"]
    for key in RESULT_KEYS:
        stored = summary[layout.results[key]].value
        assert _same(stored, getattr(results, key)), key
        if not key.endswith("_note"):  # a number or an empty cell, never text
            assert stored is None or isinstance(stored, (int, float)), key
    # the name, with its kind when it is not a competitor (compressed-air-leaks: making it
    # yourself)
    assert summary[layout.results["next_best"]].value == \
        spec.alternatives[results.next_best].label


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_the_formulas_engine_recomputes_the_cached_values(path, built):
    books, _, _ = built
    _, target, _ = books[(path, "Conservative")]
    engine = compute(target, by_model=False).values  # the engine, not the model
    cells = formula_cells(target)
    wrong = {k: (engine.get(k), v) for k, v in cells.items() if not _same(engine.get(k), v)}
    assert wrong == {}


def test_hand_calculation_of_one_element(built):
    # packaging line, base: (24 - 9) stops/year x 3.5 hours/stop x 4,200 USD/hour = 220,500
    books, _, _ = built
    path = next(p for p in SPECS if p.stem == "packaging-line-maintenance")
    spec, target, layout = books[(path, "Base")]
    value = openpyxl.load_workbook(target, data_only=True)["Value"]
    row = layout.element_rows["Margin saved from fewer unplanned stops"]
    assert value[f"G{row}"].value == 220_500
    conservative = books[(path, "Conservative")][1]
    value = openpyxl.load_workbook(conservative, data_only=True)["Value"]
    assert value[f"G{row}"].value == 110_250  # every claim halved


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_only_share_safe_functions(path, built):
    books, _, _ = built
    assert unsafe_functions(books[(path, "Base")][1]) == []


@requires_libreoffice
def test_a_bad_input_says_what_is_wrong_in_words(built, libreoffice):
    books, bad, (spec, layout, first) = built
    lo = libreoffice[bad]
    assert lo[("Summary", "B5")] == f"Fix {first.name}: not a number"
    assert lo[("Summary", layout.results["differential"])] == "check inputs"
    assert lo[("Summary", layout.results["total_per_year"])] == "check inputs"


def test_check_lists_every_problem_by_cell(built, tmp_path):
    books, bad, (spec, layout, first) = built
    path = tmp_path / "two-problems.xlsx"
    shutil.copy(bad, path)
    wb = openpyxl.load_workbook(path)
    second = spec.inputs[0]
    r2 = layout.input_rows[second.name]
    wb["Inputs"][f"E{r2}"] = None
    wb["Inputs"][f"F{r2}"] = -5
    wb.save(path)
    result = CliRunner().invoke(main, ["check", str(path)])
    r1 = layout.input_rows[first.name]
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"Inputs!E{r2}: '{second.name}' (low) is blank; expected a number in {second.unit}",
        f"Inputs!F{r2}: '{second.name}' (high) = -5 is outside the allowed range at least 0",
        f"Inputs!D{r1}: '{first.name}' (base): expected a number in {first.unit}, got 'abc'",
    ]
    clean = CliRunner().invoke(main, ["check", str(books[(SPECS[0], "Base")][1])])
    assert clean.exit_code == 0


def test_customer_edits_then_recalc_equal_a_rebuilt_calculator(built, tmp_path):
    books, _, _ = built
    spec, target, layout = books[(SPECS[1], "Base")]
    edited = tmp_path / "edited.xlsx"
    shutil.copy(target, edited)
    wb = openpyxl.load_workbook(edited)
    new = {spec.inputs[0].name: spec.inputs[0].base * 1.5, spec.inputs[3].name: 7.25}
    for name, v in new.items():
        wb["Inputs"][f"D{layout.input_rows[name]}"] = v
    wb.save(edited)
    recalc(edited)
    rebuilt = tmp_path / "rebuilt.xlsx"
    build(spec, rebuilt, given=new)
    got = openpyxl.load_workbook(edited, data_only=True)["Summary"]
    want = openpyxl.load_workbook(rebuilt, data_only=True)["Summary"]
    for key in RESULT_KEYS:
        assert _same(got[layout.results[key]].value, want[layout.results[key]].value), key


def test_protection_inputs_unlocked_formulas_locked(built):
    books, _, _ = built
    spec, target, layout = books[(SPECS[0], "Base")]
    wb = openpyxl.load_workbook(target)
    inputs = wb["Inputs"]
    assert inputs.protection.sheet and not inputs.protection.password
    r = layout.input_rows[spec.inputs[0].name]
    assert not inputs[f"D{r}"].protection.locked
    assert inputs[f"C{r}"].protection.locked and inputs[f"C{r}"].data_type == "f"
    assert not wb["Summary"]["B4"].protection.locked
    assert [dv.sqref for dv in inputs.data_validations.dataValidation][0] is not None


def test_text_that_looks_like_a_formula_stays_text(tmp_path):
    packaging = next(p for p in SPECS if p.stem == "packaging-line-maintenance")
    text = (packaging.read_text(encoding="utf-8")
            .replace("source: Customer's maintenance log, last 12 months (example)",
                     "source: '=HYPERLINK(\"http://example.invalid\",\"click\")'")
            .replace("source: Customer's production reports (example)", "source: '+1 555'")
            .replace("source: Customer's finance team (example)", "source: '-see note'")
            .replace("source: Quality department estimate (example)", "source: '@risk'"))
    spec = parse_spec(text, "injected.yaml")
    path = tmp_path / "injected.xlsx"
    layout = build(spec, path)
    ws = openpyxl.load_workbook(path)["Inputs"]
    sources = [ws[f"I{layout.input_rows[i.name]}"] for i in spec.inputs[:5]]
    assert [c.value for c in sources] == [
        '=HYPERLINK("http://example.invalid","click")',
        "Field value assessment at three reference plants (example)", "+1 555", "-see note",
        "@risk"]
    assert all(c.data_type == "s" for c in sources)
    about = openpyxl.load_workbook(path)["About"]
    spec_lines = [c.value for c in about["A"] if isinstance(c.value, str)]
    assert any(line.startswith("  - name:") for line in spec_lines)
    assert not any(c.data_type == "f" for c in about["A"])


def test_build_command(tmp_path):
    out = tmp_path / "calc.xlsx"
    result = CliRunner().invoke(main, ["build", str(SPECS[0]), "-o", str(out),
                                       "--customer", "Acme"])
    assert result.exit_code == 0, result.output
    assert out.exists()
    summary = openpyxl.load_workbook(out, data_only=True)["Summary"]
    assert summary["B2"].value == "Acme"
    total = calc_model.evaluate(load_spec(SPECS[0])).total_per_year  # the Python model
    row = next(r for r in range(1, 80) if summary.cell(r, 1).value == "Total value per year")
    assert close(summary.cell(row, 4).value, total)


def test_build_command_reports_a_bad_spec(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ninputs: [\n")
    result = CliRunner().invoke(main, ["build", str(bad)])
    assert result.exit_code == 2
    assert result.stderr == f"Error: {bad}:3: not valid YAML: expected the node content, but " \
                            f"found '<stream end>'\n"


OPTIONAL = """\
name: Optional keys
currency: EUR
offering:
  name: Ours
alternatives:
  - name: Theirs
horizon_years: 2
discount_rate: 0
inputs:
  - name: Only a min
    unit: kg/year
    base: 10
    min: 0
  - name: Only a max
    unit: "%"
    base: 0.5
    max: 1
  - name: Neither
    unit: EUR/kg
    base: 3
value_elements:
  - name: Saved
    category: economic
    equation: Only a min x Only a max x Neither
"""


def test_a_spec_with_each_optional_key_absent_builds(tmp_path, differences):
    # each input lacks min, max or both (building once failed with IndexError on `Neither`);
    # no low/high/source anywhere, no prices: value 10 x 0.5 x 3 = 15 EUR/year
    spec = parse_spec(OPTIONAL, "optional.yaml")
    path = tmp_path / "optional.xlsx"
    layout = build(spec, path)
    inputs = openpyxl.load_workbook(path)["Inputs"]
    rows = [layout.input_rows[name] for name in ("Only a min", "Only a max", "Neither")]
    assert [inputs[f"J{r}"].value.split(",IF(", 2)[2] for r in rows] == [
        f'MIN(D{rows[0]}:F{rows[0]})<G{rows[0]},"outside the "&"allowed at least "&G{rows[0]},'
        f'"ok")))',
        f'MAX(D{rows[1]}:F{rows[1]})>H{rows[1]},"outside the "&"allowed at most "&H{rows[1]},'
        f'"ok")))',
        'FALSE,"outside the "&"","ok")))',
    ]
    summary = openpyxl.load_workbook(path, data_only=True)["Summary"]
    assert summary[layout.results["total_per_year"]].value == 15
    assert differences(path, compute(path).values) == {}


def test_a_customer_base_outside_the_spec_range_widens_it(tmp_path):
    """fleet-routing.yaml: 'Miles driven per year' has low 2,100,000 and high 2,700,000; a
    customer at 2,750,000 gets the range 2,100,000 to 2,750,000, so Low <= Base <= High and
    the calculator passes its own check."""
    from cvp_xl.workbooks.calculator.check import check_calculator

    spec = load_spec(example("calculators", "fleet-routing.yaml"))
    path = tmp_path / "far.xlsx"
    layout = build(spec, path, given={"Miles driven per year": 2_750_000})
    ws = openpyxl.load_workbook(path)["Inputs"]
    r = layout.input_rows["Miles driven per year"]
    assert [ws[f"{c}{r}"].value for c in "DEF"] == [2_750_000, 2_100_000, 2_750_000]
    assert check_calculator(path).problems == []
