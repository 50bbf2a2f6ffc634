"""Every generated line within 100 columns, comments and docstrings included.

black fits code but leaves comments and strings as they are. After black, a comment line that is
too long is wrapped into several at its indentation; a comment that follows code and does not fit
goes on in comment lines below it (above it when the code leaves no room); a docstring line is
wrapped at spaces. Only modelgen's own prose is touched, found with `tokenize` (never by searching
the text), and a line that cannot be broken (a single long word, the `Regenerate:` command a later
`check` reads back) is left whole.
"""

from __future__ import annotations

import io
import textwrap
import tokenize

WIDTH = 100
KEEP_WHOLE = ("Regenerate: ",)  # lines other code reads back


def fit_width(text: str) -> str:
    lines = text.split("\n")
    if all(len(line) <= WIDTH for line in lines):
        return text  # nothing to fit: spare the tokenizer
    comments: dict[int, int] = {}  # line index -> column of the comment on it
    docstrings: set[int] = set()  # lines inside a triple-quoted string (after its first line)
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0] - 1] = tok.start[1]
        elif tok.type == tokenize.STRING and tok.string.startswith('"""'):
            docstrings.update(range(tok.start[0] - 1, tok.end[0]))
    out: list[str] = []
    for i, line in enumerate(lines):
        if len(line) <= WIDTH:
            out.append(line)
        elif i in comments:
            out += _comment(line, comments[i])
        elif i in docstrings:
            out += _prose(line)
        else:
            out.append(line)
    return "\n".join(out)


def _comment(line: str, column: int) -> list[str]:
    code, comment = line[:column].rstrip(), line[column:].removeprefix("#").strip()
    indent = line[: len(line) - len(line.lstrip())]
    room = WIDTH - len(code) - 4  # after `code  # `
    if code and room >= 30:  # the comment starts beside its code and goes on below it
        first = _wrap(comment, room)
        if first is not None:
            rest = _wrap(comment[len(first[0]) :].strip(), WIDTH - len(indent) - 2) or []
            return [f"{code}  # {first[0]}"] + [f"{indent}# {part}" for part in rest]
    wrapped = _wrap(comment, WIDTH - len(indent) - 2)
    if wrapped is None:
        return [line]
    return [f"{indent}# {part}" for part in wrapped] + ([code] if code else [])


def _prose(line: str) -> list[str]:
    indent = line[: len(line) - len(line.lstrip())]
    body = line.strip()
    if body.startswith(KEEP_WHOLE):
        return [line]
    hanging = "  " if body.startswith("- ") else ""  # a list item's lines line up under its text
    wrapped = _wrap(body, WIDTH - len(indent), hanging)
    return [line] if wrapped is None else [indent + part for part in wrapped]


def _wrap(text: str, width: int, hanging: str = "") -> list[str] | None:
    parts = textwrap.wrap(
        text,
        width=width,
        subsequent_indent=hanging,
        break_long_words=False,
        break_on_hyphens=False,
    )
    if not parts or any(len(p) > width for p in parts):
        return None
    return parts
