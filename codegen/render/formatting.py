"""black, one top-level definition at a time, each remembered for the rest of the process.

black is the largest single cost of a generate (about a third of it), and a file's classes recur:
a block class's text holds no sizes (its parent's constructor passes them), so the same class is
rendered again for every model that has it, and calibration, regeneration and a test run render
the same ones over and over. black formats each top-level statement on its own and puts exactly
two blank lines around a module-level class or function, so formatting the file's head (docstring,
imports, helper functions) and each class separately, then joining them with two blank lines,
gives black's text for the whole file (tests/test_formatting.py checks that against black).
"""

from __future__ import annotations

import ast
import functools

from codegen.errors import ModelgenError
from codegen.render.width import fit_width


def format_source(text: str, fit: bool = False) -> str:
    """`text` as black formats it at 100 columns; `fit`: then every line within 100 columns, as
    width.fit_width fits it (line by line, knowing only where comments and docstrings are, so a
    piece at a time too, each remembered with black's text)."""
    pieces = top_level_pieces(text)
    if pieces is None:  # does not parse: black says where
        return fit_width(_format(text)) if fit else _format(text)
    # Each piece as black would leave it (no blank lines after it): black reformats any text it
    # changed a second time, so text already in its form costs one pass, not two.
    piece = _fitted if fit else _formatted
    return "\n\n\n".join(piece(p.rstrip() + "\n") for p in pieces) + "\n"


def _formatted(piece: str) -> str:
    return _format(piece).strip("\n")


@functools.lru_cache(maxsize=4096)
def _fitted(piece: str) -> str:
    return fit_width(_formatted(piece))


def top_level_pieces(text: str) -> list[str] | None:
    """`text` cut before each module-level class (with its decorators and the comment lines just
    above it); the first piece is everything before the first class. None where it does not parse."""
    try:
        body = ast.parse(text).body
    except SyntaxError:
        return None
    lines = text.split("\n")
    cuts, previous_end = [0], 0
    for node in body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
        if isinstance(node, ast.ClassDef) and start > cuts[-1]:
            while start - 1 >= previous_end and lines[start - 1].startswith("#"):
                start -= 1  # a comment heading the class goes with it
            cuts.append(start)
        previous_end = node.end_lineno or node.lineno
    return ["\n".join(lines[a:b]) for a, b in zip(cuts, cuts[1:] + [len(lines)])]


@functools.lru_cache(maxsize=4096)
def _format(text: str) -> str:
    import black

    try:
        return black.format_str(text, mode=black.Mode(line_length=100))
    except black.InvalidInput as e:  # a renderer bug, never the user's input
        raise ModelgenError(
            f"internal error: rendered code does not parse ({e}); please report it"
        ) from None
