"""The calculator spec: a YAML file, validated with messages that give the file and line.

A spec names the offering and its alternatives, the currency, the inputs
(with unit, base/low/high, allowed range and source), the value elements
(each a word equation whose unit must come out as money per period), the
prices (one-time and recurring per year) of the offering and of each
alternative, the horizon in years and the discount rate.  See
``workbooks/calculators/*.yaml`` for complete examples.

The first alternative is the *reference*: value elements measure our
offering against it.  Another alternative may carry ``value_per_year``, its
own value relative to the reference (e.g. the status quo is worth less than
a rival's offering); the next best alternative is the one with the largest
incentive (value - price) over the horizon.

Each alternative has a ``kind`` (:data:`KINDS`; ``competitor`` when left out), which decides
the costs it carries (DOMAIN.md §1: whatever the customer would do instead):

- ``competitor``: a rival's offering, with ``one_time`` and ``recurring`` prices and
  ``value_per_year``;
- ``status_quo``: doing nothing.  It carries no price and no value of its own, but may carry
  ``cost_per_year``, the ongoing cost of the problem it leaves, measured like every value
  against the reference (so the reference itself, against which the value elements already
  count that cost, takes none);
- ``make``: making it yourself: a one-off ``build_cost``, ``upkeep_per_year``, the
  ``value_per_year`` it gives once built, and ``months_to_build``: until it is built it gives
  none of that value, so ``value_per_year * months_to_build / 12`` is lost (the reference
  gives no value of its own, so it takes no time to build).

In the model a make alternative's build cost is its one-time price and its upkeep its
recurring price; a status quo's value per year is ``-cost_per_year``.

An input may carry ``evidence``, the customer value research behind its figures (written by
``cvp-xl research``): ``n`` observations (a whole number, 1 or more), ``customers`` (optional,
1 to n), ``methods`` (a list of the methods of :data:`cvp_xl.domain.research.METHODS`, each
once), ``period`` (optional: quarters such as ``2026-Q2``, ``2026-Q2–Q3`` or
``2025-Q4–2026-Q1``) and ``rule`` (optional: the percentiles of low/base/high, such as
``P25/P50/P75``).  The Inputs sheet shows n and the methods next to the input.

An optional ``branding`` mapping names the supplier (``supplier``), a logo image (``logo``, a
PNG or JPEG file next to the spec or below its folder) and an accent colour (``accent``,
``"#RRGGBB"``) used on every sheet and chart; without it the calculator keeps the house look.
"""

from __future__ import annotations

import hashlib
import math
import numbers
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path

from cvp_xl.errors import CvpError, SpecError
from cvp_xl.workbooks import yaml_safe
from cvp_xl.workbooks.yaml_safe import MAX_TEXT, shown

__all__ = ["Spec", "Input", "InputEvidence", "ValueElement", "Alternative", "Branding", "SpecError",
           "load_spec", "parse_spec", "CATEGORIES", "SCENARIOS", "KINDS", "MAX_LOGO_BYTES",
           "MAX_LOGO_PIXELS"]

CATEGORIES = ("technical", "economic", "service", "social")
#: The kinds of alternative a spec may name, and how the Summary names each beside the
#: alternative's name ("" for a competitor: its name says it).
KINDS = {"competitor": "", "status_quo": "doing nothing", "make": "making it yourself"}
SCENARIOS = ("Base", "Low", "High", "Conservative")
#: Periods a value element may be expressed in, and how many make a year (exactly).
PERIODS_PER_YEAR = {"year": 1.0, "quarter": 4.0, "month": 12.0}
CONSERVATIVE_FACTOR = 0.5  # the conservative case halves every benefit claim
MAX_SPEC_BYTES = yaml_safe.MAX_BYTES
#: The longest name (of the calculator, an input, a value element, an alternative) and unit: a
#: label, shown in titles, charts and validation messages.
MAX_NAME = 255
#: The largest logo file, and the most pixels on a side, that a spec may name.
MAX_LOGO_BYTES = 1 << 20
MAX_LOGO_PIXELS = 4000
_ACCENT = re.compile(r"^#?([0-9A-Fa-f]{6})$")


