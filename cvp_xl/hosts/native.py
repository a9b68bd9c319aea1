"""Native formulas: ``CVP_*`` calls rewritten as plain Excel formulas.

A workbook shared with a customer must compute in any Excel and in
LibreOffice without an add-in.  For each registry function that has a
translation, :func:`to_native` replaces every call in a formula (nested
calls too) by the equivalent native expression:

>>> to_native("=IFERROR(CVP_ROI(B1,B2),0)")
'=IFERROR((B1-B2)/B2,0)'
>>> to_native("=CVP_DIFFERENTIAL(B2,B3,C2*2,C3)+1")
'=((B2-B3)-((C2*2)-C3))+1'
"""

from __future__ import annotations

from openpyxl.formula.tokenizer import Token, Tokenizer

from ..errors import CvpNameError, CvpValueError
from ..registry import get

__all__ = ["to_native", "cvp_calls", "NoTranslation"]


class NoTranslation(LookupError):
    """A ``CVP_*`` function without a native translation (its value must be kept instead)."""

    def __init__(self, name: str):
        super().__init__(f"{name} has no native-formula translation")
        self.name = name


def _is_cvp_open(tok: Token) -> bool:
    if tok.type != Token.FUNC or tok.subtype != Token.OPEN:
        return False
    name = tok.value[:-1].upper()
    return name.startswith("CVP_") or name.startswith("_XLUDF.CVP_")


def _text(tokens: list[Token]) -> str:
    return "".join(t.value for t in tokens)


def _rewrite(tokens: list[Token], i: int, stop_at_close: bool) -> tuple[str, int]:
    """Rewrite tokens from i; return (text, index after the consumed tokens)."""
    out = []
    depth = 0
    while i < len(tokens):
        tok = tokens[i]
        if _is_cvp_open(tok):
            start = i
            text, i = _call(tokens, i)
            out.append(text if _stands_alone(tokens, start, i) else f"({text})")
            continue
        if tok.type == Token.FUNC and tok.subtype == Token.OPEN:
            depth += 1
        elif tok.type == Token.PAREN and tok.subtype == Token.OPEN:
            depth += 1
        elif tok.subtype == Token.CLOSE:
            if depth == 0 and stop_at_close:
                return "".join(out), i
            depth -= 1
        elif tok.type == Token.SEP and tok.subtype == Token.ARG and depth == 0 and stop_at_close:
            return "".join(out), i
        out.append(tok.value)
        i += 1
    return "".join(out), i


def _call(tokens: list[Token], i: int) -> tuple[str, int]:
    name = tokens[i].value[:-1]
    try:
        entry = get(name)
    except KeyError:
        raise CvpNameError(f"unknown function {name.upper()}") from None
    i += 1
    args: list[str] = []
    if tokens[i].subtype == Token.CLOSE:
        i += 1
    else:
        while True:
            text, i = _rewrite(tokens, i, stop_at_close=True)
            args.append(text.strip())
            tok = tokens[i]
            i += 1
            if tok.subtype == Token.CLOSE:
                break
    if entry.native is None:
        raise NoTranslation(entry.name)
    required = sum(not a.optional for a in entry.args)
    if not required <= len(args) <= len(entry.args):
        count = f"{required}" if required == len(entry.args) else f"{required} to {len(entry.args)}"
        raise CvpValueError(f"{entry.signature} takes {count} arguments, got {len(args)}")
    return entry.to_native(*args), i


def _stands_alone(tokens: list[Token], start: int, end: int) -> bool:
    """True when no operator touches the call at tokens[start:end] (no parentheses needed)."""
    before = [t for t in tokens[:start] if t.type != Token.WSPACE]
    after = [t for t in tokens[end:] if t.type != Token.WSPACE]
    left_ok = not before or before[-1].subtype == Token.OPEN or (
        before[-1].type == Token.SEP and before[-1].subtype == Token.ARG)
    right_ok = not after or after[0].subtype == Token.CLOSE or (
        after[0].type == Token.SEP and after[0].subtype == Token.ARG)
    return left_ok and right_ok


def to_native(formula: str) -> str:
    """Rewrite every ``CVP_*`` call in ``formula`` as native Excel.

    Raises :class:`NoTranslation` when a called function has no translation.
    A formula without ``CVP_*`` calls comes back unchanged.
    """
    if not formula.startswith("="):
        return formula
    tokens = Tokenizer(formula).items
    if not any(_is_cvp_open(t) for t in tokens):
        return formula
    text, _ = _rewrite(tokens, 0, stop_at_close=False)
    return "=" + text


def cvp_calls(formula: str) -> list[str]:
    """Names of the ``CVP_*`` functions a formula calls (upper case, no prefix)."""
    if not isinstance(formula, str) or not formula.startswith("="):
        return []
    names = []
    for tok in Tokenizer(formula).items:
        if _is_cvp_open(tok):
            name = tok.value[:-1].upper()
            names.append(name.removeprefix("_XLUDF."))
    return names
