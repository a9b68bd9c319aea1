"""Units of word equations, checked with Pint.

A registry of our own (time, a few physical units, ISO 4217 currencies, and any other word
defined on first use as a dimension of its own) and a small parser for unit text.  This is
the only part of :mod:`cvp_xl.wordeq` that uses Pint, and it imports Pint on first use
(:func:`_registry`), so reading and evaluating equations never loads it.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from cvp_xl.errors import CvpValueError

from .evaluate import _aligned, _compile
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
    _uses_quantity,
)

__all__ = ["currency_and_period", "is_money_per_period"]


_UNIT_DEFINITIONS = (
    "second = [time] = _ = s = sec = secs",
    "minute = 60 * second = _ = min = mins",
    "hour = 60 * minute = _ = h = hr = hrs",
    "day = 24 * hour = _ = d",
    "week = 7 * day = _ = wk",
    "year = 365.25 * day = _ = yr = yrs = annum",
    "month = year / 12 = _ = mo",
    "quarter = 3 * month = _ = qtr",
    "joule = [energy] = J",
    "kJ = 1e3 * joule",
    "MJ = 1e6 * joule",
    "GJ = 1e9 * joule",
    "Wh = 3600 * joule = _ = watt_hour",
    "kWh = 1e3 * Wh = _ = kilowatt_hour",
    "MWh = 1e6 * Wh = _ = megawatt_hour",
    "GWh = 1e9 * Wh = _ = gigawatt_hour",
    "BTU = 1055.05585262 * joule = _ = Btu",
    "MMBtu = 1e6 * BTU",
    "therm = 1e5 * BTU",
    "watt = [power] = W",
    "kW = 1e3 * watt = _ = kilowatt",
    "MW = 1e6 * watt = _ = megawatt",
    "gram = [mass] = g",
    "kg = 1e3 * gram = _ = kilogram",
    "tonne = 1e6 * gram = t = metric_ton",
    "lb = 453.59237 * gram = _ = lbs",
    "meter = [length] = m = metre",
    "km = 1e3 * meter = _ = kilometer = kilometre",
    "mile = 1609.344 * meter = mi",
    "foot = 0.3048 * meter = ft = feet",
    "m2 = meter ** 2 = _ = square_meter",
    "hectare = 1e4 * m2 = ha",
    "acre = 4046.8564224 * m2",
    "m3 = meter ** 3 = _ = cubic_meter",
    "liter = 1e-3 * m3 = L = l = litre",
    "gallon = 3.785411784 * liter = gal",
)

#: ISO 4217 currency codes recognised as currencies (each its own dimension).
_CURRENCIES = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP
    GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS
    KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR
    MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF
    SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD
    TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL""".split()
)
_CURRENCY_SYMBOLS = {"US$": "USD", "$": "USD", "\u20ac": "EUR", "\u00a3": "GBP", "\u00a5": "JPY"}
_PURE_WORDS = frozenset({"", "1", "-", "%", "percent", "pct", "dimensionless", "number", "ratio"})
_UNIT_TOKEN = re.compile(
    r"\s*(?:(?P<cur>US\$|[$\u20ac\u00a3\u00a5])|(?P<word>(?!\d)(?:(?![\u00b2\u00b3\u00b9])\w)+)"
    r"|(?P<num>\d+(?:\.\d+)?)|(?P<sup>[\u00b2\u00b3])|(?P<op>[*/\u00b7\u00d7\u22c5^()%+\-]))"
)
_MAX_UNIT_LENGTH = 100
_UNIT_LOCK = threading.RLock()
_REGISTRY: Any = None


def _registry():
    global _REGISTRY
    with _UNIT_LOCK:
        if _REGISTRY is None:
            import pint

            registry = pint.UnitRegistry(None, on_redefinition="raise")
            for line in _UNIT_DEFINITIONS:
                registry.define(line)
            _REGISTRY = registry
        return _REGISTRY


class _UnitTextError(Exception):
    pass


