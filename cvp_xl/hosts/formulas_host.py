"""The headless host: every ``CVP_*`` function inside the ``formulas`` engine.

The engine hands a custom function ``Ranges`` objects (a cell reference or a
range), numpy arrays, the token ``schedula.EMPTY`` for an empty cell and
``XlError`` values for error cells.  Used as they come they give silently
wrong answers (``Ranges - Ranges`` is a set difference of ranges, not a
subtraction), so each argument is converted to the plain Python values the
library's functions take: numbers, strings, ``None`` for blank, lists of rows
for ranges, :class:`~cvp_xl.errors.ErrorValue` for errors.  Errors map
back: a :class:`~cvp_xl.errors.CvpError` becomes the ``XlError`` of its code.

An omitted argument (``=CVP_CASE_STATS(B1:B6,,,"count")``, Excel's way to skip an optional
argument) reaches the function as None, as a missing argument.  The engine itself compiles an
empty argument to the number 0 (``formulas.tokens.operand.Empty.compile``), which would make
it indistinguishable from a typed 0; :func:`register_all` makes it compile to
:data:`OMITTED`, an ``int`` equal to 0 (so every built-in function sees the 0 it always saw)
that this host recognises.
"""

from __future__ import annotations

import contextlib
import inspect
import threading

import numpy as np

from cvp_xl.errors import CvpError, ErrorValue
from cvp_xl.registry import Function, functions

__all__ = [
    "register_all", "to_python", "to_engine", "from_engine", "capture_messages", "OMITTED",
]


class OmittedArgument(int):
    """The value of an omitted argument: 0 to the engine, None to a CVP_* function."""

    def __repr__(self) -> str:
        return "OMITTED"


#: What the engine passes for an argument left empty in a call (``F(A1,,2)``).
OMITTED = OmittedArgument(0)

_lock = threading.Lock()
_registered: set[str] = set()
_captures = threading.local()


def _note(name: str, message: str) -> None:
    for sink in getattr(_captures, "stack", ()):
        sink.append((name, message))


@contextlib.contextmanager
def capture_messages():
    """Collect the error messages raised inside the engine while the block runs."""
    sink: list[tuple[str, str]] = []
    stack = _captures.__dict__.setdefault("stack", [])
    stack.append(sink)
    try:
        yield sink
    finally:
        stack.remove(sink)


def from_engine(v, empty=None):
    """One value as the engine holds it, in the library's terms: ``XlError`` becomes
    ``ErrorValue``, numpy scalars Python ones, and an empty cell ``empty``.

    As an argument an empty cell is ``None`` (a blank, which the functions refuse where a
    number belongs); as the result of a formula such as ``=A1`` it is 0, as Excel shows it.
    """
    import schedula as sh
    from formulas.tokens.operand import XlError

    if v is sh.EMPTY:
        return empty
    if isinstance(v, XlError):
        return ErrorValue(str(v))
    if isinstance(v, np.generic):
        return v.item()
    return v


def to_python(arg):
    """Convert one argument as the engine passes it into the library's Python values.

    A single cell becomes a scalar; a range becomes a list of rows; an omitted argument None.
    """
    from formulas.ranges import Ranges

    if isinstance(arg, OmittedArgument):
        return None
    if isinstance(arg, Ranges):
        arg = arg.value
    if isinstance(arg, np.ndarray):
        arr = np.asarray(arg, dtype=object)
        if arr.ndim == 0 or arr.size == 1:
            return from_engine(arr.ravel()[0]) if arr.size else None
        if arr.ndim == 1:
            arr = arr.reshape(1, -1)
        return [[from_engine(v) for v in row] for row in arr]
    return from_engine(arg)


def _xlerror(code: str):
    from formulas.tokens.operand import Error

    return Error.errors[code]


def to_engine(result):
    """Convert a library result into what the engine stores in a cell or range."""
    from formulas.functions import Array

    if isinstance(result, ErrorValue):
        return _xlerror(result.code)
    if isinstance(result, (np.ndarray, list)):
        arr = np.asarray(result, dtype=object)
        if arr.ndim == 1:
            arr = arr.reshape(-1, 1)
        return np.vectorize(_plain, otypes=[object])(arr).view(Array)
    return _plain(result)


def _plain(v):
    if isinstance(v, np.generic):
        return v.item()
    return v


def adapter(entry: Function):
    """The engine-side function for one registry entry."""
    signature = inspect.signature(entry.func)

    def call(*args):
        try:
            bound = signature.bind(*(to_python(a) for a in args))
        except TypeError:
            _note(entry.name, f"{entry.signature}: wrong number of arguments")
            return _xlerror("#VALUE!")
        try:
            return to_engine(entry.func(*bound.args, **bound.kwargs))
        except CvpError as exc:
            _note(entry.name, exc.message)
            return _xlerror(exc.code)
        except Exception as exc:  # a defect: never let it escape into the engine
            _note(entry.name, f"internal error: {type(exc).__name__}: {exc}")
            return _xlerror("#VALUE!")

    call.__name__ = entry.name
    call.__doc__ = entry.description
    return call


def quiet_engine() -> None:
    """Silence the progress bar the engine prints while it compiles a workbook.

    Only the engine's own reference to tqdm is replaced, so other progress
    bars (the batch command's) are untouched.
    """
    import functools
    import types

    import formulas.excel
    import tqdm

    if not isinstance(formulas.excel.tqdm, types.SimpleNamespace):
        formulas.excel.tqdm = types.SimpleNamespace(tqdm=functools.partial(tqdm.tqdm, disable=True))


def _compile_omitted_arguments() -> None:
    """Make the engine compile an empty argument to OMITTED instead of a plain 0."""
    from formulas.tokens.operand import Empty

    Empty.compile = staticmethod(lambda: OMITTED)


def register_all() -> list[str]:
    """Register every registry function with the engine, under ``NAME`` and ``_xludf.NAME``.

    Idempotent; call it before loading a workbook that uses ``CVP_*``
    functions.  Returns the names registered by this call.
    """
    import formulas

    quiet_engine()
    _compile_omitted_arguments()
    table = formulas.get_functions()
    added = []
    with _lock:
        for entry in functions():
            if entry.name in _registered:
                continue
            fn = adapter(entry)
            table[entry.name] = fn
            table[f"_XLUDF.{entry.name}"] = fn
            _registered.add(entry.name)
            added.append(entry.name)
    return added
