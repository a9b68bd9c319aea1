"""Excel functions the ``formulas`` engine lacks or gets wrong, registered with it.

Registered the way the ``CVP_*`` functions are (:func:`register_excel_functions` puts them in
``formulas.get_functions()``), each checked against LibreOffice and against values Excel stored
(``tests/hosts/test_excel_functions.py``):

- ``SUBTOTAL`` and ``AGGREGATE`` (missing in formulas 1.3.4): they skip cells that hold a
  SUBTOTAL or AGGREGATE formula themselves, and hidden rows where the function number or option
  asks for it, as Excel does.  They need to know which cells those are: the recalculation
  sets them with :func:`sheet_facts` while the engine runs.
- ``RANDBETWEEN``: formulas returns ``bottom + (top - bottom) * rand()``, a fraction; Excel
  returns a whole number.
- ``N``: formulas returns TRUE as TRUE; Excel's ``N(TRUE)`` is 1.
- ``MAP`` and ``SCAN``: formulas builds their result with ``np.asarray(out)``, which turns a
  mix of numbers and errors into text (``'-1.0'``, ``'#DIV/0!'``); here the result keeps its
  types, so an error is an error cell.
- the base conversions ``DEC2BIN`` ... ``HEX2OCT``: formulas 1.3.4 refuses ``places`` past
  its own length limit, reads text where Excel wants a number and gives no two's complement
  range checks; these follow Excel's documented rules (10 digits, two's complement for
  negative numbers, ``places`` up to 10).
- ``VDB``: formulas 1.3.4 gets partial periods wrong.  Whole periods follow the
  declining-balance schedule with the switch to straight-line (as LibreOffice's ``ScVDB``);
  for a fractional start Excel steps on a grid aligned with the start, which neither
  LibreOffice nor formulas does (Excel 0.0707, LibreOffice 0.0714 for
  ``VDB(1,0,14,2.5,3.5,1.25)``): :func:`_vdb` does as Excel does (its docstring says how).
- an array formula over an area smaller than its result: formulas fills it with #VALUE!,
  Excel shows the top-left part of the result (patched, :func:`_patch_array_areas`).
- ``INDEX`` with a row or column of 0 (the whole column or row; formulas 1.3.4 returns the
  first cell only), keeping a reference a reference so ``SUM(INDEX(A1:B3,0,1))`` adds the
  column; and ``OFFSET``, which formulas 1.3.4 lacks (it reads the constants of the workbook,
  :func:`book_cells`; an OFFSET landing on a formula cell is not recomputed).
- a one-cell formula whose result is a range (``=A1:A3`` in B2, ``=T[Col]``): Excel's
  implicit intersection picks the cell in the formula's row or column; formulas 1.3.4 gives
  #VALUE! (patched, :func:`_patch_implicit_intersection`).
- text dates outside 1900-9999 (``YEAR("7/5/1800")``): formulas reads them as dates; Excel
  gives #VALUE!.  Patched in ``formulas.functions.date._text2datetime``.
- the date functions in a workbook that uses the 1904 date system, under the names
  ``_CVPXL1904.<NAME>`` (the recalculation renames the calls in such a workbook): the engine
  counts days from 1899-12-30; these shift serial numbers by 1,462 days on the way in and out,
  for the securities functions (COUPNCD, PRICE, YIELD, ...) too; TEXT shifts a number it
  shows with a date format, VALUE a text it reads as a date.
- ``TEXT`` with a date or time format: one-letter codes lose no zero (``m`` of October is
  10), AM/PM gives a 12-hour clock, fractional seconds are rounded to the digits shown
  (:func:`_format_datetime`); an elapsed-time format (``[h]:mm``) is not recomputed.
- the complex-number functions (``IMLN``, ``IMEXP``, ``COMPLEX``, ...): formulas writes
  each part with Python's 17 digits; Excel writes 15 significant digits
  (:func:`_complex_text`).
- ``VALUE`` of a time alone (``VALUE("12:00")``): formulas adds January 1 of the current
  year; Excel gives 0.5.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import math
import re
import threading

import numpy as np

__all__ = [
    "register_excel_functions", "sheet_facts", "book_cells", "DATE_SHIFT_1904",
    "DATE_FUNCTIONS_1904", "UNSUPPORTED_CODE", "INTERSECT_CODE",
    "UNSUPPORTED_1904", "VOLATILE",
]

#: Days between the 1900 system's day 0 (1899-12-30) and the 1904 system's (1904-01-01).
DATE_SHIFT_1904 = 1462

#: Functions whose result changes on every recalculation (Excel recomputes them every time).
VOLATILE = frozenset({
    "RAND", "RANDBETWEEN", "NOW", "TODAY", "OFFSET", "INDIRECT", "INFO", "CELL",
    "_XLFN.RANDARRAY", "RANDARRAY",
})

#: Date functions wrapped for the 1904 system: {name: (arguments that are dates, "all" for
#: every argument, and whether the result is a date)}.
DATE_FUNCTIONS_1904 = {
    "DATE": ((), True), "DATEVALUE": ((), True), "NOW": ((), True), "TODAY": ((), True),
    "DAY": ((0,), False), "MONTH": ((0,), False), "YEAR": ((0,), False),
    "WEEKDAY": ((0,), False), "WEEKNUM": ((0,), False), "ISOWEEKNUM": ((0,), False),
    "_XLFN.ISOWEEKNUM": ((0,), False),
    "EDATE": ((0,), True), "EOMONTH": ((0,), True), "DATEDIF": ((0, 1), False),
    "YEARFRAC": ((0, 1), False), "DAYS": ((0, 1), False), "_XLFN.DAYS": ((0, 1), False),
    "DAYS360": ((0, 1), False), "_XLFN.DAYS360": ((0, 1), False),
    "NETWORKDAYS": ((0, 1, 2), False), "NETWORKDAYS.INTL": ((0, 1, 3), False),
    "WORKDAY": ((0, 2), True), "WORKDAY.INTL": ((0, 3), True),
    # the securities and depreciation functions: their dates are settlement, maturity, issue,
    # first or last coupon, purchase; COUPNCD and COUPPCD return a date
    "ACCRINT": ((0, 1, 2), False), "ACCRINTM": ((0, 1), False),
    "AMORDEGRC": ((1, 2), False), "AMORLINC": ((1, 2), False),
    "COUPDAYBS": ((0, 1), False), "COUPDAYS": ((0, 1), False), "COUPDAYSNC": ((0, 1), False),
    "COUPNCD": ((0, 1), True), "COUPNUM": ((0, 1), False), "COUPPCD": ((0, 1), True),
    "DISC": ((0, 1), False), "DURATION": ((0, 1), False), "INTRATE": ((0, 1), False),
    "MDURATION": ((0, 1), False), "ODDFPRICE": ((0, 1, 2, 3), False),
    "ODDFYIELD": ((0, 1, 2, 3), False), "ODDLPRICE": ((0, 1, 2), False),
    "ODDLYIELD": ((0, 1, 2), False), "PRICE": ((0, 1), False), "PRICEDISC": ((0, 1), False),
    "PRICEMAT": ((0, 1, 2), False), "RECEIVED": ((0, 1), False), "TBILLEQ": ((0, 1), False),
    "TBILLPRICE": ((0, 1), False), "TBILLYIELD": ((0, 1), False), "YIELD": ((0, 1), False),
    "YIELDDISC": ((0, 1), False), "YIELDMAT": ((0, 1, 2), False),
    # a number formatted as a date, a text read as a date: see _text_1904 and _value_1904
    "TEXT": ((), False), "VALUE": ((), False),
}

#: Functions that read dates in ways the shifts here do not cover (none left since TEXT,
#: VALUE and the securities functions are shifted): in a 1904 workbook a call to one of them
#: is not recomputed (the stored value is kept and the cell named).
UNSUPPORTED_1904 = frozenset()

_lock = threading.Lock()


def _unsupported():
    from formulas.tokens.operand import XlError

    return XlError(UNSUPPORTED_CODE)


#: The code of the value a function returns for a case it cannot compute as Excel would: the
#: cell holding it (or a cell computed from it) is not recomputed and keeps its stored value.
UNSUPPORTED_CODE = "#CVPXL-UNSUPPORTED!"
#: The code of the value a one-cell formula gets when it computes several values where Excel
#: would take one of them by implicit intersection (``=A1:A3*2`` in B2 is A2*2 in Excel; the
#: engine computes the whole column): the cell is not recomputed and is named.
INTERSECT_CODE = "#CVPXL-INTERSECT!"
_done = False
_facts = threading.local()


@contextlib.contextmanager
def sheet_facts(subtotal_cells=frozenset(), hidden_rows=None, filtered=None):
    """Tell SUBTOTAL and AGGREGATE about the workbook being computed, while the block runs.

    Parameters
    ----------
    subtotal_cells : set of (SHEET, row, column)
        Cells holding a SUBTOTAL or AGGREGATE formula (sheet names upper case, as the engine
        spells them).
    hidden_rows : dict, optional
        ``{SHEET: set of row numbers}`` hidden in the file.
    filtered : dict, optional
        ``{SHEET: [(r1, c1, r2, c2), ...]}``: ranges under an AutoFilter, whose hidden rows are
        rows filtered out (skipped by every SUBTOTAL, not only 101-111).
    """
    saved = getattr(_facts, "value", None)
    _facts.value = (subtotal_cells, hidden_rows or {}, filtered or {})
    try:
        yield
    finally:
        _facts.value = saved


def _current():
    return getattr(_facts, "value", None) or (frozenset(), {}, {})


# -- SUBTOTAL and AGGREGATE ----------------------------------------------------------------


def _errors():
    from formulas.tokens.operand import Error

    return Error.errors


def _err(code):
    return _errors()[code]


class _Unsupported(Exception):
    pass


class _Fail(Exception):
    def __init__(self, code):
        self.code = code


def _is_error(v) -> bool:
    from formulas.tokens.operand import XlError

    return isinstance(v, XlError)


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(
        v, (bool, np.bool_))


def _scalar(arg):
    """One number from a function-number or option argument."""
    from formulas.ranges import Ranges

    if isinstance(arg, Ranges):
        arg = arg.value
    arr = np.asarray(arg, dtype=object).ravel()
    if arr.size != 1:
        raise _Fail("#VALUE!")
    return _truncated(arr[0])


def _truncated(v) -> int:
    """One value as a whole number, its fraction cut off as Excel does (TRUE is 1); an error
    value is passed on, text that is no number is ``#VALUE!`` (both as :class:`_Fail`)."""
    if _is_error(v):
        raise _Fail(str(v))
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    try:
        return math.trunc(float(v))
    except (TypeError, ValueError):
        raise _Fail("#VALUE!") from None


