"""Shared test helpers: LibreOffice availability and comparison with a tolerance."""

from __future__ import annotations

import math

import pytest

from cvp_xl.hosts.libreoffice import find_soffice

NO_LIBREOFFICE = "LibreOffice (soffice) not found; install Debian's libreoffice-calc-nogui"

requires_libreoffice = pytest.mark.skipif(find_soffice() is None, reason=NO_LIBREOFFICE)


def close(actual, expected, rel=1e-9) -> bool:
    """Equal within ``rel`` relative (absolute 1e-12 around zero); other types exactly."""
    if isinstance(expected, float) or isinstance(actual, float):
        if isinstance(actual, bool) or isinstance(expected, bool):
            return actual == expected
        try:
            a, e = float(actual), float(expected)
        except (TypeError, ValueError):
            return False
        return math.isclose(a, e, rel_tol=rel, abs_tol=1e-12)
    return actual == expected


#: A small calculator spec (one input with a range, three without, one value element) that
#: spec tests change line by line.
SMALL_SPEC = """\
name: Test calculator
currency: USD
offering:
  name: Ours
  one_time: 100
  recurring: 10
alternatives:
  - name: Theirs
    recurring: 5
horizon_years: 3
discount_rate: 8%
inputs:
  - name: Stops per year with theirs
    unit: stops/year
    base: 10
    low: 8
    high: 12
    min: 0
  - name: Stops per year with ours
    unit: stops/year
    base: 4
  - name: Cost per hour of downtime
    unit: USD/hour
    base: 500
  - name: Hours per stop
    unit: hours/stop
    base: 2
value_elements:
  - name: Downtime avoided
    category: economic
    equation: >
      (Stops per year with theirs - Stops per year with ours)
      × Hours per stop × Cost per hour of downtime
"""
