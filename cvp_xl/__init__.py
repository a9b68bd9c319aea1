"""cvp-xl: customer value propositions in Excel.

The public API: the math of value, pricing and documentation; value word
equations; the registry of spreadsheet functions; the errors; the headless
recalculation path.  Calculators, batch jobs and workbook builders live in
their own modules (``cvp_xl.calculator``, ``cvp_xl.batch``,
``cvp_xl.workbooks``, ``cvp_xl.cases``).
"""

from ._version import __version__
from .documentation import case_stats, realization
from .errors import (
    CvpDivZeroError,
    CvpError,
    CvpNAError,
    CvpNameError,
    CvpNumError,
    CvpValueError,
    WorkbookError,
)
from .pricing import (
    eve,
    fair_value_gap,
    point_type,
    price_for_share,
    price_range,
    reference_value,
    relative_price,
    resonating_focus,
    value_capture,
    value_map,
)
from .recalc import recalc
from .registry import functions, get
from .share import share
from .value import breakeven_price, differential, incentive, next_best, payback, roi

__all__ = [
    "__version__",
    # errors
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
