"""An input's research evidence in the spec (``evidence:``): read, checked key by key, shown on
the Inputs sheet as n and methods, and absent from a calculator whose spec has none."""

from __future__ import annotations

import openpyxl
import pytest
from helpers import SMALL_SPEC as GOOD

from cvp_xl.workbooks.calculator import SpecError, parse_spec
from cvp_xl.workbooks.calculator.builder import build
from cvp_xl.workbooks.calculator.spec import InputEvidence

#: the line after "    base: 4" of "Stops per year with ours" (line 21 of GOOD)
LINE = 22


def with_evidence(evidence: str) -> str:
    text = GOOD.replace("    base: 4\n", f"    base: 4\n    evidence: {evidence}\n", 1)
    assert text != GOOD
    return text


def error(evidence: str) -> str:
    with pytest.raises(SpecError) as info:
        parse_spec(with_evidence(evidence), "calc.yaml")
    return str(info.value)


def test_evidence_is_read():
    spec = parse_spec(with_evidence(
        '{n: 7, customers: 5, methods: [field value assessment, "Survey"], '
        'period: 2026-Q2–Q3, rule: p10/p50/p90}'), "calc.yaml")
    assert spec.input("Stops per year with ours").evidence == InputEvidence(
        n=7, methods=("field value assessment", "survey"), customers=5, period="2026-Q2–Q3",
        rule="P10/P50/P90")
    assert spec.input("Stops per year with ours").evidence.methods_text == (
        "field value assessment, survey")
    assert spec.input("Hours per stop").evidence is None


def test_a_block_mapping_and_the_least_evidence():
    spec = parse_spec(with_evidence("\n      n: 1\n      methods: pilot"), "calc.yaml")
    assert spec.input("Stops per year with ours").evidence == InputEvidence(1, ("pilot",))


W = f"calc.yaml:{LINE}: input 'Stops per year with ours': evidence: "


@pytest.mark.parametrize("evidence,message", [
    ("9", f"calc.yaml:{LINE}: input 'Stops per year with ours': 'evidence' must be a mapping "
          "(n:, methods:, customers:, period:, rule:)"),
    ("{n: 3, methods: [survey], count: 4}", f"{W}unknown key 'count'"),
    ("{n: 3, methods: [survey], customer: 4}", f"{W}unknown key 'customer'; did you mean "
                                               "'customers'?"),
    ("{methods: [survey]}", f"{W}missing 'n'"),
    ("{n: 2.5, methods: [survey]}",
     f"{W}'n' must be a whole number of observations, 1 or more, got 2.5"),
    ("{n: 0, methods: [survey]}",
     f"{W}'n' must be a whole number of observations, 1 or more, got 0"),
    ("{n: many, methods: [survey]}", f"{W}'n' must be a number, got 'many'"),
    ("{n: 3, customers: 4, methods: [survey]}",
     f"{W}'customers' must be a whole number from 1 to n (3), got 4"),
    ("{n: 3}", f"{W}missing 'methods' (e.g. methods: [field value assessment, survey])"),
    ("{n: 3, methods: []}", f"{W}'methods' must be a list of research methods (field value "
                            "assessment, focus group, survey, customer's own data, benchmark, "
                            "pilot), got a list of 0 items"),
    ("{n: 3, methods: [conjoint analysis]}",
     f"{W}'methods': 'conjoint analysis' is not a research method; expected one of field "
     "value assessment, focus group, survey, customer's own data, benchmark, pilot"),
    ("{n: 3, methods: [survey, 7]}",
     f"{W}'methods': 7 is not a research method; expected one of field value assessment, "
     "focus group, survey, customer's own data, benchmark, pilot"),
    ("{n: 3, methods: [survey, SURVEY]}", f"{W}'methods': 'SURVEY' is given twice"),
    ("{n: 3, methods: [survey], period: last spring}",
     f"{W}'period' must be quarters such as 2026-Q2, 2026-Q2–Q3 or 2025-Q4–2026-Q1, got "
     "'last spring'"),
    ("{n: 3, methods: [survey], period: 2026-Q5}",
     f"{W}'period' must be quarters such as 2026-Q2, 2026-Q2–Q3 or 2025-Q4–2026-Q1, got "
     "'2026-Q5'"),
    ("{n: 3, methods: [survey], rule: P60/P50/P90}",
     f"{W}'rule': percentile rule 'P60/P50/P90': expected low <= base <= high"),
])
def test_bad_evidence_is_refused_naming_the_key(evidence, message):
    assert error(evidence) == message


def test_the_inputs_sheet_shows_n_and_methods_only_when_a_spec_has_evidence(tmp_path):
    plain = parse_spec(GOOD, "good.yaml")
    researched = parse_spec(with_evidence("{n: 7, methods: [benchmark, pilot]}"), "calc.yaml")
    for spec, name in ((plain, "plain.xlsx"), (researched, "researched.xlsx")):
        build(spec, tmp_path / name)
    ws = openpyxl.load_workbook(tmp_path / "plain.xlsx")["Inputs"]
    assert ws.max_column == 12 and ws.print_area == "'Inputs'!$A$1:$J$13"  # as before
    ws = openpyxl.load_workbook(tmp_path / "researched.xlsx")["Inputs"]
    rows = {r[0]: r[12:14] for r in ws.iter_rows(min_row=4, max_row=8, values_only=True)}
    assert rows == {"Input": ("n (research)", "Research methods"),
                    "Stops per year with theirs": (None, None),
                    "Stops per year with ours": (7, "benchmark, pilot"),
                    "Cost per hour of downtime": (None, None), "Hours per stop": (None, None)}
    assert ws.protection.sheet and ws["M6"].protection.locked and ws["N6"].protection.locked
    assert ws.print_area == "'Inputs'!$A$1:$N$13"
