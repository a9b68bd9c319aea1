"""Evaluating a word equation with numpy, for one customer or for many at once.

The tree is compiled once per parse into closures over numpy (:func:`_compile`); evaluation
checks the inputs the equation uses, runs the closures under Excel's error rules and names
the quantity (and the customer) behind any error.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np

from cvp_xl.args import shape_text
from cvp_xl.errors import CvpDivZeroError, CvpError, CvpNumError, CvpValueError

from .tree import (
    _Call,
    _Chain,
    _collapse,
    _Core,
    _display,
    _Neg,
    _Num,
    _prefix,
    _Ref,
    _short_repr,
)

__all__: list[str] = []

Number = float | np.ndarray


def _where_index(index: tuple) -> str:
    if len(index) == 1:
        return f" at item {index[0] + 1}"
    return f" at row {index[0] + 1}, column {index[1] + 1}"


def _where(mask) -> str:
    mask = np.asarray(mask)
    if mask.ndim == 0:
        return ""
    return _where_index(np.unravel_index(int(np.argmax(mask)), mask.shape))


def _excel_round(x, digits):
    """Excel's ROUND: half away from zero at 15 significant digits; digits truncated."""
    with np.errstate(all="ignore"):
        d = np.clip(np.trunc(digits), -308.0, 308.0)
        ax = np.abs(x)
        scale = np.power(10.0, np.abs(d))
        up = d >= 0
        y = np.where(up, ax * scale, ax / scale)
        exponent = np.floor(np.log10(np.where(y > 0, y, 1.0)))
        s = np.power(10.0, 14.0 - exponent)
        y = np.where((y > 1e-280) & (y < 1e15), np.rint(y * s) / s, y)
        r = np.floor(y + 0.5)
        rounded = np.copysign(np.where(up, r / scale, r * scale), x)
        out = np.where(np.isfinite(y) & (y < 2.0**52), rounded, x) + 0.0
    return out if out.ndim else np.float64(out)


def _fresh(node) -> bool:
    """Whether the node's array result is a new array no one else holds (safe to overwrite)."""
    if isinstance(node, (_Chain, _Neg)):
        return True
    if isinstance(node, _Call):
        return node.func in ("ABS", "ROUND") or len(node.args) > 1
    return False


def _propagates(node) -> bool:
    """Whether a NaN or infinite input always shows in the result or raises.

    True for ``+ - *``, signs and ABS. Division (x/inf is 0), powers (1^NaN is 1), MIN, MAX
    and ROUND can hide a bad input, so equations using them check every input up front.
    """
    if isinstance(node, (_Num, _Ref)):
        return True
    if isinstance(node, _Neg):
        return _propagates(node.operand)
    if isinstance(node, _Call):
        return node.func == "ABS" and _propagates(node.args[0])
    if node.kind == "pow" or any(op == "/" for op, _ in node.rest):
        return False
    return _propagates(node.first) and all(_propagates(sub) for _, sub in node.rest)


def _compile(node, text: str) -> Callable[[list], Any]:
    """Closures computing ``node`` from ``env`` (values by name index; names last).

    Arithmetic writes into arrays the closures themselves created (numpy's own trick for
    ``(a - b) * c``), so a chain of n operations allocates one array, not n.
    """
    if isinstance(node, _Num):
        value = np.float64(node.value)
        return lambda env: value
    if isinstance(node, _Ref):
        return operator.itemgetter(node.index)
    if isinstance(node, _Neg):
        inner = _compile(node.operand, text)
        if not _fresh(node.operand):
            return lambda env: -inner(env)

        def negate(env):
            value = inner(env)
            if type(value) is np.ndarray:
                return np.negative(value, out=value)
            return -value

        return negate
    if isinstance(node, _Call):
        return _compile_call(node, text)
    return _compile_chain(node, text)


def _compile_call(node: _Call, text: str):
    funcs = [_compile(arg, text) for arg in node.args]
    if node.func == "ABS":
        (arg,) = funcs
        return lambda env: np.abs(arg(env))
    if node.func == "ROUND":
        number, digits = funcs
        return lambda env: _excel_round(number(env), digits(env))
    pick = np.minimum if node.func == "MIN" else np.maximum
    first, rest = funcs[0], funcs[1:]

    def extreme(env):
        acc = first(env)
        for func in rest:
            acc = pick(acc, func(env))
        return acc

    return extreme



