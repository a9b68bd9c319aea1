"""`cvp-xl cases --to` never writes over what a person put in the case-history workbook."""

from __future__ import annotations

import shutil

import openpyxl
import pytest
from click.testing import CliRunner
from openpyxl.comments import Comment

from cvp_xl.commands.cli import main
from cvp_xl.workbooks.case_table import SHEET, read_cases
from cvp_xl.workbooks.tracker import EXAMPLES, build_example_workbooks


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    return build_example_workbooks(tmp_path_factory.mktemp("tracker_cases"))[0]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def exported(tmp_path, example):
    """A tracker with 4 verified entries exported, and 3 more verified entries to come."""
    tracker = tmp_path / "tracker.xlsx"
    shutil.copy(example, tracker)
    cases = tmp_path / "cases.xlsx"
    assert run("cases", tracker, "--to", cases).exit_code == 0
    assert run("track", tracker, "--add", EXAMPLES / "2025-Q2.csv").exit_code == 0
    return tracker, cases


def test_cells_below_the_table_and_notes_on_generated_sheets_are_never_written_over(exported):
    tracker, cases = exported
    wb = openpyxl.load_workbook(cases)
    table = wb[SHEET]
    assert table.tables["Cases"].ref.endswith("5")  # 4 cases in rows 2-5
    table["A6"] = "Q1 figures still to come"  # directly below the table
    table["B7"] = "=1+1"
    wb["Summary"]["F3"] = "ask Dana about segment names"
    wb.save(cases)
    before = cases.read_bytes()
    result = run("cases", tracker, "--to", cases)
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {cases}: 3 case histories would be added, but these cells would be written "
        f"over: {SHEET}!A6 ('Q1 figures still to come'); {SHEET}!B7 (the formula =1+1); "
        "Summary!F3 ('ask Dana about segment names'). Move them to a sheet of your own (or "
        "below the rows the table grows into) and run again; nothing was written\n")
    assert cases.read_bytes() == before


def test_what_is_out_of_the_way_stays(exported):
    tracker, cases = exported
    wb = openpyxl.load_workbook(cases)
    table = wb[SHEET]
    table["A20"] = "a note well below the table"
    table["B3"].comment = Comment("checked with the plant", "Dana")
    wb.create_sheet("My analysis")["A1"] = "kept"
    wb.save(cases)
    result = run("cases", tracker, "--to", cases)
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(cases)
    assert wb[SHEET]["A20"].value == "a note well below the table"
    assert wb[SHEET]["B3"].comment.text == "checked with the plant"
    assert wb["My analysis"]["A1"].value == "kept"
    assert len(read_cases(cases)) == 7
