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
import keyword
import textwrap
import tokenize

WIDTH = 100
KEEP_WHOLE = ("Regenerate: ",)  # lines other code reads back
OPENING, CLOSING = frozenset("([{"), frozenset(")]}")


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


def call_lines(line: str, indent: int) -> list[str]:
    """A generated statement (or a container's item), `line` at `indent` columns, laid out as
    black lays it out when it is too long, so black's first pass leaves it as it is and its second
    never runs. Only the shapes black's choice is plain for: split at the bracket of a call that
    ends the line (its arguments on a line of their own, else one a line with a trailing comma, the
    closing bracket and any comment below), or an assignment's or return's value that black keeps
    in parentheses, on its own line. Anything else is left whole for black, which gives the same
    text either way: black reads no layout here but trailing commas (never added where its
    split would not add them)."""
    if indent + len(line) <= WIDTH:
        return [line]
    own, code = line[: len(line) - len(line.lstrip())], line.lstrip()
    try:
        tokens = [
            t
            for t in tokenize.generate_tokens(io.StringIO(code).readline)
            if t.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER)
        ]
    except (tokenize.TokenError, SyntaxError):
        return [line]
    comment = "  " + tokens.pop().string if tokens and tokens[-1].type == tokenize.COMMENT else ""
    comma = "," if tokens and tokens[-1].string == "," else ""  # an item of a container
    if comma:
        tokens.pop()
    value = _value_start(tokens) if tokens else None  # where black's optional parentheses open
    if value is None or (comma and value):
        return [line]
    inner = own + "    "
    delimiters = _delimiters(tokens[value:]) if value else []
    if delimiters is None:
        return [line]
    top = max(delimiters, default=0)
    count = delimiters.count(top)
    if top == _PRIORITY[","]:
        return [line]  # a tuple: black puts its items one a line
    ends_in_bracket = tokens[-1].string in CLOSING
    if count > 1 or (
        count == 1 and top > 1 and not ends_in_bracket and tokens[value].string not in OPENING
    ):
        # black keeps the value in its parentheses, on a line of its own
        rest = code[tokens[value].start[1] : tokens[-1].end[1]]
        if indent + len(inner) + len(rest) > WIDTH:
            return [line]
        return [own + code[: tokens[value].start[1]] + "(", inner + rest, own + ")" + comment]
    if tokens[-1].string != ")" or (count == 1 and top > 1 and tokens[value].string in OPENING):
        return [line]
    # black splits at the bracket of the call that ends the line
    depth, commas, loops = 0, [], []  # the arguments' commas, a generator's `for` and `if`
    for i in range(len(tokens) - 1, -1, -1):
        text = tokens[i].string if tokens[i].type == tokenize.OP else ""
        depth += (text in CLOSING) - (text in OPENING)
        if depth == 1 and text == ",":
            commas.append(tokens[i].start[1])
        if depth == 1 and tokens[i].type == tokenize.NAME and tokens[i].string in ("for", "if"):
            loops.append(tokens[i])
        if depth == 0:
            break
    opening, closing = tokens[i].start[1], tokens[-1].start[1]
    if i <= value or tokens[i - 1].type != tokenize.NAME and tokens[i - 1].string not in CLOSING:
        return [line]  # no call (a parenthesised value)
    first, body, last = code[: opening + 1], code[opening + 1 : closing], ")" + comma + comment
    if indent + len(own) + len(first) > WIDTH:
        return [line]
    if indent + len(inner) + len(body) <= WIDTH:
        return [own + first, inner + body, own + last]
    if not commas and [t.string for t in loops] == ["for"]:  # a generator: its loop below it
        parts = [body[: loops[0].start[1] - opening - 1].strip(), code[loops[0].start[1] : closing]]
        if any(indent + len(inner) + len(part) > WIDTH for part in parts):
            return [line]
        return [own + first, *(inner + part for part in parts), own + last]
    cuts = [opening] + sorted(commas) + [closing]
    args = [code[a + 1 : b].strip() for a, b in zip(cuts, cuts[1:])]
    if len(args) < 2 or any(
        a.startswith("*") or indent + len(inner) + len(a) + 1 > WIDTH for a in args
    ):
        return [line]
    return [own + first, *(f"{inner}{a}," for a in args), own + last]


# black's priorities of the operators it may split a value at (its brackets.py)
_PRIORITY = {
    **{op: 4 for op in ("*", "/", "//", "%", "@")},
    **{"**": 2, "+": 5, "-": 5, "<<": 6, ">>": 6, "&": 7, "^": 8, "|": 9},
    **{op: 10 for op in ("<", ">", "==", "!=", "<=", ">=", "is", "in", "not")},
    **{"and": 14, "or": 14, "if": 16, "else": 16, ",": 18},
}


def _value_start(tokens: list[tokenize.TokenInfo]) -> int | None:
    """Where an assignment's value or a return's starts (0: an expression statement or an item,
    which black gives no optional parentheses); None for any other statement."""
    words = [t.string for t in tokens]
    if words[:1] == ["return"]:
        return 1 if len(words) > 1 else None
    if tokens[0].type != tokenize.NAME or keyword.iskeyword(words[0]):
        return None
    depth = 0
    for i, t in enumerate(tokens):
        if t.type == tokenize.OP:
            depth += (t.string in OPENING) - (t.string in CLOSING)
            if depth == 0 and t.string == "=":  # after a target of names (`self.x`, `a, b`)
                plain = all(w in (".", ",") or w.isidentifier() for w in words[:i])
                return i + 1 if plain and i + 1 < len(words) else None
            if depth == 0 and t.string.endswith("=") and t.string not in ("==", "!=", "<=", ">="):
                return None  # an augmented assignment
    return 0


def _delimiters(tokens: list[tokenize.TokenInfo]) -> list[int] | None:
    """The priorities of the places black may split a value at outside its brackets (a dot after
    a bracket, 1; binary operators...); None where the value holds what this does not read."""
    found, depth, previous = [], 0, None
    for t in tokens:
        word = t.string
        if word in ("lambda", ":=", "yield", "await") or t.type == tokenize.ERRORTOKEN:
            return None
        if depth == 0 and word == ":":
            return None
        if depth == 0:
            binary = previous is not None and (
                previous.type in (tokenize.NUMBER, tokenize.STRING)
                or previous.string in CLOSING
                or previous.type == tokenize.NAME
                and not keyword.iskeyword(previous.string)
                or previous.string in ("None", "True", "False")
            )
            if word == "." and previous is not None and previous.string in CLOSING:
                found.append(1)
            elif (
                t.type == tokenize.STRING
                and previous is not None
                and previous.type == tokenize.STRING
            ):
                found.append(12)
            elif (
                word in ("in", "not") and previous is not None and previous.string in ("not", "is")
            ):
                pass  # `not in`, `is not`: one comparison
            elif word == "not" and not binary:
                pass  # a negation
            elif word in _PRIORITY and (binary or word not in ("+", "-", "*", "**")):
                found.append(_PRIORITY[word])
        if t.type == tokenize.OP:
            depth += (word in OPENING) - (word in CLOSING)
        previous = t
    return found
