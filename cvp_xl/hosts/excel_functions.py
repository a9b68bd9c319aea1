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
  for a fractional start or end Excel uses a rule of its own that neither LibreOffice nor
  formulas reproduces (the corpus shows Excel 0.0707, LibreOffice 0.0714 for
  ``VDB(1,0,14,2.5,3.5,1.25)``), so such a call is :data:`UNSUPPORTED`: the cell is not
  recomputed and is named.
- text dates outside 1900-9999 (``YEAR("7/5/1800")``): formulas reads them as dates; Excel
  gives #VALUE!.  Patched in ``formulas.functions.date._text2datetime``.
- the date functions in a workbook that uses the 1904 date system, under the names
  ``_CVPXL1904.<NAME>`` (the recalculation renames the calls in such a workbook): the engine
  counts days from 1899-12-30; these shift serial numbers by 1,462 days on the way in and out.
"""

from __future__ import annotations

import contextlib
import functools
import math
import threading

import numpy as np

__all__ = [
    "register_excel_functions", "sheet_facts", "DATE_SHIFT_1904", "DATE_FUNCTIONS_1904",
    "UNSUPPORTED_CODE",
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
}

#: Functions that read dates in ways the shift above does not cover: in a 1904 workbook a call
#: to one of them is not recomputed (the stored value is kept and the cell named).
UNSUPPORTED_1904 = frozenset({
    "TEXT", "VALUE", "ACCRINT", "ACCRINTM", "AMORDEGRC", "AMORLINC", "COUPDAYBS", "COUPDAYS",
    "COUPDAYSNC", "COUPNCD", "COUPNUM", "COUPPCD", "DISC", "DURATION", "INTRATE", "MDURATION",
    "ODDFPRICE", "ODDFYIELD", "ODDLPRICE", "ODDLYIELD", "PRICE", "PRICEDISC", "PRICEMAT",
    "RECEIVED", "TBILLEQ", "TBILLPRICE", "TBILLYIELD", "YIELD", "YIELDDISC", "YIELDMAT",
})

_lock = threading.Lock()


def _unsupported():
    from formulas.tokens.operand import XlError

    return XlError(UNSUPPORTED_CODE)


#: The code of the value a function returns for a case it cannot compute as Excel would: the
#: cell holding it (or a cell computed from it) is not recomputed and keeps its stored value.
UNSUPPORTED_CODE = "#CVPXL-UNSUPPORTED!"
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
    v = arr[0]
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


def _ddb(cost, salvage, life, period, factor):
    rate = factor / life
    if rate >= 1:
        rate = 1.0
        old = cost if period == 1 else 0.0
    else:
        old = cost * (1 - rate) ** (period - 1)
    new = cost * (1 - rate) ** period
    ddb = old - salvage if new < salvage else old - new
    return max(ddb, 0.0)


def _inter_vdb(cost, salvage, life, life1, period, factor):
    total, value, straight, switched = 0.0, cost - salvage, 0.0, False
    end = math.ceil(period)
    for i in range(1, int(end) + 1):
        if not switched:
            ddb = _ddb(cost, salvage, life, i, factor)
            straight = value / (life1 - (i - 1))
            if straight > ddb:
                term, switched = straight, True
            else:
                term = ddb
                value -= ddb
        else:
            term = straight
        if i == end:
            term *= period + 1 - end
        total += term
    return total


def _vdb(cost, salvage, life, start, end, factor=2.0, no_switch=False):
    if isinstance(no_switch, str):
        raise _Fail("#VALUE!")
    if start < 0 or end < start or end > life or cost < 0 or salvage > cost or factor <= 0 \
            or life <= 0:
        raise _Fail("#NUM!")
    int_start, int_end = math.floor(start), math.ceil(end)
    if int_start != start or int_end != end:
        raise _Unsupported
    if no_switch:
        total = 0.0
        for i in range(int(int_start) + 1, int(int_end) + 1):
            term = _ddb(cost, salvage, life, i, factor)
            if i == int_start + 1:
                term *= min(end, int_start + 1) - start
            elif i == int_end:
                term *= end + 1 - int_end
            total += term
        return total
    part = 0.0
    if start != int_start:
        value = cost - _inter_vdb(cost, salvage, life, life, int_start, factor)
        part += (start - int_start) * _inter_vdb(value, salvage, life, life - int_start, 1,
                                                 factor)
    if end != int_end:
        value = cost - _inter_vdb(cost, salvage, life, life, int_end - 1, factor)
        part += (int_end - end) * _inter_vdb(value, salvage, life, life - (int_end - 1), 1,
                                             factor)
    cost -= _inter_vdb(cost, salvage, life, life, int_start, factor)
    return _inter_vdb(cost, salvage, life, life - int_start, int_end - int_start, factor) - part


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


def register_excel_functions() -> None:
    """Register the functions above with the engine (idempotent)."""
    global _done
    if _done:
        return
    import formulas
    from formulas.functions import wrap_func, wrap_ufunc

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
        table["VDB"] = wrap_ufunc(_vdb_args, input_parser=lambda *a: a,
                                  args_parser=lambda *a: a)
        _patch_text_dates()
        for source in _BASES:
            for target in _BASES:
                if source != target:
                    table[f"{source}2{target}"] = wrap_ufunc(
                        _converter(source, target), input_parser=lambda *a: a,
                        check_nan=False)
        for name, (date_args, returns_date) in DATE_FUNCTIONS_1904.items():
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
