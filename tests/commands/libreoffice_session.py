"""Edit xlsx files in LibreOffice Calc, as a user would, and save them as xlsx: one session.

Run with a Python that has LibreOffice's ``uno`` module (Debian's ``python3-uno``)::

    python3 libreoffice_session.py JOBS.json

``JOBS.json`` is a list of ``{"src": IN.xlsx, "dst": OUT.xlsx, "actions": [...]}``; the
actions are ``["set", sheet, "D5", value]`` (a number or text), ``["insert_row", sheet, 7]``,
``["rename", sheet, new_name]``, ``["comment", sheet, "D5", text]``, ``["add_sheet", name]``,
``["unprotect", sheet]`` and ``["protect", sheet]``.  LibreOffice moves every reference when
a row is inserted or a sheet renamed, as Excel does (openpyxl does not).  One soffice
process with a private profile edits every file; it is ended here.

Tests call :func:`edit_in_libreoffice`, which runs this file with such a Python.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def uno_python() -> str | None:
    """A Python that can import LibreOffice's ``uno`` module, or None."""
    for candidate in ("/usr/bin/python3", shutil.which("python3")):
        if candidate and subprocess.run([candidate, "-c", "import uno"],
                                        capture_output=True).returncode == 0:
            return candidate
    return None


def edit_in_libreoffice(jobs: list[dict]) -> None:
    """Apply each job's actions in one LibreOffice session (see the module's description)."""
    python = uno_python()
    if python is None:
        import pytest

        pytest.skip("no Python with LibreOffice's uno module (Debian: python3-uno)")
    with tempfile.TemporaryDirectory(prefix="cvp_xl_jobs_") as tmp:
        path = Path(tmp) / "jobs.json"
        path.write_text(json.dumps([{**j, "src": str(j["src"]), "dst": str(j["dst"])}
                                    for j in jobs]), encoding="utf-8")
        subprocess.run([python, __file__, str(path)], check=True, timeout=600)


def _prop(name, value):
    from com.sun.star.beans import PropertyValue

    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def _apply(doc, actions) -> None:
    for action, *args in actions:
        if action == "add_sheet":
            doc.Sheets.insertNewByName(args[0], doc.Sheets.getCount())
            continue
        sheet = doc.Sheets.getByName(args[0])
        if action == "unprotect":
            sheet.unprotect("")
        elif action == "protect":
            sheet.protect("")
        elif action == "insert_row":
            sheet.Rows.insertByIndex(args[1] - 1, 1)
        elif action == "rename":
            sheet.setName(args[1])
        elif action == "set":
            cell = sheet.getCellRangeByName(args[1])
            if isinstance(args[2], str):
                cell.String = args[2]
            else:
                cell.Value = args[2]
        elif action == "comment":
            cell = sheet.getCellRangeByName(args[1])
            sheet.Annotations.insertNew(cell.CellAddress, args[2])
        else:
            raise ValueError(f"unknown action {action!r}")


def main(jobs_file: str) -> None:
    import uno  # LibreOffice's bridge (imported here: pytest reads this file without it)

    jobs = json.loads(Path(jobs_file).read_text(encoding="utf-8"))
    soffice = os.environ.get("CVP_XL_SOFFICE") or "soffice"
    with tempfile.TemporaryDirectory(prefix="cvp_xl_lo_session_") as profile:
        pipe = f"cvpxl_session_{os.getpid()}"
        proc = subprocess.Popen(
            [soffice, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless",
             "--norestore", "--nologo", "--nolockcheck", f"--accept=pipe,name={pipe};urp;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        desktop = None
        try:
            local = uno.getComponentContext()
            resolver = local.ServiceManager.createInstanceWithContext(
                "com.sun.star.bridge.UnoUrlResolver", local)
            for _ in range(600):
                try:
                    ctx = resolver.resolve(
                        f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
                    break
                except Exception:  # noqa: BLE001 - not listening yet
                    time.sleep(0.1)
            else:
                raise RuntimeError("LibreOffice did not start")
            desktop = ctx.ServiceManager.createInstanceWithContext(
                "com.sun.star.frame.Desktop", ctx)
            for job in jobs:
                doc = desktop.loadComponentFromURL(Path(job["src"]).resolve().as_uri(),
                                                   "_blank", 0, (_prop("Hidden", True),))
                _apply(doc, job["actions"])
                doc.storeToURL(Path(job["dst"]).resolve().as_uri(),
                               (_prop("FilterName", "Calc MS Excel 2007 XML"),))
                doc.close(True)
        finally:
            try:
                if desktop is not None:
                    desktop.terminate()
            except Exception:  # noqa: BLE001 - the bridge closes as LibreOffice quits
                pass
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


if __name__ == "__main__":
    main(sys.argv[1])
