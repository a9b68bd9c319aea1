"""Recompute a workbook headlessly and keep its formulas *and* their values.

The one rule: after :func:`recalc` every formula cell holds the value Excel would compute, or
it keeps the value the file already had **and is named** in the result with the reason
(``Sheet!C7: not recomputed (FORECAST.ETS is not supported); kept the stored value``).  A
value we cannot stand behind is never written.

The file is checked before anything parses it (:func:`~cvp_xl.xlsx.safety.check_xlsx`), read
cell by cell without visiting empty cells and refused past the cell and formula limits
(:func:`~cvp_xl.xlsx.contents.read_contents`), computed with the ``formulas`` engine through a
model that never opens another file (:func:`~cvp_xl.hosts.formulas_workbook.compute_contents`),
and the computed values are written next to the formulas, every other part of the file copied
byte for byte (macros included), atomically (:func:`~cvp_xl.xlsx.cached.write_cached_values`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from cvp_xl.errors import CvpXlError, ErrorValue, WorkbookError
from cvp_xl.xlsx.contents import MAX_CELLS, MAX_FORMULAS, read_contents
from cvp_xl.xlsx.safety import check_xlsx

__all__ = ["recalc", "compute", "compute_by_model", "RecalcResult", "CellError", "KeptCell"]

#: The label next to a cvp-xl calculator's all-inputs-valid cell (Summary!A7; its value in B7,
#: its message in B5), as ``cvp_xl.workbooks.calculator.builder`` writes it.
CALCULATOR_VALID_LABEL = "All inputs and prices valid"


@dataclass(frozen=True)
class CellError:
    """A formula cell whose value is an Excel error, with what is known of why."""

    sheet: str
    ref: str
    code: str
    reason: str = ""

    def __str__(self) -> str:
        text = f"{self.sheet}!{self.ref}: {self.code}"
        return f"{text} ({self.reason})" if self.reason else text


@dataclass(frozen=True)
class KeptCell:
    """A formula cell that was not recomputed: it keeps the value the file stored."""

    sheet: str
    ref: str
    reason: str
    stored: bool = True
    array: str | None = None

    def __str__(self) -> str:
        kept = "kept the stored value" if self.stored else "it has no stored value"
        where = self.array or self.ref
        return f"{self.sheet}!{where}: not recomputed ({self.reason}); {kept}"

    def cells(self) -> list[tuple[str, str]]:
        """Every cell this covers: the formula cell, or each cell of an array formula."""
        from cvp_xl.xlsx.a1 import cells

        return [(self.sheet, ref) for ref in cells(self.array)] if self.array else [
            (self.sheet, self.ref)]


@dataclass
class RecalcResult:
    """What :func:`compute` found: every formula cell's value, and what could not be trusted.

    Attributes
    ----------
    values : dict
        ``{(sheet, "A1"): value}`` for every formula cell: the computed value, or for a kept
        cell the value the file stored.
    errors : list of CellError
        Computed cells whose value is an Excel error.
    kept : list of KeptCell
        Formula cells not recomputed, each with its reason.
    volatile : set
        Computed cells whose value changes on every recalculation (RAND, NOW, OFFSET, ...).
    problems : list of str
        What a cvp-xl calculator reports about itself (invalid inputs).
    """

    path: Path
    values: dict = field(default_factory=dict)
    errors: list[CellError] = field(default_factory=list)
    kept: list[KeptCell] = field(default_factory=list)
    volatile: set = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    formula_cells: int = 0
    written: dict = field(default_factory=dict)
    by_model: bool = False  # a cvp-xl calculator computed by its own model (compute_by_model)

    @property
    def computed(self) -> int:
        """Formula cells recomputed to a value that is not an error."""
        return self.formula_cells - len(self.kept) - len(self.errors)

    @property
    def trusted(self) -> bool:
        """True when every formula cell was recomputed, none is an error, no problem."""
        return not (self.kept or self.errors or self.problems)

    def summary(self) -> str:
        """``BOOK: 12 formula cells: 10 computed, 1 kept (not recomputed), 1 error``, and
        ``, by the calculator's model`` when :func:`compute_by_model` computed them."""
        errors = f"{len(self.errors)} error{'s' * (len(self.errors) != 1)}"
        return (f"{self.path}: {self.formula_cells} formula cell"
                f"{'s' * (self.formula_cells != 1)}: {self.computed} computed, "
                f"{len(self.kept)} kept (not recomputed), {errors}"
                + (", by the calculator's model" if self.by_model else ""))


def compute_by_model(path: str | os.PathLike, *, max_cells: int = MAX_CELLS,
                     max_formulas: int = MAX_FORMULAS,
                     checked: bool = False) -> RecalcResult | None:
    """A calculator cvp-xl built, computed by its own model; None for any other workbook.

    The file names its spec and template, carries its template record, and is that template
    rebuilt with the customer's entries (:mod:`cvp_xl.commands.by_model` says exactly when):
    then every formula cell's value is the Python model's, in milliseconds, not the engine's.
    A workbook that is not such a calculator, or one edited beyond its entries (a formula
    changed, a protected value changed, an input not valid), gives None: :func:`compute`
    then computes it with the formulas engine; so does a calculator past the limits (the
    engine's path refuses it, saying which).  ``checked``: the caller has just passed the
    file through :func:`~cvp_xl.xlsx.safety.check_xlsx` (it is checked once, before
    anything reads it); False checks it here.
    """
    from .by_model import calculator_values

    found = calculator_values(path, checked=checked)
    if found.values is None or len(found.values) > max_formulas or found.cells > max_cells:
        return None
    return RecalcResult(path=Path(path), values=dict(found.values), written=dict(found.values),
                        formula_cells=len(found.values), by_model=True)


