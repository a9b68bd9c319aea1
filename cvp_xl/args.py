"""Argument checking shared by every function: numbers, ranges, shapes.

The functions of this library take Python values: numbers, strings, ``None``
for a blank cell, an :class:`~cvp_xl.errors.ErrorValue` for a cell that
holds an Excel error, and lists of lists or numpy arrays for ranges.  Each
check names the argument (and the item, for a range) and what was expected,
so the message reads well in a cell, on the command line and in Python.

Conventions, chosen to avoid silently wrong numbers:

- a blank cell is an error, not 0 (Excel's arithmetic reads a blank as 0);
- text is an error, even text that looks like a number (``'12'``);
- TRUE/FALSE are errors, not 1/0;
- NaN and infinities are ``#NUM!``;
- an Excel error in an input is passed on with its own code.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

from cvp_xl.errors import CvpNumError, CvpValueError, ErrorValue, error_for_code

__all__ = ["describe", "shape_text", "amount_text", "as_result", "item_label", "item_at",
           "first_item", "not_negative", "number", "numbers_of", "broadcast", "texts_of", "flat"]


def describe(value) -> str:
    """How a cell value reads in an error message."""
    if value is None:
        return "a blank cell"
    if isinstance(value, (bool, np.bool_)):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return repr(shown) if value else "an empty text"
    if isinstance(value, ErrorValue):
        return value.code
    return repr(value)


def _where(name: str, item: int | None) -> str:
    return name if item is None else f"{name} (item {item})"


def number(value, name: str, item: int | None = None) -> float:
    """Check one cell value and return it as a float.

    >>> number(3, "cost")
    3.0
    >>> number("abc", "price_s")
    Traceback (most recent call last):
    ...
    cvp_xl.errors.CvpValueError: #VALUE! price_s: expected a number, got 'abc'
    """
    where = _where(name, item)
    if _is_range(value):
        arr = np.asarray(value, dtype=object)
        if arr.size != 1:
            raise CvpValueError(f"{where}: expected a single number, got a range of "
                                f"{shape_text(arr.shape) if arr.size else 'no cells'}")
        value = arr.ravel()[0]
    if isinstance(value, ErrorValue):
        raise error_for_code(value.code, f"{where}: the input is the error {value.code}")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise CvpValueError(f"{where}: expected a number, got {describe(value)}")
    result = float(value)
    if not math.isfinite(result):
        raise CvpNumError(f"{where}: expected a finite number, got {result}")
    return result


def _is_range(value) -> bool:
    return isinstance(value, (list, tuple, np.ndarray))


def flat(value) -> list:
    """The cells of a scalar or range, row by row, as a flat list."""
    if isinstance(value, np.ndarray):
        return list(value.ravel().tolist()) if value.dtype != object else list(value.ravel())
    if isinstance(value, (list, tuple)):
        out = []
        for v in value:
            out.extend(flat(v) if _is_range(v) else [v])
        return out
    return [value]


def numbers_of(value, name: str) -> float | np.ndarray:
    """A number, or a range of numbers as a float array of the range's shape.

    A 1x1 range counts as a single number.
    """
    if not _is_range(value):
        return number(value, name)
    arr = np.asarray(value, dtype=object)
    if arr.size == 0:
        raise CvpValueError(f"{name}: expected a number or a range of numbers, got an empty range")
    if arr.size == 1:
        return number(arr.ravel()[0], name)
    out = np.empty(arr.shape, dtype=float)
    flat_out = out.reshape(-1)
    for i, v in enumerate(arr.ravel(), start=1):
        flat_out[i - 1] = number(v, name, i)
    return out


def texts_of(value, name: str) -> list[str]:
    """Non-blank text items of a scalar or range, in reading order."""
    out = []
    cells = flat(value)
    for i, v in enumerate(cells, start=1):
        where = _where(name, i if len(cells) > 1 else None)
        if isinstance(v, ErrorValue):
            raise error_for_code(v.code, f"{where}: the input is the error {v.code}")
        if v is None or (isinstance(v, str) and not v.strip()):
            raise CvpValueError(f"{where}: expected a name, got a blank cell")
        if isinstance(v, (bool, np.bool_)):
            raise CvpValueError(f"{where}: expected a name, got {describe(v)}")
        out.append(v if isinstance(v, str) else f"{v:g}" if isinstance(v, float) else str(v))
    return out


def shape_text(shape: tuple) -> str:
    """How every message names a range's shape.

    >>> shape_text((3, 1)), shape_text((2,))
    ('3 rows x 1 column', '2 items')
    """
    if len(shape) == 1:
        return f"{shape[0]} item{'s' * (shape[0] != 1)}"
    rows, cols = shape[0], shape[1]
    return f"{rows} row{'s' * (rows != 1)} x {cols} column{'s' * (cols != 1)}"


def broadcast(**arguments) -> tuple[list, tuple | None]:
    """Check numbers or ranges of one shape, element by element.

    Returns the checked values (floats or float arrays) in argument order and
    the common shape (``None`` when every argument is a single number).

    >>> broadcast(v=[1, 2], p=[[1], [2], [3]])
    Traceback (most recent call last):
    ...
    cvp_xl.errors.CvpValueError: #VALUE! p: a range of 3 rows x 1 column does not match v (2 items)
    """
    checked = []
    shape, shape_of = None, None
    for name, value in arguments.items():
        v = numbers_of(value, name)
        if isinstance(v, np.ndarray):
            if shape is None:
                shape, shape_of = v.shape, name
            elif v.shape != shape:
                raise CvpValueError(
                    f"{name}: a range of {shape_text(v.shape)} does not match "
                    f"{shape_of} ({shape_text(shape)})"
                )
        checked.append(v)
    return checked, shape


def same_length(first: tuple[str, Sequence], *others: tuple[str, Sequence]) -> None:
    """Ranges read item by item must have the same number of items."""
    name0, items0 = first
    for name, items in others:
        if len(items) != len(items0):
            raise CvpValueError(f"{name0} has {len(items0)} items but {name} has {len(items)}")


# -- results computed element by element ------------------------------------------------


def amount_text(x: float) -> str:
    """A number as it reads in a message: up to 10 significant digits, thousands separated."""
    return f"{x:,.10g}"


def as_result(result, shape):
    """A scalar result as a float; a result computed element by element as it is."""
    return float(result) if shape is None else result


def item_label(name: str, arr, k: int) -> str:
    """``name`` or ``name (item k)`` when the argument is a range computed element by element."""
    return f"{name} (item {k + 1})" if isinstance(arr, np.ndarray) else name


def item_at(arr, k: int) -> float:
    """Item ``k`` (reading order) of a range, or the scalar itself."""
    return float(arr.ravel()[k]) if isinstance(arr, np.ndarray) else float(arr)


def first_item(mask, shape) -> int | None:
    """Index (reading order) of the first True of a mask broadcast to ``shape``, or None."""
    flat_mask = np.broadcast_to(mask, shape if shape is not None else ()).ravel()
    hits = np.flatnonzero(flat_mask)
    return int(hits[0]) if hits.size else None


def not_negative(arr, name: str, shape, what: str) -> None:
    """``#NUM!`` naming the first item below 0 and saying what was expected."""
    k = first_item(np.asarray(arr) < 0, shape)
    if k is not None:
        got = amount_text(item_at(arr, k))
        raise CvpNumError(f"{item_label(name, arr, k)}: expected {what}, got {got}")