def _too_large(node: _Chain, k: int, text: str) -> CvpNumError:
    span = _collapse(text[node.first.start : node.rest[k][1].end])
    return CvpNumError(f"number too large in '{span}'")


_UFUNCS = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}


def _compile_chain(node: _Chain, text: str):
    """A sum or a product: one ufunc per step, in place once the running value is ours."""
    first = _compile(node.first, text)
    if node.kind == "pow":
        return _compile_power(node, text, first)
    first_fresh = _fresh(node.first)
    steps = tuple((op, _UFUNCS[op], _compile(sub, text), sub) for op, sub in node.rest)

    def chain(env):
        acc = first(env)
        owned = first_fresh and type(acc) is np.ndarray
        for k, (op, func, operand, sub) in enumerate(steps):
            x = operand(env)
            try:
                if owned:
                    func(acc, x, out=acc)
                else:
                    acc = func(acc, x)
                    owned = type(acc) is np.ndarray
            except FloatingPointError:
                if op == "/":
                    zero = x == 0
                    if np.any(zero):
                        divisor = _display(sub, text, env[-1])
                        raise CvpDivZeroError(
                            f"division by zero: '{divisor}' is 0{_where(zero)}"
                        ) from None
                raise _too_large(node, k, text) from None
        return acc

    return chain


def _compile_power(node: _Chain, text: str, first):
    """A run of ``^``, left to right, with Excel's errors: 0^0, 0 to a negative power and a
    negative number to a fractional power."""
    steps = tuple((_compile(sub, text), sub) for _, sub in node.rest)

    def power(env):
        acc = first(env)
        for k, (operand, sub) in enumerate(steps):
            x = operand(env)
            both_zero = (acc == 0) & (x == 0)
            if np.any(both_zero):
                base, exp = _prefix(node, k, text, env[-1]), _display(sub, text, env[-1])
                raise CvpNumError(
                    f"0^0 is undefined: '{base}' and its exponent '{exp}' are both 0"
                    f"{_where(both_zero)}"
                )
            try:
                acc = acc**x
            except FloatingPointError:
                base, exp = _prefix(node, k, text, env[-1]), _display(sub, text, env[-1])
                bad = (acc == 0) & (x < 0)
                if np.any(bad):
                    raise CvpDivZeroError(
                        f"division by zero: '{base}' is 0 and its exponent '{exp}' is negative"
                        f"{_where(bad)}"
                    ) from None
                bad = (acc < 0) & (x != np.trunc(x))
                if np.any(bad):
                    raise CvpNumError(
                        f"'{base}' is negative and its exponent '{exp}' is not a whole number"
                        f"{_where(bad)}"
                    ) from None
                raise _too_large(node, k, text) from None
        return acc

    return power


def _check_scalar(value: Any, name: str, where: str = "") -> float:
    if value is None:
        raise CvpValueError(f"'{name}' is blank{where}; expected a number")
    if isinstance(value, (bool, np.bool_)):
        raise CvpValueError(f"'{name}'{where}: expected a number, got {bool(value)}")
    if isinstance(value, (numbers.Real, Decimal)):
        try:
            number = float(value)
        except (OverflowError, ValueError, TypeError):
            raise CvpValueError(
                f"'{name}'{where}: expected a finite number, got {_short_repr(value)}"
            ) from None
        if math.isnan(number):
            raise CvpValueError(f"'{name}' is blank{where}; expected a number")
        if math.isinf(number):
            raise CvpValueError(f"'{name}'{where}: expected a finite number, got {number}")
        return number
    raise CvpValueError(f"'{name}'{where}: expected a number, got {_short_repr(value)}")


