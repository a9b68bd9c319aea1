"""``cvp-xl check``, table-driven: arguments, the lines printed, the exit code, ``--json``."""

from __future__ import annotations

import datetime as dt
import json

import openpyxl
import pytest
from click.testing import CliRunner

from cvp_xl.commands.cli import main
from cvp_xl.workbooks import example
from cvp_xl.workbooks.calculator import load_spec
from cvp_xl.workbooks.calculator.builder import TEMPLATE_VERSION, build

SPEC = example("calculators", "fleet-routing.yaml")
STORED = "compared with the digests stored in the file when it was built"
REBUILT = f"compared with the template rebuilt from {SPEC}"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The files the table names: a clean calculator, a tampered one, a workbook that is not."""
    out = tmp_path_factory.mktemp("check-cli")
    clean = out / "clean.xlsx"
    layout = build(load_spec(SPEC), clean, customer="Acme", built_at=dt.datetime(2025, 3, 1))
    wb = openpyxl.load_workbook(clean)
    wb["Summary"][layout.results["total_per_year"]] = 999999
    r = layout.input_rows["Mileage reduction with ours"]
    wb["Inputs"][f"E{r}"], wb["Inputs"][f"F{r}"] = 0.2, 0.02
    wb["Value"].protection.sheet = False
    tampered = out / "tampered.xlsx"
    wb.save(tampered)
    other = out / "other.xlsx"
    openpyxl.Workbook().save(other)
    return {"clean": clean, "tampered": tampered, "other": other,
            "total": layout.results["total_per_year"], "row": r}


TAMPERED = [
    "Value: the sheet is not protected; the template protects it so that formulas are not "
    "typed over",
    "Summary!{total}: the formula was replaced by the typed value 999999",
    "Inputs!E{row}: 'Mileage reduction with ours': low (0.2) is greater than high (0.02); the "
    "Low case may then total more than Base",
]

# (file, extra arguments, exit code, stdout lines, stderr lines); {book} is the file's path
TABLE = {
    "clean": ("clean", [], 0, ["{book}: no problems found"], [f"{{book}}: {STORED}"]),
    "clean, rebuilt from the spec": (
        "clean", ["--spec", str(SPEC)], 0, ["{book}: no problems found"],
        [f"{{book}}: {REBUILT}"]),
    "tampered": ("tampered", [], 1, TAMPERED, [f"{{book}}: {STORED}", "{book}: 3 problems"]),
    "tampered, rebuilt from the spec": (
        "tampered", ["--spec", str(SPEC)], 1, TAMPERED,
        [f"{{book}}: {REBUILT}", "{book}: 3 problems"]),
    "not a calculator": (
        "other", [], 2, [],
        ["Error: {book}: not a cvp-xl calculator (no Inputs sheet with an 'Input' column)"]),
    "no such spec": ("clean", ["--spec", "no-such.yaml"], 2, [],
                     ["Error: no-such.yaml: no such file"]),
}


@pytest.mark.parametrize("case", TABLE)
def test_check_command(case, files):
    name, args, code, out, err = TABLE[case]
    book = files[name]
    result = CliRunner().invoke(main, ["check", str(book), *args])

    def fill(lines):
        return [line.format(book=book, total=files["total"], row=files["row"]) for line in lines]

    assert result.exit_code == code, result.output
    assert result.stdout.splitlines() == fill(out)
    assert result.stderr.splitlines() == fill(err)


def test_json_of_a_clean_calculator(files):
    spec = load_spec(SPEC)
    result = CliRunner().invoke(main, ["check", str(files["clean"]), "--json"])
    assert result.exit_code == 0
    assert result.stderr == ""
    assert json.loads(result.stdout) == {
        "schema": "cvp-xl-check/1", "file": str(files["clean"]), "clean": True,
        "spec_digest": spec.digest, "template_version": TEMPLATE_VERSION,
        "compared_with": "stored digests", "spec": None, "notes": [STORED], "problems": []}


def test_json_of_a_tampered_calculator_with_its_spec(files):
    result = CliRunner().invoke(main, ["check", str(files["tampered"]), "--json",
                                       "--spec", str(SPEC)])
    assert result.exit_code == 1
    assert result.stderr == ""
    doc = json.loads(result.stdout)
    assert (doc["clean"], doc["compared_with"], doc["spec"], doc["notes"]) == (
        False, "rebuilt template", str(SPEC), [REBUILT])
    total = files["total"]
    template = openpyxl.load_workbook(files["clean"])["Summary"][total].value
    assert doc["problems"] == [
        {"kind": "sheet-unprotected", "sheet": "Value", "cell": None,
         "message": TAMPERED[0].split(": ", 1)[1]},
        {"kind": "formula-replaced", "sheet": "Summary", "cell": total,
         "message": "the formula was replaced by the typed value 999999",
         "expected": template},
        {"kind": "order", "sheet": "Inputs", "cell": f"E{files['row']}",
         "message": TAMPERED[2].format(row=files["row"]).split(": ", 1)[1]},
    ]
