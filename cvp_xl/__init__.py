"""cvp-xl: customer value propositions in Excel.

The public API: the math of value, the registry of spreadsheet functions,
the errors, and the headless recalculation path.
"""

from ._version import __version__
from .errors import (
    CvpDivZeroError,
    CvpError,
    CvpNAError,
    CvpNameError,
    CvpNumError,
    CvpValueError,
    WorkbookError,
)
from .recalc import recalc
from .registry import functions, get
from .value import breakeven_price, differential, incentive, next_best, payback, roi

__all__ = [
    "__version__",
    "CvpError",
    "CvpValueError",
    "CvpDivZeroError",
    "CvpNumError",
    "CvpNAError",
    "CvpNameError",
    "WorkbookError",
    "differential",
    "incentive",
    "next_best",
    "breakeven_price",
    "roi",
    "payback",
    "functions",
    "get",
    "recalc",
]
