"""``cvp-xl add-functions`` and ``cvp-xl functions --workbook/--lite``: the work behind them.

:func:`add_functions` adds every function of :func:`cvp_xl.hosts.lambdas.library` to the
workbook as a defined name, or updates one added before, and keeps every other part of the
file byte for byte (:func:`cvp_xl.xlsx.defined_names.set_defined_names`).  A name the workbook
already uses for something else (a cell, a constant, a formula that is not a LAMBDA) is never
overwritten: the command stops, names it, and leaves the file as it was.
:func:`write_library` writes the library workbook, :func:`write_lite_module` the xlwings Lite
module.  A file that cannot be written is a :class:`~cvp_xl.errors.WorkbookError` naming it
(the command prints it and exits 2), never a traceback.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cvp_xl.hosts.lambdas import LambdaName, library, not_lambda
from cvp_xl.registry import functions
from cvp_xl.xlsx.atomic import not_written
from cvp_xl.xlsx.defined_names import DefinedName, NamesReport, set_defined_names

__all__ = ["add_functions", "AddReport", "write_library", "write_lite_module"]


@contextlib.contextmanager
def _writing(path: str | os.PathLike[str]) -> Iterator[None]:
    """Turn an operating-system error while writing ``path`` into the message every command
    gives (:func:`cvp_xl.xlsx.atomic.not_written`): the file named, the error, and whether
    the file is as it was."""
    existed = os.path.lexists(path)
    try:
        yield
    except OSError as exc:
        raise not_written(path, exc, existed) from None


@dataclass
class AddReport:
    """What :func:`add_functions` did: names added, updated and already there; the registry
    functions left out of the library, with the reason."""

    path: Path
    names: NamesReport
    left_out: dict[str, str] = field(default_factory=dict)


def _is_lambda(existing: DefinedName) -> bool:
    """An existing name may be replaced only when it holds a LAMBDA (one added before)."""
    return existing.refers_to.lstrip("=").strip().upper().startswith("_XLFN.LAMBDA(")


def add_functions(book: str | os.PathLike[str],
                  output: str | os.PathLike[str] | None = None) -> AddReport:
    """Add (or update) the LAMBDA library in the workbook ``book``.

    Parameters
    ----------
    book : str or os.PathLike
        An .xlsx (or .xlsm) workbook; checked before anything reads it.
    output : str or os.PathLike, optional
        Where to write; by default ``book`` itself, rewritten atomically.

    Returns
    -------
    AddReport

    Raises
    ------
    WorkbookError
        The file is refused (not an .xlsx, hostile), or it already has one of the names
        for something that is not a LAMBDA; nothing is written then.
    """
    made: list[LambdaName] = library()
    names = [DefinedName(m.name, m.refers_to, m.comment) for m in made]
    dst = Path(output) if output is not None else Path(book)
    with _writing(dst):
        report = set_defined_names(book, dst, names, may_replace=_is_lambda)
    left_out = {entry.name: reason for entry in functions() if (reason := not_lambda(entry))}
    return AddReport(dst, report, left_out)


def write_library(path: str | os.PathLike[str]) -> Path:
    """Write the function-library workbook (``cvp-xl functions --workbook``) to ``path``."""
    from cvp_xl.workbooks.function_library import build_function_library

    with _writing(path):
        return build_function_library(path)


def write_lite_module(folder: str | os.PathLike[str]) -> list[Path]:
    """Write ``main.py`` and ``requirements.txt`` for xlwings Lite into ``folder``."""
    from cvp_xl.hosts.xlwings_lite import write_lite

    with _writing(folder):
        return write_lite(folder)