def _cells(arg, skip_hidden: bool, skip_nested: bool, need_reference: bool):
    """The values of one argument, with the cells Excel skips left out."""
    import schedula as sh
    from formulas.ranges import Ranges

    nested, hidden, filtered = _current()
    if not isinstance(arg, Ranges):
        if need_reference:
            raise _Fail("#VALUE!")
        return [v for v in np.asarray(arg, dtype=object).ravel() if v is not sh.EMPTY]
    values = np.asarray(arg.value, dtype=object)
    if values.ndim == 0:
        values = values.reshape(1, 1)
    out = []
    offset = 0
    for rng in arg.ranges:
        sheet = str(rng.get("sheet", "")).upper()
        r1, r2 = int(rng["r1"]), int(rng["r2"])
        c1, c2 = int(rng["n1"]), int(rng["n2"])
        rows_hidden = hidden.get(sheet, set())
        under_filter = filtered.get(sheet, ())
        width = c2 - c1 + 1
        block = values if len(arg.ranges) == 1 else None
        for i, r in enumerate(range(r1, r2 + 1)):
            if r in rows_hidden:
                in_filter = any(a <= r <= b for a, _, b, _ in under_filter)
                if skip_hidden or in_filter:
                    continue
            for j, c in enumerate(range(c1, c2 + 1)):
                if skip_nested and (sheet, r, c) in nested:
                    continue
                if block is not None:
                    if i >= block.shape[0] or j >= block.shape[1]:
                        continue
                    v = block[i, j]
                else:
                    flat = values.ravel()
                    k = offset + i * width + j
                    if k >= flat.size:
                        continue
                    v = flat[k]
                if v is not sh.EMPTY:
                    out.append(v)
        offset += (r2 - r1 + 1) * width
    return out


