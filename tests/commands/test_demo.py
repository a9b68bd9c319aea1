"""The demo, as a new user runs it: every example workbook built, then checked by engines that
did not write it."""

from click.testing import CliRunner
from helpers import requires_libreoffice

from cvp_xl.commands.cli import main
from cvp_xl.commands.demo import check_books
from cvp_xl.errors import ErrorValue
from cvp_xl.workbooks import deals, example, pricing
from cvp_xl.xlsx.cached import write_cached_values


def test_demo_builds_and_checks_every_example(tmp_path):
    result = CliRunner().invoke(main, ["demo", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if "formula cells;" in line]
    assert len(lines) >= 12
    assert all(line.strip().startswith("ok") for line in lines), lines
    # every line names the engine that checked it, and how many cells it confirmed
    assert all("formulas engine" in line for line in lines), lines
    assert (tmp_path / "batch" / "summary.xlsx").exists()


@requires_libreoffice
def test_demo_names_libreoffice_and_the_cells_that_need_the_addin(tmp_path):
    book = deals.build(tmp_path / "deals.xlsx")
    (check,) = check_books([(book, book)])
    # 5 deals x 4 CVP_* calls, and the two totals that add up CVP_* results, need the add-in;
    # the 4 totals of the inputs LibreOffice computes itself
    assert check.cells == 26
    assert check.compared == {"formulas engine": 26, "LibreOffice": 4}
    assert check.agreed == check.compared
    assert check.skipped == {"LibreOffice": "22 cells need the add-in (CVP_*)"}
    assert check.ok


def test_a_stored_value_that_differs_from_the_engines_is_reported(tmp_path):
    book = pricing.build(tmp_path / "good.xlsx", example("pricing", "super-towel.yaml"))
    (good,) = check_books([(book, book)], libreoffice=False)
    assert good.ok and good.agreed["formulas engine"] == good.cells
    bad = tmp_path / "bad.xlsx"
    # the reference value (B9) stored wrong, and an error where a number belongs
    write_cached_values(book, bad, {("Pricing", "B9"): 0.07,
                                    ("Pricing", "B20"): ErrorValue("#N/A")})
    (check,) = check_books([(bad, bad)], libreoffice=False)
    assert not check.ok
    assert check.agreed["formulas engine"] == check.cells - 2
    assert check.line(tmp_path).startswith("  DIFF bad.xlsx:")
