"""File names for customers' calculators, safe on every file system, and text a workbook holds.

:func:`assign_files` gives each customer id a distinct file name that never overwrites the
batch summary, a file or folder the user keeps in the output folder, another customer's file
(names compared ignoring case, as Windows and macOS compare them) or a Windows device name.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from .entered import ID_PROPERTY, read_properties
from .summary import SUMMARY

__all__ = ["file_name", "assign_files", "illegal_character", "printable", "RESERVED"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
#: Names Windows keeps for devices, with or without an extension (case ignored).
RESERVED = {"con", "prn", "aux", "nul", *(f"com{k}" for k in range(10)),
            *(f"lpt{k}" for k in range(10)), "com¹", "com²", "com³", "lpt¹", "lpt²", "lpt³"}
#: Characters an .xlsx file cannot hold (XML 1.0 forbids them).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def file_name(customer_id: str) -> str:
    """The plain file name for a customer id: letters, digits, ``.``, ``_`` and ``-`` only.

    :func:`assign_files` makes it distinct and safe against everything already in a folder.
    """
    stem = _UNSAFE.sub("_", customer_id).strip("._") or "customer"
    return f"{stem[:120]}.xlsx"


def illegal_character(text: str) -> str | None:
    """The first character a workbook cannot hold, as ``U+000B``; None when there is none."""
    m = _ILLEGAL.search(text)
    return f"U+{ord(m.group()):04X}" if m else None


def printable(text) -> str:
    """Text with the characters a workbook cannot hold shown as ``\\x0b`` (for the summary)."""
    if not isinstance(text, str):
        return "" if text is None else str(text)
    return _ILLEGAL.sub(lambda m: repr(m.group())[1:-1], text)


def _suffixed(stem: str, customer_id: str, n: int = 8) -> str:
    return f"{stem}-{hashlib.sha256(customer_id.encode('utf-8')).hexdigest()[:n]}.xlsx"


def assign_files(ids: list[str], out_dir: Path) -> tuple[dict[str, str], dict[str, str]]:
    """A file name for each customer id, safe on every file system: ``({id: name}, {id: why})``.

    A customer whose file is already in the folder (it names its customer id) keeps that
    file's name.  Otherwise the name is :func:`file_name`, unless that name (case ignored,
    as Windows and macOS compare names) is the summary's, a Windows device name (``CON``,
    ``NUL``, ``COM1`` ...), a file the user keeps in the folder, another customer's file, or
    the name an earlier row already took: then a short digest of the id is added
    (``ACME-1b4e28ba.xlsx``), the same on every run.  ``why`` says which.
    """
    existing: dict[str, tuple[str, str | None]] = {}  # casefolded name -> (name, owner id)
    folders: set[str] = set()
    if out_dir.is_dir():
        for p in out_dir.iterdir():
            if p.name.startswith("."):
                continue
            owner = read_properties(p).get(ID_PROPERTY) if p.is_file() and \
                p.suffix.lower() == ".xlsx" else None
            existing[p.name.casefold()] = (p.name, owner)
            if p.is_dir():
                folders.add(p.name.casefold())
    owned: dict[str, str] = {}
    for _, (name, owner) in sorted(existing.items()):
        # a customer whose file was copied (``C-1 copy.xlsx``) keeps the file of its own name
        if owner is not None and (owner not in owned or name == file_name(owner)):
            owned[owner] = name
    taken = {f"{SUMMARY}.xlsx": "the batch summary", f"{SUMMARY}.csv": "the batch summary"}
    names, why = {}, {}
    wanted = set(ids)
    for cid in ids:  # first the customers whose files are already there
        if cid in owned and owned[cid].casefold() not in taken:
            names[cid] = owned[cid]
            taken[owned[cid].casefold()] = f"the file of customer {cid!r}"
    for cid in ids:
        if cid in names:
            continue
        name = file_name(cid)
        stem = name[:-5]
        reason = None
        if stem.split(".")[0].casefold() in RESERVED:
            reason = f"{stem} is a device name on Windows"
        elif name.casefold() in taken:
            reason = f"{existing.get(name.casefold(), (name,))[0]} is {taken[name.casefold()]}"
        elif name.casefold() in existing:
            owner = existing[name.casefold()][1]
            kind = "folder" if name.casefold() in folders else "file"
            reason = (f"{existing[name.casefold()][0]} is a {kind} of yours that is not a "
                      f"calculator of this batch" if owner is None or owner not in wanted
                      else f"{existing[name.casefold()][0]} is the file of customer {owner!r}")
        if reason is not None:
            n = 8
            name = _suffixed(stem, cid, n)
            while name.casefold() in taken or name.casefold() in existing:
                n += 4
                name = _suffixed(stem, cid, n)
            why[cid] = f"its file is {name}: {reason}"
        elif name != f"{cid}.xlsx":
            why[cid] = f"its file is {name}: a file name holds only letters, digits, '.', '_' " \
                       f"and '-'"
        names[cid] = name
        taken[name.casefold()] = f"the file of customer {cid!r}"
    return names, why
