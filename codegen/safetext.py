"""The one place where outside text (checkpoint keys, metadata, hints, remaps, command-line values)
is made safe for where it lands: a comment, a docstring, or the user's terminal.

Generated code takes outside text in exactly three forms: a `repr()` literal, an identifier checked
by `is_plain_attr` here (and `codegen.naming`), or prose passed through `comment_text` /
`docstring_text` here. Anything else is a code-injection route (a key holding a newline and code, or a closing triple quote).
"""

from __future__ import annotations

import keyword
import re

from rich.markup import escape as _rich_escape


def is_plain_attr(name: str) -> bool:
    """Usable as `self.<name>`: an ASCII identifier (Python NFKC-folds others), no keyword, and no
    leading `__` (inside a class body Python would mangle it to `_Class__name`)."""
    return (
        name.isascii()
        and name.isidentifier()
        and not keyword.iskeyword(name)
        and not name.startswith("__")
    )


# A quote that could help close a triple-quoted string: one followed by another, or the last character.
_CLOSING_QUOTE = re.compile(r'"(?=")|"$')


def printable(text: str) -> str:
    """Every non-printable character (line breaks, NUL, ESC, BEL, bidi controls, lone surrogates)
    written as its escape sequence, so the text stays on one line and shows what it holds."""
    if text.isprintable():
        return text
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape", "backslashreplace").decode("ascii")
        for ch in text
    )


def comment_text(text: str) -> str:
    """Text for a `# comment`: one line, whatever it holds."""
    return printable(text)


def docstring_text(text: str) -> str:
    """Text for the inside of a triple-quoted docstring (template line breaks are added by the caller).

    Backslashes are doubled (a stray one would escape what follows) and any quote that could take part
    in closing the string is escaped.
    """
    return _CLOSING_QUOTE.sub(r"\"", printable(text).replace("\\", "\\\\"))


def string_literal(text: str) -> str:
    """`repr(text)`, in double quotes where black would put it in them (no double quote inside), so
    black's first pass leaves the code as it is and its second pass never runs."""
    r = repr(text)
    return f'"{r[1:-1]}"' if r.startswith("'") and '"' not in text else r


def terminal_text(text: str) -> str:
    """Text for a rich console line: no raw control characters, no markup taken from the text."""
    return _rich_escape(printable(text))


def is_index(name: str) -> bool:
    """A key segment that is a container index. str.isdigit() alone accepts "²", which int()
    rejects: a hostile key must be a name, never a crash."""
    return name.isascii() and name.isdigit()


def is_sequential_index(name: str) -> bool:
    """An index as nn.Sequential names its children: `3`, never `03` (a child named so is not
    `children[str(3)]`; code that reads the numbers back must not take it for one)."""
    return is_index(name) and str(int(name)) == name
