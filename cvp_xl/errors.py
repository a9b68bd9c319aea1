"""One small hierarchy of errors, each carrying an Excel error code.

Python callers get these as exceptions.  Hosts turn them into spreadsheet
errors only at their boundary: the formulas host returns the matching
``XlError``, the xlwings host writes ``"<code> <message>"`` into the cell.

>>> str(CvpValueError("price_s: expected a number, got 'abc'"))
"#VALUE! price_s: expected a number, got 'abc'"
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = [
    "CvpXlError",
    "SpecError",
    "ERROR_CODES",
    "ERROR_LITERALS",
    "ErrorValue",
    "as_error",
    "cell_errors",
    "CvpError",
    "CvpValueError",
    "CvpDivZeroError",
    "CvpNumError",
    "CvpNAError",
    "CvpNameError",
    "CvpRefError",
    "error_for_code",
    "WorkbookError",
    "RowProblem",
    "ProblemsError",
]

#: The Excel error literals this library produces or understands, as Excel and LibreOffice
#: write them in an xlsx file.
ERROR_CODES = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A")
ERROR_LITERALS = ERROR_CODES


class CvpXlError(Exception):
    """The root of every error cvp-xl raises on purpose: its text is a message for the user.

    The command line prints it and exits 2; nothing else is caught there.
    """


class CvpError(CvpXlError, ValueError):
    """A value a function cannot compute: an Excel error code plus a message a user can act on.
    """

    code = "#VALUE!"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return f"{self.code} {self.message}"

    def __reduce__(self):  # keep the subclass across process pools
        return (type(self), (self.message,))


class CvpValueError(CvpError):
    """Wrong kind of argument: text or a blank where a number belongs, shapes that differ."""

    code = "#VALUE!"


class CvpDivZeroError(CvpError, ZeroDivisionError):
    """A division by zero that the definition cannot avoid."""

    code = "#DIV/0!"


class CvpNumError(CvpError):
    """A number outside the domain of the function (a negative investment, ...)."""

    code = "#NUM!"


class CvpNAError(CvpError):
    """No answer exists (payback never reached, nothing to choose from)."""

    code = "#N/A"


class CvpNameError(CvpError):
    """An unknown name: a function or a quantity that is not defined."""

    code = "#NAME?"


class CvpRefError(CvpError):
    """A reference that points nowhere."""

    code = "#REF!"


class CvpNullError(CvpError):
    """An empty intersection of ranges (passed through from a spreadsheet)."""

    code = "#NULL!"


_BY_CODE = {
    cls.code: cls
    for cls in (
        CvpValueError,
        CvpDivZeroError,
        CvpNumError,
        CvpNAError,
        CvpNameError,
        CvpRefError,
        CvpNullError,
    )
}


def error_for_code(code: str, message: str) -> CvpError:
    """Return the error instance for an Excel error literal such as ``'#N/A'``."""
    try:
        return _BY_CODE[code.upper()](message)
    except KeyError:
        raise ValueError(f"not an Excel error code: {code!r}") from None


class SpecError(CvpXlError, ValueError):
    """A spec (YAML) that cannot be used; the message starts with ``file:line:``."""


class WorkbookError(CvpXlError):
    """A workbook file that cannot be read or written safely (not an xlsx, hostile, ...)."""


@dataclass(frozen=True)
class RowProblem:
    """One bad cell of a table: its row (as a spreadsheet counts) or CSV line, its column, what.

    >>> str(RowProblem(7, "documented value per year", "expected a number, got 'about 40k'"))
    "row 7, column 'documented value per year': expected a number, got 'about 40k'"
    """

    row: int
    column: str
    message: str
    where: str = "row"

    def __str__(self) -> str:
        return f"{self.where} {self.row}, column {self.column!r}: {self.message}"


class ProblemsError(WorkbookError):
    """A table refused for its bad rows; ``problems`` keeps every one, the text the first 100."""

    headline = "problems"
    MAX_SHOWN = 100

    def __init__(self, problems: list[RowProblem], source: str | os.PathLike | None = None):
        self.problems = list(problems)
        self.source = None if source is None else os.fspath(source)
        n = len(self.problems)
        head = f"{self.source}: " if self.source else ""
        lines = [f"{head}{n} problem{'s' * (n != 1)}{self.headline}"]
        lines += [f"  {p}" for p in self.problems[:self.MAX_SHOWN]]
        if n > self.MAX_SHOWN:
            lines.append(f"  ... and {n - self.MAX_SHOWN} more")
        super().__init__("\n".join(lines))


# -- error values held by cells -----------------------------------------------------------


@dataclass(frozen=True)
class ErrorValue:
    """A spreadsheet error held by a cell.

    Parameters
    ----------
    code : str
        The error literal, such as ``'#DIV/0!'`` or ``'#N/A'``.
    """

    code: str

    def __str__(self) -> str:
        return self.code


def as_error(value: object) -> ErrorValue | None:
    """Return the error a value stands for, or None when it is not an error.

    Parameters
    ----------
    value : object
        An ``ErrorValue`` (returned as is) or a string that may be one of ``ERROR_LITERALS``
        (matched ignoring case and surrounding blanks).

    Returns
    -------
    ErrorValue or None
        The error, with its literal in canonical upper case; None for anything else.

    Examples
    --------
    >>> as_error(" #n/a ")
    ErrorValue(code='#N/A')
    >>> as_error(0) is None
    True
    """
    if isinstance(value, ErrorValue):
        return value
    if isinstance(value, str):
        literal = value.strip().upper()
        if literal in ERROR_LITERALS:
            return ErrorValue(literal)
    return None


def cell_errors(value):
    """A cell value, or rows of them, with each error literal turned into an ``ErrorValue``
    (how the xlwings hosts read the cells Excel passes with ``err_to_str``).

    >>> cell_errors([["#N/A", 2]])
    [[ErrorValue(code='#N/A'), 2]]
    """
    if isinstance(value, list):
        return [cell_errors(v) for v in value]
    err = as_error(value)
    return err if err is not None else value