@dataclass(frozen=True)
class InputEvidence:
    """The research behind an input's figures: how many observations, by which methods."""

    n: int
    methods: tuple[str, ...]
    customers: int | None = None
    period: str = ""
    rule: str = ""

    @property
    def methods_text(self) -> str:
        """The methods as the Inputs sheet shows them: ``field value assessment, survey``."""
        return ", ".join(self.methods)


@dataclass(frozen=True)
class Input:
    name: str
    unit: str
    base: float
    low: float
    high: float
    min: float | None = None
    max: float | None = None
    source: str = ""
    line: int = 0
    was: tuple[str, ...] = ()  # earlier names of this input, for `cvp-xl upgrade`
    evidence: InputEvidence | None = None  # the research behind the figures, if recorded


@dataclass(frozen=True)
class ValueElement:
    name: str
    category: str
    tangible: bool
    equation: str
    unit: str = ""
    note: str = ""
    line: int = 0


@dataclass(frozen=True)
class Alternative:
    """The offering or an alternative.  For a ``make`` alternative ``one_time`` is the build
    cost and ``recurring`` the upkeep per year; a ``status_quo`` has neither."""

    name: str
    one_time: float = 0.0
    recurring: float = 0.0
    value_per_year: float = 0.0
    line: int = 0
    kind: str = "competitor"
    cost_per_year: float = 0.0    # status quo: the ongoing cost of the problem it leaves
    months_to_build: float = 0.0  # make: until then it gives none of its value

    @property
    def net_value_per_year(self) -> float:
        """Its value per year once running: ``value_per_year - cost_per_year``."""
        return self.value_per_year - self.cost_per_year

    @property
    def lost_while_building(self) -> float:
        """The value a make alternative loses until it is built:
        ``value_per_year * months_to_build / 12``."""
        return self.value_per_year * self.months_to_build / 12

    @property
    def label(self) -> str:
        """Its name, with its kind when it is not a competitor: ``Keep as is (doing
        nothing)``."""
        kind = KINDS[self.kind]
        return f"{self.name} ({kind})" if kind else self.name


