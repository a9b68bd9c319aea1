"""Value calculators: a YAML spec, its Python evaluation, and the workbook built from it."""

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
