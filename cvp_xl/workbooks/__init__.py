"""Workbook builders: every template workbook, written with openpyxl, share-safe.

``calculator`` (value calculators from a spec), ``pricing``, ``positioning``, ``case_histories``
(with ``case_table``, the table they hold), ``tracker`` and ``wordeq_library``; each writes
through :class:`~cvp_xl.workbooks.book.Book`, one file with formulas and the values Python
computed.  ``example`` finds the example specs and data shipped with the package.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

from cvp_xl.workbooks.yaml_safe import load_file

__all__ = ["example", "load_yaml"]


def example(*parts: str) -> Path:
    """The path of an example file or folder shipped with cvp-xl (``workbooks/`` in a checkout).

    >>> example("calculators", "fleet-routing.yaml").name
    'fleet-routing.yaml'
    """
    return Path(str(files("cvp_xl.examples").joinpath(*parts)))


def load_yaml(spec, default: Path) -> tuple[object, str]:
    """A builder's inputs: ``spec`` as given (a dict), or read from a YAML file (``default``
    when None).  Returns the data and how messages name its origin (the file name, or "spec").

    A file is read with the limits of :mod:`cvp_xl.workbooks.yaml_safe` (1 MiB, 64 levels of
    nesting, aliases that expand to at most a million values, plain text, text that fits a
    cell); what it refuses raises :class:`~cvp_xl.errors.SpecError` naming the path as given
    and the line.
    """
    if spec is None:
        spec = default
    if isinstance(spec, (str, os.PathLike)):
        path = Path(spec)
        return load_file(path), path.name
    return spec, "spec"
