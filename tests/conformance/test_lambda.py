"""Conformance of the LAMBDA library: every example, called through the named LAMBDA.

The host here is Excel 365's: a workbook that defines each ``CVP_*`` function as a LAMBDA name
(``cvp-xl add-functions``) and calls it on an example's arguments.  Two engines compute it:

- the formulas engine, with the Python ``CVP_*`` functions hidden so that each call resolves
  to the workbook's LAMBDA name (``lambda_engine.lambda_values``);
- LibreOffice 7.4, which has no LAMBDA: there each call is replaced by the LAMBDA's body with
  its parameters substituted (``cvp_xl.hosts.lambdas.substitute``: each ``ISOMITTED`` decided
  by whether the call gives the argument).

Every example the native translation computes as Python does (``Example.native``; the others
say why in ``native_note``) must come out equal, errors by code, within 1e-9 relative.

Closing note: the formulas engine (1.3.4) cannot evaluate a LAMBDA with optional parameters
(it has no ``ISOMITTED`` and reads an ``_xlop.`` parameter as a missing name), nor COLUMN, ROW,
ROWS or COLUMNS of a parameter (it hands a parameter over as values, not as a reference;
the guards wrap ROWS and COLUMNS in IFERROR, which is why most functions still compute).
So these functions are checked by LibreOffice on the substituted body alone:
``CVP_CASE_STATS`` and ``CVP_PILOT_LIFT`` (optional arguments) and ``CVP_DRIVER_WEIGHTS``
(COLUMN of its parameter), as ``lambda_engine.engine_cannot`` lists them;
``test_the_engine_still_cannot`` keeps that list true.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from examples_book import SHEET, write_examples_workbook
from helpers import close, requires_libreoffice
from lambda_engine import engine_cannot, lambda_values
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.formula import ArrayFormula

from cvp_xl.commands.functions import add_functions
from cvp_xl.errors import ErrorValue
from cvp_xl.hosts.lambdas import library, substitute
from cvp_xl.registry import get

LIBRARY = library()
ENGINE_CANNOT = {m.name: reason for m in LIBRARY if (reason := engine_cannot(m))}
CASES = [(m, k) for m in LIBRARY for k, ex in enumerate(get(m.name).examples) if ex.native]
IDS = [f"{m.name}-{k}" for m, k in CASES]
ENGINE_CASES = [(m, k) for m, k in CASES if m.name not in ENGINE_CANNOT]
ENGINE_IDS = [f"{m.name}-{k}" for m, k in ENGINE_CASES]
SUBSTITUTED_COL = 60  # column BH: the body with the parameters substituted


def test_case_stats_is_among_the_functions_only_libreoffice_checks():
    # the reason this host needs LibreOffice at all: CVP_CASE_STATS has three optional
    # arguments (registry), so its LAMBDA uses ISOMITTED
    assert "CVP_CASE_STATS" in ENGINE_CANNOT


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """The registry examples of the library's functions, with the library added by
    ``add_functions`` (as a user would), and the substituted bodies in a column of their own."""
    folder = tmp_path_factory.mktemp("lambda")
    plain = folder / "examples.xlsx"
    placed = write_examples_workbook(plain, [get(m.name) for m in LIBRARY])
    path = folder / "lambda-examples.xlsx"
    add_functions(plain, path)
    substituted = folder / "substituted.xlsx"
    wb = load_workbook(path)
    ws = wb[SHEET]
    by_name = {m.name: m for m in LIBRARY}
    refs = {}
    for p in placed:
        formula = ws[p.cvp_ref.split(":")[0]].value
        text = getattr(formula, "text", formula)
        args = text[len(p.function) + 2:-1].split(",")  # =NAME(ref,ref,...): references only
        first = ws[p.cvp_ref.split(":")[0]]
        rows, cols = np.shape(p.cells(p.cvp_ref))
        top = f"{get_column_letter(SUBSTITUTED_COL)}{first.row}"
        ref = top if (rows, cols) == (1, 1) else \
            f"{top}:{get_column_letter(SUBSTITUTED_COL + cols - 1)}{first.row + rows - 1}"
        body = substitute(by_name[p.function], args)
        ws[top] = body if ref == top else ArrayFormula(ref, body)
        refs[(p.function, p.index)] = (p, ref)
    wb.save(substituted)
    return path, substituted, refs


@pytest.fixture(scope="module")
def engine(book):
    path, _, _ = book
    return lambda_values(path)


@pytest.fixture(scope="module")
def libreoffice(book):
    from cvp_xl.hosts.libreoffice import libreoffice_values

    _, substituted, _ = book
    return {(sheet.upper(), ref): v for (sheet, ref), v in libreoffice_values(substituted).items()}


def _result(values, placed, ref):
    rows = placed.cells(ref)
    got = [[values.get((SHEET.upper(), cell)) for cell in row] for row in rows]
    return got[0][0] if np.shape(got) == (1, 1) else got


def _check(actual, ex, where):
    if ex.is_error:
        got = actual if not isinstance(actual, list) else actual[0][0]
        assert got == ErrorValue(ex.expected), f"{where}: {got!r} != {ex.expected}"
        return
    if isinstance(ex.expected, list):
        assert np.shape(actual) == np.shape(ex.expected), f"{where}: shape {np.shape(actual)}"
        for a_row, e_row in zip(actual, ex.expected):
            for a, e in zip(a_row, e_row):
                assert close(a, e), f"{where}: {a!r} != {e!r}"
    else:
        assert close(actual, ex.expected), f"{where}: {actual!r} != {ex.expected!r}"


def test_every_function_of_the_library_is_checked():
    assert {m.name for m, _ in CASES} == {m.name for m in LIBRARY}


@pytest.mark.parametrize("made,k", ENGINE_CASES, ids=ENGINE_IDS)
def test_named_lambda_in_formulas_engine(made, k, book, engine):
    _, _, refs = book
    placed, _ = refs[(made.name, k)]
    _check(_result(engine, placed, placed.cvp_ref), get(made.name).examples[k],
           f"LAMBDA {made.name} at {placed.cvp_ref}")


@requires_libreoffice
@pytest.mark.parametrize("made,k", CASES, ids=IDS)
def test_substituted_body_in_libreoffice(made, k, book, libreoffice):
    _, _, refs = book
    placed, ref = refs[(made.name, k)]
    _check(_result(libreoffice, placed, ref), get(made.name).examples[k],
           f"LibreOffice, the body of {made.name} at {ref}")


@pytest.mark.parametrize("name", sorted(ENGINE_CANNOT))
def test_the_engine_still_cannot(name, book, engine):
    """When the engine learns ISOMITTED, this fails: move the function to the engine check."""
    _, _, refs = book
    examples = get(name).examples
    results = [(_result(engine, placed, placed.cvp_ref), examples[k])
               for (fn, k), (placed, _) in refs.items() if fn == name]
    assert results
    firsts = [got[0][0] if isinstance(got, list) else got for got, ex in results
              if not ex.is_error]
    assert any(isinstance(got, ErrorValue) for got in firsts), \
        f"the formulas engine now computes {name}: check it there"


def test_engine_computes_the_issue_example(tmp_path: Path):
    """=CVP_DIFFERENTIAL(15000,6000,10000,3000) through the LAMBDA name, headlessly.

    Hand: (15000 - 6000) - (10000 - 3000) = 9000 - 7000 = 2000 (issue #17).
    """
    from openpyxl import Workbook

    plain = tmp_path / "plain.xlsx"
    wb = Workbook()
    wb.active["A1"] = "=CVP_DIFFERENTIAL(15000,6000,10000,3000)"
    wb.save(plain)
    add_functions(plain, tmp_path / "book.xlsx")
    values = lambda_values(tmp_path / "book.xlsx")
    assert values[("SHEET", "A1")] == 2000
