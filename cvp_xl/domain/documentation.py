"""Documenting value after the sale: realization and case-history statistics.

Definitions follow DOMAIN.md §4 (value case histories) and §5 (customer value
management: track, per customer and period, the value promised against the
value documented with the customer; ``realization = documented / promised``).
Every function takes numbers or ranges (lists of lists, numpy arrays) and
raises a :class:`~cvp_xl.errors.CvpError` that names the argument on bad input.
"""

from __future__ import annotations

import math

import numpy as np

from cvp_xl.args import broadcast, describe, flat, number, same_length, shape_text
from cvp_xl.errors import (
    CvpDivZeroError,
    CvpNAError,
    CvpNumError,
    CvpValueError,
    ErrorValue,
    error_for_code,
)

__all__ = ["realization", "case_stats", "STATISTICS"]

#: The statistics :func:`case_stats` computes, in the order its native formula lists them.
STATISTICS = ("count", "mean", "median", "min", "max")


def realization(documented, promised):
    """Value realization: the share of the promised value that was documented.

    ``realization = documented / promised``  (DOMAIN.md §5)

    A promised value of 0 gives ``#DIV/0!``.  A negative promised value is
    refused with ``#NUM!``: a value proposition promises a gain, and dividing
    by a negative promise would turn a shortfall into a "realization" with the
    wrong sign.  A negative documented value (the customer lost value) is
    allowed and gives a negative realization.  Ranges of one shape are
    computed element by element; a single number is used for every element.

    Parameters
    ----------
    documented : number or range
        Value documented with the customer for the period, in money.
    promised : number or range
        Value promised for the same period (from the value calculator), 0 or more.

    Examples
    --------
    >>> realization(45_000, 60_000)
    0.75
    >>> realization([[30_000], [66_000]], 60_000)
    array([[0.5],
           [1.1]])
    """
    (d, p), shape = broadcast(documented=documented, promised=promised)
    p_arr = np.atleast_1d(p)
    negative = p_arr[p_arr < 0]
    if negative.size:
        raise CvpNumError(
            f"promised: expected a promised value of 0 or more, got {negative[0]:.15g}"
        )
    if np.any(p_arr == 0):
        raise CvpDivZeroError(
            "promised: is 0; realization = documented / promised needs a promised value above 0"
        )
    result = d / p
    return float(result) if shape is None else result


def _statistic(statistic) -> str:
    """The statistic's name in lower case; a blank cell or omitted argument means the mean."""
    if statistic is None or (isinstance(statistic, str) and statistic == ""):
        return "mean"
    if isinstance(statistic, ErrorValue):
        raise error_for_code(statistic.code, f"statistic: the input is the error {statistic.code}")
    if isinstance(statistic, str) and statistic.lower() in STATISTICS:
        return statistic.lower()
    raise CvpValueError(
        f"statistic: expected one of {', '.join(STATISTICS)}, got {describe(statistic)}"
    )


def _shape(value) -> tuple | None:
    """The 2-D shape of a range argument, None for a single cell."""
    if not isinstance(value, (list, tuple, np.ndarray)):
        return None
    arr = np.asarray(value, dtype=object)
    if arr.size == 1:
        return None
    return arr.shape if arr.ndim == 2 else (1, arr.size) if arr.ndim == 1 else arr.shape


def _segment_key(value, name: str, item: int | None = None):
    """How a segment cell compares: text ignoring case (as Excel's ``=`` does), numbers by value."""
    if isinstance(value, ErrorValue):
        where = name if item is None else f"{name} (item {item})"
        raise error_for_code(value.code, f"{where}: the input is the error {value.code}")
    if value is None or (isinstance(value, str) and value == ""):
        return None
    if isinstance(value, str):
        return ("text", value.lower())
    if isinstance(value, (bool, np.bool_)):
        return ("bool", bool(value))
    return ("number", float(value))


def case_stats(values, segments=None, segment=None, statistic=None):
    """A statistic of documented values from case histories, optionally within one segment.

    ``statistic`` is one of ``count``, ``mean`` (the default), ``median``,
    ``min``, ``max`` (upper or lower case).  Blank cells in ``values`` are
    skipped, as Excel's AVERAGE skips them; text in ``values`` is an error
    (``#VALUE!``), not skipped, so that a figure typed as text is not
    silently left out.  With ``segments`` (one segment per value, a range of
    the same shape) and ``segment``, only the values whose segment equals
    ``segment`` count; segments compare as Excel's ``=`` compares them, so
    text ignores case.

    When no value is left to describe the result is ``#N/A`` naming the
    segment, for ``count`` too: a misspelt segment must not read as a
    segment with no cases.  The median of an even number of values is the
    mean of the two middle ones.

    Parameters
    ----------
    values : range
        Documented values (documented value per year of each case).
    segments : range, optional
        The segment of each value, in the same shape as ``values``.
    segment : text, optional
        The segment to describe; needs ``segments``.
    statistic : text, optional
        ``count``, ``mean``, ``median``, ``min`` or ``max``; default ``mean``.

    Examples
    --------
    >>> case_stats([[52000], [None], [31000], [18500], [40000]])
    35375.0
    >>> case_stats([[52000], [31000], [18500]], [["Food"], ["Metals"], ["food"]], "FOOD",
    ...            "median")
    35250.0
    """
    stat = _statistic(statistic)
    cells = flat(values)
    numbers: list[float | None] = []
    for i, v in enumerate(cells, start=1):
        numbers.append(None if v is None else number(v, "values", i if len(cells) > 1 else None))
    if segments is None or (_shape(segments) is None and flat(segments) == [None]):
        if segment is not None and not (isinstance(segment, str) and segment == ""):
            raise CvpValueError(
                "segments: expected the segment of each value (needed with segment), "
                "got a blank cell"
            )
        selected = [x for x in numbers if x is not None]
        if not selected:
            raise CvpNAError("values: no numbers to describe (every cell is blank)")
    else:
        segs = flat(segments)
        same_length(("values", cells), ("segments", segs))
        if _shape(values) != _shape(segments):
            raise CvpValueError(
                f"segments: a range of {shape_text(_shape(segments) or (1, 1))} does not match "
                f"values ({shape_text(_shape(values) or (1, 1))})"
            )
        if isinstance(segment, (list, tuple, np.ndarray)):
            items = flat(segment)
            if len(items) != 1:
                raise CvpValueError(
                    f"segment: expected a single segment name, got a range of {len(items)} cells"
                )
            segment = items[0]
        wanted = _segment_key(segment, "segment")
        if wanted is None:
            raise CvpValueError("segment: expected a segment name, got a blank cell")
        keys = [_segment_key(s, "segments", i) for i, s in enumerate(segs, start=1)]
        selected = [x for x, k in zip(numbers, keys) if k == wanted and x is not None]
        if not selected:
            raise CvpNAError(f"no values in segment {describe(segment)}")
    return _describe_numbers(selected, stat)


def _describe_numbers(selected: list[float], stat: str) -> float:
    n = len(selected)
    if stat == "count":
        return float(n)
    if stat == "mean":
        return math.fsum(selected) / n
    ordered = sorted(selected)
    if stat == "min":
        return ordered[0]
    if stat == "max":
        return ordered[-1]
    # median: the middle value, or the mean of the two middle values (as the native formula)
    return (ordered[(n + 1) // 2 - 1] + ordered[n // 2]) / 2
