"""TEXT, VALUE, DATEVALUE and the securities functions in a workbook in the 1904 date system."""

from __future__ import annotations

import datetime

import openpyxl
import pytest
from helpers import close, requires_libreoffice
from openpyxl.utils.datetime import CALENDAR_MAC_1904, to_excel

from cvp_xl.commands.recalc import compute


def serial_1904(y, m, d) -> int:
    """Days since 1904-01-01, the 1904 system's day 0."""
    return (datetime.date(y, m, d) - datetime.date(1904, 1, 1)).days


SETTLE, MATURE = serial_1904(2024, 1, 1), serial_1904(2029, 1, 15)   # 43830, 45671

#: ``{cell: (formula, expected by hand or None when only LibreOffice gives it)}``.  A1 is
#: 2024-01-01, A3 2029-01-15; the bond pays twice a year, on January 15 and July 15.
CASES = {
    "B1": ('=TEXT(A1,"yyyy-mm-dd")', "2024-01-01"),
    "B2": ('=TEXT(A1,"0")', str(SETTLE)),                 # a number format: no date
    "B3": ('=TEXT(0.75,"hh:mm")', "18:00"),
    "B4": ('=VALUE("2024-01-01")', SETTLE),
    "B5": ('=VALUE("12:00")', 0.5),                       # a time alone: half a day
    "B6": ('=VALUE("123.5")', 123.5),
    "B7": ('=DATEVALUE("2024-01-01")', SETTLE),
    "B8": ("=COUPNCD(A1,A3,2)", serial_1904(2024, 1, 15)),
    "B9": ("=COUPNUM(A1,A3,2)", 11),                      # Jan 2024 ... Jan 2029: 1 + 2*5
    "B10": ("=COUPDAYS(A1,A3,2,1)", 184),                 # 2023-07-15 to 2024-01-15
    "B11": ("=PRICE(A1,A3,0.05,0.06,100,2,0)", None),
    "B12": ("=YIELD(A1,A3,0.05,98,100,2,0)", None),
    "B13": ("=COUPPCD(A1,A3,2)", serial_1904(2023, 7, 15)),
    "B14": ("=ACCRINTM(A1,A3,0.05,1000,0)", None),
    "B15": ("=COUPDAYBS(A1,A3,2,1)", 170),                # 2023-07-15 to 2024-01-01
    "B16": ('=TEXT(A1,"dddd d mmmm yyyy")', "Monday 1 January 2024"),
    "B17": ("=DISC(A1,A3,95,100,1)", None),
    "B18": ("=TBILLPRICE(A1,A1+90,0.05)", 98.75),         # 100 * (1 - 0.05 * 90 / 360)
    "B19": ('=TEXT("2024-03-05","yyyy")', "2024"),        # a text date: read as it is written
}


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    wb = openpyxl.Workbook()
    wb.epoch = CALENDAR_MAC_1904
    ws = wb.active
    ws.title = "S"
    ws["A1"], ws["A3"] = SETTLE, MATURE
    for ref, (formula, _) in CASES.items():
        ws[ref] = formula
    path = tmp_path_factory.mktemp("mac") / "mac.xlsx"
    wb.save(path)
    return path


def test_dates_in_the_1904_system_give_the_hand_values(book):
    result = compute(book)
    assert result.kept == [] and result.errors == []
    wrong = {ref: (result.values[("S", ref)], expected)
             for ref, (_, expected) in CASES.items()
             if expected is not None and not close(result.values[("S", ref)], expected)}
    assert wrong == {}


@requires_libreoffice
def test_dates_in_the_1904_system_agree_with_libreoffice(book):
    from cvp_xl.hosts.libreoffice import libreoffice_values

    ours, theirs = compute(book).values, libreoffice_values(book)
    differ = {}
    for ref in CASES:
        value = theirs[("S", ref)]   # a date-formatted number comes back as a datetime
        if isinstance(value, (datetime.date, datetime.datetime)):
            value = to_excel(value, CALENDAR_MAC_1904)
        if not close(ours[("S", ref)], value):
            differ[ref] = (ours[("S", ref)], value)
    assert differ == {}