def _singulars(word: str) -> list[str]:
    lower = word.lower()
    if len(word) <= 3 or not lower.endswith("s") or lower.endswith(("ss", "us", "is")):
        return []
    if lower.endswith("ies"):
        return [word[:-3] + "y"]
    if lower.endswith(("ches", "shes", "sses", "xes", "zes")):
        return [word[:-2]]
    return [word[:-1]]


def _unit_named(registry, name: str):
    from pint.util import UnitsContainer

    return registry.Unit(UnitsContainer({name: 1}))


def _atom_unit(registry, word: str):
    """The unit a single word names, defining a new dimension for a word never seen before."""
    if word.lower() in ("percent", "pct", "dimensionless"):
        return registry.dimensionless
    try:
        found = _find_or_define(registry, word)
        found.dimensionality  # noqa: B018 - make Pint resolve it now, inside the try
    except Exception as exc:  # Pint refuses a few words (its own reserved names, odd scripts)
        raise _UnitTextError(f"'{word}' cannot be used as a unit") from exc
    return found


def _find_or_define(registry, word: str):
    if word in _CURRENCIES:
        if not registry.parse_unit_name(word):
            registry.define(f"{word} = [currency_{word}]")
        return _unit_named(registry, word)
    caps = word.isupper() and len(word) > 1
    candidates = [word] if caps else [word, word.lower()]
    for candidate in candidates + [s for c in candidates for s in _singulars(c)]:
        for prefix, name, _ in registry.parse_unit_name(candidate):
            if name and not prefix:
                return _unit_named(registry, name)
    base = word if caps else word.lower()
    singular = (_singulars(base) or [base])[0]
    alias = f" = _ = {base}" if base != singular else ""
    registry.define(f"{singular} = [custom_{singular}]{alias}")
    return _unit_named(registry, singular)


class _UnitParser:
    """unit := term (('*'|'/'|'per') term)*;  term := power power* (a space multiplies and
    binds tighter, so ``USD/machine hour`` is USD per machine-hour);  power := primary
    ('^' [-] number | '²' | '³')?;  primary := word | '1' | '%' | '(' unit ')'."""

    def __init__(self, registry, text: str):
        self.registry = registry
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            if text[pos:].isspace():
                break
            m = _UNIT_TOKEN.match(text, pos)
            if m is None:
                bad = text[pos:].lstrip()[:1]
                raise _UnitTextError(f"'{bad}' cannot be part of a unit")
            kind = m.lastgroup
            value = m.group(kind)
            if kind == "word" and value.lower() == "per":
                kind, value = "op", "/"
            self.tokens.append((kind, value))
            pos = m.end()
        self.i = 0

    def parse(self):
        result = self.unit(0)
        if self.i < len(self.tokens):
            raise _UnitTextError(f"unexpected '{self.tokens[self.i][1]}'")
        return result

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.i] if self.i < len(self.tokens) else ("end", "")

    def unit(self, depth: int):
        result = self.term(depth)
        while True:
            kind, value = self.peek()
            if kind != "op" or value not in "*/\u00b7\u00d7\u22c5":
                return result
            self.i += 1
            other = self.term(depth)
            result = result / other if value == "/" else result * other

    def term(self, depth: int):
        result = self.power(depth)
        while self.peek()[0] in ("word", "cur", "num") or self.peek() in (("op", "("), ("op", "%")):
            result = result * self.power(depth)
        return result

    def power(self, depth: int):
        base = self.primary(depth)
        kind, value = self.peek()
        if kind == "sup":
            self.i += 1
            return base ** (2 if value == "\u00b2" else 3)
        if (kind, value) != ("op", "^"):
            return base
        self.i += 1
        sign = 1
        if self.peek() in (("op", "-"), ("op", "+")):
            sign = -1 if self.peek()[1] == "-" else 1
            self.i += 1
        kind, value = self.peek()
        if kind != "num" or len(value) > 6:
            raise _UnitTextError("'^' needs a number after it")
        self.i += 1
        exponent = sign * float(value)
        return base ** (int(exponent) if exponent.is_integer() else exponent)

    def primary(self, depth: int):
        kind, value = self.peek()
        self.i += 1
        if kind == "word":
            return _atom_unit(self.registry, value)
        if kind == "cur":
            return _atom_unit(self.registry, _CURRENCY_SYMBOLS[value])
        if kind == "num":
            if value != "1":
                raise _UnitTextError("a unit cannot contain a number other than 1")
            return self.registry.dimensionless
        if (kind, value) == ("op", "%"):
            return self.registry.dimensionless
        if (kind, value) == ("op", "(") and depth < 5:
            inner = self.unit(depth + 1)
            if self.peek() != ("op", ")"):
                raise _UnitTextError("'(' is never closed")
            self.i += 1
            return inner
        if kind == "end":
            raise _UnitTextError("it ends too early")
        raise _UnitTextError(f"unexpected '{value}'")


