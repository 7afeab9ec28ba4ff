"""LaTeX escaping for pdflatex and the Jinja environment that fills the LaTeX template."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import jinja2

log = logging.getLogger(__name__)


class RawTex(str):
    """A string that is already LaTeX and must not be escaped again."""

    __slots__ = ()


TEX_SPECIAL: dict[str, str] = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "\t": " ",
    "\n": " ",
    "\r": " ",
}
TEX_UNICODE: dict[str, str] = {
    "±": r"$\pm$",
    "−": "$-$",
    "×": r"$\times$",
    "÷": r"$\div$",
    "≤": r"$\leq$",
    "≥": r"$\geq$",
    "≈": r"$\approx$",
    "→": r"$\rightarrow$",
    "←": r"$\leftarrow$",
    "Δ": r"$\Delta$",
    "α": r"$\alpha$",
    "β": r"$\beta$",
    "λ": r"$\lambda$",
    "σ": r"$\sigma$",
    "µ": r"$\mu$",
    "μ": r"$\mu$",
    "∞": r"$\infty$",
    "·": r"$\cdot$",
    "°": r"$^{\circ}$",
    "²": r"$^{2}$",
    "–": "--",
    "—": "---",
    "…": r"\ldots{}",
    "“": "``",
    "”": "''",
    "‘": "`",
    "’": "'",
    "§": r"\S{}",
    "\u00a0": "~",
}
BREAK_EVERY = 8
LONG_TOKEN = 20


def _tex_char(char: str) -> str:
    """One character as pdflatex-safe text (T1 fontenc, utf8 input)."""
    if char in TEX_SPECIAL:
        return TEX_SPECIAL[char]
    if char in TEX_UNICODE:
        return TEX_UNICODE[char]
    if ord(char) < 128 or "\u00c0" <= char <= "\u00ff":
        return char
    log.debug("replacing %r, which pdflatex cannot typeset, with '?'", char)
    return "?"


def tex_escape(value: Any) -> str:
    """Escape every LaTeX special character of ``str(value)``; RawTex passes through."""
    if isinstance(value, RawTex):
        return str(value)
    text = "" if value is None else str(value)
    return "".join(_tex_char(c) for c in text)


def tex_breakable(value: Any) -> RawTex:
    """Escaped text in which long unbroken tokens (hashes, paths) may wrap."""
    pieces = []
    for token in str(value).split(" "):
        if len(token) <= LONG_TOKEN:
            pieces.append(tex_escape(token))
            continue
        chunks = [token[i : i + BREAK_EVERY] for i in range(0, len(token), BREAK_EVERY)]
        pieces.append(r"\allowbreak{}".join(tex_escape(c) for c in chunks))
    return RawTex(" ".join(pieces))


def latex_environment(template_dir: Path) -> jinja2.Environment:
    """Jinja environment with LaTeX-friendly delimiters that escapes every output value."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_dir),
        block_start_string=r"\BLOCK{",
        block_end_string="}",
        variable_start_string=r"\VAR{",
        variable_end_string="}",
        comment_start_string=r"\#{",
        comment_end_string="}",
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        finalize=tex_escape,
    )
    env.filters["breakable"] = tex_breakable
    env.filters["raw"] = RawTex
    return env
