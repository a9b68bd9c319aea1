"""Reading the fields of a builder's YAML spec, with messages that name the file and the field.

Shared by the pricing and positioning builders.  Every function raises a
:class:`~cvp_xl.errors.CvpError` (``CvpValueError`` for a missing or ill-typed field) whose
message starts with ``where``, the file name or ``spec``, and quotes a refused value only in
part (:func:`~cvp_xl.workbooks.yaml_safe.shown`).  A file is read with the limits of
:mod:`cvp_xl.workbooks.yaml_safe`.
"""

from __future__ import annotations

from pathlib import Path

from cvp_xl.args import number
from cvp_xl.errors import CvpError, CvpNumError, CvpValueError
from cvp_xl.workbooks import load_yaml
from cvp_xl.workbooks.yaml_safe import shown

__all__ = ["read_mapping", "field", "number_field", "text_field", "list_field"]


def read_mapping(spec, default: Path) -> tuple[dict, str]:
    """The spec as a mapping (``spec`` itself, or read from a YAML file) and how to name it."""
    data, where = load_yaml(spec, default)
    if not isinstance(data, dict):
        raise CvpValueError(f"{where}: expected a mapping of settings, got {type(data).__name__}")
    return data, where


def field(data: dict, key: str, where: str, default=...):
    """``data[key]``; ``default`` when it is missing or empty, an error without a default."""
    if key not in data or data[key] is None:
        if default is ...:
            raise CvpValueError(f"{where}: {key} is missing")
        return default
    return data[key]


def number_field(data: dict, key: str, where: str, default=...) -> float:
    """``data[key]`` as a float.

    >>> try:
    ...     number_field({"price": 10**400}, "price", "spec")
    ... except CvpNumError as error:
    ...     print(error.message)
    spec: price: expected a finite number, got a whole number beyond 1.8E308
    """
    value = field(data, key, where, default)
    if isinstance(value, dict):
        raise CvpValueError(f"{where}: {key}: expected a number, got {shown(value)}")
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 1024:
        raise CvpNumError(f"{where}: {key}: expected a finite number, got a whole number "
                          "beyond 1.8E308")
    try:
        return number(value, key)
    except CvpError as exc:
        raise type(exc)(f"{where}: {exc.message}") from None


def text_field(data: dict, key: str, where: str, default=...) -> str:
    """``data[key]`` as text (a number is written as ``%g``)."""
    value = field(data, key, where, default)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = f"{value:g}"
    if not isinstance(value, str):
        raise CvpValueError(f"{where}: {key}: expected text, got {shown(value)}")
    return value


def list_field(data: dict, key: str, where: str) -> list:
    """``data[key]`` as a list (empty when missing)."""
    value = field(data, key, where, [])
    if not isinstance(value, list):
        raise CvpValueError(f"{where}: {key}: expected a list, got {type(value).__name__}")
    return value