def _numbers(values, ignore_errors: bool):
    out = []
    for v in values:
        if _is_error(v):
            if ignore_errors:
                continue
            raise _Fail(str(v))
        if _is_number(v):
            out.append(float(v))
    return out


def _stat(fn: int, values, ignore_errors: bool, k=None):
    if fn == 3:  # COUNTA counts errors and text too
        return len(values)
    if fn == 2:
        return sum(1 for v in values if _is_number(v))
    xs = _numbers(values, ignore_errors)
    n = len(xs)
    if fn == 1:
        if not n:
            raise _Fail("#DIV/0!")
        return math.fsum(xs) / n
    if fn == 4:
        return max(xs) if xs else 0
    if fn == 5:
        return min(xs) if xs else 0
    if fn == 6:
        return math.prod(xs) if xs else 0
    if fn == 9:
        return math.fsum(xs)
    if fn in (7, 8, 10, 11):
        ddof = 1 if fn in (7, 10) else 0
        if n - ddof < 1:
            raise _Fail("#DIV/0!")
        var = float(np.var(np.asarray(xs), ddof=ddof))
        return math.sqrt(var) if fn in (7, 8) else var
    if fn == 12:
        if not n:
            raise _Fail("#NUM!")
        return float(np.median(xs))
    if fn == 13:
        counts = {}
        for x in xs:
            counts[x] = counts.get(x, 0) + 1
        best = max(counts.values(), default=0)
        if best < 2:
            raise _Fail("#N/A")
        return next(x for x in xs if counts[x] == best)
    return _array_stat(fn, sorted(xs), k)


def _array_stat(fn: int, xs, k):
    n = len(xs)
    if k is None or not n:
        raise _Fail("#NUM!" if k is not None else "#VALUE!")
    if fn in (14, 15):
        k = math.ceil(k - 1e-12) if not float(k).is_integer() else int(k)
        if not 1 <= k <= n:
            raise _Fail("#NUM!")
        return xs[n - k] if fn == 14 else xs[k - 1]
    if fn in (17, 19):
        q = math.trunc(k)
        if fn == 17 and not 0 <= q <= 4 or fn == 19 and not 1 <= q <= 3:
            raise _Fail("#NUM!")
        k, fn = q / 4, fn - 1
    if fn == 16:
        if not 0 <= k <= 1:
            raise _Fail("#NUM!")
        h = (n - 1) * k
    else:  # 18: PERCENTILE.EXC
        if not 1 / (n + 1) <= k <= n / (n + 1):
            raise _Fail("#NUM!")
        h = (n + 1) * k - 1
    lo = math.floor(h)
    if lo + 1 >= n:
        return xs[lo]
    return xs[lo] + (h - lo) * (xs[lo + 1] - xs[lo])


def _answer(fn):
    """Run `fn` and turn a _Fail or any defect into an error value: never a traceback."""

    @functools.wraps(fn)
    def call(*args):
        try:
            value = fn(*args)
        except _Fail as exc:
            return _err(exc.code)
        except Exception:  # a defect: an error value, never a traceback in the engine
            return _err("#VALUE!")
        if isinstance(value, float) and not math.isfinite(value):
            return _err("#NUM!")
        return value

    return call


@_answer
def xsubtotal(function_num, *refs):
    """Excel's SUBTOTAL: 1-11 keep manually hidden rows, 101-111 skip them."""
    fn = _scalar(function_num)
    if not (1 <= fn <= 11 or 101 <= fn <= 111) or not refs:
        raise _Fail("#VALUE!")
    values = []
    for ref in refs:
        values += _cells(ref, skip_hidden=fn > 100, skip_nested=True, need_reference=True)
    return _stat(fn % 100, values, ignore_errors=False)


@_answer
def xaggregate(function_num, options, *refs):
    """Excel's AGGREGATE, reference form (1-13) and array form (14-19)."""
    import schedula as sh

    fn = _scalar(function_num)
    opt = 0 if options is sh.EMPTY or options is None else _scalar(options)
    if not 1 <= fn <= 19 or not 0 <= opt <= 7 or not refs:
        raise _Fail("#VALUE!")
    skip_nested = opt in (0, 1, 2, 3)
    skip_hidden = opt in (1, 3, 5, 7)
    ignore_errors = opt in (2, 3, 6, 7)
    k = None
    if fn >= 14:
        if len(refs) != 2:
            raise _Fail("#VALUE!")
        refs, k = refs[:1], _k(refs[1])
    values = []
    for ref in refs:
        values += _cells(ref, skip_hidden, skip_nested, need_reference=False)
    return _stat(fn, values, ignore_errors, k)


def _k(arg) -> float:
    from formulas.ranges import Ranges

    if isinstance(arg, Ranges):
        arg = arg.value
    arr = np.asarray(arg, dtype=object).ravel()
    if arr.size != 1:
        raise _Fail("#VALUE!")
    v = arr[0]
    if _is_error(v):
        raise _Fail(str(v))
    try:
        return float(v)
    except (TypeError, ValueError):
        raise _Fail("#VALUE!") from None


# -- small fixes -----------------------------------------------------------------------------


def _randbetween(bottom, top):
    if isinstance(bottom, bool) or isinstance(top, bool):
        return _err("#VALUE!")
    low, high = math.ceil(bottom), math.floor(top)
    if high < low:
        return _err("#NUM!")
    return int(_rng.integers(low, high + 1))


_rng = np.random.default_rng()


def _n(value):
    import schedula as sh
    from formulas.functions import Array

    v = np.asarray(value, dtype=object).ravel()[0]
    if _is_error(v):
        return v
    if isinstance(v, (bool, np.bool_)):
        v = int(v)
    elif v is sh.EMPTY or not _is_number(v):
        v = 0
    return np.asarray([[v]], dtype=object).view(Array)


def _first(v):
    return v.ravel()[0] if isinstance(v, np.ndarray) else v


