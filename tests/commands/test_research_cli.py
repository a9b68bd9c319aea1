"""`cvp-xl research FINDINGS --spec SPEC -o NEW`: evidence into a new spec, every changed line
listed, inputs without evidence left alone and listed, refusals that write nothing."""

from __future__ import annotations

import datetime as dt
import re

import openpyxl
import pytest
from click.testing import CliRunner

from cvp_xl.commands.cli import main
from cvp_xl.commands.research import apply_research
from cvp_xl.workbooks import example, research
from cvp_xl.workbooks.calculator.spec import load_spec

SPEC = example("calculators", "packaging-line-maintenance.yaml")
FINDINGS = example("research", "findings.csv")

# Each input's new values, by hand from workbooks/research/findings.csv (PERCENTILE.INC: with the
# n values sorted, percentile p is at h = (n - 1) p / 100, interpolating between neighbours):
EXPECTED = {
    # 17 19 21 22 24 26 28 31 33: P25 h = 2 -> 21, P50 h = 4 -> 24, P75 h = 6 -> 28
    "Unplanned stops per year with the alternative": {
        "base": "24", "low": "21", "high": "28",
        "source": "\"9 customers' own figures at 9 customers, 2026-Q2–Q3, P25/P50/P75\""},
    # 2.5 3.0 3.2 3.5 3.8 4.0 4.5 5.0: P25 h = 1.75 -> 3.15, P50 h = 3.5 -> 3.65,
    # P75 h = 5.25 -> 4.125
    "Hours lost per stop": {
        "base": "3.65", "low": "3.15", "high": "4.125",
        "source": "\"6 field value assessments and 2 focus groups at 8 customers, 2026-Q2–Q3, "
                  "P25/P50/P75\""},
    # 3500 3800 4400 4600 5200: P25 h = 1 -> 3800, P50 h = 2 -> 4400, P75 h = 3 -> 4600
    "Contribution margin lost per hour": {
        "base": "4400", "low": "3800", "high": "4600",
        "source": "\"5 customers' own figures at 5 customers, 2026-Q2–Q3, P25/P50/P75\""},
    # 700 760 820 900 950 1100: P25 h = 1.25 -> 775, P50 h = 2.5 -> 860, P75 h = 3.75 -> 937.5;
    # the two benchmarks come from one "customer", the industry panel
    "Scrap cost per restart": {
        "base": "860", "low": "775", "high": "937.5",
        "source": "\"4 field value assessments and 2 benchmarks at 5 customers, 2026-Q1–Q3, "
                  "P25/P50/P75\""},
    # 990 1050 1120 1180: P25 h = 0.75 -> 1035, P50 h = 1.5 -> 1085, P75 h = 2.25 -> 1135
    "Maintenance labor hours per year with ours": {
        "base": "1085", "low": "1035", "high": "1135",
        "source": "\"2 benchmarks and 2 pilots at 4 customers, 2026-Q2–Q3, P25/P50/P75\""},
    # 0.045 0.052 0.064 0.071: P25 h = 0.75 -> 0.05025, P50 -> 0.058, P75 h = 2.25 -> 0.06575
    "Energy saving with ours": {
        "base": "0.058", "low": "0.05025", "high": "0.06575",
        "source": "\"2 field value assessments and 2 pilots at 4 customers, 2026-Q2–Q3, "
                  "P25/P50/P75\""},
}
UNTOUCHED = ["  Unplanned stops per year with ours: no evidence",
             "  Maintenance labor hours per year with the alternative: no evidence",
             "  Loaded labor cost per hour: 2 observations, fewer than 3",
             "  Energy use of the lines per year: no evidence",
             "  Energy price: no evidence"]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


# Each set input's evidence (n, customers, methods, period): the counts its source above says,
# from findings.csv; methods in the order of cvp_xl.domain.research.METHODS.
EVIDENCE = {
    "Unplanned stops per year with the alternative": (9, 9, ["customer's own data"], "Q2–Q3"),
    "Hours lost per stop": (8, 8, ["field value assessment", "focus group"], "Q2–Q3"),
    "Contribution margin lost per hour": (5, 5, ["customer's own data"], "Q2–Q3"),
    "Scrap cost per restart": (6, 5, ["field value assessment", "benchmark"], "Q1–Q3"),
    "Maintenance labor hours per year with ours": (4, 4, ["benchmark", "pilot"], "Q2–Q3"),
    "Energy saving with ours": (4, 4, ["field value assessment", "pilot"], "Q2–Q3"),
}
for _name, (_n, _k, _methods, _quarters) in EVIDENCE.items():
    _listed = ", ".join(f'"{m}"' for m in _methods)
    EXPECTED[_name]["evidence"] = (f'{{n: {_n}, customers: {_k}, methods: [{_listed}], '
                                   f'period: "2026-{_quarters}", rule: "P25/P50/P75"}}')


