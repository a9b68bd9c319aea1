"""The example specs and data that the demo, the tests and the README build from.

Installed, this folder is the package ``cvp_xl.examples``; find a file with
:func:`cvp_xl.workbooks.example` rather than by a path relative to the source.
"""
