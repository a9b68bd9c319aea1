"""Shared by the workbook tests: the values a workbook stores against an engine's."""

from __future__ import annotations

import datetime as dt
import math

import openpyxl
import pytest
from openpyxl.utils.datetime import to_excel

from cvp_xl.errors import ErrorValue


def plain(value, epoch=None):
    """A cell value as compared: errors by code, dates as serial numbers, blank as ``""``."""
    if isinstance(value, ErrorValue):
        return value.code
    if isinstance(value, (dt.datetime, dt.date)):
        return to_excel(value, epoch) if epoch is not None else to_excel(value)
    return "" if value is None else value


def same(a, b) -> bool:
    """Numbers within 1e-9 (relative and absolute); text, codes and booleans equal."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def formula_values(path, cells=None) -> dict[tuple[str, str], object]:
    """The value stored in each formula cell of ``path`` (or in ``cells``), as :func:`plain`."""
    if cells is None:
        wb = openpyxl.load_workbook(path)
        cells = [(ws.title, c.coordinate) for ws in wb.worksheets for row in ws.iter_rows()
                 for c in row if c.data_type == "f"]
    stored = openpyxl.load_workbook(path, data_only=True)
    return {(s, ref): plain(stored[s][ref].value, stored.epoch) for s, ref in cells}


@pytest.fixture
def differences():
    """``differences(path, values)``: formula cells of ``path`` whose stored value differs from
    ``values`` (``{(sheet, ref): value}``, e.g. an engine's), as ``{cell: (stored, other)}``."""

    def compare(path, values: dict) -> dict:
        stored = formula_values(path)
        assert stored, f"{path}: no formula cells"
        other = {k: plain(values.get(k)) for k in stored}
        return {k: (v, other[k]) for k, v in stored.items() if not same(v, other[k])}

    return compare


@pytest.fixture
def stored_values():
    """``stored_values(path, cells=None)``: the value stored in each formula cell (see
    :func:`formula_values`); with ``cells``, in those cells (e.g. of LibreOffice's copy)."""
    return formula_values
