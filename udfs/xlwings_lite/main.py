"""cvp-xl functions that need Python, for xlwings Lite (Excel on Windows, Mac and the web).

Generated from the cvp-xl 0.1.0 registry by `cvp-xl functions --lite udfs/xlwings_lite`:
do not edit by hand.  Paste this file into the main.py tab of the xlwings Lite task pane,
and requirements.txt into its requirements.txt tab (README: "In every Excel, with nothing
installed").  The other CVP_* functions need no Python at all in Excel 365:
`cvp-xl add-functions BOOK.xlsx` adds them to a workbook as LAMBDA names.

Each function's docstring is its description in Excel, and each @arg's doc the help of an
argument (both one line, written as adjacent strings in parentheses to fit the page).

A bad argument gives a short text in the cell, such as
"#VALUE! names (item 2): expected a name, got a blank cell", never a traceback.
"""

import numpy as np
from xlwings import arg, func

from cvp_xl.errors import CvpError, cell_errors
from cvp_xl.registry import get

MAX_CELL_TEXT = 255  # keep the text in a cell short


def _to_excel(result):
    """Numbers as Python floats, arrays as lists of rows."""
    if isinstance(result, np.ndarray):
        result = result.reshape(-1, 1) if result.ndim == 1 else result
        return _to_excel(result.tolist())
    if isinstance(result, np.generic):
        return result.item()
    if isinstance(result, list):
        return [_to_excel(v) for v in result]
    return result


def _call(name, *args):
    """The registry function ``name`` on Excel's arguments; an error as its short text."""
    try:
        return _to_excel(get(name).func(*(cell_errors(a) for a in args)))
    except CvpError as exc:
        return str(exc)[:MAX_CELL_TEXT]
    except Exception as exc:  # a defect must not put a traceback in a cell
        return f"#VALUE! internal error in {name}: {type(exc).__name__}"[:MAX_CELL_TEXT]


@func
@arg('names', ndim=2, err_to_str=True, doc=('Names of the alternatives (status quo, rivals, '
                                            'make in-house...)'))
@arg('values', ndim=2, err_to_str=True, doc=('Value of each alternative to the customer, in '
                                             'money'))
@arg('prices', ndim=2, err_to_str=True, doc='Price of each alternative')
def CVP_NEXT_BEST(names, values, prices):
    ('Name of the next best alternative: the one with the largest incentive value - price '
     '(the first one on ties).')
    return _call('CVP_NEXT_BEST', names, values, prices)


@func
@arg('investment', ndim=2, err_to_str=True, doc='Amount paid at time 0 (0 or more)')
@arg('cash_flows', ndim=2, err_to_str=True, doc=('Net cash flow of periods 1, 2, ... (a row '
                                                 'or a column)'))
def CVP_PAYBACK(investment, cash_flows):
    ('Periods until the cumulative cash flow covers the investment paid at time 0, '
     'interpolated linearly within the period; #N/A when never.')
    return _call('CVP_PAYBACK', investment, cash_flows)


@func
@arg('names', ndim=2, err_to_str=True, doc='Names of the value elements')
@arg('values', ndim=2, err_to_str=True, doc='Value of each element to the customer, in money')
@arg('types', ndim=2, err_to_str=True, doc=('Point type of each element (CVP_POINT_TYPE); '
                                            'omit to count every positive value'))
@arg('n', ndim=2, err_to_str=True, doc='How many points to return (default 2)')
def CVP_RESONATING_FOCUS(names, values, types=None, n=None):
    ('The n (default 2) favorable points of difference of greatest value, largest first, as '
     "a column. With types, only 'favorable difference' counts; values must be above 0. #N/A "
     'when fewer exist.')
    return _call('CVP_RESONATING_FOCUS', names, values, types, n)


@func
@arg('equation', err_to_str=True, doc=('The word equation: quantities named in words, + - x '
                                       '/ ^ ( ), numbers, 15%, MIN MAX ABS ROUND'))
@arg('names', ndim=2, err_to_str=True, doc=("The quantities' names (or a table: names, then "
                                            'values)'))
@arg('values', ndim=2, err_to_str=True, doc=('The value of each name, same size; or one '
                                             'column per customer'))
def CVP_WORDEQ(equation, names, values=None):
    ("Computes a value word equation, such as 'Savings = (Stops before - Stops after) x "
     "Hours lost per stop x Cost per hour', from names and values; one column of values per "
     'customer gives a row of results.')
    return _call('CVP_WORDEQ', equation, names, values)


@func
@arg('equation', err_to_str=True, doc='The word equation (as for CVP_WORDEQ)')
@arg('names', ndim=2, err_to_str=True, doc=("The quantities' names (or a table: names, then "
                                            'units)'))
@arg('units', ndim=2, err_to_str=True, doc=('The unit of each name, same size (stops/year, '
                                            'USD/hour, %; blank: none); omit it for a table '
                                            'of names and units'))
def CVP_WORDEQ_UNIT(equation, names, units=None):
    ("Unit of a value word equation's result, such as USD/year from stops/year x hours/stop "
     'x USD/hour; an error naming the term where unlike units are added or subtracted.')
    return _call('CVP_WORDEQ_UNIT', equation, names, units)
