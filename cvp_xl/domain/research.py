"""Customer value research: evidence per input, value-driver weights, pilot lift.

DOMAIN.md §3 names the methods of customer value research (field value assessment, focus
group, survey questions and importance ratings, benchmarks, the customer's own numbers); the
guide's third section names pilot projects as a way to demonstrate value.  This module holds
the math, on plain numbers:

- :func:`summarize` and :func:`provenance`: the observations of one calculator input become its
  low, base and high (a stated percentile rule, :data:`DEFAULT_RULE` = P25/P50/P75) and a source
  text that says where they came from ("6 field value assessments and 3 surveys at 9 customers,
  2026-Q2–Q3, P25/P50/P75");
- :func:`driver_weights` (``CVP_DRIVER_WEIGHTS``): survey importance ratings, one row per
  respondent and one column per value driver, become weights that sum to 100 per respondent,
  averaged over respondents (:func:`segment_weights`: per segment, with the spread);
- :func:`pilot_interval` and :func:`pilot_lift` (``CVP_PILOT_LIFT``): baseline against pilot
  measurements of a value element give the lift (mean pilot - mean baseline) and its confidence
  interval by Welch's t (unpaired) or the paired t.

Percentiles are Excel's ``PERCENTILE.INC`` (numpy's default, linear between the order
statistics).  The t quantile is :func:`scipy.stats.t.ppf`, imported when an interval is first
computed (scipy is not loaded by ``import cvp_xl``; the core stays numpy and the standard
library at import).  The native translation of the interval does not use ``T.INV.2T``: Excel
truncates its degrees of freedom to a whole number (Microsoft's documentation of T.INV.2T: "If
deg_freedom is not an integer, it is truncated"), and LibreOffice 7.4 and the formulas engine do
the same (``T.INV.2T(0.05, 17.776)`` gives 2.10982, the quantile for 17 degrees of freedom, where
Welch's interval needs 2.10282).  It uses the identity ``t = SQRT(df * (1 / x - 1))`` with
``x = BETAINV(alpha, df / 2, 1 / 2)``, exact for fractional degrees of freedom (if T has the t
distribution with df degrees of freedom, df / (df + T^2) has the beta distribution with
parameters df / 2 and 1 / 2).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from cvp_xl.args import amount_text, describe, flat, number, same_length
from cvp_xl.errors import (
    CvpDivZeroError,
    CvpNumError,
    CvpValueError,
    CvpXlError,
    ErrorValue,
    error_for_code,
)

__all__ = [
    "METHODS",
    "DEFAULT_RULE",
    "RuleError",
    "parse_rule",
    "rule_text",
    "percentile",
    "Evidence",
    "summarize",
    "quarter",
    "period_text",
    "method_phrase",
    "provenance",
    "respondent_weights",
    "driver_weights",
    "driver_weights_native",
    "SegmentWeights",
    "segment_weights",
    "PilotLift",
    "pilot_interval",
    "pilot_lift",
    "pilot_lift_native",
    "DEFAULT_CONFIDENCE",
]

#: The methods of customer value research an observation may name (DOMAIN.md §3).
METHODS = ("field value assessment", "focus group", "survey", "customer's own data",
           "benchmark", "pilot")

#: How a count of observations of each method reads in a source text: (one, several).
_PHRASES = {
    "field value assessment": ("field value assessment", "field value assessments"),
    "focus group": ("focus group", "focus groups"),
    "survey": ("survey", "surveys"),
    "customer's own data": ("customer's own figure", "customers' own figures"),
    "benchmark": ("benchmark", "benchmarks"),
    "pilot": ("pilot", "pilots"),
}

#: Low, base and high of an input from its observations: the 25th, 50th and 75th percentiles.
DEFAULT_RULE = (25.0, 50.0, 75.0)

DEFAULT_CONFIDENCE = 0.95


class RuleError(CvpXlError, ValueError):
    """A percentile rule that cannot be used (``P10/P50/P90`` is one)."""


# -- evidence per input -------------------------------------------------------------------------

_RULE = re.compile(r"\s*[Pp]?\s*([0-9]+(?:\.[0-9]+)?)\s*")


def parse_rule(text: str) -> tuple[float, float, float]:
    """The percentiles for low, base and high from text such as ``P10/P50/P90`` or ``10/50/90``.

    Each is from 0 to 100, and low <= base <= high (the calculator needs low <= base <= high).

    >>> parse_rule("P10/P50/P90")
    (10.0, 50.0, 90.0)
    >>> parse_rule("P60/P50/P90")
    Traceback (most recent call last):
    ...
    cvp_xl.domain.research.RuleError: percentile rule 'P60/P50/P90': expected low <= base <= high
    """
    parts = str(text).split("/")
    matches = [_RULE.fullmatch(p) for p in parts]
    if len(parts) != 3 or not all(matches):
        raise RuleError(f"percentile rule {text!r}: expected three percentiles for low, base "
                        "and high, such as P25/P50/P75")
    rule = tuple(float(m.group(1)) for m in matches)
    if any(p > 100 for p in rule):
        raise RuleError(f"percentile rule {text!r}: percentiles are from 0 to 100")
    if not rule[0] <= rule[1] <= rule[2]:
        raise RuleError(f"percentile rule {text!r}: expected low <= base <= high")
    return rule  # type: ignore[return-value]


def rule_text(rule: Sequence[float]) -> str:
    """``P25/P50/P75`` for ``(25, 50, 75)``.

    >>> rule_text((10, 50, 92.5))
    'P10/P50/P92.5'
    """
    return "/".join(f"P{p:g}" for p in rule)


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0 to 100) of ``values``, as Excel's ``PERCENTILE.INC``.

    With the values sorted, ``h = (n - 1) * p / 100``; the result is ``x[floor(h)] + (h -
    floor(h)) * (x[floor(h) + 1] - x[floor(h)])`` (numpy's default, "linear").

    >>> percentile([1, 2, 3, 4], 25)
    1.75
    """
    if len(values) == 0:
        raise CvpValueError("values: no numbers to take a percentile of")
    return float(np.percentile(np.asarray(values, dtype=float), p))


