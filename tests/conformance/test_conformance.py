"""Conformance: every example of every registry function through every host.

(a) the Python function; (b) a real workbook recomputed by the formulas
host; (c) for functions with a native translation, the native formulas
recomputed by the formulas engine and by LibreOffice.  All equal within 1e-9
relative, errors equal by code.  A new registry entry is covered here
without a new test.
"""

from __future__ import annotations

import numpy as np
import pytest
from examples_book import SHEET, write_examples_workbook
from helpers import close, requires_libreoffice

from cvp_xl.commands.recalc import compute
from cvp_xl.errors import CvpError, ErrorValue
from cvp_xl.hosts import formulas_host
from cvp_xl.registry import functions

CASES = [(entry, k) for entry in functions() for k in range(len(entry.examples))]
IDS = [f"{entry.name}-{k}" for entry, k in CASES]
NATIVE_CASES = [(e, k) for e, k in CASES if e.native is not None and e.examples[k].native]
NATIVE_IDS = [f"{entry.name}-{k}" for entry, k in NATIVE_CASES]


def test_every_function_has_examples():
    for entry in functions():
        assert entry.examples, f"{entry.name} has no worked example"
        assert any(not ex.is_error for ex in entry.examples), f"{entry.name}: no valid example"


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    path = tmp_path_factory.mktemp("conformance") / "examples.xlsx"
    placed = write_examples_workbook(path, functions())
    return path, {(p.function, p.index): p for p in placed}


@pytest.fixture(scope="module")
def engine(book):
    path, placed = book
    with formulas_host.capture_messages() as messages:
        result = compute(path)
    return result.values, messages


@pytest.fixture(scope="module")
def libreoffice(book):
    from cvp_xl.hosts.libreoffice import libreoffice_values

    path, _ = book
    return libreoffice_values(path)


def _check(actual, ex, where):
    """Compare a host's result (scalar or rows of cells) with the example."""
    if ex.is_error:
        got = actual if not isinstance(actual, list) else actual[0][0]
        assert got == ErrorValue(ex.expected), f"{where}: {got!r} != {ex.expected}"
        return
    expected = ex.expected
    if isinstance(expected, list):
        assert np.shape(actual) == np.shape(expected), f"{where}: shape {np.shape(actual)}"
        for a_row, e_row in zip(actual, expected):
            for a, e in zip(a_row, e_row):
                assert close(a, e), f"{where}: {a!r} != {e!r}"
    else:
        got = actual[0][0] if isinstance(actual, list) else actual
        assert close(got, expected), f"{where}: {got!r} != {expected!r}"


def _cells(values, placed_ref, placed):
    rows = placed.cells(placed_ref)
    if len(rows) == 1 and len(rows[0]) == 1:
        return values.get((SHEET, rows[0][0]))
    return [[values.get((SHEET, ref)) for ref in row] for row in rows]


@pytest.mark.parametrize("entry,k", CASES, ids=IDS)
def test_python(entry, k):
    ex = entry.examples[k]
    if ex.is_error:
        with pytest.raises(CvpError) as info:
            entry.func(*ex.args)
        assert info.value.code == ex.expected
        assert info.value.message == ex.message
        return
    result = entry.func(*ex.args)
    if isinstance(result, np.ndarray):
        result = result.tolist()
    _check(result, ex, "python")


@pytest.mark.parametrize("entry,k", CASES, ids=IDS)
def test_formulas_host(entry, k, book, engine):
    _, placed = book
    values, messages = engine
    p = placed[(entry.name, k)]
    ex = entry.examples[k]
    _check(_cells(values, p.cvp_ref, p), ex, f"formulas host {p.cvp_ref}")
    if ex.is_error:
        assert (entry.name, ex.message) in messages


@pytest.mark.parametrize("entry,k", NATIVE_CASES, ids=NATIVE_IDS)
def test_native_in_formulas_engine(entry, k, book, engine):
    _, placed = book
    values, _ = engine
    p = placed[(entry.name, k)]
    _check(_cells(values, p.native_ref, p), entry.examples[k], f"native {p.native_ref}")


@requires_libreoffice
@pytest.mark.parametrize("entry,k", NATIVE_CASES, ids=NATIVE_IDS)
def test_native_in_libreoffice(entry, k, book, libreoffice):
    _, placed = book
    p = placed[(entry.name, k)]
    _check(_cells(libreoffice, p.native_ref, p), entry.examples[k], f"LibreOffice {p.native_ref}")


@pytest.mark.parametrize("entry,k", [c for c in CASES if not c[0].examples[c[1]].native],
                         ids=[i for c, i in zip(CASES, IDS) if not c[0].examples[c[1]].native])
def test_native_exemptions_say_why(entry, k):
    assert entry.examples[k].native_note, f"{entry.name} example {k}: say why native differs"


def _as_xlwings_passes(value, kind):
    """An example argument as xlwings hands it to a UDF: ranges and numbers as lists of rows
    (``ndim=2``; one cell is ``[[x]]``), error cells as their text (``err_to_str``)."""
    def cell(v):
        return v.code if isinstance(v, ErrorValue) else v

    if kind not in ("range", "number"):
        return [[cell(v) for v in row] for row in value] if isinstance(value, list) else cell(value)
    if isinstance(value, list):
        rows = value if value and isinstance(value[0], list) else [[v] for v in value]
        return [[cell(v) for v in row] for row in rows]
    return [[cell(value)]]


@pytest.fixture(scope="module")
def udfs():
    from cvp_xl.hosts.xlwings_host import make_udfs

    return make_udfs()


@pytest.mark.parametrize("entry,k", CASES, ids=IDS)
def test_xlwings_host(entry, k, udfs):
    ex = entry.examples[k]
    # an optional argument left out arrives as its default, None
    args = [None if v is None and a.optional else _as_xlwings_passes(v, a.kind)
            for v, a in zip(ex.args, entry.args)]
    result = udfs[entry.name](*args)
    if ex.is_error:
        assert result == f"{ex.expected} {ex.message}"[:255], result
        return
    _check(result, ex, "xlwings host")
