"""The research and pilot workbooks, and the research table they are built from.

The builders compute every formula's value in Python and store it with the formula; the formulas
engine and LibreOffice (one run for every workbook here) recompute the files, and every stored
value must equal theirs within 1e-9.  Key numbers are also checked against hand calculations.
"""

from __future__ import annotations

import datetime as dt
import shutil

import openpyxl
import pytest
from helpers import NO_LIBREOFFICE

from cvp_xl.commands.recalc import compute
from cvp_xl.domain import research as rs
from cvp_xl.errors import CvpValueError
from cvp_xl.hosts.libreoffice import find_soffice, read_values
from cvp_xl.workbooks import example, pilot, research
from cvp_xl.workbooks.calculator.spec import load_spec
from cvp_xl.workbooks.case_table import read_cases
from cvp_xl.xlsx.share_safe import unsafe_functions

SPEC = example("calculators", "packaging-line-maintenance.yaml")
TODAY = dt.date(2026, 11, 30)
N_OBS = 38  # rows of workbooks/research/findings.csv

#: Rows typed into the research workbook's room for more, each with what its check must say.
TYPED = [
    (["Acme", "Food packaging", "Hours lost per stops", "survey", 3, "hours/stop",
      dt.datetime(2026, 5, 1), "x", None], "unknown input"),
    (["Acme", "Food packaging", "Hours lost per stop", "survey", 3, "minutes/stop",
      dt.datetime(2026, 5, 1), "x", None], "unit is not hours/stop"),
    (["Acme", "Food packaging", "Hours lost per stop", "survey", 60, "hours/stop",
      dt.datetime(2026, 5, 1), "x", None], "outside the allowed range"),
    (["Acme", "Food packaging", "Hours lost per stop", "survey", 3, "hours/stop",
      dt.datetime(2099, 1, 1), "x", None], "date in the future"),
    (["Acme", "Food packaging", "Hours lost per stop", "interview", 3, "hours/stop",
      dt.datetime(2026, 5, 1), "x", None], "unknown method"),
    (["Acme", "Food packaging", "Hours lost per stop", "survey", 3, "hours/stop",
      dt.datetime(2026, 5, 1), None, None], "incomplete"),
    (["Acme", "Food packaging", "Hours lost per stop", "survey", "about 3", "hours/stop",
      dt.datetime(2026, 5, 1), "x", None], "value is not a number"),
    (["Acme", "Food packaging", "Hours lost per stop", "survey", 3, "hours/stop",
      "last spring", "x", None], "date is not a date"),
    (["Acme", "Food packaging", " hours lost per stop ", "Field value assessment", 6.0,
      "Hours/Stop", dt.datetime(2026, 10, 1), "y", "FVA-2026-030"], "ok"),
]


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    out = tmp_path_factory.mktemp("research_books")
    made = research.build_example_workbooks(out) + pilot.build_example_workbooks(out)
    assert sorted(p.name for p in made) == ["pilot-contoso.xlsx", "pilot-northwind.xlsx",
                                            "research-linecare.xlsx"]
    paths = {p.stem: p for p in made}
    typed = out / "typed.xlsx"  # the research workbook with rows typed in, as a user would
    shutil.copy(paths["research-linecare"], typed)
    wb = openpyxl.load_workbook(typed)
    ws = wb["Observations"]
    for k, (row, _) in enumerate(TYPED):
        for j, v in enumerate(row, start=1):
            ws.cell(2 + N_OBS + k, j, v)
    wb.save(typed)  # openpyxl keeps the formulas and drops their values: LibreOffice fills them
    paths["typed"] = typed
    return paths


@pytest.fixture(scope="module")
def libreoffice(books):
    from cvp_xl.hosts.libreoffice import libreoffice_values_many

    if find_soffice() is None:
        pytest.skip(NO_LIBREOFFICE)
    names = sorted(books)
    return dict(zip(names, libreoffice_values_many([books[k] for k in names])))


def formula_cells(path) -> list[tuple[str, str]]:
    wb = openpyxl.load_workbook(path)
    return [(ws.title, c.coordinate) for ws in wb.worksheets for row in ws.iter_rows()
            for c in row if c.data_type == "f"]