def expected_spec(text: str, values: dict) -> str:
    """The spec text with the given keys of the given inputs set, line by line; an
    ``evidence`` line is added after the input's source line (its last line)."""
    lines, current = text.splitlines(keepends=True), None
    for k, line in enumerate(lines):
        m = re.match(r"\s*- name: (.*?)\s*$", line)
        if m:
            current = m.group(1)
        key = re.match(r"(\s+)(base|low|high|source): ", line)
        if key and current in values and key.group(2) in values[current]:
            lines[k] = f"{key.group(1)}{key.group(2)}: {values[current][key.group(2)]}\n"
            if key.group(2) == "source" and "evidence" in values[current]:
                lines[k] += f"{key.group(1)}evidence: {values[current]['evidence']}\n"
    return "".join(lines)


def test_research_writes_the_expected_spec_and_lists_every_changed_line(tmp_path):
    out = tmp_path / "new.yaml"
    before = SPEC.read_bytes()
    result = run("research", FINDINGS, "--spec", SPEC, "-o", out)
    assert result.exit_code == 0, result.output
    old = SPEC.read_text(encoding="utf-8")
    new = out.read_text(encoding="utf-8")
    assert new == expected_spec(old, EXPECTED)
    assert SPEC.read_bytes() == before  # the input spec is never written
    lines = result.output.splitlines()
    assert lines[0] == (f"{out}: 6 of 11 inputs set from {FINDINGS} (P25/P50/P75 unless an "
                        "input has its own rule)")
    listed = [line for line in lines if line.startswith(f"  {out}:")]
    # the old lines with the evidence lines taken out line up with the old spec
    kept = [(n, b) for n, b in enumerate(new.splitlines(), start=1)
            if not b.strip().startswith("evidence: ")]
    changed = [(n, a, b) for (n, b), a in zip(kept, old.splitlines()) if a != b]
    assert len(changed) == 23  # 6 sources, 17 of 18 numbers (the first input's base stays 24)
    added = [(n, b) for n, b in enumerate(new.splitlines(), start=1)
             if b.strip().startswith("evidence: ")]
    assert len(added) == 6
    expected = [(n, f"  {out}:{n}: {b.strip()}  (was: {a.strip()})") for n, a, b in changed]
    expected += [(n, f"  {out}:{n}: {b.strip()}  (added)") for n, b in added]
    assert listed == [line for _n, line in sorted(expected)]
    assert lines[lines.index("Left as they were:") + 1:] == UNTOUCHED
    assert "Hours lost per stop: 8 observations, low 3.15, base 3.65, high 4.125 (P25/P50/P75)" \
        in lines


def test_a_calculator_built_from_the_new_spec_shows_the_provenance(tmp_path):
    out = tmp_path / "new.yaml"
    assert run("research", FINDINGS, "--spec", SPEC, "-o", out).exit_code == 0
    book = tmp_path / "calculator.xlsx"
    result = run("build", out, "-o", book)
    assert result.exit_code == 0, result.output
    ws = openpyxl.load_workbook(book)["Inputs"]
    rows = {row[0]: row for row in ws.iter_rows(values_only=True) if row and row[0]}
    for name, values in EXPECTED.items():
        assert values["source"].strip('"') in rows[name], name
    assert "Customer's electricity contract (example)" in rows["Energy price"]  # untouched
    # n and methods in columns M and N, beside the input; blank for the inputs without evidence
    assert (ws["M4"].value, ws["N4"].value) == ("n (research)", "Research methods")
    for name, row in rows.items():
        if name in EVIDENCE:
            n, _customers, methods, _quarters = EVIDENCE[name]
            assert row[12:14] == (n, ", ".join(methods)), name
        elif row[1] is not None and name != "Input" and not name.startswith("Prices"):
            assert row[12:14] == (None, None), name
    spec = load_spec(out)
    assert [i.name for i in spec.inputs if i.evidence is None] == [
        line.split(":")[0].strip() for line in UNTOUCHED]
    assert ws.print_area == "'Inputs'!$A$1:$N$21"  # the evidence columns print


