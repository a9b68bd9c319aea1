"""The syntax tree of a word equation, and how messages show its parts.

Every node keeps the span of the text it was read from (``start``, ``end``; 0-based, end
exclusive), so a message can quote what the user wrote.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__: list[str] = []


@dataclass(frozen=True, slots=True)
class _Num:
    value: float
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Ref:
    index: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Neg:
    operand: Any
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Chain:
    """A left-associative run of one precedence level: ``first op1 x1 op2 x2 ...``."""

    kind: str  # "add", "mul" or "pow"
    first: Any
    rest: tuple  # ((op, node), ...) with op in "+-*/^"
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Call:
    func: str
    args: tuple
    start: int
    end: int


@dataclass(frozen=True)
class _Core:
    """What the parser learns from one equation, cached per (text, normalised names)."""

    text: str
    result_name: str | None
    root: Any
    used: tuple[int, ...]
    run: Callable[[list], Any]
    propagates: bool


_CHAIN_PRECEDENCE = {"add": 1, "mul": 2, "pow": 3}


def _precedence(node) -> int:
    if isinstance(node, _Chain):
        return _CHAIN_PRECEDENCE[node.kind]
    if isinstance(node, _Neg):
        return 4
    return 5


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _normalise(name: str) -> str:
    return " ".join(name.split()).casefold()


def _display(node, text: str, names: Sequence[str]) -> str:
    """How a message names a node: a quantity by its name, anything else by its text."""
    if isinstance(node, _Ref):
        return names[node.index]
    return _collapse(text[node.start : node.end])


def _prefix(node: _Chain, k: int, text: str, names) -> str:
    """How messages name the part of a chain before its step ``k``."""
    if k == 0:
        return _display(node.first, text, names)
    return _collapse(text[node.first.start : node.rest[k - 1][1].end])


def _short_repr(value: Any) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _uses_quantity(node) -> bool:
    """Whether any quantity (not only numbers) appears under ``node``."""
    if isinstance(node, _Ref):
        return True
    if isinstance(node, _Num):
        return False
    if isinstance(node, _Neg):
        return _uses_quantity(node.operand)
    if isinstance(node, _Call):
        return any(_uses_quantity(arg) for arg in node.args)
    return _uses_quantity(node.first) or any(_uses_quantity(sub) for _, sub in node.rest)