def mismatches(path, theirs: dict) -> list[str]:
    stored = read_values(path)
    out = []
    for key in formula_cells(path):
        mine, other = stored.get(key, ""), theirs.get(key, "")
        mine, other = ("" if mine is None else mine), ("" if other is None else other)
        if isinstance(mine, dt.datetime):
            mine = openpyxl.utils.datetime.to_excel(mine)
        if isinstance(other, dt.datetime):
            other = openpyxl.utils.datetime.to_excel(other)
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool)
                      for v in (mine, other))
        if not (abs(mine - other) <= 1e-9 * max(1.0, abs(mine)) if numbers else mine == other):
            out.append(f"{key[0]}!{key[1]}: stored {mine!r}, recomputed {other!r}")
    return out


BUILT = ["research-linecare", "pilot-northwind", "pilot-contoso"]


@pytest.mark.parametrize("name", BUILT)
def test_stored_values_equal_the_formulas_engine(name, books):
    path = books[name]
    assert len(formula_cells(path)) > 30
    assert not (diffs := mismatches(path, compute(path).values)), "\n".join(diffs[:20])


@pytest.mark.parametrize("name", BUILT)
def test_stored_values_equal_libreoffice(name, books, libreoffice):
    assert not (diffs := mismatches(books[name], libreoffice[name])), "\n".join(diffs[:20])


@pytest.mark.parametrize("name", BUILT)
def test_only_share_safe_functions(name, books):
    assert unsafe_functions(books[name]) == []


def summary_rows(v: dict) -> tuple[dict, dict]:
    """Each input's row in the Summary's two tables: the evidence (n, customers, methods in E to
    N) and, below it, low, base and high (B to D; evidence J; source L), each table under a
    header whose column A says "Input"."""
    heads = sorted(int(ref[1:]) for (s, ref), x in v.items()
                   if s == "Summary" and ref[0] == "A" and ref[1:].isdigit() and x == "Input")
    assert len(heads) == 2
    tables = []
    for head in heads:
        rows, r = {}, head + 1
        while isinstance(v.get(("Summary", f"A{r}")), str):
            rows[v[("Summary", f"A{r}")]] = r
            r += 1
        tables.append(rows)
    assert list(tables[0]) == list(tables[1]) and len(tables[0]) == 11
    return tables[0], tables[1]


def test_the_summary_gives_each_inputs_evidence(books):
    v = read_values(books["research-linecare"])
    rows, values = summary_rows(v)
    r, r2 = rows["Hours lost per stop"], values["Hours lost per stop"]
    # hand, PERCENTILE.INC over 2.5, 3.0, 3.2, 3.5, 3.8, 4.0, 4.5, 5.0:
    # P25 = 3.0 + 0.75 x 0.2 = 3.15, P50 = 3.5 + 0.5 x 0.3 = 3.65, P75 = 4.0 + 0.25 x 0.5 = 4.125
    got = [v[("Summary", f"{c}{r}")] for c in "EFGH"]
    assert got == [8, 8, 6, 2]  # n, customers, field value assessments, focus groups
    assert [v[("Summary", f"{c}{r2}")] for c in "BCD"] == pytest.approx([3.15, 3.65, 4.125],
                                                                        rel=1e-12)
    assert v[("Summary", f"L{r2}")] == ("6 field value assessments and 2 focus groups at 8 "
                                         "customers, 2026-Q2–Q3, P25/P50/P75")
    assert v[("Summary", f"J{values['Loaded labor cost per hour']}")] == \
        "not enough (fewer than 3)"
    assert v[("Summary", f"J{values['Energy price']}")] == "no evidence"
    assert v[("Summary", f"L{values['Energy price']}")] in ("", None)


def test_drivers_weights_and_the_value_map(books):
    v = read_values(books["research-linecare"])
    ratings = research.read_ratings(example("research", "drivers.csv"), (1, 10))
    # hand, respondent R01 rated 9, 5, 7, 6 (sum 27): weights 100 x 9/27 = 33.33, ...
    assert [v[("Drivers", f"{c}5")] for c in "HIJKL"] == pytest.approx(
        [27, 100 * 9 / 27, 100 * 5 / 27, 100 * 7 / 27, 100 * 6 / 27], rel=1e-12)
    by_segment = {v[("Drivers", f"A{r}")]: r for r in range(18, 21)}
    assert set(by_segment) == {"Food packaging", "Beverage bottling", "All"}
    all_row = by_segment["All"]
    assert sum(v[("Drivers", f"{c}{all_row}")] for c in "DEFG") == pytest.approx(100, rel=1e-12)
    assert [v[("Drivers", f"{c}{all_row}")] for c in "DEFG"] == pytest.approx(
        rs.driver_weights([list(r) for r in ratings.ratings])[0].tolist(), rel=1e-12)