@pytest.mark.parametrize("args,message", [
    (["--rule", "Hours lost per stop=P10/P50/P90"],
     # hand: P10 h = 0.7 -> 2.5 + 0.7 x 0.5 = 2.85; P90 h = 6.3 -> 4.5 + 0.3 x 0.5 = 4.65
     "Hours lost per stop: 8 observations, low 2.85, base 3.65, high 4.65 (P10/P50/P90)"),
    (["--percentiles", "P10/P50/P90"],
     "Contribution margin lost per hour: 5 observations, low 3620, base 4400, high 4960 "
     "(P10/P50/P90)"),  # hand: P10 h = 0.4 -> 3500 + 120; P90 h = 3.6 -> 4600 + 0.6 x 600
    (["--min-n", "2"],
     # hand: 64, 71: P25 h = 0.25 -> 65.75, P50 -> 67.5, P75 h = 0.75 -> 69.25
     "Loaded labor cost per hour: 2 observations, low 65.75, base 67.5, high 69.25 "
     "(P25/P50/P75)"),
    (["--segment", "food PACKAGING"],
     # hand: Food packaging rows 22 31 24 28 33 -> sorted 22 24 28 31 33: 24, 28, 31
     "Unplanned stops per year with the alternative: 5 observations, low 24, base 28, high 31 "
     "(P25/P50/P75)"),
])
def test_rules_thresholds_and_segments(tmp_path, args, message):
    out = tmp_path / "new.yaml"
    result = run("research", FINDINGS, "--spec", SPEC, "-o", out, *args)
    assert result.exit_code == 0, result.output
    assert message in result.output.splitlines()
    load_spec(out)  # the new spec is a valid calculator spec


def test_a_segment_is_named_in_the_source(tmp_path):
    out = tmp_path / "new.yaml"
    run("research", FINDINGS, "--spec", SPEC, "-o", out, "--segment", "Beverage bottling")
    spec = load_spec(out)
    assert spec.input("Hours lost per stop").source == (
        "2 field value assessments and 2 focus groups at 4 customers, 2026-Q2–Q3, P25/P50/P75, "
        "segment Beverage bottling")


def test_research_on_its_own_output_changes_nothing(tmp_path):
    first, second = tmp_path / "first.yaml", tmp_path / "second.yaml"
    assert run("research", FINDINGS, "--spec", SPEC, "-o", first).exit_code == 0
    result = run("research", FINDINGS, "--spec", first, "-o", second)
    assert result.exit_code == 0, result.output
    assert second.read_text(encoding="utf-8") == first.read_text(encoding="utf-8")
    assert not [line for line in result.output.splitlines() if line.startswith(f"  {second}")]


def test_evidence_written_by_hand_as_a_block_is_replaced_by_one_line(tmp_path):
    spec, out = tmp_path / "spec.yaml", tmp_path / "new.yaml"
    old = "    source: Customer's production reports (example)\n"
    text = SPEC.read_text(encoding="utf-8")
    assert old in text
    spec.write_text(text.replace(old, old + "    evidence:\n      n: 2\n      methods:\n"
                                           "        - survey\n"), encoding="utf-8")
    assert load_spec(spec).input("Hours lost per stop").evidence.n == 2
    assert run("research", FINDINGS, "--spec", spec, "-o", out).exit_code == 0
    new = out.read_text(encoding="utf-8")
    assert new == expected_spec(text, EXPECTED)  # as from the spec without the block


def test_the_research_workbook_is_findings_too(tmp_path):
    book = research.build(tmp_path / "research.xlsx")
    from_csv, from_book = tmp_path / "a.yaml", tmp_path / "b.yaml"
    assert run("research", FINDINGS, "--spec", SPEC, "-o", from_csv).exit_code == 0
    result = run("research", book, "--spec", SPEC, "-o", from_book)
    assert result.exit_code == 0, result.output
    assert from_book.read_text(encoding="utf-8") == from_csv.read_text(encoding="utf-8")


