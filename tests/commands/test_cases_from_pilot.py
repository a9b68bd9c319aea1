"""`cvp-xl cases --from-pilot PILOT --to CASES [--track TRACKER --promised AMOUNT]`: a verified
pilot becomes a case history and a tracker entry, once; an unverified or undemonstrated pilot is
refused with the reason and nothing is written."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from click.testing import CliRunner

from cvp_xl.commands.cli import main
from cvp_xl.domain import research as rs
from cvp_xl.workbooks import example, pilot, tracker
from cvp_xl.workbooks.case_table import read_cases
from cvp_xl.workbooks.tracker import read_tracker
from cvp_xl.workbooks.tracker_sheets import Settings

# The Northwind pilot (workbooks/research/pilot-northwind.yaml), by hand: baseline mean
# 18 / 8 = 2.25 stops a month, pilot mean 5 / 6; fewer is better, so the improvement is
# 2.25 - 5/6 = 17/12 stops a month, worth 17/12 x 15,550 USD x 12 = 264,350 USD a year.
VALUE = 264_350
CASE = ("Northwind Plastics, Fewer unplanned stops, 2026-Q2–Q3: USD 264,350 a year")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("pilots")
    books = {p.stem: p for p in pilot.build_example_workbooks(out)}
    # a USD tracker (the example's customers and entries) as of after the pilot
    books["tracker"] = tracker.build(out / "tracker.xlsx", settings=Settings(
        as_of=dt.date(2026, 10, 15), currency="USD"))
    books["eur-tracker"] = tracker.build_example_workbooks(out / "eur")[0]
    spec = pilot.load_pilot_spec(example("research", "pilot-northwind.yaml"))
    flat = pilot.Pilot(dict(spec.settings), (3, 2, 1, 3), (2, 3, 1, 2))
    books["flat"] = pilot.build(out / "flat.xlsx", flat)
    return books


@pytest.fixture
def files(built, tmp_path):
    out = {}
    for key, path in built.items():
        out[key] = tmp_path / path.name
        shutil.copy(path, out[key])
    return out


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_a_verified_pilot_becomes_a_case_history_once(files, tmp_path):
    cases = tmp_path / "cases.xlsx"
    result = run("cases", "--from-pilot", files["pilot-northwind"], "--to", cases)
    assert result.exit_code == 0, result.output
    assert result.output == (f"{cases}: case history added from {files['pilot-northwind']} "
                             f"({CASE}); 1 in all\n")
    (case,) = read_cases(cases).to_dict("records")
    assert (case["customer"], case["value element"], case["period"], case["verified by"]) == (
        "Northwind Plastics", "Fewer unplanned stops", "2026-Q2–Q3",
        "Plant manager, Northwind Plastics")
    assert (case["before"], case["after"]) == pytest.approx((2.25, 5 / 6), rel=1e-12)
    assert case["documented value per year"] == pytest.approx(VALUE, rel=1e-12)
    before = cases.read_bytes()
    again = run("cases", "--from-pilot", files["pilot-northwind"], "--to", cases)
    assert again.exit_code == 0, again.output
    assert again.output == f"{cases}: already a case ({CASE}); not written\n"
    assert cases.read_bytes() == before


def test_with_track_it_also_becomes_the_tracker_entry_of_its_last_quarter(files, tmp_path):
    cases, book = tmp_path / "cases.xlsx", files["tracker"]
    result = run("cases", "--from-pilot", files["pilot-northwind"], "--to", cases,
                 "--track", book, "--promised", 60000)
    assert result.exit_code == 0, result.output
    # documented per quarter: 264,350 / 4 periods a year = 66,087.5 (shown rounded)
    assert result.output.splitlines() == [
        f"{cases}: case history added from {files['pilot-northwind']} ({CASE}); 1 in all",
        f"{book}: entry added (Northwind Plastics, 2026-Q3 (ending 2026-09-30): promised "
        "60,000, documented 66,088); recalculated"]
    entries = read_tracker(book).entries
    last = entries[entries["customer"] == "Northwind Plastics"].iloc[-1]
    assert (last["period"], last["period end"].date(), last["promised"]) == (
        "2026-Q3", dt.date(2026, 9, 30), 60000)
    assert last["documented"] == pytest.approx(VALUE / 4, rel=1e-12)
    assert last["verified by"] == "Plant manager, Northwind Plastics"
    before = (cases.read_bytes(), book.read_bytes())
    again = run("cases", "--from-pilot", files["pilot-northwind"], "--to", cases,
                "--track", book, "--promised", 60000)
    assert again.exit_code == 0, again.output
    assert again.output.splitlines()[1] == (f"{book}: already has an entry for Northwind "
                                            "Plastics, 2026-Q3; not written")
    assert (cases.read_bytes(), book.read_bytes()) == before


def flat_message() -> str:
    # baseline mean 9/4, pilot mean 2: the interval of the improvement includes 0
    r = rs.pilot_interval([3, 2, 1, 3], [2, 3, 1, 2])
    return (f"flat.xlsx: not demonstrated (the improvement's interval runs from "
            f"{-r.high:,.4g} to {-r.low:,.4g} stops/month); nothing written")


@pytest.mark.parametrize("args,message", [
    (["--from-pilot", "{pilot-contoso}"],
     "pilot-contoso.xlsx: not verified (no one at the customer has signed it off); nothing "
     "written"),
    (["--from-pilot", "{flat}"], None),  # flat_message()
    (["--from-pilot", "{pilot-northwind}", "--track", "{eur-tracker}", "--promised", "1"],
     "pilot-northwind.xlsx: the pilot's value is in USD, the tracker {eur-tracker} counts EUR; "
     "nothing written"),
    (["--from-pilot", "{pilot-northwind}", "--track", "{tracker}", "--promised", "-5"],
     "pilot-northwind.xlsx: a tracker entry needs the value promised for the period (0 or "
     "more, in USD), got -5.0"),
])
def test_refusals_say_why_and_write_nothing(files, tmp_path, args, message):
    cases = tmp_path / "cases.xlsx"
    tracked = files["tracker"].read_bytes()
    result = run("cases", *[a.format(**files) for a in args], "--to", cases)
    assert result.exit_code == 2, result.output
    expected = flat_message() if message is None else message.format(**files)
    assert result.output == f"Error: {expected}\n"
    assert not cases.exists()
    assert files["tracker"].read_bytes() == tracked


def test_a_quarter_before_the_trackers_latest_is_refused_before_anything_is_written(files,
                                                                                  tmp_path):
    later = tmp_path / "q4.csv"
    later.write_text("customer,period,period end,promised,documented,verified by\n"
                     "Northwind Plastics,2026-Q4,2026-12-31,21000,,\n", encoding="utf-8")
    assert run("track", files["tracker"], "--add", later).exit_code == 0
    tracked, cases = files["tracker"].read_bytes(), tmp_path / "cases.xlsx"
    result = run("cases", "--from-pilot", files["pilot-northwind"], "--to", cases,
                 "--track", files["tracker"], "--promised", 60000)
    assert result.exit_code == 2
    assert result.output == (
        f"Error: pilot-northwind.xlsx: {files['tracker']} already has 2026-Q4 (ending "
        "2026-12-31) for Northwind Plastics; the tracker adds periods in time order, and the "
        "pilot's 2026-Q3 ends 2026-09-30; nothing written\n")
    assert not cases.exists() and files["tracker"].read_bytes() == tracked


def test_a_customer_the_tracker_does_not_know_is_refused(files, tmp_path):
    spec = pilot.load_pilot_spec(example("research", "pilot-northwind.yaml"))
    other = pilot.Pilot({**spec.settings, "customer": "Wide World Importers"}, spec.baseline,
                        spec.pilot)
    path = pilot.build(tmp_path / "wide.xlsx", other)
    cases = tmp_path / "cases.xlsx"
    result = run("cases", "--from-pilot", path, "--to", cases, "--track", files["tracker"],
                 "--promised", 1000)
    assert result.exit_code == 2
    assert result.output == (f"Error: wide.xlsx: the customer 'Wide World Importers' is not on "
                             f"the Customers sheet of {files['tracker']}; add it there first; "
                             "nothing written\n")
    assert not cases.exists()


@pytest.mark.parametrize("args,message", [
    (["{tracker}", "--from-pilot", "{pilot-northwind}"],
     "give TRACKER or --from-pilot PILOT (one of the two)"),
    ([], "give TRACKER or --from-pilot PILOT (one of the two)"),
    (["{tracker}", "--promised", "5", "--track", "{tracker}"],
     "--track and --promised go with --from-pilot"),
    (["--from-pilot", "{pilot-northwind}", "--track", "{tracker}"],
     "--track TRACKER and --promised AMOUNT go together"),
])
def test_usage_errors(files, tmp_path, args, message):
    result = run("cases", *[a.format(**files) for a in args], "--to", tmp_path / "c.xlsx")
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == f"Error: {message}"