@dataclass(frozen=True)
class Evidence:
    """What the observations of one input say: how many, from where and when, and the numbers.

    ``methods`` counts the observations of each method, in the order of :data:`METHODS`
    (methods with none are left out).
    """

    n: int
    customers: int
    methods: tuple[tuple[str, int], ...]
    first: dt.date
    last: dt.date
    rule: tuple[float, float, float]
    low: float
    base: float
    high: float
    median: float
    minimum: float
    maximum: float

    @property
    def spread(self) -> float:
        """``high - low``: the width of the range the rule gives."""
        return self.high - self.low


def summarize(values: Sequence[float], customers: Iterable[str], methods: Iterable[str],
              dates: Iterable[dt.date], rule: Sequence[float] = DEFAULT_RULE) -> Evidence:
    """The evidence of one input: low, base and high by ``rule``, and where they came from.

    Parameters
    ----------
    values : sequence of float
        The measured values of the input (one per observation, at least one).
    customers, methods, dates : iterables
        The customer, the method (one of :data:`METHODS`) and the date of each observation.
        Customers count once each, ignoring case and surrounding spaces.
    rule : (low, base, high) percentiles
        Default :data:`DEFAULT_RULE`, P25/P50/P75.

    Examples
    --------
    >>> e = summarize([20, 24, 30, 18], ["A", "B", "C", "a"], ["survey"] * 4,
    ...               [dt.date(2026, 5, 1)] * 4)
    >>> e.n, e.customers, e.low, e.base, e.high
    (4, 3, 19.5, 22.0, 25.5)
    """
    x = [float(v) for v in values]
    customers, methods, dates = list(customers), list(methods), list(dates)
    if not x:
        raise CvpValueError("values: no observations")
    same_length(("values", x), ("customers", customers), ("methods", methods),
                ("dates", dates))
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise CvpValueError(f"methods: expected one of {', '.join(METHODS)}, got {unknown[0]!r}")
    low, base, high = (percentile(x, p) for p in rule)
    counts = tuple((m, methods.count(m)) for m in METHODS if m in methods)
    return Evidence(
        n=len(x), customers=len({" ".join(c.split()).casefold() for c in customers}),
        methods=counts, first=min(dates), last=max(dates),
        rule=tuple(float(p) for p in rule),  # type: ignore[arg-type]
        low=low, base=base, high=high, median=percentile(x, 50), minimum=min(x), maximum=max(x))