@dataclass(frozen=True)
class Branding:
    """Who the calculator comes from: the supplier's name, a logo and an accent colour.

    ``accent`` is six hex digits without ``#`` (empty: the house colours); ``logo`` is the
    path the spec gives, ``logo_image`` the image's bytes once :func:`load_spec` has read
    them (a spec read from text alone has the path but not the image).
    """

    supplier: str = ""
    logo: str = ""
    accent: str = ""
    line: int = 0
    logo_image: bytes | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Spec:
    name: str
    currency: str
    offering: Alternative
    alternatives: tuple[Alternative, ...]
    inputs: tuple[Input, ...]
    elements: tuple[ValueElement, ...]
    horizon_years: int
    discount_rate: float
    version: str = "1"
    description: str = ""
    path: str = "<spec>"
    text: str = field(default="", repr=False)
    branding: Branding = field(default_factory=Branding)

    @property
    def input_names(self) -> list[str]:
        return [i.name for i in self.inputs]

    @property
    def digest(self) -> str:
        """A short hash of the spec text: files built from the same spec share it."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:16]

    def input(self, name: str) -> Input:
        for i in self.inputs:
            if i.name.casefold() == name.casefold():
                return i
        raise KeyError(name)


# --------------------------------------------------------------------------- YAML with lines


class _Loader(yaml_safe.LimitedLoader):
    """A safe loader with limits that remembers the line of every mapping and its keys."""


def _construct_mapping(loader, node):
    loader.flatten_mapping(node)
    data = _Map()
    data.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            raise SpecError(f"{loader.name}:{key_node.start_mark.line + 1}: keys must be text, "
                            f"got {shown(key)}")
        if key in data:
            raise SpecError(f"{loader.name}:{key_node.start_mark.line + 1}: {shown(key)} is "
                            "given twice")
        data[key] = loader.construct_object(value_node, deep=True)
        data.lines[key] = value_node.start_mark.line + 1
    return data


class _Map(dict):
    def __init__(self):
        super().__init__()
        self.line = 0
        self.lines: dict[str, int] = {}


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


class _Reader:
    """Typed access to a mapping, with messages that give file and line."""

    def __init__(self, path: str, data: _Map, what: str):
        self.path, self.data, self.what = path, data, what

    def where(self, key: str | None = None) -> str:
        line = self.data.lines.get(key, self.data.line) if key else self.data.line
        return f"{self.path}:{line}"

    def fail(self, key: str | None, message: str):
        raise SpecError(f"{self.where(key)}: {self.what}{message}")

    def has(self, key: str) -> bool:
        return key in self.data and self.data[key] is not None

    def text(self, key: str, default: str | None = None, example: str = "",
             most: int = MAX_TEXT) -> str:
        """The value as text (a number as written), at most ``most`` characters."""
        if not self.has(key):
            if default is not None:
                return default
            hint = f" (e.g. {key}: {example})" if example else ""
            raise SpecError(f"{self.path}:{self.data.line}: {self.what}missing '{key}'{hint}")
        value = self.data[key]
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            self.fail(key, f"'{key}' must be text, got {shown(value)}")
        text = str(value).strip()
        if len(text) > most:
            self.fail(key, f"'{key}' is {len(text):,} characters long; at most {most:,}")
        return text

    def number(self, key: str, default: float | None = None, percent_ok: bool = False) -> float:
        if not self.has(key):
            if default is not None:
                return default
            raise SpecError(f"{self.path}:{self.data.line}: {self.what}missing '{key}'")
        value = self.data[key]
        if percent_ok and isinstance(value, str) and value.strip().endswith("%"):
            try:
                percent = float(value.strip()[:-1]) / 100
            except ValueError:
                pass
            else:
                if math.isfinite(percent):
                    return percent
        try:
            number = float(value) if isinstance(value, numbers.Real) else math.nan
        except OverflowError:  # a whole number beyond the largest float
            number = math.inf
        if isinstance(value, bool) or not math.isfinite(number):
            self.fail(key, f"'{key}' must be a number, got {shown(value)}")
        return number

    def optional_number(self, key: str) -> float | None:
        return self.number(key) if self.has(key) else None

    def boolean(self, key: str, default: bool) -> bool:
        if not self.has(key):
            return default
        value = self.data[key]
        if not isinstance(value, bool):
            self.fail(key, f"'{key}' must be true or false, got {shown(value)}")
        return value

    def items(self, key: str) -> list[_Reader]:
        if not self.has(key):
            raise SpecError(f"{self.path}:{self.data.line}: {self.what}missing '{key}'")
        value = self.data[key]
        if not isinstance(value, list) or not value:
            self.fail(key, f"'{key}' must be a list with at least one item")
        out = []
        for k, item in enumerate(value, start=1):
            if not isinstance(item, _Map):
                self.fail(key, f"'{key}' item {k} must be a mapping")
            name = item.get("name")
            if isinstance(name, (int, float)) and not isinstance(name, bool):
                name = str(name)
            name = name if isinstance(name, str) and len(name) <= MAX_NAME else f"item {k}"
            out.append(_Reader(self.path, item, f"{key[:-1].replace('_', ' ')} '{name}': "))
        return out

    def check_keys(self, allowed: set[str]) -> None:
        for key in self.data:
            if key not in allowed:
                import difflib

                close = difflib.get_close_matches(key[:100], sorted(allowed), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                self.fail(key, f"unknown key {shown(key)}{hint}")


def load_spec(path: str | Path) -> Spec:
    """Read and validate a calculator spec from a YAML file.

    The file is refused, with its path (and line), when it is missing, over
    :data:`MAX_SPEC_BYTES`, not UTF-8 or not plain text; then :func:`parse_spec`.
    """
    p = Path(path)
    spec = parse_spec(yaml_safe.read_text(p, MAX_SPEC_BYTES), str(p))
    if spec.branding.logo:
        image = _logo(p, spec.branding)
        spec = replace(spec, branding=replace(spec.branding, logo_image=image))
    return spec


def _logo(spec_path: Path, branding: Branding) -> bytes:
    """The logo's bytes: a PNG or JPEG file in the spec's folder or below it, checked."""
    where = f"{spec_path}:{branding.line}: branding: logo {shown(branding.logo)}"
    relative = Path(branding.logo)
    if relative.is_absolute() or ".." in relative.parts:
        raise SpecError(f"{where} must be a file in the spec's folder or below it (a path "
                        "relative to the spec, without '..')")
    folder = spec_path.resolve().parent
    target = (folder / relative).resolve()
    if folder not in target.parents or not target.is_file():
        raise SpecError(f"{where}: no such file next to the spec ({folder})")
    with open(target, "rb") as handle:
        data = handle.read(MAX_LOGO_BYTES + 1)
    if len(data) > MAX_LOGO_BYTES:
        raise SpecError(f"{where} is larger than {MAX_LOGO_BYTES:,} bytes, the most a logo "
                        "may have")
    import io
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind, (width, height) = image.format, image.size
                image.verify()
    except Exception:  # noqa: BLE001 - Pillow raises many kinds for a file that is no image
        raise SpecError(f"{where} is not a PNG or JPEG image that can be read") from None
    if kind not in ("PNG", "JPEG"):
        raise SpecError(f"{where} is a {kind} image; a logo must be PNG or JPEG")
    if max(width, height) > MAX_LOGO_PIXELS:
        raise SpecError(f"{where} is {width} x {height} pixels; at most {MAX_LOGO_PIXELS} on "
                        "a side")
    return data


#: Specs parsed lately, by the sha256 of their text (a batch of returned calculators names a
#: few specs; each is parsed once per process).  A spec is immutable: the same object serves
#: every caller, with its own ``path``.
_PARSED: OrderedDict[str, Spec] = OrderedDict()
_PARSED_KEEP = 16
_PARSED_LOCK = threading.Lock()


def parse_spec(text: str, path: str = "<spec>") -> Spec:
    """Validate a calculator spec given as YAML text (``path`` is used in messages).

    The text is read with the limits of :mod:`cvp_xl.workbooks.yaml_safe` (size, nesting,
    aliases, plain text, text that fits a cell); each of its lines must fit a cell too (the
    About sheet keeps the spec line by line), and names and units are at most
    :data:`MAX_NAME` characters.

    The last 16 specs parsed are kept by the sha256 of their text: a text parsed before
    gives the same spec again (with this ``path``) without being parsed again.  A text that
    is refused is not kept: it is refused again, naming this ``path``.
    """
    key = hashlib.sha256(text.encode("utf-8")).hexdigest()
    with _PARSED_LOCK:
        spec = _PARSED.get(key)
        if spec is not None:
            _PARSED.move_to_end(key)
    if spec is None:
        spec = _parse_spec(text, path)
        with _PARSED_LOCK:
            _PARSED[key] = spec
            while len(_PARSED) > _PARSED_KEEP:
                _PARSED.popitem(last=False)
    return spec if spec.path == path else replace(spec, path=path)


def _parse_spec(text: str, path: str) -> Spec:
    """:func:`parse_spec` without its cache."""
    data = yaml_safe.load(text, path, _Loader, MAX_SPEC_BYTES)
    for number, line in enumerate(text.splitlines(), start=1):
        if len(line) > MAX_TEXT:
            raise SpecError(f"{path}:{number}: a line of {len(line):,} characters; the About "
                            f"sheet keeps the spec line by line and a cell holds at most "
                            f"{MAX_TEXT:,}")
    if not isinstance(data, _Map):
        raise SpecError(f"{path}: a spec is a YAML mapping (name:, currency:, inputs:, ...)")
    top = _Reader(path, data, "")
    top.check_keys({"name", "version", "description", "currency", "offering", "alternatives",
                    "inputs", "value_elements", "horizon_years", "discount_rate", "branding"})
    currency = top.text("currency", example="USD")
    if not currency.isalpha() or not currency.isupper() or len(currency) != 3:
        top.fail("currency", f"currency must be a three-letter code such as USD, got "
                             f"{shown(currency)}")

    inputs = tuple(_input(r) for r in top.items("inputs"))
    _unique(path, "input", inputs)
    alt_readers = top.items("alternatives")
    alternatives = tuple(_alternative(r, first=k == 0) for k, r in enumerate(alt_readers))
    _unique(path, "alternative", alternatives)
    if not top.has("offering") or not isinstance(data["offering"], _Map):
        raise SpecError(f"{path}:{data.line}: missing 'offering' (name:, one_time:, recurring:)")
    offering = _alternative(_Reader(path, data["offering"], "offering: "), first=True,
                            offering=True)
    elements = tuple(_element(r, inputs, currency) for r in top.items("value_elements"))
    _unique(path, "value element", elements)
    horizon = top.number("horizon_years")
    if horizon != int(horizon) or not 1 <= horizon <= 30:
        top.fail("horizon_years", f"horizon_years must be a whole number of years from 1 to 30, "
                                  f"got {horizon:g}")
    for r, alt in zip(alt_readers, alternatives):
        if alt.months_to_build > 12 * horizon:
            r.fail("months_to_build", f"months_to_build ({alt.months_to_build:g}) is longer "
                                      f"than the horizon ({int(horizon) * 12} months)")
    rate = top.number("discount_rate", percent_ok=True)
    if not 0 <= rate < 1:
        top.fail("discount_rate", f"discount_rate must be from 0 to 1 (e.g. 0.08 or 8%), "
                                  f"got {rate:g}")
    return Spec(
        name=top.text("name", most=MAX_NAME), currency=currency, offering=offering,
        alternatives=alternatives, inputs=inputs, elements=elements,
        horizon_years=int(horizon), discount_rate=rate,
        version=top.text("version", "1", most=MAX_NAME),
        description=top.text("description", ""),
        path=path, text=text, branding=_branding(top),
    )


def _branding(top: _Reader) -> Branding:
    if not top.has("branding"):
        return Branding()
    if not isinstance(top.data["branding"], _Map):
        top.fail("branding", "'branding' must be a mapping (supplier:, logo:, accent:)")
    r = _Reader(top.path, top.data["branding"], "branding: ")
    r.check_keys({"supplier", "logo", "accent"})
    accent = r.text("accent", "", most=MAX_NAME)
    if accent:
        m = _ACCENT.match(accent)
        if m is None:
            r.fail("accent", f"'accent' must be a colour as six hex digits such as '#1F6F43', "
                             f"got {shown(accent)}")
        accent = m.group(1).upper()
    return Branding(supplier=r.text("supplier", "", most=MAX_NAME),
                    logo=r.text("logo", "", most=MAX_NAME), accent=accent, line=r.data.line)


def _unique(path, what, items):
    seen = {}
    for item in items:
        key = " ".join(item.name.split()).casefold()
        if key in seen:
            raise SpecError(f"{path}:{item.line}: {what} '{item.name}' is defined twice "
                            f"(first on line {seen[key]})")
        seen[key] = item.line


def _input(r: _Reader) -> Input:
    r.check_keys({"name", "unit", "base", "low", "high", "min", "max", "source", "was",
                  "evidence"})
    name = r.text("name", most=MAX_NAME)
    base = r.number("base")
    low = r.number("low", default=base)
    high = r.number("high", default=base)
    lo, hi = r.optional_number("min"), r.optional_number("max")
    if low > high:
        r.fail("low", f"low ({low:g}) is greater than high ({high:g})")
    if lo is not None and hi is not None and lo > hi:
        r.fail("min", f"min ({lo:g}) is greater than max ({hi:g})")
    for label, v in (("base", base), ("low", low), ("high", high)):
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            r.fail(label, f"{label} ({v:g}) is outside the allowed range "
                          f"{_range_text(lo, hi)}")
    if not low <= base <= high:
        r.fail("base", f"base ({base:g}) is not between low ({low:g}) and high ({high:g})")
    was = r.data.get("was") or ()
    was = (was,) if isinstance(was, str) else was
    if not isinstance(was, (list, tuple)) or not all(
            isinstance(w, str) and len(w) <= MAX_NAME for w in was):
        r.fail("was", f"'was' must be an earlier name of the input (at most {MAX_NAME} "
                      "characters), or a list of them")
    return Input(name=name, unit=r.text("unit", most=MAX_NAME), base=base, low=low, high=high,
                 min=lo, max=hi, source=r.text("source", ""), line=r.data.line, was=tuple(was),
                 evidence=_evidence(r))


_PERIOD = re.compile(r"^\d{4}-Q[1-4](?:[–-](?:\d{4}-)?Q[1-4])?$")


def _evidence(r: _Reader) -> InputEvidence | None:
    """An input's ``evidence`` mapping, checked key by key."""
    from cvp_xl.domain import research

    if not r.has("evidence"):
        return None
    if not isinstance(r.data["evidence"], _Map):
        r.fail("evidence", "'evidence' must be a mapping (n:, methods:, customers:, period:, "
                           "rule:)")
    e = _Reader(r.path, r.data["evidence"], f"{r.what}evidence: ")
    e.check_keys({"n", "methods", "customers", "period", "rule"})
    n = e.number("n")
    if n != int(n) or n < 1:
        e.fail("n", f"'n' must be a whole number of observations, 1 or more, got {n:g}")
    customers = e.optional_number("customers")
    if customers is not None and (customers != int(customers) or not 1 <= customers <= n):
        e.fail("customers", f"'customers' must be a whole number from 1 to n ({int(n)}), got "
                            f"{customers:g}")
    methods = e.data.get("methods")
    allowed = ", ".join(research.METHODS)
    if isinstance(methods, str):
        methods = [methods]
    if not isinstance(methods, list) or not methods:
        if "methods" not in e.data:
            raise SpecError(f"{e.where()}: {e.what}missing 'methods' (e.g. methods: "
                            "[field value assessment, survey])")
        e.fail("methods", f"'methods' must be a list of research methods ({allowed}), got "
                          f"{shown(methods)}")
    chosen = []
    for m in methods:
        key = " ".join(m.split()).casefold() if isinstance(m, str) else None
        if key not in research.METHODS:
            e.fail("methods", f"'methods': {shown(m)} is not a research method; expected one "
                              f"of {allowed}")
        if key in chosen:
            e.fail("methods", f"'methods': {shown(m)} is given twice")
        chosen.append(key)
    period = e.text("period", "", most=MAX_NAME)
    if period and not _PERIOD.match(period):
        e.fail("period", f"'period' must be quarters such as 2026-Q2, 2026-Q2–Q3 or "
                         f"2025-Q4–2026-Q1, got {shown(period)}")
    rule = e.text("rule", "", most=MAX_NAME)
    if rule:
        try:
            rule = research.rule_text(research.parse_rule(rule))
        except research.RuleError as exc:
            e.fail("rule", f"'rule': {exc}")
    return InputEvidence(n=int(n), methods=tuple(chosen),
                         customers=None if customers is None else int(customers),
                         period=period, rule=rule)