@functools.lru_cache(maxsize=512)
def _parse_unit(text: str):
    if len(text) > _MAX_UNIT_LENGTH:
        raise _UnitTextError(f"units are at most {_MAX_UNIT_LENGTH} characters")
    with _UNIT_LOCK:
        registry = _registry()
        if _collapse(text).lower() in _PURE_WORDS:
            return registry.dimensionless
        return _UnitParser(registry, text).parse()


def _unit_of_text(text: Any, what: str):
    if text is None:
        return _registry().dimensionless
    if not isinstance(text, str):
        raise CvpValueError(f"{what} must be text, got {_short_repr(text)}")
    try:
        return _parse_unit(text)
    except _UnitTextError as exc:
        raise CvpValueError(f"{what} is not understood: {_short_repr(text)} ({exc})") from None


def _unit_kind(name: str) -> int:
    dims = dict(_unit_named(_registry(), name).dimensionality)
    if len(dims) == 1 and next(iter(dims)).startswith("[currency_"):
        return 0
    if dims == {"[time]": 1}:
        return 2
    return 1


def _format_unit(u) -> str:
    """``USD/year``, ``hour/stop``, ``USD*hour/(stop*year)``; ``1`` for a pure number."""
    items = sorted(u._units.items(), key=lambda item: (_unit_kind(item[0]), item[0].lower()))

    def term(name: str, exponent: float) -> str:
        return name if exponent == 1 else f"{name}^{float(exponent):g}"

    top = [term(n, e) for n, e in items if e > 0]
    bottom = [term(n, -e) for n, e in items if e < 0]
    text = "*".join(top) or "1"
    if bottom:
        text += "/" + (bottom[0] if len(bottom) == 1 else "(" + "*".join(bottom) + ")")
    return text


def _shown(u) -> str:
    return _format_unit(u) if u._units else "no unit"


