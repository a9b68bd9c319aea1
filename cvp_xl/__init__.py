"""cvp-xl: customer value propositions in Excel.

The public API: the math of value, pricing and documentation; the registry of
spreadsheet functions; the errors; the headless recalculation path.  Importing
``cvp_xl`` loads numpy and the standard library only: ``recalc`` and ``share``
(which need openpyxl, lxml and the formulas engine) load on first use.
Value word equations are ``cvp_xl.wordeq``; workbook builders
``cvp_xl.workbooks``; batch jobs and commands ``cvp_xl.commands``.
"""

from cvp_xl._version import __version__
from cvp_xl.domain.documentation import case_stats, realization
from cvp_xl.domain.positioning import (
    fair_value_gap,
    point_type,
    relative_price,
    resonating_focus,
    value_map,
)
from cvp_xl.domain.pricing import eve, price_for_share, price_range, reference_value, value_capture
from cvp_xl.domain.value import breakeven_price, differential, incentive, next_best, payback, roi
from cvp_xl.errors import (
    CvpDivZeroError,
    CvpError,
    CvpNAError,
    CvpNameError,
    CvpNumError,
    CvpValueError,
    CvpXlError,
    ErrorValue,
    SpecError,
    WorkbookError,
)
from cvp_xl.registry import functions, get

__all__ = [
    "__version__",
    # errors
    "CvpXlError",
    "SpecError",
    "ErrorValue",
    "CvpError",
    "CvpValueError",
    "CvpDivZeroError",
    "CvpNumError",
    "CvpNAError",
    "CvpNameError",
    "WorkbookError",
    # the fundamental value equation
    "differential",
    "incentive",
    "next_best",
    "breakeven_price",
    "roi",
    "payback",
    # pricing and positioning
    "reference_value",
    "eve",
    "price_range",
    "value_capture",
    "price_for_share",
    "point_type",
    "resonating_focus",
    "value_map",
    "relative_price",
    "fair_value_gap",
    # documentation
    "realization",
    "case_stats",
    # the registry and the headless path
    "functions",
    "get",
    "recalc",
    "share",
]


def __getattr__(name: str):
    """``recalc`` and ``share`` load the file and engine layers only when first used."""
    if name == "recalc":
        from cvp_xl.commands.recalc import recalc

        return recalc
    if name == "share":
        from cvp_xl.commands.share import share

        return share
    raise AttributeError(f"module 'cvp_xl' has no attribute {name!r}")