def _range_text(lo, hi) -> str:
    if lo is not None and hi is not None:
        return f"{lo:g} to {hi:g}"
    return f"at least {lo:g}" if lo is not None else f"at most {hi:g}"


#: The keys of each kind of alternative (and of the offering), besides ``name`` and ``kind``.
_KIND_KEYS = {"competitor": ("one_time", "recurring", "value_per_year"),
              "status_quo": ("cost_per_year",),
              "make": ("build_cost", "upkeep_per_year", "value_per_year", "months_to_build")}


def _alternative(r: _Reader, first: bool, offering: bool = False) -> Alternative:
    kind = "competitor"
    if offering:
        r.check_keys({"name", *_KIND_KEYS["competitor"]})
    else:
        kind = r.text("kind", "competitor", most=MAX_NAME)
        if kind not in KINDS:
            r.fail("kind", f"'kind' must be one of {', '.join(KINDS)}, got {shown(kind)}")
        for key in dict.fromkeys(k for keys in _KIND_KEYS.values() for k in keys):
            if key in r.data and key not in _KIND_KEYS[kind]:
                others = ", ".join(k for k, keys in _KIND_KEYS.items() if key in keys)
                r.fail(key, f"a {kind} alternative takes no {key!r} (it takes "
                            f"{', '.join(_KIND_KEYS[kind])}); {key!r} is for kind: {others}")
        r.check_keys({"name", "kind", *_KIND_KEYS[kind]})
    value = r.number("value_per_year", 0.0)
    if first and value != 0:
        r.fail("value_per_year", "the reference (first) alternative is what value elements "
                                 "are measured against; its value_per_year must be 0")
    prices = ("build_cost", "upkeep_per_year") if kind == "make" else ("one_time", "recurring")
    alt = Alternative(name=r.text("name", most=MAX_NAME), one_time=r.number(prices[0], 0.0),
                      recurring=r.number(prices[1], 0.0), value_per_year=value,
                      line=r.data.line, kind=kind, cost_per_year=r.number("cost_per_year", 0.0),
                      months_to_build=r.number("months_to_build", 0.0))
    for key, amount in zip(prices + ("cost_per_year", "months_to_build"),
                           (alt.one_time, alt.recurring, alt.cost_per_year,
                            alt.months_to_build)):
        if amount < 0:
            r.fail(key, f"{key} must be 0 or more, got {amount:g}")
    if first and alt.cost_per_year != 0:
        r.fail("cost_per_year", "the reference (first) alternative is what value elements are "
                                "measured against: they count the cost of the problem it "
                                "leaves, so its cost_per_year must be 0")
    if first and alt.months_to_build != 0:
        r.fail("months_to_build", "the reference (first) alternative gives no value of its own "
                                  "to lose while it is built; its months_to_build must be 0 "
                                  "(put it after another alternative to count the time)")
    return alt