def quarter(day: dt.date) -> str:
    """``2026-Q2`` for a date in April to June 2026."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def period_text(first: dt.date, last: dt.date) -> str:
    """The quarters from ``first`` to ``last``: ``2026-Q2``, ``2026-Q2–Q3``, ``2025-Q4–2026-Q1``.

    >>> period_text(dt.date(2026, 4, 2), dt.date(2026, 9, 30))
    '2026-Q2–Q3'
    """
    a, b = quarter(first), quarter(last)
    if a == b:
        return a
    if first.year == last.year:
        return f"{a}–{b[5:]}"
    return f"{a}–{b}"


def method_phrase(method: str, count: int) -> str:
    """``6 field value assessments``, ``1 survey``, ``3 customers' own figures``."""
    one, several = _PHRASES[method]
    return f"{count} {one if count == 1 else several}"


def provenance(evidence: Evidence) -> str:
    """The source text of an input set from research: methods, customers, quarters, rule.

    >>> e = Evidence(9, 9, (("field value assessment", 6), ("survey", 3)), dt.date(2026, 4, 2),
    ...              dt.date(2026, 9, 30), (25.0, 50.0, 75.0), 1, 2, 3, 2, 1, 3)
    >>> provenance(e)
    '6 field value assessments and 3 surveys at 9 customers, 2026-Q2–Q3, P25/P50/P75'
    """
    phrases = [method_phrase(m, c) for m, c in evidence.methods]
    methods = (phrases[0] if len(phrases) == 1
               else ", ".join(phrases[:-1]) + " and " + phrases[-1])
    k = evidence.customers
    return (f"{methods} at {k} customer{'s' * (k != 1)}, "
            f"{period_text(evidence.first, evidence.last)}, {rule_text(evidence.rule)}")


# -- value drivers and importance -------------------------------------------------------------