def _map(array, func, *arrays):
    from formulas.functions import Array, flatten

    if arrays:
        arrays = (func,) + arrays
        func = arrays[-1]
        arrays = arrays[:-1]
    array = np.atleast_2d(array)
    shape = array.shape
    arrays = [array] + [np.atleast_2d(v) for v in arrays]
    if not all(shape == v.shape for v in arrays):
        return np.asarray([[_err("#VALUE!")]], dtype=object).view(Array)
    out = [_first(func(*args)) for args in zip(*(flatten(v, None) for v in arrays))]
    return np.asarray(out, dtype=object).reshape(shape).view(Array)


def _scan(initial_value, array, func):
    from formulas.functions import Array, flatten, replace_empty

    array = np.atleast_2d(array)
    out = []
    acc = replace_empty(initial_value)
    for x in flatten(array, None):
        acc = func(acc, x)
        out.append(_first(acc))
    return np.asarray(out, dtype=object).reshape(array.shape).view(Array)


# -- VDB ---------------------------------------------------------------------------------


#: The most periods one VDB call steps through (a longer life is not recomputed).
VDB_MAX_PERIODS = 1_000_000


def _vdb(cost, salvage, life, start, end, factor=2.0, no_switch=False):
    """Excel's VDB: declining balance, switching to straight line, over any start and end.

    The asset is depreciated step by step on a grid aligned with `start`: a first step of
    length ``start - floor(start)`` (when that is not 0), then whole periods, the last one cut
    at `end`.  At the start of each step, with book value ``B`` at time ``t``, the declining
    balance gives ``min(B * factor / life, B - salvage)`` a period and the straight line
    ``(B - salvage) / (life - t)``; once the straight line is larger (and `no_switch` is
    False) it is kept to the end.  A step of length ``h`` depreciates ``h`` times its rate;
    the result is the depreciation of the steps from `start` to `end`.

    For whole periods this is LibreOffice's ``ScVDB`` (and Excel's documented schedule);
    for a fractional start, LibreOffice interpolates within the whole-period schedule and
    Excel does not: with cost 1, salvage 0, life 14, factor 1.25, Excel stores
    ``VDB(1,0,14,2.5,3.5,1.25) = 0.0707476519...`` (LibreOffice 0.0713608...) and
    ``VDB(1,0,14,3.5,4.5,1.25) = 0.0687262904...`` (the straight line from t = 3.5, book
    value ``(1 - 0.0892857/2) * (1 - 0.0892857)**3 = 0.7216261`` over 10.5 periods); this
    grid reproduces every VDB value Excel stored in ``tests/corpus/xlcalculator/VDB.xlsx``.
    """
    if isinstance(no_switch, str):
        raise _Fail("#VALUE!")
    if start < 0 or end < start or end > life or cost < 0 or salvage > cost or factor <= 0 \
            or life <= 0:
        raise _Fail("#NUM!")
    if end > VDB_MAX_PERIODS:
        raise _Unsupported
    rate = min(factor / life, 1.0)
    whole = math.floor(start)
    first = start - whole
    # the steps: [0, first] when first > 0, then [first + k, first + k + 1] for k = 0, 1, ...
    k = -1 if first > 0 else 0
    book, total, slope = float(cost), 0.0, None
    while True:
        t = 0.0 if k < 0 else first + k
        if t >= end:
            return total
        step_end = min(first if k < 0 else t + 1.0, end)
        if slope is None:
            declining = max(min(book * rate, book - salvage), 0.0)
            straight = (book - salvage) / (life - t)
            if not no_switch and straight > declining:
                slope = straight
        per_period = declining if slope is None else slope
        depreciation = per_period * (step_end - t)
        if k >= whole:
            total += depreciation
        book -= depreciation
        k += 1


def _vdb_args(cost, salvage, life, start, end, factor=2, no_switch=False):
    import schedula as sh

    from cvp_xl.hosts.formulas_host import OmittedArgument

    def number(v, default=None):
        if (v is sh.EMPTY or isinstance(v, OmittedArgument)) and default is not None:
            return default
        if v is sh.EMPTY:
            return 0.0
        if isinstance(v, (bool, np.bool_)):
            return float(v)
        return float(v)

    try:
        nums = [number(v) for v in (cost, salvage, life, start, end)]
        f = number(factor, 2.0)
        switch = no_switch
        if switch is sh.EMPTY or isinstance(switch, OmittedArgument):
            switch = False
        return _vdb(*nums, f, bool(switch) if not isinstance(switch, str) else switch)
    except _Unsupported:
        return _unsupported()
    except _Fail as exc:
        return _err(exc.code)
    except (TypeError, ValueError):
        return _err("#VALUE!")


# -- INDEX -----------------------------------------------------------------------------------


def _whole(v):
    """One whole number from an INDEX argument (an omitted one is 0); _Fail otherwise."""
    import schedula as sh
    from formulas.ranges import Ranges

    if v is None or v is sh.EMPTY:
        return 0
    if isinstance(v, Ranges):
        v = v.value
    if isinstance(v, np.ndarray):
        if v.size != 1:
            raise _Unsupported  # an array of positions: the engine's own INDEX does those
        v = v.ravel()[0]
    if v is sh.EMPTY:
        return 0
    return _truncated(v)


def _area(rng) -> tuple[int, int, int, int]:
    """First row, last row, first column, last column of one engine range.

    The engine spells a whole column ``A:A`` from row 0 and a whole row ``2:2`` from column 0;
    the sheet starts at row 1 and column 1.
    """
    return (max(int(rng["r1"]), 1), int(rng["r2"]), max(int(rng["n1"]), 1), int(rng["n2"]))


def _sub_range(ref, top: int, bottom: int, left: int, right: int):
    """The part of the one-area reference `ref` from row `top` to `bottom`, column `left` to
    `right` (1-based, inside the area), as a reference the engine reads like any other."""
    from formulas.ranges import Ranges
    from formulas.tokens.operand import _index2col

    r1, _, n1, _ = _area(ref.ranges[0])
    base = ref.ranges[0]
    a1 = f"{_index2col(n1 + left - 1)}{r1 + top - 1}"
    a2 = f"{_index2col(n1 + right - 1)}{r1 + bottom - 1}"
    sheet_id = base.get("sheet_id")
    text = f"{a1}:{a2}"
    rng = Ranges.get_range(f"{sheet_id}!{text}" if sheet_id else text)
    return Ranges((rng,), ref.values)


