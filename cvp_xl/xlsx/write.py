"""Small helpers for writing cells safely with openpyxl."""

from __future__ import annotations

__all__ = ["set_text", "set_value", "fit_to_page_width", "FORMULA_PREFIXES"]

#: Text that a spreadsheet would read as a formula (or a DDE/CSV-injection payload).
FORMULA_PREFIXES = ("=", "+", "-", "@")


def set_text(cell, text: str) -> None:
    """Write ``text`` as text, even when it starts with ``=``, ``+``, ``-`` or ``@``.

    openpyxl turns any string that starts with ``=`` into a formula; data
    from a customer table or a spec must never become one.
    """
    cell.value = text
    cell.data_type = "s"
    if text.startswith(FORMULA_PREFIXES):
        cell.quotePrefix = True  # Excel shows it as typed, and keeps it text when edited


def set_value(cell, value) -> None:
    """Write a number, bool, None or text (text always as text)."""
    if isinstance(value, str):
        set_text(cell, value)
    else:
        cell.value = value


def fit_to_page_width(wb, landscape: bool = True) -> None:
    """Print every sheet that has no page setup of its own one page wide (as many pages tall
    as it needs), so no column is cut off onto a page of its own."""
    for ws in wb.worksheets:
        setup = ws.sheet_properties.pageSetUpPr
        if setup is not None and setup.fitToPage:
            continue
        ws.page_setup.orientation = "landscape" if landscape else "portrait"
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
