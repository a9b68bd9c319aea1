"""Edit an xlsx file in LibreOffice Calc, as a user would, and save it as xlsx.

Run with a Python that has LibreOffice's ``uno`` module (Debian's ``python3-uno``)::

    python3 libreoffice_edit.py IN.xlsx OUT.xlsx '[["unprotect", "Summary"],
        ["insert_row", "Summary", 15], ["set", "Summary", "A15", "Extra"],
        ["protect", "Summary"]]'

Unlike openpyxl, LibreOffice moves every reference when a row is inserted, as Excel does.
A private profile is used; the soffice process started here is ended here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _prop(name, value):
    from com.sun.star.beans import PropertyValue  # importable once uno is

    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def _apply(doc, actions) -> None:
    for action, sheet_name, *args in actions:
        sheet = doc.Sheets.getByName(sheet_name)
        if action == "unprotect":
            sheet.unprotect("")
        elif action == "protect":
            sheet.protect("")
        elif action == "insert_row":
            sheet.Rows.insertByIndex(args[0] - 1, 1)
        elif action == "delete_row":
            sheet.Rows.removeByIndex(args[0] - 1, 1)
        elif action == "set":
            cell = sheet.getCellRangeByName(args[0])
            if isinstance(args[1], str):
                cell.String = args[1]
            else:
                cell.Value = args[1]
        else:
            raise ValueError(f"unknown action {action!r}")


def main(src: str, dst: str, actions: list) -> None:
    """Open ``src`` in LibreOffice, apply ``actions``, save as xlsx to ``dst``."""
    import uno  # LibreOffice's bridge, in its own Python (not the project's venv)

    soffice = os.environ.get("CVP_XL_SOFFICE") or "soffice"
    with tempfile.TemporaryDirectory(prefix="cvp_xl_lo_edit_") as profile:
        pipe = f"cvpxl_edit_{os.getpid()}"
        proc = subprocess.Popen(
            [soffice, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless",
             "--norestore", "--nologo", "--nolockcheck", f"--accept=pipe,name={pipe};urp;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        desktop = None
        try:
            local = uno.getComponentContext()
            resolver = local.ServiceManager.createInstanceWithContext(
                "com.sun.star.bridge.UnoUrlResolver", local)
            for _ in range(300):
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
            doc = desktop.loadComponentFromURL(Path(src).resolve().as_uri(), "_blank", 0,
                                               (_prop("Hidden", True),))
            _apply(doc, actions)
            doc.storeToURL(Path(dst).resolve().as_uri(),
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
    main(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]))
