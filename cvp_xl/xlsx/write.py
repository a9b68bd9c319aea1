"""Small helpers for writing cells safely with openpyxl."""

from __future__ import annotations

__all__ = ["set_text", "set_value", "FORMULA_PREFIXES"]

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