def test_the_check_column_and_the_summary_follow_what_users_type(books, libreoffice):
    lo = libreoffice["typed"]
    checks = [lo[("Observations", f"J{2 + N_OBS + k}")] for k in range(len(TYPED))]
    assert checks == [want for _, want in TYPED]
    # only the last typed row counts: Hours lost per stop now has 9 observations at 9 customers
    obs = research.read_findings(example("research", "findings.csv"), load_spec(SPEC), TODAY)
    values = [o.value for o in obs if o.input == "Hours lost per stop"] + [6.0]
    rows, lows = summary_rows(lo)
    row, row2 = rows["Hours lost per stop"], lows["Hours lost per stop"]
    assert lo[("Summary", f"E{row}")] == 9 and lo[("Summary", f"F{row}")] == 9
    assert [lo[("Summary", f"{c}{row2}")] for c in "BCD"] == pytest.approx(
        [rs.percentile(values, p) for p in (25, 50, 75)], rel=1e-9)
    assert lo[("Summary", f"L{row2}")] == ("7 field value assessments and 2 focus groups at 9 "
                                           "customers, 2026-Q2–Q4, P25/P50/P75")


def test_reading_the_workbook_back_reports_the_typed_rows(books):
    with pytest.raises(research.FindingsError) as info:
        research.read_findings(books["typed"], load_spec(SPEC), TODAY)
    first = 2 + N_OBS
    assert [str(p) for p in info.value.problems] == [
        f"row {first}, column 'input': unknown input 'Hours lost per stops'; did you mean "
        "'Hours lost per stop'?",
        f"row {first + 1}, column 'unit': 'minutes/stop' does not match the unit of 'Hours lost "
        "per stop' (hours/stop)",
        f"row {first + 2}, column 'value': 60 is outside the allowed range of 'Hours lost per "
        "stop' (0 to 48, hours/stop)",
        f"row {first + 3}, column 'date': 2099-01-01 is in the future (today is 2026-11-30)",
        f"row {first + 4}, column 'method': expected one of field value assessment, focus group, "
        "survey, customer's own data, benchmark, pilot, got 'interview'",
        f"row {first + 5}, column 'measured by': expected who measured it, got a blank cell",
        f"row {first + 6}, column 'value': expected a number, got 'about 3'",
        f"row {first + 7}, column 'date': expected a date (YYYY-MM-DD), got 'last spring'",
    ]


def test_the_workbook_reads_back_as_the_findings_it_was_built_from(books):
    spec = load_spec(SPEC)
    from_csv = research.read_findings(example("research", "findings.csv"), spec, TODAY)
    from_book = research.read_findings(books["research-linecare"], spec, TODAY)
    assert len(from_csv) == N_OBS
    strip = [(o.customer, o.input, o.method, o.value, o.unit, o.date) for o in from_csv]
    assert [(o.customer, o.input, o.method, o.value, o.unit, o.date) for o in from_book] == strip
    assert [o.row for o in from_book] == list(range(2, 2 + N_OBS))  # Excel rows
    assert [o.row for o in from_csv] == list(range(2, 2 + N_OBS))  # CSV lines


# -- the research table ------------------------------------------------------------------------

HEAD = "customer,segment,input,method,value,unit,date,measured by,reference\n"


def test_every_bad_row_is_reported_by_line_and_column(tmp_path):
    bad = tmp_path / "findings.csv"
    bad.write_text(HEAD + "\n".join([
        "Acme,Food,Hours lost per stop,survey,3.5,hours/stop,2026-05-01,Ann,",
        "Acme,Food,Downtime hours,survey,3.5,hours/stop,2026-05-01,Ann,",
        "Acme,Food,Energy saving with ours,pilot,6,%,2026-05-01,Ann,",
        "Acme,Food,Hours lost per stop,survey,3.5,h/stop,2026-12-15,Ann,",
        ",,Energy price,guess,cheap,USD/kWh,May,,",
        ",,,,,,,,",
        "Acme,Food, HOURS LOST PER STOP ,Customer's own data,4,Hours/Stop,2026-05-01,Ann,log",
    ]) + "\n", encoding="utf-8")
    with pytest.raises(research.FindingsError) as info:
        research.read_findings(bad, load_spec(SPEC), TODAY)
    assert str(info.value) == "\n".join([
        f"{bad}: 10 problems in the research findings:",
        "  line 3, column 'input': unknown input 'Downtime hours' (not in "
        "packaging-line-maintenance.yaml)",
        "  line 4, column 'value': 6 is outside the allowed range of 'Energy saving with ours' "
        "(0 to 0.5, %)",
        "  line 5, column 'unit': 'h/stop' does not match the unit of 'Hours lost per stop' "
        "(hours/stop)",
        "  line 5, column 'date': 2026-12-15 is in the future (today is 2026-11-30)",
        "  line 6, column 'customer': expected a customer name, got a blank cell",
        "  line 6, column 'segment': expected a segment, got a blank cell",
        "  line 6, column 'method': expected one of field value assessment, focus group, "
        "survey, customer's own data, benchmark, pilot, got 'guess'",
        "  line 6, column 'value': expected a number, got 'cheap'",
        "  line 6, column 'date': expected a date (YYYY-MM-DD), got 'May'",
        "  line 6, column 'measured by': expected who measured it, got a blank cell",
    ])


