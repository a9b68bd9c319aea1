"""The xlsx layer: reading and writing .xlsx files safely.

One home for each idea: ``safety`` (every file checked before a parser sees it), ``atomic``
(whole or not at all), ``cached`` (values next to formulas), ``a1`` (cell references),
``share_safe`` (the functions a shared workbook may call), ``write`` (text stays text).
Import the module you need; this package imports nothing by itself.
"""