class _UnitChecker:
    def __init__(self, text: str, names: tuple[str, ...], units: dict):
        self.text, self.names, self.units = text, names, units
        self.pure = _registry().dimensionless

    def show(self, node) -> str:
        return _display(node, self.text, self.names)

    def mismatch(self, verb: str, right: str, ur, left: str, ul) -> CvpValueError:
        if verb == "+":
            message = f"cannot add '{right}' ({_shown(ur)}) to '{left}' ({_shown(ul)})"
        elif verb == "-":
            message = f"cannot subtract '{right}' ({_shown(ur)}) from '{left}' ({_shown(ul)})"
        else:
            message = (
                f"cannot compare '{right}' ({_shown(ur)}) with '{left}' ({_shown(ul)}) in {verb}"
            )
        if ur.dimensionality == ul.dimensionality:
            message += "; convert them to one unit first"
        return CvpValueError(message)

    def of(self, node):
        if isinstance(node, _Num):
            return self.pure
        if isinstance(node, _Ref):
            return self.units[node.index]
        if isinstance(node, _Neg):
            return self.of(node.operand)
        if isinstance(node, _Call):
            return self.call(node)
        acc = self.of(node.first)
        for k, (op, sub) in enumerate(node.rest):
            u = self.of(sub)
            if op in "+-":
                if u != acc:
                    raise self.mismatch(
                        op, self.show(sub), u, _prefix(node, k, self.text, self.names), acc
                    )
            elif op == "*":
                acc = acc * u
            elif op == "/":
                acc = acc / u
            else:
                acc = self.power(node, k, acc, sub, u)
        return acc

    def power(self, node: _Chain, k: int, base, sub, u):
        if u._units:
            raise CvpValueError(
                f"the exponent '{self.show(sub)}' ({_shown(u)}) must be a pure number"
            )
        if not base._units:
            return base
        if _uses_quantity(sub):
            raise CvpValueError(
                f"cannot raise '{_prefix(node, k, self.text, self.names)}' ({_shown(base)}) "
                f"to a power that depends on inputs ('{self.show(sub)}')"
            )
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            exponent = float(_compile(sub, self.text)([self.names]))
        return base ** (int(exponent) if exponent.is_integer() else exponent)

    def call(self, node: _Call):
        units = [self.of(arg) for arg in node.args]
        if node.func == "ROUND" and units[1]._units:
            raise CvpValueError(
                f"the digits '{self.show(node.args[1])}' ({_shown(units[1])}) of ROUND "
                "must be a pure number"
            )
        if node.func in ("MIN", "MAX"):
            for arg, u in zip(node.args[1:], units[1:], strict=True):
                if u != units[0]:
                    raise self.mismatch(
                        node.func, self.show(arg), u, self.show(node.args[0]), units[0]
                    )
        return units[0]


def _money_per_period(u) -> tuple[str, str] | None:
    items = list(u._units.items())
    if len(items) != 2:
        return None
    currency = [n for n, e in items if e == 1 and _unit_kind(n) == 0]
    period = [n for n, e in items if e == -1 and _unit_kind(n) == 2]
    if len(currency) == 1 and len(period) == 1:
        return currency[0], period[0]
    return None


def currency_and_period(unit_text: str) -> tuple[str, str] | None:
    """Split a money-per-period unit into its currency and its period.

    Parameters
    ----------
    unit_text : str
        A unit such as ``'USD/year'``, ``'EUR per month'`` or ``'$/yr'``.

    Returns
    -------
    tuple of (str, str) or None
        ``(currency, period)`` with the ISO 4217 code and the time unit's name, or None when
        the unit is not one currency divided by one period.

    Raises
    ------
    CvpValueError
        The unit text cannot be read.

    Examples
    --------
    >>> currency_and_period("USD/year")
    ('USD', 'year')
    >>> currency_and_period("EUR per months")
    ('EUR', 'month')
    >>> currency_and_period("USD/customer/year") is None
    True
    """
    return _money_per_period(_unit_of_text(unit_text, f"the unit {_short_repr(unit_text)}"))


def is_money_per_period(unit_text: str) -> bool:
    """Whether a unit is money per period, as every value word equation's result must be.

    Parameters
    ----------
    unit_text : str
        A unit such as ``'USD/year'``.

    Returns
    -------
    bool
        True for exactly one currency (an ISO 4217 code or ``$ € £ ¥``) divided by exactly one
        time unit (second ... year); False otherwise, including ``USD*hour/minute``, whose
        number would need converting first.

    Examples
    --------
    >>> is_money_per_period("USD/year"), is_money_per_period("$/month")
    (True, True)
    >>> is_money_per_period("USD"), is_money_per_period("hours/year")
    (False, False)
    """
    return currency_and_period(unit_text) is not None


def _unit(core: _Core, names: tuple[str, ...], units: Sequence[str | None]) -> str:
    """The unit of a parsed equation's result, from the units aligned with ``names``."""
    units = _aligned(units, "units", names)
    parsed = {i: _unit_of_text(units[i], f"the unit of '{names[i]}'") for i in core.used}
    checker = _UnitChecker(core.text, names, parsed)
    with _UNIT_LOCK:
        return _format_unit(checker.of(core.root))