def test_good_rows_keep_the_specs_spelling(tmp_path):
    good = tmp_path / "findings.csv"
    good.write_text(HEAD + "Acme,Food, HOURS LOST PER STOP ,Customer's own data,4,Hours/Stop,"
                    "2026-05-01,Ann,log\n", encoding="utf-8")
    (o,) = research.read_findings(good, load_spec(SPEC), TODAY)
    assert (o.input, o.method, o.value, o.date) == ("Hours lost per stop", "customer's own data",
                                                    4.0, dt.date(2026, 5, 1))


def test_unknown_and_missing_columns_are_refused(tmp_path):
    bad = tmp_path / "findings.csv"
    bad.write_text("customer,segment,input,method,value,units,date,who\n", encoding="utf-8")
    with pytest.raises(research.FindingsError) as info:
        research.read_findings(bad)
    assert [str(p) for p in info.value.problems] == [
        "line 1, column 'units': not a research column (expected: customer, segment, input, "
        "method, value, unit, date, measured by, reference)",
        "line 1, column 'who': not a research column (expected: customer, segment, input, "
        "method, value, unit, date, measured by, reference)",
        "line 1, column 'unit': missing from the header row",
        "line 1, column 'measured by': missing from the header row",
    ]


def test_ratings_outside_the_scale_are_refused(tmp_path):
    bad = tmp_path / "drivers.csv"
    bad.write_text("respondent,customer,segment,Uptime,Energy\nR1,A,Food,11,5\nR2,B,,3,\n"
                   "R3,C,Food,0,0\n", encoding="utf-8")
    with pytest.raises(research.RatingsError) as info:
        research.read_ratings(bad, (0, 10))
    assert [str(p) for p in info.value.problems] == [
        "line 2, column 'Uptime': 11 is outside the rating scale (0 to 10)",
        "line 3, column 'segment': expected a segment, got a blank cell",
        "line 3, column 'Energy': expected a rating, got a blank cell",
        "line 4, column 'Uptime': every rating is 0; at least one must be above 0",
    ]


# -- pilots --------------------------------------------------------------------------------------


def test_the_pilot_shows_lift_interval_and_value(books):
    v = read_values(books["pilot-northwind"])
    result = {v[("Pilot", f"D{r}")]: v[("Pilot", f"E{r}")] for r in range(4, 24)}
    # hand: baseline 3, 2, 1, 3, 2, 2, 4, 1: mean 18/8 = 2.25; pilot 1, 0, 1, 1, 0, 2: mean 5/6;
    # lift 5/6 - 9/4 = -17/12 stops a month; fewer is better, so the improvement is 17/12;
    # value 17/12 x 15,550 USD x 12 months = 17 x 15,550 = 264,350 USD a year
    assert result["Lift (pilot mean - baseline mean)"] == pytest.approx(-17 / 12, rel=1e-12)
    assert result["Value per year"] == pytest.approx(264_350, rel=1e-12)
    r = rs.pilot_interval([3, 2, 1, 3, 2, 2, 4, 1], [1, 0, 1, 1, 0, 2])
    assert result["Value per year, low"] == pytest.approx(-r.high * 15_550 * 12, rel=1e-12)
    assert result["Verdict"] == "Demonstrated: the whole interval is an improvement"
    assert v[("Pilot", "E36")] == pytest.approx(264_350, rel=1e-12)  # the case row's value


