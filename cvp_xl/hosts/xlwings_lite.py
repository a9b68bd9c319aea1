"""xlwings Lite: the ``CVP_*`` functions that need Python, inside Excel on every platform.

xlwings Lite is an Excel add-in (Windows, Mac, Excel for the web) that runs Python in the
browser engine Excel's add-ins use (Pyodide), with the ``func``/``arg``/``ret`` decorators the
xlwings server uses.  Its code is one file, ``main.py``, and its packages are listed in
``requirements.txt``; both live in the workbook.

:func:`module_source` writes that ``main.py`` from the registry for every function that the
LAMBDA library cannot offer (:func:`cvp_xl.hosts.lambdas.not_lambda`): each becomes a function
of the same name and argument names, its description as docstring and each argument's help as
``@arg(..., doc=...)``, that calls the registry function.  The module imports only the light
core of ``cvp_xl`` (the registry and the errors: numpy and the standard library).
``cvp-xl functions --lite udfs/xlwings_lite`` writes both files; a test checks that the
committed ones are what it writes.

In a cell, a bad argument gives the same short text as the desktop add-in
(``#VALUE! names (item 2): expected a name, got a blank cell``), never a traceback.
"""

from __future__ import annotations

import os
from pathlib import Path

from cvp_xl import __version__
from cvp_xl.hosts.lambdas import not_lambda
from cvp_xl.registry import Function, functions

__all__ = ["lite_functions", "module_source", "requirements_source", "write_lite", "FILES"]

FILES = ("main.py", "requirements.txt")
COMMAND = "cvp-xl functions --lite udfs/xlwings_lite"

_HEADER = '''\
"""cvp-xl functions that need Python, for xlwings Lite (Excel on Windows, Mac and the web).

Generated from the cvp-xl {version} registry by `{command}`:
do not edit by hand.  Paste this file into the main.py tab of the xlwings Lite task pane,
and requirements.txt into its requirements.txt tab (README: "In every Excel, with nothing
installed").  The other CVP_* functions need no Python at all in Excel 365:
`cvp-xl add-functions BOOK.xlsx` adds them to a workbook as LAMBDA names.

Each function's docstring is its description in Excel, and each @arg's doc the help of an
argument (both one line, written as adjacent strings in parentheses to fit the page).

A bad argument gives a short text in the cell, such as
"#VALUE! names (item 2): expected a name, got a blank cell", never a traceback.
"""

import numpy as np
from xlwings import arg, func

from cvp_xl.errors import CvpError, cell_errors
from cvp_xl.registry import get

MAX_CELL_TEXT = 255  # keep the text in a cell short


def _to_excel(result):
    """Numbers as Python floats, arrays as lists of rows."""
    if isinstance(result, np.ndarray):
        result = result.reshape(-1, 1) if result.ndim == 1 else result
        return _to_excel(result.tolist())
    if isinstance(result, np.generic):
        return result.item()
    if isinstance(result, list):
        return [_to_excel(v) for v in result]
    return result


def _call(name, *args):
    """The registry function ``name`` on Excel's arguments; an error as its short text."""
    try:
        return _to_excel(get(name).func(*(cell_errors(a) for a in args)))
    except CvpError as exc:
        return str(exc)[:MAX_CELL_TEXT]
    except Exception as exc:  # a defect must not put a traceback in a cell
        return f"#VALUE! internal error in {{name}}: {{type(exc).__name__}}"[:MAX_CELL_TEXT]
'''


def lite_functions() -> list[Function]:
    """The registry functions that need Python: those the LAMBDA library cannot offer."""
    return [entry for entry in functions() if not_lambda(entry)]


def _literal(text: str, indent: int, width: int = 96) -> str:
    """``text`` as a Python string literal that fits in ``width`` columns once indented by
    ``indent``: one literal, or adjacent literals in parentheses (one string all the same)."""
    one = repr(text)
    if indent + len(one) <= width:
        return one
    room = width - indent - 4
    chunks, line = [], ""
    for word in text.split(" "):
        piece = word if not line else f"{line} {word}"
        if line and len(repr(piece)) > room:
            chunks.append(line + " ")
            line = word
        else:
            line = piece
    chunks.append(line)
    pad = " " * (indent + 1)
    return "(" + f"\n{pad}".join(repr(c) for c in chunks) + ")"


def _function_source(entry: Function) -> str:
    lines = ["", "", "", "@func"]
    for a in entry.args:
        ndim = ", ndim=2" if a.kind in ("range", "number") else ""
        head = f"@arg({a.name!r}{ndim}, err_to_str=True, doc="
        lines.append(f"{head}{_literal(a.help, len(head))})")
    params = ", ".join(f"{a.name}=None" if a.optional else a.name for a in entry.args)
    lines.append(f"def {entry.name}({params}):")
    # the docstring is Excel's description of the function: one line, however it is written
    lines.append(f"    {_literal(entry.description, 4)}")
    names = ", ".join(a.name for a in entry.args)
    lines.append(f"    return _call({entry.name!r}, {names})")
    return "\n".join(lines)


def module_source() -> str:
    """The text of ``udfs/xlwings_lite/main.py``."""
    parts = [_HEADER.format(version=__version__, command=COMMAND).rstrip("\n")]
    parts += [_function_source(entry) for entry in lite_functions()]
    return "".join(parts) + "\n"


def requirements_source() -> str:
    """The text of ``udfs/xlwings_lite/requirements.txt``."""
    return (
        f"# Packages for xlwings Lite, generated by `{COMMAND}`.\n"
        "# numpy is built into Pyodide (do not pin it). cvp-xl: if it is not on your package\n"
        "# index, replace the line with the URL of a wheel built from this repository\n"
        "# (`pip wheel --no-deps . -w dist`) that Excel can download (README).\n"
        "xlwings\n"
        "numpy\n"
        f"cvp-xl=={__version__}\n"
    )


def write_lite(folder: str | os.PathLike[str]) -> list[Path]:
    """Write ``main.py`` and ``requirements.txt`` into ``folder`` (created when missing)."""
    from cvp_xl.xlsx.atomic import atomic_path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in zip(FILES, (module_source(), requirements_source())):
        path = folder / name
        with atomic_path(path) as tmp:
            tmp.write_text(text, encoding="utf-8", newline="\n")
        written.append(path)
    return written
