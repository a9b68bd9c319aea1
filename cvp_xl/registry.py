"""The registry: the one list of spreadsheet functions ``CVP_*``.

Each :class:`Function` names the Python function that holds the logic, its
arguments with one-line help each, an Excel description of at most 255
characters, a category, worked examples with expected results and where each
expected value came from, and (where one exists) a translation into native
Excel formulas.  Hosts (xlwings, the formulas engine, native formulas) are
built from this list and nothing else; the conformance suite runs every
example through every host.

A translation usually needs only the argument expressions (``B3``,
``Inputs!$C$4:$C$9``).  One that depends on what the cells *contain*, such as
``CVP_WORDEQ``'s (its formula is the arithmetic its equation text says), sets
``native_reads_cells`` and is given a :data:`CellReader` as ``cells=``.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cvp_xl.errors import ERROR_CODES

__all__ = [
    "Argument",
    "CellReader",
    "Example",
    "Function",
    "NoTranslation",
    "register",
    "get",
    "functions",
    "REGISTRY",
]

MAX_DESCRIPTION = 255  # Excel's function dialog shows no more (xlwings cuts there too)

#: Reads the cells a reference points to: ``cells("B3:C6")`` gives the rows of their values
#: (numbers, text, ``None`` for a blank cell), as a spreadsheet would show them.  Raises
#: ``LookupError`` for a reference it cannot read.
CellReader = Callable[[str], list]


class NoTranslation(LookupError):
    """A ``CVP_*`` call without a native translation (its value must be kept instead).

    ``reason`` says why, when the function has a translation in general but not for this
    call (no cells to read it from, an equation that does not parse, ...).
    """

    def __init__(self, name: str, reason: str = ""):
        message = f"{name} has no native-formula translation"
        super().__init__(f"{message}: {reason}" if reason else message)
        self.name = name
        self.reason = reason


@dataclass(frozen=True)
class Argument:
    """One argument of a spreadsheet function.

    ``kind`` says what the argument takes: ``"number"`` (a number, or a range
    of numbers computed element by element), ``"range"`` (a range read as a
    whole), ``"text"`` or ``"any"``.
    """

    name: str
    help: str
    kind: str = "number"
    optional: bool = False


@dataclass(frozen=True)
class Example:
    """A worked example: arguments, the expected result, and its source.

    ``args`` are Python values: numbers, strings, ``None`` for a blank cell,
    lists of lists for a range (rows of cells).  ``expected`` is the result
    (a number, a string, a list of lists for an array result) or an Excel
    error code such as ``"#DIV/0!"``; ``message`` is then the exact message.
    ``native`` is False where the native translation is known to differ
    (e.g. Excel's arithmetic reads a blank as 0), with the reason in
    ``native_note``.
    """

    args: tuple
    expected: Any
    source: str
    message: str | None = None
    native: bool = True
    native_note: str = ""

    @property
    def is_error(self) -> bool:
        return isinstance(self.expected, str) and self.expected in ERROR_CODES


@dataclass(frozen=True)
class Function:
    """A spreadsheet function and everything a host needs to offer it."""

    name: str
    func: Callable[..., Any]
    description: str
    category: str
    args: tuple[Argument, ...]
    examples: tuple[Example, ...] = ()
    native: Callable[..., str] | None = None
    #: True when ``native`` translates from the *contents* of cells, not only from the
    #: argument expressions: it is then called with ``cells=``, a :data:`CellReader`.
    native_reads_cells: bool = False
    returns: str = "number"  # "number", "text" or "array"
    elementwise: bool = False  # ranges in "number" arguments give a range out
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if not self.name.startswith("CVP_") or self.name.upper() != self.name:
            raise ValueError(f"{self.name}: spreadsheet names are upper case and start with CVP_")
        if len(self.description) > MAX_DESCRIPTION:
            raise ValueError(
                f"{self.name}: description has {len(self.description)} characters "
                f"(Excel shows at most {MAX_DESCRIPTION})"
            )
        params = list(inspect.signature(self.func).parameters)
        names = [a.name for a in self.args]
        if params != names:
            raise ValueError(
                f"{self.name}: arguments {names} do not match {self.func.__name__}{params}"
            )
        if self.native_reads_cells and self.native is None:
            raise ValueError(f"{self.name}: native_reads_cells without a native translation")
        for ex in self.examples:
            if ex.is_error and not ex.message:
                raise ValueError(f"{self.name}: an error example needs its exact message")

    @property
    def signature(self) -> str:
        """``CVP_ROI(benefit, cost)``, with optional arguments in brackets."""
        parts = [f"[{a.name}]" if a.optional else a.name for a in self.args]
        return f"{self.name}({', '.join(parts)})"

    def to_native(self, *arg_exprs: str, cells: CellReader | None = None) -> str:
        """The native Excel expression (no leading ``=``) for these argument expressions.

        ``cells`` reads the contents of the cells an argument refers to; a function whose
        translation depends on them (``native_reads_cells``) raises :class:`NoTranslation`
        without it.  Other functions ignore it.
        """
        if self.native is None:
            raise NoTranslation(self.name)
        atoms = [_atom(a) for a in arg_exprs]
        if not self.native_reads_cells:
            return self.native(*atoms)
        if cells is None:
            raise NoTranslation(
                self.name,
                "it is translated from the contents of its argument cells, and no workbook "
                "was given to read them from",
            )
        return self.native(*atoms, cells=cells)


_ATOM = re.compile(
    r"""^(?:(?:'(?:[^']|'')+'|[A-Za-z_][\w.]*)!)?"""  # optional sheet: 'My sheet'! or Inputs!
    r"[A-Za-z_$][\w.$]*(?::[A-Za-z_$][\w.$]*)?$"  # a cell, a range or a defined name
    r"|^\d+(?:\.\d+)?(?:[eE][+-]?\d+)?%?$"  # or an unsigned number
)


def _atom(expr: str) -> str:
    """Wrap an argument expression in parentheses unless it is a reference, name or number."""
    text = expr.strip()
    if _ATOM.match(text):
        return text
    if text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        return text
    return f"({text})"


def _balanced(text: str) -> bool:
    """True when the parentheses of text balance (ignoring those inside strings)."""
    depth, in_string = 0, False
    for ch in text:
        if ch == '"':
            in_string = not in_string
        elif not in_string:
            depth += (ch == "(") - (ch == ")")
            if depth < 0:
                return False
    return depth == 0


REGISTRY: dict[str, Function] = {}


def register(function: Function) -> Function:
    """Add a function to the registry (its name must be new)."""
    if function.name in REGISTRY:
        raise ValueError(f"{function.name} is registered twice")
    REGISTRY[function.name] = function
    return function


def get(name: str) -> Function:
    """The registry entry for ``name`` (case-insensitive, ``_xludf.`` prefix allowed)."""
    key = name.upper()
    if key.startswith("_XLUDF."):
        key = key[len("_XLUDF.") :]
    _load()
    try:
        return REGISTRY[key]
    except KeyError:
        raise KeyError(f"unknown function {name!r}") from None


def functions() -> list[Function]:
    """Every registered function, in catalogue order."""
    _load()
    return list(REGISTRY.values())


_MODULES: Sequence[str] = (
    "cvp_xl.catalog.value",
    "cvp_xl.catalog.pricing",
    "cvp_xl.catalog.documentation",
    "cvp_xl.catalog.wordeq",
    "cvp_xl.catalog.research",
)


def _load() -> None:
    import importlib

    for module in _MODULES:
        importlib.import_module(module)
