"""Translating a word equation into a native Excel formula.

The formula computes in Excel, LibreOffice and the formulas package what
:func:`cvp_xl.wordeq.evaluate` computes: ASCII operators, decimal numbers, and parentheses
wherever a reader or another program might group differently.  Cell references follow the
one A1 grammar of :mod:`cvp_xl.xlsx.a1`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from cvp_xl.errors import CvpRefError, CvpValueError
from cvp_xl.xlsx.a1 import CELL, MAX_FORMULA

from .tree import (
    _CHAIN_PRECEDENCE,
    _Call,
    _collapse,
    _Core,
    _Neg,
    _normalise,
    _Num,
    _precedence,
    _Ref,
    _short_repr,
)

__all__: list[str] = []

_SHEET = r"(?:'(?:[^'\[\]*?/\\:]|'')+'|[A-Za-z_][A-Za-z0-9_.]*)!"
_DEFINED_NAME = r"[A-Za-z_\\][A-Za-z0-9_.\\]*"
_REFERENCE = re.compile(rf"(?:{_SHEET})?(?:{CELL}|{_DEFINED_NAME})")
_NOT_NAMES = frozenset({"TRUE", "FALSE", "R", "C"})


def _check_reference(ref: Any, name: str) -> str:
    if isinstance(ref, str) and _REFERENCE.fullmatch(ref):
        last = ref.rsplit("!", 1)[-1]
        if last.upper() not in _NOT_NAMES:
            return ref
    raise CvpValueError(
        f"the reference for '{name}' is not a cell or a defined name: {_short_repr(ref)}"
    )


def _check_refs(refs: Any) -> None:
    if not isinstance(refs, Mapping):
        raise CvpValueError(
            f"refs must map quantity names to cell references, got {_short_repr(refs)}"
        )


def _format_number(value: float) -> str:
    if value == int(value) and abs(value) < 1e16:
        return str(int(value))
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}E{exponent}"
    return text


def _emit_power(node, refs: Mapping[int, str]) -> str:
    # Excel and LibreOffice read a^b^c as (a^b)^c; many readers do not, so say it.
    first = _emit(node.first, refs)
    text = f"({first})" if _precedence(node.first) < 5 else first
    for k, (_, sub) in enumerate(node.rest):
        exponent = _emit(sub, refs)
        if _precedence(sub) < 5:
            exponent = f"({exponent})"
        text = f"{text}^{exponent}"
        if k < len(node.rest) - 1:
            text = f"({text})"
    return text


def _emit(node, refs: Mapping[int, str]) -> str:
    if isinstance(node, _Num):
        return _format_number(node.value)
    if isinstance(node, _Ref):
        return refs[node.index]
    if isinstance(node, _Neg):
        inner = _emit(node.operand, refs)
        return f"-({inner})" if _precedence(node.operand) < 5 else f"-{inner}"
    if isinstance(node, _Call):
        return f"{node.func}({','.join(_emit(arg, refs) for arg in node.args)})"
    if node.kind == "pow":
        return _emit_power(node, refs)
    level = _CHAIN_PRECEDENCE[node.kind]
    first = _emit(node.first, refs)
    if _precedence(node.first) < level:
        first = f"({first})"
    parts = [first]
    for op, sub in node.rest:
        text = _emit(sub, refs)
        if _precedence(sub) <= level or isinstance(sub, _Neg):
            text = f"({text})"
        parts.append(op)
        parts.append(text)
    return "".join(parts)


def _formula(core: _Core, names: tuple[str, ...], refs: Mapping[str, str]) -> str:
    """The formula of a parsed equation, each quantity it uses replaced by its reference."""
    _check_refs(refs)
    by_key: dict[str, Any] = {}
    for key, ref in refs.items():
        if isinstance(key, str):
            norm = _normalise(key)
            if norm in by_key and by_key[norm] != ref:
                raise CvpValueError(
                    f"refs names '{_collapse(key)}' twice with different references "
                    "(case and spaces are ignored)"
                )
            by_key[norm] = ref
    by_index = {}
    for i in core.used:
        name = names[i]
        key = _normalise(name)
        if key not in by_key:
            raise CvpRefError(f"no cell reference for '{name}'")
        by_index[i] = _check_reference(by_key[key], name)
    formula = "=" + _emit(core.root, by_index)
    if len(formula) > MAX_FORMULA:
        raise CvpValueError(
            f"the formula would be {len(formula):,} characters long; "
            f"Excel's limit is {MAX_FORMULA:,}"
        )
    return formula
