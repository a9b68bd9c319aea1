"""The formulas engine computing a workbook's ``CVP_*`` calls through its LAMBDA names.

Other tests register the Python ``CVP_*`` functions with the engine (``register_all``), and a
registered function wins over a defined name of the same name.  :func:`lambda_values` hides
them while the engine loads and computes the workbook, so each call resolves to the LAMBDA
defined in the file, as it does in Excel 365, and puts them back afterwards.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import numpy as np

__all__ = ["lambda_values", "python_functions_hidden", "engine_cannot"]

_KEY = re.compile(r"^'?\[[^\]]+\](?P<sheet>.+?)'?!(?P<ref>[A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)$")

#: What the formulas engine (1.3.4) cannot evaluate in a LAMBDA, found by trying it
#: (``tests/conformance/test_lambda.py::test_the_engine_still_cannot`` keeps it true).
OPTIONAL = "optional parameters: the engine has no ISOMITTED and reads _xlop. as a missing name"
REFERENCE = ("COLUMN of a parameter: the engine hands a LAMBDA parameter over as values, not "
             "as a reference, and COLUMN (as ROW, ROWS, COLUMNS) gives #VALUE!")
#: Functions whose LAMBDA needs more of the engine than it has, beyond optional parameters.
CANNOT = {"CVP_DRIVER_WEIGHTS": REFERENCE}


def engine_cannot(made) -> str:
    """Why the formulas engine cannot compute this LAMBDA (empty when it can)."""
    if any(made.optional):
        return OPTIONAL
    return CANNOT.get(made.name, "")


@contextlib.contextmanager
def python_functions_hidden():
    """Remove every ``CVP_*`` function from the engine's table while the block runs."""
    import formulas

    table = formulas.get_functions()
    hidden = {k: table.pop(k) for k in list(table)
              if k.upper().startswith(("CVP_", "_XLUDF.CVP_"))}
    try:
        yield
    finally:
        table.update(hidden)


def lambda_values(path: Path) -> dict[tuple[str, str], object]:
    """Every cell the engine computes, by ``(SHEET, "A1")`` (sheet names upper case), with
    the Python ``CVP_*`` functions hidden: values in the library's terms (``ErrorValue``)."""
    import formulas

    from cvp_xl.hosts.formulas_host import from_engine, quiet_engine
    from cvp_xl.xlsx.a1 import cells

    quiet_engine()
    with python_functions_hidden():
        solution = formulas.ExcelModel().loads(str(path)).finish().calculate()
    values = {}
    for key, rng in solution.items():
        m = _KEY.match(str(key))
        if not m:
            continue
        arr = np.asarray(getattr(rng, "value", rng), dtype=object)
        arr = arr.reshape(1, 1) if arr.ndim == 0 else arr
        width = arr.shape[1] if arr.ndim == 2 else 1
        for k, ref in enumerate(cells(m["ref"])):
            r, c = divmod(k, width)
            if r < arr.shape[0] and c < width:
                values[(m["sheet"].upper(), ref)] = from_engine(
                    arr[r, c] if arr.ndim == 2 else arr[r], empty=0)
    return values
