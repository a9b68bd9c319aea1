"""Cell values read back from xlsx files: the spreadsheet error value.

A spreadsheet error (``#DIV/0!``, ``#N/A``, ...) is a value a cell holds, not an exception.
``ErrorValue`` keeps it apart from a text cell that merely contains the same characters.

>>> as_error("#div/0!")
ErrorValue(code='#DIV/0!')
>>> as_error("hello") is None
True
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ERROR_LITERALS", "ErrorValue", "as_error"]

#: The Excel error literals, as Excel and LibreOffice write them in an xlsx file.
ERROR_LITERALS = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A")


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
