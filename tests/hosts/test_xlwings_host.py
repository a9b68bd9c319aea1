"""The xlwings UDF module exposes every registry function, with names, help and errors."""

from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path

import pytest

from cvp_xl.registry import MAX_DESCRIPTION, functions

UDF_PATH = Path(__file__).resolve().parents[2] / "udfs" / "cvp_udfs.py"


@pytest.fixture(scope="module")
def udfs():
    spec = importlib.util.spec_from_file_location("cvp_udfs", UDF_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_registry_function_is_exposed(udfs):
    names = [e.name for e in functions()]
    assert sorted(names) == udfs.__all__
    for entry in functions():
        udf = getattr(udfs, entry.name)
        assert udf.__name__ == entry.name
        assert list(inspect.signature(udf).parameters) == [a.name for a in entry.args]
        meta = udf.__cvp_udf__
        assert meta["category"] == entry.category
        assert meta["args"] == {a.name: a.help for a in entry.args}
        assert udf.__doc__ == entry.description


def test_help_fits_excel():
    for entry in functions():
        assert len(entry.description) <= MAX_DESCRIPTION, entry.name
        for a in entry.args:
            assert a.help and "\n" not in a.help and len(a.help) <= MAX_DESCRIPTION, a.name


def test_values_as_excel_passes_them(udfs):
    # xlwings passes ndim=2 arguments as lists of rows; scalars as [[x]]
    assert udfs.CVP_DIFFERENTIAL([[1000.0]], [[600.0]], [[700.0]], [[450.0]]) == 150.0
    assert udfs.CVP_DIFFERENTIAL([[1000.0], [800.0]], [[600.0]], [[700.0]], [[450.0]]) == [
        [150.0], [-50.0]]
    assert udfs.CVP_NEXT_BEST([["A"], ["B"]], [[10.0], [20.0]], [[1.0], [1.0]]) == "B"


@pytest.mark.parametrize("call,text", [
    (lambda u: u.CVP_DIFFERENTIAL([[1000.0]], [["abc"]], [[700.0]], [[450.0]]),
     "#VALUE! price_s: expected a number, got 'abc'"),
    (lambda u: u.CVP_ROI([[1.0]], [[0.0]]),
     "#DIV/0! cost: is 0; ROI = (benefit - cost) / cost needs a non-zero cost"),
    (lambda u: u.CVP_ROI([["#N/A"]], [[1.0]]), "#N/A benefit: the input is the error #N/A"),
    (lambda u: u.CVP_PAYBACK([[10.0]], [[1.0], [1.0]]),
     "#N/A payback not reached: cumulative cash flow after 2 periods is -8"),
])
def test_errors_are_short_text_never_a_traceback(udfs, call, text):
    assert call(udfs) == text


def test_a_defect_is_not_a_traceback(udfs, monkeypatch):
    from cvp_xl.hosts import xlwings_host
    from cvp_xl.registry import get

    entry = get("CVP_ROI")

    class Broken(type(entry)):
        pass

    broken = Broken(**{**entry.__dict__, "func": lambda benefit, cost: 1 / 0})
    udf = xlwings_host.make_udf(broken)
    assert udf(1, 2) == "#VALUE! internal error in CVP_ROI: ZeroDivisionError"


def test_omitted_optional_arguments_are_missing(udfs):
    # =CVP_CASE_STATS(B1:B3,,,"count"): xlwings hands the empty arguments over as None or
    # [[None]]; hand count of the three values: 3
    values = [[52000.0], [31000.0], [18500.0]]
    assert udfs.CVP_CASE_STATS(values, None, None, "count") == 3
    assert udfs.CVP_CASE_STATS(values, [[None]], None, "count") == 3