def _check_finite(array: np.ndarray, name: str) -> None:
    """Raise for the first NaN (blank) or infinite item of a float64 array."""
    with np.errstate(all="ignore"):
        total = array.sum()
    if not np.isfinite(total):
        bad = ~np.isfinite(array)
        if bad.any():
            index = np.unravel_index(int(np.argmax(bad)), array.shape)
            _check_scalar(float(array[index]), name, _where_index(index))


def _check_array(array: np.ndarray, name: str, finite: bool = True):
    """A float64 array; NaN and infinite items are looked for only when ``finite``."""
    if array.ndim == 0:
        return np.float64(_check_scalar(array.item(), name))
    if array.ndim > 2:
        raise CvpValueError(
            f"'{name}': expected a number or a 1-D or 2-D array, got a {array.ndim}-D array"
        )
    kind = array.dtype.kind
    if kind in "fiu":
        out = array if array.dtype == np.float64 else array.astype(np.float64)
        if finite and kind == "f":
            _check_finite(out, name)
        return out
    if kind == "O":
        out = np.empty(array.shape, dtype=np.float64)
        for index, value in np.ndenumerate(array):
            out[index] = _check_scalar(value, name, _where_index(index))
        return out
    if array.size == 0:
        return np.empty(array.shape, dtype=np.float64)
    index = np.unravel_index(0, array.shape)
    first = array[index]
    shown = bool(first) if kind == "b" else _short_repr(first)
    raise CvpValueError(f"'{name}'{_where_index(index)}: expected a number, got {shown}")


def _check_value(value: Any, name: str, finite: bool = True):
    """A finite float64 scalar or a float64 array of one or two dimensions."""
    if isinstance(value, np.ndarray):
        return _check_array(value, name, finite)
    if isinstance(value, (list, tuple)) or (
        hasattr(value, "__array__") and not isinstance(value, (numbers.Number, np.generic))
    ):
        try:
            array = np.asarray(value)
        except (ValueError, TypeError):
            raise CvpValueError(
                f"'{name}': expected a number or a 1-D or 2-D array of numbers"
            ) from None
        return _check_array(array, name, finite)
    return np.float64(_check_scalar(value, name))


def _aligned(items: Any, what: str, names: tuple[str, ...]) -> Sequence:
    if isinstance(items, (str, bytes, Mapping)):
        raise CvpValueError(f"{what} must be a list aligned with names, got {_short_repr(items)}")
    try:
        size = len(items)
    except TypeError:
        raise CvpValueError(
            f"{what} must be a list aligned with names, got {_short_repr(items)}"
        ) from None
    if size != len(names):
        raise CvpValueError(f"names has {len(names)} items but {what} has {size}")
    return items


def _evaluate(core: _Core, names: tuple[str, ...], values: Sequence) -> Number:
    values = _aligned(values, "values", names)
    env: list = [None] * len(names)
    env.append(names)
    shape = shape_name = None
    # When NaN and infinity always reach the result (or raise), one look at the result
    # replaces a pass over every input array; the inputs are searched only on a bad result.
    lazy = core.propagates
    for i in core.used:
        value = _check_value(values[i], names[i], finite=not lazy)
        if isinstance(value, np.ndarray):
            if shape is None:
                shape, shape_name = value.shape, names[i]
            elif value.shape != shape:
                raise CvpValueError(
                    f"'{shape_name}' has {shape_text(shape)} but '{names[i]}' has "
                    f"{shape_text(value.shape)}; all arrays must have one shape"
                )
        env[i] = value
    try:
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            result = core.run(env)
    except CvpError:
        if lazy:
            _check_inputs(core, names, env)
        raise
    if isinstance(result, np.ndarray):
        if result.ndim == 0:
            return float(result)
        if lazy:
            with np.errstate(all="ignore"):
                total = result.sum()
            if not np.isfinite(total) and not np.isfinite(result).all():
                _check_inputs(core, names, env)
                raise CvpNumError("the result is not a finite number")  # pragma: no cover
        if any(result is env[i] for i in core.used):
            result = result.copy()
        return result
    return float(result) + 0.0  # Excel has no negative zero


def _check_inputs(core: _Core, names: tuple[str, ...], env: list) -> None:
    for i in core.used:
        if isinstance(env[i], np.ndarray):
            _check_finite(env[i], names[i])