def test_a_verified_pilot_becomes_a_case_history_once(books, tmp_path):
    cases = tmp_path / "cases.xlsx"
    pilots = [books["pilot-northwind"], books["pilot-contoso"]]
    added, skipped, total = pilot.export_pilot_cases(pilots, cases)
    assert total == 1 and skipped == [
        "pilot-contoso.xlsx: not verified (no one at the customer has signed it off)"]
    (case,) = read_cases(cases).to_dict("records")
    assert (case["customer"], case["value element"], case["category"], case["unit"]) == (
        "Northwind Plastics", "Fewer unplanned stops", "technical", "stops/month")
    assert (case["before"], case["after"]) == pytest.approx((2.25, 5 / 6), rel=1e-12)
    assert case["documented value per year"] == pytest.approx(264_350, rel=1e-12)
    assert (case["period"], case["verified by"], case["date"].date()) == (
        "2026-Q2–Q3", "Plant manager, Northwind Plastics", dt.date(2026, 10, 5))
    before = cases.read_bytes()
    added, skipped, total = pilot.export_pilot_cases(pilots, cases)
    assert added.empty and total == 1 and cases.read_bytes() == before
    assert skipped[-1] == "Northwind Plastics: already a case (Fewer unplanned stops, 2026-Q2–Q3)"


def test_a_pilot_whose_interval_includes_no_change_is_not_a_case(tmp_path):
    spec = pilot.load_pilot_spec(example("research", "pilot-northwind.yaml"))
    flat = pilot.Pilot(dict(spec.settings), (3, 2, 1, 3), (2, 3, 1, 2))
    path = pilot.build(tmp_path / "flat.xlsx", flat)
    cases, skipped = pilot.pilot_cases([path])
    assert cases.empty
    # hand: baseline mean 9/4, pilot mean 2: improvement 1/4 stop a month; the interval is wide
    r = rs.pilot_interval([3, 2, 1, 3], [2, 3, 1, 2])
    assert skipped == [f"flat.xlsx: not demonstrated (the improvement's interval runs from "
                       f"{-r.high:,.4g} to {-r.low:,.4g} stops/month)"]
    assert read_values(path)[("Pilot", "E23")] == \
        "Not demonstrated: the interval includes no change"


def test_a_pilot_workbook_with_a_bad_setting_says_where(books, tmp_path):
    bad = tmp_path / "bad.xlsx"
    wb = openpyxl.load_workbook(books["pilot-northwind"])
    wb["Pilot"]["B12"] = "sideways"
    wb["Pilot"]["B14"] = "high"
    wb["Pilot"]["A29"] = "n/a"
    wb.save(bad)
    with pytest.raises(pilot.PilotError) as info:
        pilot.read_pilot(bad)
    assert [str(p) for p in info.value.problems] == [
        "Pilot row 14, column 'Confidence level': expected a number, got 'high'",
        "Pilot row 12, column 'Better when the measure is (lower/higher)': expected lower or "
        "higher, got 'sideways'",
    ]
    wb["Pilot"]["B12"], wb["Pilot"]["B14"] = "lower", 0.95
    wb.save(bad)
    with pytest.raises(pilot.PilotError) as info:
        pilot.read_pilot(bad)
    assert [str(p) for p in info.value.problems] == [
        "Pilot row 29, column 'baseline': expected a number, got 'n/a'"]


def test_driver_weights_feed_the_positioning_workbooks_value_map(tmp_path):
    import copy

    from cvp_xl.domain.positioning import value_map
    from cvp_xl.workbooks import positioning

    ratings = research.read_ratings(example("research", "drivers.csv"), (1, 10))
    attributes = research.positioning_attributes(ratings, "Beverage bottling")
    assert [a["name"] for a in attributes] == ["Uptime", "Energy cost", "Maintenance effort",
                                               "Service response"]
    spec = copy.deepcopy(positioning.load_spec())
    spec["value_map"]["attributes"] = attributes
    path = positioning.build(tmp_path / "positioning.xlsx", spec)
    v = read_values(path)
    vm = spec["value_map"]
    ours = vm["offerings"][0]
    ref = next(o for o in vm["offerings"] if o["name"] == vm["reference"])
    row = next(int(ref_[1:]) for (s, ref_), x in v.items() if s == "Value map"
               and ref_[0] == "A" and x == ours["name"] and ref_[1:].isdigit()
               and isinstance(v.get(("Value map", f"B{ref_[1:]}")), float))
    want = value_map([a["weight"] for a in attributes], ours["scores"], ref["scores"])
    assert v[("Value map", f"B{row}")] == pytest.approx(want, rel=1e-12)
    with pytest.raises(CvpValueError) as info:
        research.positioning_attributes(ratings, "Metals")
    assert info.value.message == ("segment: no respondents in 'Metals' (segments: Food "
                                  "packaging, Beverage bottling)")
