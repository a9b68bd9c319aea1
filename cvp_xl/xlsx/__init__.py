"""Reading and writing .xlsx files safely: checks, atomic writes and cached values."""

from cvp_xl.xlsx.atomic import atomic_path
from cvp_xl.xlsx.cached import ErrorValue, atomic_save_workbook, write_cached_values
from cvp_xl.xlsx.safety import check_xlsx

__all__ = [
    "ErrorValue",
    "atomic_path",
    "atomic_save_workbook",
    "check_xlsx",
    "write_cached_values",
]