def compute(
    path: str | os.PathLike,
    *,
    max_cells: int = MAX_CELLS,
    max_formulas: int = MAX_FORMULAS,
    by_model: bool = True,
) -> RecalcResult:
    """Compute every formula cell of the workbook at `path`; write nothing.

    Returns the values keyed by ``(sheet_name, "A1")`` with the sheet names as the workbook
    spells them.  No file other than `path` is opened.  A calculator cvp-xl built is
    computed by its own model (:func:`compute_by_model`) unless ``by_model`` is False.

    Raises
    ------
    WorkbookError
        The file is not an .xlsx/.xlsm workbook, looks hostile, is malformed, or is past a
        limit; the message names the file (and the sheet and cell where one is at fault).
    """
    from cvp_xl.hosts.formulas_workbook import compute_contents

    path = Path(path)
    check_xlsx(path)
    if by_model and (result := compute_by_model(path, max_cells=max_cells,
                                                 max_formulas=max_formulas,
                                                 checked=True)) is not None:
        return result
    contents = read_contents(path, max_cells=max_cells, max_formulas=max_formulas)
    try:
        engine = compute_contents(contents)
    except CvpXlError:
        raise
    except RecursionError:
        raise WorkbookError(
            f"{path}: refused: its formulas are nested or chained too deeply for the engine"
        ) from None
    except MemoryError:
        raise WorkbookError(f"{path}: refused: computing it needs more memory than is free") \
            from None
    except Exception as exc:  # the engine's own defect: a message, never a traceback
        raise WorkbookError(
            f"{path}: the formulas engine could not compute it ({type(exc).__name__}: {exc})"
        ) from None
    stored = {(s.name, ref): c.value for s in contents.sheets for ref, c in s.cells.items()
              if c.formula is not None}
    arrays = {(s.name, ref): c.array for s in contents.sheets for ref, c in s.cells.items()
              if c.kind in ("array", "datatable") and c.array and ":" in c.array}
    result = RecalcResult(path=path, formula_cells=len(engine.formula_cells),
                          volatile=engine.volatile)
    for key in engine.formula_cells:
        if key in engine.kept:
            result.kept.append(KeptCell(*key, engine.kept[key], stored.get(key) is not None,
                                        arrays.get(key)))
            if stored.get(key) is not None:
                result.values[key] = stored[key]
            continue
        value = engine.values.get(key)
        result.values[key] = value
        result.written[key] = value
        if isinstance(value, ErrorValue):
            result.errors.append(CellError(*key, value.code, engine.reasons.get(key, "")))
    # cells inside array formulas (not formula cells themselves) that the engine filled
    for key, value in engine.values.items():
        if key not in result.values:
            result.values[key] = value
            result.written[key] = value
    result.problems.extend(engine.problems)
    result.problems.extend(_calculator_problems(contents, result.values))
    return result


def _calculator_problems(contents, values) -> list[str]:
    """A cvp-xl calculator says in Summary!B7 whether all its inputs are valid."""
    summary = next((s for s in contents.sheets if s.name == "Summary"), None)
    if summary is None:
        return []
    label = summary.cells.get("A7")
    if label is None or label.value != CALCULATOR_VALID_LABEL:
        return []
    valid = values.get(("Summary", "B7"))
    if valid is True:
        return []
    message = values.get(("Summary", "B5"))
    detail = f": {message}" if isinstance(message, str) and message else ""
    return [f"Summary!B7: the calculator reports invalid inputs{detail}"]


def recalc(
    src: str | os.PathLike,
    dst: str | os.PathLike | None = None,
    *,
    max_cells: int = MAX_CELLS,
    max_formulas: int = MAX_FORMULAS,
) -> RecalcResult:
    """Recompute `src` and write it, with formulas and cached values, to `dst`.

    Without `dst` the file is rewritten in place, atomically (through a symbolic link, the
    file it points to is replaced): a failure leaves the original untouched.  Only computed
    cells are written; a kept cell keeps its stored value byte for byte.  An OS error while
    writing (a full disk, a read-only folder) raises :class:`~cvp_xl.errors.WorkbookError`
    naming `dst` and the error; the temporary files of a run that was killed are removed.
    """
    from cvp_xl.xlsx.atomic import clean_temporaries, not_written
    from cvp_xl.xlsx.cached import write_cached_values

    result = compute(src, max_cells=max_cells, max_formulas=max_formulas)
    dst = Path(dst) if dst is not None else Path(src)
    real = Path(os.path.realpath(dst))
    clean_temporaries(real.parent, [real.name])  # what a killed run left
    existed = dst.exists()
    try:
        write_cached_values(Path(src), dst, result.written)
    except OSError as exc:
        raise not_written(dst, exc, existed) from None
    result.path = dst
    return result
