"""The one way a builder writes a workbook: every formula with the value Python computed.

A builder puts inputs, labels and formulas into an openpyxl workbook through a :class:`Book`.
Each formula comes with its value, computed in Python from the registry's functions and the
domain modules; :meth:`Book.save` writes the file once, atomically, with each formula and its
cached value (``cvp_xl.xlsx.cached``).  A formula cell without a value is refused, so no file
leaves here showing blanks where numbers belong, and no engine is asked to fill them in: the
formulas engine and LibreOffice only check the stored values (tests, ``cvp-xl demo``).
"""

from __future__ import annotations

import os
from pathlib import Path

from openpyxl import Workbook

from cvp_xl.registry import get
from cvp_xl.xlsx.atomic import scratch_path
from cvp_xl.xlsx.cached import write_cached_values
from cvp_xl.xlsx.write import set_value

from . import style

__all__ = ["Book", "native"]


def native(name: str, *refs: str) -> str:
    """``=`` plus the registry's native translation of ``name`` for these references."""
    return "=" + get(name).to_native(*refs)


class Book:
    """An openpyxl workbook being built, with the Python value of each of its formula cells.

    Parameters
    ----------
    wb : openpyxl.Workbook, optional
        The workbook to fill (a new one by default).

    Examples
    --------
    >>> book = Book()
    >>> ws = book.wb.active
    >>> book.input(ws["A1"], 2)
    >>> book.formula(ws["A2"], "=A1*3", 6)
    >>> book.values
    {('Sheet', 'A2'): 6}
    """

    def __init__(self, wb: Workbook | None = None):
        self.wb = wb if wb is not None else Workbook()
        self.values: dict[tuple[str, str], object] = {}
        #: where the value of a cell that differs from one customer to the next comes from
        #: (``(sheet, "A1") -> key``), for writers that patch a template
        #: (:mod:`cvp_xl.workbooks.calculator.stamp`); nothing is saved from it
        self.keys: dict[tuple[str, str], tuple] = {}

    def formula(self, cell, formula: str, value, number_format: str | None = None,
                bold: bool = False, key: tuple | None = None) -> None:
        """A formula cell (locked, as every cell is by default) and the value Python computed.

        ``value`` is a number, text, a bool, None (an empty result) or an ``ErrorValue``;
        ``key`` names where the value comes from when it differs from one customer to the
        next (see :meth:`keyed`).
        """
        if not isinstance(formula, str) or not formula.startswith("="):
            raise ValueError(f"{cell.coordinate}: not a formula: {formula!r}")
        cell.value = formula
        if number_format:
            cell.number_format = number_format
        if bold:
            cell.font = style.BOLD
        self.values[(cell.parent.title, cell.coordinate)] = value
        if key is not None:
            self.keys[(cell.parent.title, cell.coordinate)] = key

    def keyed(self, cell, key: tuple) -> None:
        """Name where the value of ``cell`` comes from, ``(source, *arguments)``: an input's
        base, a result, the customer's name ... (the value itself is written as before)."""
        self.keys[(cell.parent.title, cell.coordinate)] = key

    @staticmethod
    def input(cell, value, number_format: str | None = None) -> None:
        """An input cell: styled as an input, unlocked; text from data is written as text."""
        set_value(cell, value)
        style.as_input(cell)
        if number_format:
            cell.number_format = number_format

    def missing(self) -> list[str]:
        """Formula cells that have no value, as ``Sheet!A1`` (in order of rows, then columns).

        Only the cells the workbook holds are visited (``iter_rows`` would create every
        empty cell of the used range, and the file would then carry an empty row for each).
        """
        values = self.values
        return [f"{ws.title}!{cell.coordinate}"
                for ws in self.wb.worksheets
                for _, cell in sorted(ws._cells.items())  # noqa: SLF001 - the cells it holds
                if cell.data_type == "f" and (ws.title, cell.coordinate) not in values]

    def save(self, path: str | os.PathLike) -> Path:
        """Write the workbook to ``path`` once, atomically, with every formula's value.

        Raises
        ------
        ValueError
            A formula cell was written without its value (a builder's mistake).
        OSError
            ``path`` cannot be written (a full disk, a read-only folder): it is as it was and
            no temporary file remains (:mod:`cvp_xl.xlsx.atomic`).
        """
        missing = self.missing()
        if missing:
            raise ValueError(f"formula cells without a computed value: {', '.join(missing[:10])}")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        # openpyxl writes a scratch file beside path (named with our process id, removed
        # whatever happens); atomic: path is whole or untouched
        with scratch_path(path) as tmp:
            self.wb.save(tmp)
            write_cached_values(tmp, path, self.values, check=False)
        return path