def _index_with(original):
    """Excel's INDEX for one area and one position: a row or column of 0 is the whole column
    or row (formulas 1.3.4 returns only its first cell), and a reference stays a reference
    (so ``SUM(INDEX(A1:B3,0,1))`` adds the column).  Other calls (arrays of positions, several
    areas) go to the engine's own INDEX."""
    from formulas.functions import Array
    from formulas.ranges import Ranges

    def xindex(array, row_num, col_num=None, area_num=1):
        is_reference = isinstance(array, Ranges)
        if is_reference and len(array.ranges) != 1:
            return original(array, row_num, col_num, area_num)
        try:
            area = _whole(area_num)
            row = _whole(row_num)
            col = None if col_num is None else _whole(col_num)
        except _Unsupported:
            return original(array, row_num, col_num, area_num)
        except _Fail as exc:
            return np.asarray([[_err(exc.code)]], dtype=object).view(Array)
        if is_reference:
            r1, r2, n1, n2 = _area(array.ranges[0])
            rows, cols = r2 - r1 + 1, n2 - n1 + 1
        else:
            values = np.atleast_2d(np.asarray(array, dtype=object))
            rows, cols = values.shape
        if col is None:
            if rows == 1 and cols > 1:
                row, col = 1, row        # one row: the position is a column
            elif cols == 1:
                col = 1
            else:
                col = 0                  # a block: the whole row
        if area < 1 or row < 0 or col < 0:
            return np.asarray([[_err("#VALUE!")]], dtype=object).view(Array)
        if area != 1 or row > rows or col > cols:
            return np.asarray([[_err("#REF!")]], dtype=object).view(Array)
        top, bottom = (row, row) if row else (1, rows)
        left, right = (col, col) if col else (1, cols)
        if is_reference:
            return _sub_range(array, top, bottom, left, right)
        out = values[top - 1:bottom, left - 1:right]
        return np.asarray(out, dtype=object).view(Array)

    return xindex


# -- OFFSET ----------------------------------------------------------------------------------

_book = threading.local()


@contextlib.contextmanager
def book_cells(constants, formula_cells, array_anchors=frozenset()):
    """Tell OFFSET which cells hold constants and which hold formulas, and the implicit
    intersection which cells hold array formulas, while the block runs.

    Parameters
    ----------
    constants : dict
        ``{SHEET: {(row, column): value}}``: the cells without a formula, as the engine holds
        them (sheet names upper case).
    formula_cells : dict
        ``{SHEET: set of (row, column)}``: every cell a formula computes (array formulas with
        all their cells), including those not recomputed.
    array_anchors : set of (SHEET, row, column)
        The first cell of every array formula.
    """
    saved = getattr(_book, "value", None), getattr(_book, "arrays", None)
    _book.value, _book.arrays = (constants, formula_cells), array_anchors
    try:
        yield
    finally:
        _book.value, _book.arrays = saved


#: The largest area OFFSET returns (one whole column); a larger one is not recomputed.
OFFSET_MAX_CELLS = 1048576


def _offset(reference, rows, cols, height=None, width=None):
    """Excel's OFFSET: the reference `rows` down and `cols` right, `height` by `width`.

    The engine builds its graph before it computes, so the cells OFFSET lands on are not
    inputs of the formula: their values are read from the constants of the workbook
    (:func:`book_cells`).  A landing area that holds a formula cell is :data:`UNSUPPORTED`
    (its value may not be computed yet), as is a negative height or width.
    """
    import schedula as sh
    from formulas.ranges import Ranges
    from formulas.tokens.operand import _index2col

    if not isinstance(reference, Ranges) or len(reference.ranges) != 1:
        raise _Fail("#VALUE!")
    base = reference.ranges[0]
    r1, r2, n1, n2 = _area(base)
    down, right = _whole(rows), _whole(cols)
    tall = r2 - r1 + 1 if height is None or height is sh.EMPTY else _whole(height)
    wide = n2 - n1 + 1 if width is None or width is sh.EMPTY else _whole(width)
    if tall < 0 or wide < 0:
        raise _Unsupported
    top, left = r1 + down, n1 + right
    bottom, last = top + tall - 1, left + wide - 1
    if not tall or not wide or top < 1 or left < 1 or bottom > 1048576 or last > 16384:
        raise _Fail("#REF!")
    if tall * wide > OFFSET_MAX_CELLS:
        raise _Unsupported
    constants, formulas_at = getattr(_book, "value", None) or ({}, {})
    sheet = str(base.get("sheet", "")).upper()
    here, computed = constants.get(sheet, {}), formulas_at.get(sheet, set())
    values = np.full((tall, wide), sh.EMPTY, dtype=object)
    if tall * wide <= len(here) + len(computed):
        cells = [(top + i, left + j) for i in range(tall) for j in range(wide)]
    else:  # a large area: visit the cells that exist, not every empty one
        cells = [rc for rc in (*here, *computed)
                 if top <= rc[0] <= bottom and left <= rc[1] <= last]
    for rc in cells:
        if rc in computed:
            raise _Unsupported
        if rc in here:
            values[rc[0] - top, rc[1] - left] = here[rc]
    text = f"{_index2col(left)}{top}:{_index2col(last)}{bottom}"
    sheet_id = base.get("sheet_id")
    return Ranges().push(f"{sheet_id}!{text}" if sheet_id else text, values)


def _offset_call(reference, rows, cols, height=None, width=None):
    from formulas.functions import Array

    try:
        return _offset(reference, rows, cols, height, width)
    except _Unsupported:
        return np.asarray([[_unsupported()]], dtype=object).view(Array)
    except _Fail as exc:
        return np.asarray([[_err(exc.code)]], dtype=object).view(Array)


# -- base conversions ----------------------------------------------------------------------

_BASES = {"BIN": 2, "OCT": 8, "DEC": 10, "HEX": 16}
#: The smallest and largest number each base holds in Excel's 10 digits (two's complement).
_LIMITS = {2: 2**9, 8: 2**29, 16: 2**39}