def _rows(value, name: str) -> list[list]:
    """A range as rows of cells (a single cell is one row of one)."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        return [[value]]
    if value and not isinstance(value[0], (list, tuple, np.ndarray)):
        return [list(value)]
    rows = [list(r) for r in value]
    if not rows or any(len(r) != len(rows[0]) for r in rows):
        raise CvpValueError(f"{name}: expected a rectangular range of ratings")
    return rows


def respondent_weights(ratings) -> np.ndarray:
    """Each respondent's (row's) ratings rescaled to sum to 100: ``100 * r_ij / sum_j r_ij``.

    Ratings are importance ratings on any scale (1 to 10, a constant sum of 100, ...), 0 or
    more; every cell must hold one (a blank is not 0: ask the respondent, or enter 0).  A row
    that sums to 0 cannot be rescaled (``#DIV/0!``).

    >>> respondent_weights([[8, 6, 4, 2]])
    array([[40., 30., 20., 10.]])
    """
    rows = _rows(ratings, "ratings")
    width = len(rows[0])
    out = np.empty((len(rows), width))
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            where = f"ratings (row {i + 1}, column {j + 1})"
            if v is None or (isinstance(v, str) and not v.strip()):
                raise CvpValueError(f"{where}: expected a rating, got a blank cell; rate every "
                                    "driver (0 for no importance)")
            x = number(v, where)
            if x < 0:
                raise CvpNumError(f"{where}: expected a rating of 0 or more, got "
                                  f"{amount_text(x)}")
            out[i, j] = x
        total = out[i].sum()
        if total == 0:
            raise CvpDivZeroError(f"ratings (row {i + 1}): every rating is 0; weights are "
                                  "rescaled to sum to 100, so at least one must be above 0")
        out[i] = 100 * out[i] / total
    return out


def driver_weights(ratings) -> np.ndarray:
    """Importance weights of value drivers from survey ratings (Gale's weights, summing to 100).

    Each respondent's ratings (one row; one column per driver) are rescaled to sum to 100
    (:func:`respondent_weights`), then averaged over respondents:

        w_j = (1 / n) * sum_i 100 * r_ij / sum_k r_ik

    so every respondent counts the same whatever scale they used.  The result is one row of
    weights, one per driver, that sums to 100: the ``weights`` of ``CVP_VALUE_MAP``.

    Parameters
    ----------
    ratings : range
        One row per respondent, one column per driver; numbers 0 or more, no blanks.

    Returns
    -------
    numpy.ndarray
        A 1 x m array (a row of the spreadsheet).

    Examples
    --------
    >>> driver_weights([[8, 6, 4, 2], [10, 10, 5, 5], [3, 3, 3, 1]]).round(3)
    array([[34.444, 31.111, 22.222, 12.222]])
    """
    return respondent_weights(ratings).mean(axis=0, keepdims=True)


def driver_weights_native(ratings: str) -> str:
    """``CVP_DRIVER_WEIGHTS`` in native Excel (an array formula over one row of cells).

    ``MMULT(R, TRANSPOSE(COLUMN(R)^0))`` is the column of row sums; ``MMULT(TRANSPOSE(1 / row
    sums), R)`` adds each respondent's share of each driver.

    >>> driver_weights_native("B2:E9")
    '100*MMULT(TRANSPOSE(1/MMULT(B2:E9,TRANSPOSE(COLUMN(B2:E9)^0))),B2:E9)/ROWS(B2:E9)'
    """
    r = ratings
    return f"100*MMULT(TRANSPOSE(1/MMULT({r},TRANSPOSE(COLUMN({r})^0))),{r})/ROWS({r})"


@dataclass(frozen=True)
class SegmentWeights:
    """The driver weights of one segment: respondents, mean weight and its spread per driver.

    ``spread`` is the sample standard deviation of the respondents' weights (``NaN`` with one
    respondent).
    """

    segment: str
    n: int
    weights: tuple[float, ...]
    spread: tuple[float, ...]


def segment_weights(ratings, segments: Sequence[str]) -> list[SegmentWeights]:
    """Driver weights per segment (in order of first appearance), then for all respondents.

    Segments compare ignoring case and surrounding spaces; the last item is ``"All"``.

    >>> [(s.segment, s.n, s.weights) for s in segment_weights([[1, 1], [3, 1]], ["A", "B"])]
    [('A', 1, (50.0, 50.0)), ('B', 1, (75.0, 25.0)), ('All', 2, (62.5, 37.5))]
    """
    w = respondent_weights(ratings)
    if len(segments) != len(w):
        raise CvpValueError(f"segments has {len(segments)} items but ratings has {len(w)} rows")
    order: dict[str, str] = {}
    keys = []
    for s in segments:
        key = " ".join(str(s).split()).casefold()
        order.setdefault(key, " ".join(str(s).split()))
        keys.append(key)
    out = []
    for key, shown in [*order.items(), (None, "All")]:
        rows = w if key is None else w[[k == key for k in keys]]
        spread = rows.std(axis=0, ddof=1) if len(rows) > 1 else np.full(w.shape[1], np.nan)
        out.append(SegmentWeights(shown, len(rows), tuple(rows.mean(axis=0).tolist()),
                                  tuple(spread.tolist())))
    return out


# -- pilot projects ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PilotLift:
    """A pilot's lift over its baseline, with the pieces of its confidence interval.

    ``lift = mean_pilot - mean_baseline``; the interval is ``lift -/+ t * se`` with ``t`` the
    two-sided quantile of the t distribution with ``df`` degrees of freedom.  Paired:
    ``se = sd(pilot - baseline) / sqrt(n)``, ``df = n - 1``.  Unpaired (Welch):
    ``se = sqrt(v_b / n_b + v_p / n_p)`` and ``df = se^4 / ((v_b / n_b)^2 / (n_b - 1) +
    (v_p / n_p)^2 / (n_p - 1))`` (Welch–Satterthwaite), ``v`` the sample variances.
    """

    lift: float
    low: float
    high: float
    se: float
    df: float
    t: float
    n_baseline: int
    n_pilot: int
    mean_baseline: float
    mean_pilot: float
    sd_baseline: float
    sd_pilot: float
    paired: bool
    confidence: float


def _paired_flag(paired) -> bool:
    if paired is None or (isinstance(paired, str) and paired == ""):
        return False
    if isinstance(paired, ErrorValue):
        raise error_for_code(paired.code, f"paired: the input is the error {paired.code}")
    if isinstance(paired, (bool, np.bool_)):
        return bool(paired)
    raise CvpValueError(f"paired: expected TRUE or FALSE, got {describe(paired)}")


def _confidence(confidence) -> float:
    if confidence is None or (isinstance(confidence, str) and confidence == ""):
        return DEFAULT_CONFIDENCE
    c = number(confidence, "confidence")
    if not 0 < c < 1:
        raise CvpNumError(f"confidence: expected a level between 0 and 1 (0.95 for 95 %), "
                          f"got {amount_text(c)}")
    return c


def _measurements(value, name: str) -> list[float | None]:
    cells = flat(value)
    return [None if v is None else number(v, name, i if len(cells) > 1 else None)
            for i, v in enumerate(cells, start=1)]


def _t_quantile(confidence: float, df: float) -> float:
    from scipy import stats  # a library's t distribution, loaded on first use

    return float(stats.t.ppf(1 - (1 - confidence) / 2, df))


def _sd(x: np.ndarray) -> float:
    return float(x.std(ddof=1))


def pilot_interval(baseline, pilot, paired=False, confidence=None) -> PilotLift:
    """The lift of a pilot over its baseline and its confidence interval, with the workings.

    Parameters
    ----------
    baseline : range
        Measurements of the value element without the offering (before the pilot, or at the
        sites without it).  Blank cells are skipped.
    pilot : range
        Measurements of the same element with the offering, in the same unit.
    paired : bool, optional
        True when each pilot measurement belongs with the baseline measurement in the same
        position (the same line, site or week): the paired t interval on the differences.
        Both ranges then have the same number of cells, and a pair is either complete or
        blank on both sides.  Default False: Welch's interval for unequal variances.
    confidence : number, optional
        The confidence level, between 0 and 1; default 0.95.

    Returns
    -------
    PilotLift

    Examples
    --------
    Student's sleep data (R's ``sleep``; Student 1908), drug 1 as the baseline and drug 2 as the
    pilot; R's ``t.test(extra ~ group, data = sleep)`` prints df = 17.776 and the interval
    -3.3654832 to 0.2054832 for group 1 - group 2:

    >>> g1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
    >>> g2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
    >>> r = pilot_interval(g1, g2)
    >>> round(r.lift, 2), round(r.df, 3), round(r.low, 7), round(r.high, 7)
    (1.58, 17.776, -0.2054832, 3.3654832)
    """
    is_paired = _paired_flag(paired)
    c = _confidence(confidence)
    b_cells, p_cells = _measurements(baseline, "baseline"), _measurements(pilot, "pilot")
    if is_paired:
        if len(b_cells) != len(p_cells):
            raise CvpValueError(
                f"paired: baseline has {len(b_cells)} cells but pilot has {len(p_cells)}; "
                "each pilot measurement needs the baseline measurement it is paired with")
        for i, (b, p) in enumerate(zip(b_cells, p_cells), start=1):
            if (b is None) != (p is None):
                blank, other = ("baseline", "pilot") if b is None else ("pilot", "baseline")
                raise CvpValueError(
                    f"{blank} (item {i}): is blank but {other} (item {i}) has a measurement; "
                    "a paired measurement needs both")
    b = np.array([v for v in b_cells if v is not None])
    p = np.array([v for v in p_cells if v is not None])
    what = "pairs" if is_paired else "measurements"
    for name, x in (("baseline", b), ("pilot", p)):
        if len(x) < 2:
            raise CvpDivZeroError(f"{name}: needs at least 2 {what} to estimate a spread, "
                                  f"got {len(x)}")
    mb, mp = float(b.mean()), float(p.mean())
    lift = mp - mb
    if is_paired:
        n = len(p)
        se = _sd(p - b) / math.sqrt(n)
        df = float(n - 1)
    else:
        ub, up = _sd(b) ** 2 / len(b), _sd(p) ** 2 / len(p)
        if ub + up == 0:
            raise CvpDivZeroError("baseline and pilot: every measurement of each is the same; "
                                  "Welch's interval needs a spread in at least one of them")
        se = math.sqrt(ub + up)
        df = (ub + up) ** 2 / (ub ** 2 / (len(b) - 1) + up ** 2 / (len(p) - 1))
    t = _t_quantile(c, df)
    return PilotLift(lift=lift, low=lift - t * se, high=lift + t * se, se=se, df=df, t=t,
                     n_baseline=len(b), n_pilot=len(p), mean_baseline=mb, mean_pilot=mp,
                     sd_baseline=_sd(b), sd_pilot=_sd(p), paired=is_paired, confidence=c)


def pilot_lift(baseline, pilot, paired=None, confidence=None) -> list[list[float]]:
    """``CVP_PILOT_LIFT``: the lift and its confidence interval as one row: lift, low, high.

    See :func:`pilot_interval` for the arguments and the formulas.

    >>> pilot_lift([5, 7, 6, 8], [3, 4, 2, 3], True)[0][0]
    -3.5
    """
    r = pilot_interval(baseline, pilot, paired, confidence)
    return [[r.lift, r.low, r.high]]


def _omitted(expr: str | None) -> bool:
    return expr is None or expr.strip() in ("", "()")


def pilot_lift_native(baseline: str, pilot: str, paired: str | None = None,
                      confidence: str | None = None) -> str:
    """``CVP_PILOT_LIFT`` in native Excel: a row of three cells, lift, low and high.

    Means by ``AVERAGE``, counts by ``COUNT`` (both skip blank cells), variances by
    ``SUMPRODUCT(ISNUMBER(x) * (x - AVERAGE(x))^2) / (COUNT(x) - 1)``, the t quantile by
    ``SQRT(df * (1 / BETAINV(1 - confidence, df / 2, 0.5) - 1))`` (see the module's notes on
    ``T.INV.2T``), and the row as ``lift + {0,-1,1} * t * se``.

    >>> pilot_lift_native("A1:A5", "B1:B5")[:40]
    'AVERAGE(B1:B5)-AVERAGE(A1:A5)+{0,-1,1}*S'
    """
    b, p = baseline, pilot
    c = "0.95" if _omitted(confidence) else f"IF(ISBLANK({confidence}),0.95,{confidence})"
    nb, np_ = f"COUNT({b})", f"COUNT({p})"
    mb, mp = f"AVERAGE({b})", f"AVERAGE({p})"
    ub = f"SUMPRODUCT(ISNUMBER({b})*({b}-{mb})^2)/({nb}-1)/{nb}"
    up = f"SUMPRODUCT(ISNUMBER({p})*({p}-{mp})^2)/({np_}-1)/{np_}"
    se2 = f"({ub}+{up})"
    df = f"{se2}^2/(({ub})^2/({nb}-1)+({up})^2/({np_}-1))"
    if not _omitted(paired):
        se2_paired = f"SUMPRODUCT(ISNUMBER({p})*({p}-{b}-({mp}-{mb}))^2)/({np_}-1)/{np_}"
        se2 = f"IF({paired},{se2_paired},{se2})"
        df = f"IF({paired},{np_}-1,{df})"
    t = f"SQRT(({df})*(1/BETAINV(1-{c},({df})/2,0.5)-1))"
    return f"{mp}-{mb}+{{0,-1,1}}*{t}*SQRT({se2})"
