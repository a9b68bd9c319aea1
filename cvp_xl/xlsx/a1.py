"""Excel's grid: A1 references and the sheet's limits, in one place.

Standard library only, so the light core (``cvp_xl.wordeq``, the registry) may use it.

>>> parse_range("$B$3:C10")
(3, 2, 10, 3)
>>> shape("B3:C10")
(8, 2)
>>> list(cells("A1:B2"))
['A1', 'B1', 'A2', 'B2']
>>> column_letter(28), column_index("ab")
('AB', 28)
"""

from __future__ import annotations

import re

__all__ = [
    "MAX_ROW", "MAX_COL", "MAX_TEXT", "MAX_FORMULA", "CELL", "RANGE", "CELL_RE", "RANGE_RE",
    "SHEET", "column_index", "column_letter", "parse_cell", "parse_range", "shape", "cells",
]

#: The last row and column of a sheet; the longest text a cell holds; the longest formula.
MAX_ROW, MAX_COL = 1_048_576, 16_384
MAX_TEXT = 32_767
MAX_FORMULA = 8_192

#: One cell (``B3``, ``$B$3``) and a cell or a range (``B3:C10``), as regular expressions.
CELL = r"\$?[A-Za-z]{1,3}\$?[1-9][0-9]{0,6}"
RANGE = rf"{CELL}(?::{CELL})?"
#: A sheet name before ``!``: quoted (``'My sheet'``, quotes doubled inside) or bare.
SHEET = r"'(?:[^']|'')+'|[A-Za-z_][\w.]*"
CELL_RE = re.compile(r"(?P<c>\$?)(?P<col>[A-Za-z]{1,3})(?P<r>\$?)(?P<row>[1-9][0-9]{0,6})")
RANGE_RE = re.compile(
    r"(?P<c1>\$?)(?P<col1>[A-Za-z]{1,3})(?P<r1>\$?)(?P<row1>[1-9][0-9]{0,6})"
    r"(?::(?P<c2>\$?)(?P<col2>[A-Za-z]{1,3})(?P<r2>\$?)(?P<row2>[1-9][0-9]{0,6}))?")


def column_index(letters: str) -> int:
    """``'A'`` -> 1, ``'XFD'`` -> 16384; ValueError past the last column."""
    index = 0
    for ch in letters.upper():
        if not "A" <= ch <= "Z":
            raise ValueError(f"not a column: {letters!r}")
        index = index * 26 + ord(ch) - 64
    if not 1 <= index <= MAX_COL:
        raise ValueError(f"not a column: {letters!r}")
    return index


def column_letter(index: int) -> str:
    """1 -> ``'A'``, 16384 -> ``'XFD'``."""
    if not 1 <= index <= MAX_COL:
        raise ValueError(f"not a column number: {index!r}")
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def parse_cell(ref: str) -> tuple[int, int]:
    """``'$B$3'`` -> ``(3, 2)`` (row, column); ValueError for anything else."""
    m = CELL_RE.fullmatch(ref.strip())
    if not m or int(m["row"]) > MAX_ROW:
        raise ValueError(f"not a cell reference: {ref!r}")
    return int(m["row"]), column_index(m["col"])


def parse_range(ref: str) -> tuple[int, int, int, int]:
    """``'C10:B3'`` -> ``(3, 2, 10, 3)``: first row, first column, last row, last column."""
    first, _, last = ref.strip().partition(":")
    r1, c1 = parse_cell(first)
    r2, c2 = parse_cell(last) if last else (r1, c1)
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


def shape(ref: str) -> tuple[int, int]:
    """(rows, columns) of a cell or range reference."""
    r1, c1, r2, c2 = parse_range(ref)
    return r2 - r1 + 1, c2 - c1 + 1



def cells(ref: str):
    """Every cell of a reference, row by row, as ``'A1'`` (without ``$``)."""
    r1, c1, r2, c2 = parse_range(ref.replace("$", ""))
    for row in range(r1, r2 + 1):
        for col in range(c1, c2 + 1):
            yield f"{column_letter(col)}{row}"