def _places(places):
    """None for an omitted places argument, else a whole number 1..10 (#NUM! otherwise).

    Excel checks `places` first: ``DEC2BIN("E", 0)`` is #NUM!, not #VALUE!.
    """
    from cvp_xl.hosts.formulas_host import OmittedArgument

    if places is None or isinstance(places, OmittedArgument):
        return None
    if isinstance(places, (bool, np.bool_)):
        raise _Fail("#VALUE!")
    try:
        n = math.trunc(float(places))
    except (TypeError, ValueError):
        raise _Fail("#VALUE!") from None
    if not 1 <= n <= 10:
        raise _Fail("#NUM!")
    return n


def _digits(number, base: int) -> str:
    """Excel's text of `number` in `base`: negative numbers as 10-digit two's complement."""
    if number < 0:
        number += base**10
    out = np.base_repr(int(number), base)
    return out.upper()


def _padded(text: str, number: int, places) -> str:
    if number < 0 or places is None:
        return text
    if places < len(text):
        raise _Fail("#NUM!")
    return text.zfill(places)


def _from_text(value, base: int) -> int:
    """The number a BIN/OCT/HEX argument stands for (10 digits at most)."""
    if isinstance(value, (bool, np.bool_)):
        raise _Fail("#VALUE!")
    if _is_number(value):
        if value < 0 or not float(value).is_integer():
            raise _Fail("#NUM!")
        value = str(int(value))
    text = str(value).strip()
    if not text:
        return 0
    if len(text) > 10:
        raise _Fail("#NUM!")
    try:
        number = int(text, base)
    except ValueError:
        raise _Fail("#NUM!") from None
    if text.startswith("-") or text.startswith("+"):
        raise _Fail("#NUM!")
    if len(text) == 10 and number >= base**10 // 2:
        number -= base**10
    return number


def _from_decimal(value) -> int:
    if isinstance(value, (bool, np.bool_)):
        raise _Fail("#VALUE!")
    try:
        return math.trunc(float(value))
    except (TypeError, ValueError):
        raise _Fail("#VALUE!") from None


def _converter(source: str, target: str):
    src, dst = _BASES[source], _BASES[target]

    def convert(number, places=None):
        try:
            wanted = _places(places)  # Excel checks places before the number
            n = _from_decimal(number) if src == 10 else _from_text(number, src)
            if dst == 10:
                return n
            limit = _LIMITS[dst]
            if not -limit <= n < limit:
                raise _Fail("#NUM!")
            return _padded(_digits(n, dst), n, wanted)
        except _Fail as exc:
            return _err(exc.code)

    return convert


# -- the 1904 date system --------------------------------------------------------------------


def _shift(value, days: int):
    """Shift every serial number in `value` by `days`; a negative date is #NUM!."""
    from formulas.ranges import Ranges

    if isinstance(value, Ranges):
        value = value.value
    if isinstance(value, np.ndarray):
        arr = np.asarray(value, dtype=object)
        out = np.vectorize(lambda v: _shift_one(v, days), otypes=[object])(arr)
        return out.view(type(value)) if type(value) is not np.ndarray else out
    return _shift_one(value, days)


def _shift_one(v, days: int):
    if not _is_number(v):
        return v
    if days > 0 and v < 0 or days < 0 and v + days < 0:
        return _err("#NUM!")
    return v + days


def _wrap_1904(original, date_args, returns_date):
    def call(*args):
        args = list(args)
        indices = range(len(args)) if date_args == "all" else date_args
        for i in indices:
            if i < len(args):
                args[i] = _shift(args[i], DATE_SHIFT_1904)
        result = original(*args)
        return _shift(result, -DATE_SHIFT_1904) if returns_date else result

    return call


_ELAPSED = re.compile(r"\[(?:h+|m+|s+)\]", re.IGNORECASE)


def _text(value, format_code, shift: int = 0):
    """TEXT; in a 1904 workbook (`shift` 1,462) a number shown with a date format is a 1904
    serial number.  Elapsed-time formats (``[h]:mm``) are :data:`UNSUPPORTED`: formulas 1.3.4
    reads ``[h]`` as a condition and ``mm`` after it as the month."""
    from formulas.functions.text import _parse_format_code, xtext

    if isinstance(format_code, str) and _ELAPSED.search(format_code):
        return _unsupported()
    if shift and _is_number(value):
        for check, _, types, _, _ in _parse_format_code(str(format_code)):
            if check(value):
                if "date" in types:
                    value = value + shift
                break
    return xtext(value, format_code)


def _format_datetime(value, codes, types, original):
    """formulas' date and time formatting, with Excel's rules where it differs.

    formulas 1.3.4 strips every 0 from a one-letter code (``m`` of October is ``1``, ``d`` of
    the 10th is ``1``), keeps a 24-hour clock next to AM/PM or A/P, and leaves fractional
    seconds (``s.00``) as zeros; Excel writes ``10``, a 12-hour clock and the seconds rounded
    to the digits shown (``4:5:6.01`` for 6.0085 s).
    """
    from formulas.functions.date import _int2date, _n2time

    out = original(value, codes, types)
    times = types.get("time", ())
    decimals = list(types.get("decimal", ()))
    seconds = [i for i in times if codes[i][:1] == "S"]
    digits = 0
    if seconds and decimals and decimals[0] == seconds[-1] + 1 and codes[decimals[0]] == ".":
        for i in decimals[1:]:
            if codes[i] != "0":
                break
            digits += 1
    year, month, day = _int2date(math.floor(value))
    if digits:
        scale = 10 ** digits
        ticks = round((value - math.floor(value)) * 86400 * scale)
        whole, fraction = divmod(ticks, scale)
        hour, rest = divmod(whole, 3600)
        minute, second = divmod(rest, 60)
        hour %= 24
        for k, i in enumerate(decimals[1:digits + 1]):
            out[i] = f"{fraction:0{digits}d}"[k]
    else:
        hour, minute, second = _n2time(value)
    if any(codes[i].upper() in ("AM/PM", "A/P") for i in times):
        hour = hour % 12 or 12
    for i in types.get("date", ()):
        if codes[i] in ("d", "m"):
            out[i] = str(day if codes[i] == "d" else month)
        elif codes[i] in ("dd", "mm"):
            out[i] = f"{day if codes[i] == 'dd' else month:02d}"
    for i in times:
        number = {"H": hour, "M": minute, "S": second}.get(codes[i][:1])
        if number is None:
            continue
        out[i] = str(number) if len(codes[i]) == 1 else f"{number:02d}"
    return out


