"""Value calculators: a YAML spec, its Python evaluation, and the workbook built from it.

``spec`` reads and validates the spec; ``model`` evaluates it (vectorised over customers);
``builder`` writes the workbook with formulas and values, and ``digests`` the record of its
template that ``check`` compares a filled-in file with (``cvp-xl check``).
"""

from cvp_xl.workbooks.calculator.spec import (
    Alternative,
    Input,
    Spec,
    SpecError,
    ValueElement,
    load_spec,
    parse_spec,
)

__all__ = [
    "Alternative",
    "Input",
    "Spec",
    "SpecError",
    "ValueElement",
    "load_spec",
    "parse_spec",
]
