"""The function-library workbook (``cvp-xl functions --workbook``): the LAMBDA names, one
worked example per function with the value Python computed, recomputed through the names."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import close
from lambda_engine import engine_cannot, lambda_values
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries

from cvp_xl.errors import ErrorValue
from cvp_xl.hosts.lambdas import lambda_name, library, not_lambda
from cvp_xl.registry import functions, get
from cvp_xl.workbooks.function_library import (
    ABOUT_SHEET,
    FUNCTIONS_SHEET,
    build_function_library,
    placements,
)

PLACED = placements()


@pytest.fixture(scope="module")
def path(tmp_path_factory):
    return build_function_library(tmp_path_factory.mktemp("library") / "cvp-functions.xlsx")


@pytest.fixture(scope="module")
def stored(path):
    return load_workbook(path, data_only=True)


@pytest.fixture(scope="module")
def engine(path):
    return lambda_values(path)


def _block(ws, ref: str) -> list[list]:
    cells = ws[ref]
    rows = cells if isinstance(cells, tuple) else ((cells,),)
    return [[c.value for c in row] for row in rows]


def _expected(name: str, k: int) -> list[list]:
    """The registry example's expected result as rows of cells."""
    expected = get(name).examples[k].expected
    return [row[:] for row in expected] if isinstance(expected, list) else [[expected]]


def test_one_example_per_function_of_the_library():
    assert [p.function for p in PLACED] == [m.name for m in library()]
    for p in PLACED:
        ex = get(p.function).examples[p.example]
        assert not ex.is_error and ex.native, p.function


@pytest.mark.parametrize("placed", PLACED, ids=[p.function for p in PLACED])
def test_each_example_stores_the_registry_s_expected_value(placed, stored):
    ws = stored[FUNCTIONS_SHEET]
    expected = _expected(placed.function, placed.example)
    for where in (placed.formula_ref, placed.python_ref):
        got = _block(ws, where)
        assert np.shape(got) == np.shape(expected), where
        for g_row, e_row in zip(got, expected):
            for g, e in zip(g_row, e_row):
                assert close(g, e), f"{placed.function} {where}: {g!r} != {e!r}"


@pytest.mark.parametrize("placed", [p for p in PLACED
                                    if not engine_cannot(lambda_name(p.function))],
                         ids=lambda p: p.function)
def test_the_engine_recomputes_each_example_through_its_lambda(placed, engine):
    expected = _expected(placed.function, placed.example)
    c1, r1, c2, r2 = range_boundaries(placed.formula_ref)
    got = [[engine[(FUNCTIONS_SHEET.upper(), f"{get_column_letter(c)}{r}")]
            for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]
    for g_row, e_row in zip(got, expected):
        for g, e in zip(g_row, e_row):
            assert not isinstance(g, ErrorValue) and close(g, e), f"{placed.function}: {g!r}"


def test_range_arguments_are_passed_whole(path):
    # an array formula: Excel gives a LAMBDA the whole range (no implicit intersection)
    ws = load_workbook(path)[FUNCTIONS_SHEET]
    eve = next(p for p in PLACED if p.function == "CVP_EVE")
    cell = ws[eve.formula_ref.split(":")[0]]
    assert getattr(cell.value, "text", None), "CVP_EVE's example is not an array formula"
    roi = next(p for p in PLACED if p.function == "CVP_ROI")
    assert ws[roi.formula_ref].value.startswith("=CVP_ROI(")


def test_about_lists_what_is_not_in_the_library(stored):
    ws = stored[ABOUT_SHEET]
    texts = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, ws.max_row + 1)}
    for entry in functions():
        reason = not_lambda(entry)
        if reason:
            assert texts[entry.name] == (f"{reason}: the xlwings add-in (desktop Excel) or "
                                         "xlwings Lite (udfs/xlwings_lite)")
        else:
            assert texts[entry.name] == lambda_name(entry).signature
