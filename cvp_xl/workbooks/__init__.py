"""Workbook builders: template workbooks written with openpyxl from a spec, share-safe."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

__all__ = ["load_yaml"]


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
