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

import yaml

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
    """
    if spec is None:
        spec = default
    if isinstance(spec, (str, os.PathLike)):
        path = Path(spec)
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh), path.name
    return spec, "spec"