BAD_ROW = ("customer,segment,input,method,value,unit,date,measured by,reference\n"
           "Acme,Food,Hours lost per stops,survey,3,hours/stop,2026-05-01,Ann,\n")


@pytest.mark.parametrize("case,message", [
    ("same", "Error: {spec}: is the spec being read; write the new spec to another file (-o), "
             "so the original stays as it was"),
    ("bad rule", "Error: rule for 'Hours lost per stops': not an input of spec.yaml; did you "
                 "mean 'Hours lost per stop'?"),
    ("bad row", "Error: {findings}: 1 problem in the research findings:\n  line 2, column "
                "'input': unknown input 'Hours lost per stops'; did you mean 'Hours lost per "
                "stop'?"),
    ("no segment", "Error: {findings}: no observations in segment 'Metals' (segments: "
                   "Beverage bottling, Food packaging)"),
    ("no findings", "Error: {findings}: no such file"),
    ("bad percentiles", "Error: Invalid value for '--percentiles': percentile rule 'P75/P50/P25': "
                        "expected low <= base <= high"),
])
def test_refusals_write_nothing(tmp_path, case, message):
    spec = tmp_path / "spec.yaml"
    spec.write_bytes(SPEC.read_bytes())
    findings, out = FINDINGS, tmp_path / "new.yaml"
    extra: list = []
    if case == "same":
        out = tmp_path / "." / "spec.yaml"
    elif case == "bad rule":
        extra = ["--rule", "Hours lost per stops=P10/P50/P90"]
    elif case == "bad row":
        findings = tmp_path / "findings.csv"
        findings.write_text(BAD_ROW, encoding="utf-8")
    elif case == "no segment":
        extra = ["--segment", "Metals"]
    elif case == "no findings":
        findings = tmp_path / "missing.csv"
    else:
        extra = ["--percentiles", "P75/P50/P25"]
    before = spec.read_bytes()
    result = run("research", findings, "--spec", spec, "-o", out, *extra)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-len(message.splitlines()):] == \
        message.format(spec=out, findings=findings).splitlines()
    assert spec.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".yaml") == ["spec.yaml"]


SMALL = """\
# A small calculator for the research tests: comments and order must survive.
name: Small calculator
currency: USD
offering: {name: Ours, one_time: 0, recurring: 1000}
alternatives:
  - name: Theirs
inputs:
  - name: Hours lost per stop   # no low, high or source yet
    unit: hours/stop
    base: 3.5
    min: 0
    max: 48
  - {name: Scrap cost per restart, unit: USD/stop, base: 850, source: guess}
  - name: Unplanned stops per year with the alternative
    unit: stops/year
    base: 24
    source: >
      Customer's maintenance log,
      last 12 months

  - name: Unplanned stops per year with ours
    unit: stops/year
    base: 9
  - name: Contribution margin lost per hour
    unit: USD/hour
    base: 4200
value_elements:
  - name: Downtime avoided
    category: economic
    equation: >
      (Unplanned stops per year with the alternative - Unplanned stops per year with ours)
      x (Hours lost per stop x Contribution margin lost per hour + Scrap cost per restart)
horizon_years: 3
discount_rate: 8%
"""

SMALL_FINDINGS = """\
customer,segment,input,method,value,unit,date,measured by,reference
A,Food,Hours lost per stop,field value assessment,3,hours/stop,2026-04-10,Ann,
B,Food,Hours lost per stop,field value assessment,5,hours/stop,2026-05-10,Ann,
C,Food,Hours lost per stop,field value assessment,4,hours/stop,2026-06-10,Ann,
Panel,Food,Scrap cost per restart,benchmark,700,USD/stop,2026-04-01,Bob,
Panel,Food,Scrap cost per restart,benchmark,1000,USD/stop,2026-04-01,Bob,
Panel,Food,Scrap cost per restart,benchmark,800,USD/stop,2026-04-01,Bob,
A,F,Unplanned stops per year with the alternative,customer's own data,20,stops/year,2026-04-10,Ann,
B,F,Unplanned stops per year with the alternative,customer's own data,30,stops/year,2026-05-10,Ann,
C,F,Unplanned stops per year with the alternative,customer's own data,24,stops/year,2026-06-10,Ann,
"""

