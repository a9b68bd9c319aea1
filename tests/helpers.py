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