def _patch_text_formats() -> None:
    """Use :func:`_format_datetime` in formulas' TEXT."""
    from formulas.functions import text as text_module

    original = text_module._format_datetime
    if getattr(original, "_cvpxl", False):
        return

    def format_datetime(value, codes, types):
        return _format_datetime(value, codes, types, original)

    format_datetime._cvpxl = True
    text_module._format_datetime = format_datetime


def _value(value, shift: int = 0):
    """VALUE: a text holding a time alone is that time (formulas 1.3.4 adds January 1 of the
    current year: ``VALUE("12:00")`` is 0.5 in Excel); in a 1904 workbook (`shift` 1,462) a
    text holding a date gives a 1904 serial number."""
    from formulas.functions.date import _get_date_parser
    from formulas.functions.text import xvalue

    number = xvalue(value)
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            parsed = _get_date_parser()._parse(value)[0]
            if not any(getattr(parsed, k, None) is not None for k in ("year", "month", "day")):
                return number - math.floor(number)
            number -= shift
            if number < 0:
                return _err("#VALUE!")
    return number


def _patch_text_dates() -> None:
    """Text dates outside the years 1900-9999 are #VALUE! in Excel, not dates."""
    from formulas.errors import FoundError
    from formulas.functions import date as date_module

    original = date_module._text2datetime
    if getattr(original, "_cvpxl", False):
        return

    def text2datetime(date_text):
        parsed = original(date_text)
        if not 1900 <= parsed[0] <= 9999:
            raise FoundError(err=_err("#VALUE!"))
        return parsed

    text2datetime._cvpxl = True
    date_module._text2datetime = text2datetime


_compiling = threading.local()


def _intersect(target, base_filter, value):
    """Excel's implicit intersection of a reference a one-cell formula returns.

    ``=A1:A3`` in B2 is A2 (the row of the formula), ``=E1:G1`` in F3 is F1 (its column),
    ``=Data!A1:B3`` in B2 is Data!B2; with no such cell it is #VALUE!.  formulas 1.3.4 gives
    #VALUE! for every range of more than one cell.  An array formula is left alone (Excel shows
    the top-left value there).
    """
    from formulas.functions import Array
    from formulas.ranges import Ranges

    if isinstance(value, Ranges) and len(value.ranges) == 1 and target not in (
            getattr(_book, "arrays", None) or ()):
        r1, r2, n1, n2 = _area(value.ranges[0])
        if r1 != r2 or n1 != n2:
            _, row, col = target
            row = r1 if r1 == r2 else row
            col = n1 if n1 == n2 else col
            if not (r1 <= row <= r2 and n1 <= col <= n2):
                return np.asarray([[_err("#VALUE!")]], dtype=object).view(Array)
            value = _sub_range(value, row - r1 + 1, row - r1 + 1, col - n1 + 1, col - n1 + 1)
    return base_filter(value)


def _patch_implicit_intersection() -> None:
    """A one-cell formula returning a range gets the cell Excel's implicit intersection picks.

    formulas compiles each cell's formula with an output filter
    (``formulas.builder._default_filter``) that turns a range into its values; while a cell is
    compiled (``formulas.cell.Cell.compile``) the filter knows which cell it is, and here
    intersects first (:func:`_intersect`).
    """
    from formulas import builder
    from formulas import cell as cell_module

    if getattr(builder._default_filter, "_cvpxl", False):
        return
    original_filter = builder._default_filter
    original_compile = cell_module.Cell.compile

    def default_filter():
        base = original_filter()
        target = getattr(_compiling, "target", None)
        if target is None:
            return base
        return (functools.partial(_intersect, target, base[0]),)

    def compile_cell(self, references=None, context=None):
        target = None
        rng = self.range.ranges[0] if self.range is not None and self.range.ranges else None
        if rng is not None and rng["r1"] == rng["r2"] and rng["n1"] == rng["n2"]:
            target = (str(rng.get("sheet", "")).upper(), int(rng["r1"]), int(rng["n1"]))
        saved = getattr(_compiling, "target", None)
        _compiling.target = target
        try:
            return original_compile(self, references, context)
        finally:
            _compiling.target = saved

    default_filter._cvpxl = True
    builder._default_filter = default_filter
    cell_module.Cell.compile = compile_cell


def _patch_cell_output() -> None:
    """What a one-cell formula does with several values (``formulas.cell.format_output``).

    An array formula over one cell shows the first value, as in Excel (formulas 1.3.4 gives
    #VALUE! for a range there).  A plain formula holding several values computed them from a
    range where Excel takes the one cell in the formula's row or column before computing
    (``=A1:A3*2`` in B2 is 4 in Excel; formulas gives the first, 2): it gets
    :data:`INTERSECT_CODE`, so the cell is named, not guessed.  Several values all alike are
    one value: formulas' IF spreads a single result over the shape of the branch it did not
    take (``IF(COUNTIF(C1:C2,0)>0,#DIV/0!,(A1:A2-C1:C2)/C1:C2)`` gives #DIV/0! twice).
    """
    from formulas import cell as cell_module
    from formulas.tokens.operand import XlError

    original = cell_module.format_output
    if getattr(original, "_cvpxl", False):
        return

    def format_output(rng, value):
        if isinstance(value, np.ndarray) and value.size > 1 and rng.get("r1") == rng.get(
                "r2") and rng.get("n1") == rng.get("n2") and "sheet" in rng:
            target = (str(rng["sheet"]).upper(), int(rng["r1"]), int(rng["n1"]))
            values = np.asarray(value, dtype=object)
            first = values.ravel()[0]
            if target in (getattr(_book, "arrays", None) or ()) or all(
                    type(v) is type(first) and v == first for v in values.ravel()):
                value = values.reshape(values.shape[0], -1)[:1, :1]
            else:
                value = np.asarray([[XlError(INTERSECT_CODE)]], dtype=object)
        return original(rng, value)

    format_output._cvpxl = True
    cell_module.format_output = format_output