def _element(r: _Reader, inputs: tuple[Input, ...], currency: str) -> ValueElement:
    from cvp_xl import wordeq

    r.check_keys({"name", "category", "tangible", "equation", "note"})
    name = r.text("name", most=MAX_NAME)
    category = r.text("category").lower()
    if category not in CATEGORIES:
        r.fail("category", f"category must be one of {', '.join(CATEGORIES)}, got "
                           f"{shown(category)}")
    equation = r.text("equation")
    names = [i.name for i in inputs]
    try:  # parsed once: the names are checked once per equation
        unit = wordeq.parse(equation, names).unit([i.unit for i in inputs])
    except CvpError as exc:
        r.fail("equation", exc.message)
    money = wordeq.currency_and_period(unit)
    if money is None:
        r.fail("equation", f"its unit is '{unit}', not money per period (e.g. {currency}/year)")
    if money[1] not in PERIODS_PER_YEAR:
        r.fail("equation", f"its unit is '{unit}'; express it per year, quarter or month")
    if money[0] != currency:
        r.fail("equation", f"its unit is '{unit}', but the spec's currency is {currency}")
    return ValueElement(name=name, category=category, tangible=r.boolean("tangible", True),
                        equation=equation, unit=unit, note=r.text("note", ""), line=r.data.line)
