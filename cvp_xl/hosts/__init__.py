"""Hosts: adapters that put the registry into a spreadsheet engine.

- :mod:`cvp_xl.hosts.formulas_host` — the headless ``formulas`` engine;
- :mod:`cvp_xl.hosts.native` — translation of ``CVP_*`` calls into native formulas;
- :mod:`cvp_xl.hosts.xlwings_host` — desktop Excel through xlwings (``udfs/cvp_udfs.py``);
- :mod:`cvp_xl.hosts.libreoffice` — LibreOffice Calc, the independent check.
"""