# hand: hours 3, 4, 5 -> 3.5, 4, 4.5; scrap 700, 800, 1000 -> 750, 800, 900;
# stops 20, 24, 30 -> 22, 24, 27
SMALL_NEW = """\
# A small calculator for the research tests: comments and order must survive.
name: Small calculator
currency: USD
offering: {name: Ours, one_time: 0, recurring: 1000}
alternatives:
  - name: Theirs
inputs:
  - name: Hours lost per stop   # no low, high or source yet
    unit: hours/stop
    base: 4
    min: 0
    max: 48
    low: 3.5
    high: 4.5
    source: "3 field value assessments at 3 customers, 2026-Q2, P25/P50/P75"
    evidence: {n: 3, customers: 3, methods: ["field value assessment"], period: "2026-Q2", \
rule: "P25/P50/P75"}
  - {name: Scrap cost per restart, unit: USD/stop, base: 800, source: "3 benchmarks at 1 \
customer, 2026-Q2, P25/P50/P75", low: 750, high: 900, evidence: {n: 3, customers: 1, methods: \
["benchmark"], period: "2026-Q2", rule: "P25/P50/P75"}}
  - name: Unplanned stops per year with the alternative
    unit: stops/year
    base: 24
    source: "3 customers' own figures at 3 customers, 2026-Q2, P25/P50/P75"
    low: 22
    high: 27
    evidence: {n: 3, customers: 3, methods: ["customer's own data"], period: "2026-Q2", \
rule: "P25/P50/P75"}

  - name: Unplanned stops per year with ours
    unit: stops/year
    base: 9
  - name: Contribution margin lost per hour
    unit: USD/hour
    base: 4200
value_elements:
  - name: Downtime avoided
    category: economic
    equation: >
      (Unplanned stops per year with the alternative - Unplanned stops per year with ours)
      x (Hours lost per stop x Contribution margin lost per hour + Scrap cost per restart)
horizon_years: 3
discount_rate: 8%
"""


def test_missing_keys_flow_style_and_block_scalars_keep_the_rest_of_the_text(tmp_path):
    spec, findings = tmp_path / "small.yaml", tmp_path / "findings.csv"
    spec.write_text(SMALL, encoding="utf-8")
    findings.write_text(SMALL_FINDINGS, encoding="utf-8")
    report = apply_research(findings, spec, tmp_path / "new.yaml", today=dt.date(2026, 11, 30))
    new = (tmp_path / "new.yaml").read_text(encoding="utf-8")
    assert new == SMALL_NEW
    assert [r.status for r in report.inputs] == ["set", "set", "set", "no evidence",
                                                 "no evidence"]
    shown = [(c.line, c.old and c.old.strip(), c.new and c.new.strip()) for c in report.changes]
    source = "P25/P50/P75\""
    rest = 'period: "2026-Q2", rule: "P25/P50/P75"}'
    assert shown == [
        (10, "base: 3.5", "base: 4"),
        (13, None, "low: 3.5"), (14, None, "high: 4.5"),
        (15, None, f'source: "3 field value assessments at 3 customers, 2026-Q2, {source}'),
        (16, None, f'evidence: {{n: 3, customers: 3, methods: ["field value assessment"], '
                   f'{rest}'),
        (17, "- {name: Scrap cost per restart, unit: USD/stop, base: 850, source: guess}",
         f'- {{name: Scrap cost per restart, unit: USD/stop, base: 800, source: "3 benchmarks '
         f'at 1 customer, 2026-Q2, {source}, low: 750, high: 900, evidence: {{n: 3, '
         f'customers: 1, methods: ["benchmark"], {rest}}}'),
        (21, "source: >", f'source: "3 customers\' own figures at 3 customers, 2026-Q2, {source}'),
        (22, None, "low: 22"), (23, None, "high: 27"),
        (24, None, f'evidence: {{n: 3, customers: 3, methods: ["customer\'s own data"], {rest}'),
        (25, "Customer's maintenance log,", None), (25, "last 12 months", None),
    ]
    assert {c.input for c in report.changes} == {
        "Hours lost per stop", "Scrap cost per restart",
        "Unplanned stops per year with the alternative"}
    spec_new = load_spec(tmp_path / "new.yaml")
    assert spec_new.input("Scrap cost per restart").low == 750