def _patch_array_areas() -> None:
    """An array formula over an area smaller than its result shows the result's top-left part.

    formulas 1.3.4 fills the whole area with #VALUE! instead (``{=A1:B3}`` entered in D1:D2);
    Excel and LibreOffice show A1 and A2.  No upstream issue found.  Patched in
    ``formulas.ranges._reshape_array_as_excel``, which fits a value to an area.  A one-cell
    area is left to the engine: there Excel intersects a range with the formula's row or
    column (``=A1:A3`` in B2 is A2), which this function cannot see; the engine gives #VALUE!.
    """
    from formulas import ranges
    from formulas.functions import _init_reshape

    if getattr(ranges._reshape_array_as_excel, "_cvpxl", False):
        return

    original = ranges._reshape_array_as_excel

    def reshape(value, base_shape):
        if tuple(base_shape) == (1, 1):  # one cell: Excel intersects, formulas gives #VALUE!
            return original(value, base_shape)
        try:
            return np.reshape(value, base_shape)
        except ValueError:
            res, r, c, val = _init_reshape(base_shape, value)
            rows = base_shape[0] if r is None else min(r, base_shape[0])
            cols = base_shape[1] if c is None else min(c, base_shape[1])
            try:
                res[:rows, :cols] = val[:rows, :cols]
            except (ValueError, IndexError, TypeError):
                res[:, :] = _err("#VALUE!")
        return res

    reshape._cvpxl = True
    ranges._reshape_array_as_excel = reshape


def _complex_text(real: float, imag: float, suffix: str = "i") -> str:
    """A complex number as Excel's IM* functions write it: each part with 15 significant
    digits (``1.497866136777+1.10714871779409i`` for ``IMLN("3+4i")``), a unit imaginary
    part as the bare suffix (``3+i``), a zero part left out (``4``, ``2i``, ``0``).

    >>> _complex_text(1.4978661367769956, 1.1071487177940904)
    '1.497866136777+1.10714871779409i'
    >>> _complex_text(3.0, -1.0), _complex_text(0.0, 2.0), _complex_text(-0.0, 0.0)
    ('3-i', '2i', '0')
    """
    from formulas.errors import FoundError

    if not (np.isfinite(real) and np.isfinite(imag)):
        raise FoundError(err=_err("#NUM!"))

    def part(x: float) -> str:
        text = f"{x:.15G}"
        return "0" if text == "-0" else text

    re_text, im_text = part(real), part(imag)
    if im_text == "0":
        return re_text
    im_text = {"1": "", "-1": "-"}.get(im_text, im_text) + suffix
    if re_text == "0":
        return im_text
    return re_text + ("" if im_text.startswith("-") else "+") + im_text


def _patch_complex_format() -> None:
    """The IM* functions write their result with :func:`_complex_text` (formulas 1.3.4 uses
    Python's 17 digits: ``1.4978661367769956+1.1071487177940904i``, which no Excel shows).
    Patched in ``formulas.functions.eng._fmt_complex``, which every IM* function calls."""
    from formulas.functions import eng

    if getattr(eng._fmt_complex, "_cvpxl", False):
        return

    def fmt_complex(r, i, suffix="j"):
        return _complex_text(float(r), float(i), suffix)

    fmt_complex._cvpxl = True
    eng._fmt_complex = fmt_complex


def register_excel_functions() -> None:
    """Register the functions above with the engine (idempotent)."""
    global _done
    if _done:
        return
    import formulas
    from formulas.functions import COMPILING, wrap_func, wrap_impure_func, wrap_ufunc

    with _lock:
        if _done:
            return
        table = formulas.get_functions()
        table["SUBTOTAL"] = xsubtotal
        table["AGGREGATE"] = table["_XLFN.AGGREGATE"] = xaggregate
        table["RANDBETWEEN"] = wrap_ufunc(_randbetween, input_parser=lambda *a: a)
        table["N"] = wrap_func(_n)
        table["MAP"] = table["_XLFN.MAP"] = wrap_func(_map)
        table["SCAN"] = table["_XLFN.SCAN"] = wrap_func(_scan)
        index = table["INDEX"]
        if not getattr(index["function"], "_cvpxl", False):
            original = index["function"].__wrapped__.__wrapped__
            entry = dict(index)
            entry["function"] = wrap_impure_func(wrap_func(_index_with(original), ranges=True))
            entry["function"]._cvpxl = True
            table["INDEX"] = entry
        table["OFFSET"] = {
            "extra_inputs": collections.OrderedDict([(COMPILING, False)]),
            "function": wrap_impure_func(wrap_func(_offset_call, ranges=True)),
        }
        table["VDB"] = wrap_ufunc(_vdb_args, input_parser=lambda *a: a,
                                  args_parser=lambda *a: a)
        _patch_text_dates()
        _patch_array_areas()
        _patch_implicit_intersection()
        _patch_cell_output()
        for source in _BASES:
            for target in _BASES:
                if source != target:
                    table[f"{source}2{target}"] = wrap_ufunc(
                        _converter(source, target), input_parser=lambda *a: a,
                        check_nan=False)
        _patch_text_formats()
        _patch_complex_format()
        table["TEXT"] = wrap_ufunc(_text, input_parser=lambda *a: a)
        table["_CVPXL1904.TEXT"] = wrap_ufunc(functools.partial(_text, shift=DATE_SHIFT_1904),
                                              input_parser=lambda *a: a)
        table["VALUE"] = wrap_ufunc(_value, input_parser=lambda *a: a)
        table["_CVPXL1904.VALUE"] = wrap_ufunc(functools.partial(_value, shift=DATE_SHIFT_1904),
                                               input_parser=lambda *a: a)
        for name, (date_args, returns_date) in DATE_FUNCTIONS_1904.items():
            if name in ("TEXT", "VALUE"):
                continue
            original = table.get(name)
            if original is None:
                continue
            if isinstance(original, dict):
                entry = dict(original)
                entry["function"] = _wrap_1904(original["function"], date_args, returns_date)
                table[f"_CVPXL1904.{name}"] = entry
            else:
                table[f"_CVPXL1904.{name}"] = _wrap_1904(original, date_args, returns_date)
        _done = True
