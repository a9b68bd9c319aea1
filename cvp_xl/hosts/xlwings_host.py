"""The desktop-Excel host: registry functions as xlwings UDFs.

:func:`make_udf` builds, for one registry entry, a function with the same
name and argument names as the Excel function, decorated with ``@xw.func``
and ``@xw.arg(doc=...)``.  In Excel a raised error becomes a short text in
the cell, such as ``#VALUE! price_s: expected a number, got 'abc'`` — never a
traceback.  Ranges arrive from xlwings as lists of rows (``ndim=2``); Excel
error cells arrive as their literal (``err_to_str=True``).

An optional argument left empty in the call (``=CVP_CASE_STATS(B1:B6,,,"count")``) reaches
the function as None, missing, whatever shape xlwings' converter gave it (``None``,
``[[None]]``); the formulas host does the same.

The decorators of xlwings only attach metadata (on Windows) or do nothing
(elsewhere), so the same function can be called and tested anywhere; the
metadata this module hands to xlwings is also kept in ``__cvp_udf__``.
"""

from __future__ import annotations

import inspect

import numpy as np

from cvp_xl.errors import CvpError, cell_errors
from cvp_xl.registry import Function, functions

__all__ = ["make_udf", "make_udfs", "cell_value", "omitted"]

MAX_CELL_TEXT = 255  # keep the text in a cell short


def cell_value(result):
    """What a UDF returns to Excel: numbers as floats, arrays as lists of rows."""
    if isinstance(result, np.ndarray):
        arr = result.reshape(-1, 1) if result.ndim == 1 else result
        return [[cell_value(v) for v in row] for row in arr.tolist()]
    if isinstance(result, np.generic):
        return result.item()
    if isinstance(result, list):
        return [cell_value(v) for v in result]
    return result


def omitted(value) -> bool:
    """True for what xlwings passes for an empty argument: None, ``[None]`` or ``[[None]]``."""
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value is None or value == []


def make_udf(entry: Function):
    """The xlwings UDF for one registry entry (name, arguments and help from the registry)."""
    import xlwings as xw

    optional = [a.optional for a in entry.args]

    def udf(*args):
        args = [None if i < len(optional) and optional[i] and omitted(a) else a
                for i, a in enumerate(args)]
        try:
            return cell_value(entry.func(*(cell_errors(a) for a in args)))
        except CvpError as exc:
            return str(exc)[:MAX_CELL_TEXT]
        except Exception as exc:  # a defect must not put a traceback in a cell
            return f"#VALUE! internal error in {entry.name}: {type(exc).__name__}"[:MAX_CELL_TEXT]

    params = [
        inspect.Parameter(a.name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                          **({"default": None} if a.optional else {}))
        for a in entry.args
    ]
    udf.__signature__ = inspect.Signature(params)
    udf.__name__ = udf.__qualname__ = entry.name
    udf.__doc__ = entry.description
    udf.__module__ = "cvp_udfs"
    udf.__cvp_udf__ = {
        "category": entry.category,
        "args": {a.name: a.help for a in entry.args},
        "description": entry.description,
    }
    for a in reversed(entry.args):
        udf = xw.arg(a.name, ndim=2 if a.kind in ("range", "number") else None,
                     err_to_str=True, doc=a.help)(udf)
    return xw.func(category=entry.category)(udf)


def make_udfs() -> dict:
    """``{name: udf}`` for every registry function, for a module's ``globals()``."""
    return {entry.name: make_udf(entry) for entry in functions()}
