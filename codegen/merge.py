"""Regenerating into a file modelgen wrote before: update what modelgen owns, keep what the user wrote.

modelgen owns the module docstring, its own imports and, in each class it generates, the header, the
docstring, the constructor's parameters and registrations, and every method nobody changed since it was
generated. A method counts as changed when its hash differs from the one recorded at generation
(`record_bodies`) in the trailer, one comment block at the end of the file (codegen/trailer.py): it
touches no line the user edits or reviews as code, and black leaves it alone. Everything else is the
user's and is kept where it was: changed methods, statements added to `__init__`, added methods,
imports, helpers and any other top-level code.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import io
import re
import tokenize
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence, TypeVar

import libcst as cst
import libcst.matchers as m

from codegen.errors import ModelgenError
from codegen.trailer import Key, Pin, recorded_bodies, split_trailer, with_trailer

# Every import render._imports can emit; any other import in the file is the user's.
_OWN_IMPORTS = frozenset(
    {"import math", "import torch", "import torch.nn as nn", "import torch.nn.functional as F"}
)

N = TypeVar("N", bound=cst.CSTNode)
_DROP = object()  # `place` answer for modelgen's own old code that the new generation no longer has
HELPER = "def"  # the record's "class" of a module-level helper function modelgen wrote


# ------------------------------------------------------------------------------------ the record


def body_hash(func: cst.FunctionDef) -> str:
    """8 hex digits of a method as code, blind to layout: black at any line length is no edit, a
    changed statement, signature or comment is (_code_hash)."""
    code = cst.Module(body=[func.with_changes(leading_lines=())]).code
    return _code_hash(code, ast.parse(code).body[0])


def _code_hash(code: str, node: ast.AST) -> str:
    """The hash of `code`, a function's text (its decorators through its last line, at any
    indentation) whose AST is `node`: the AST printed field by field (empty fields skipped, so
    Python versions that add optional fields agree) plus the comments, which the AST drops."""
    # `if 1:` lets tokenize read a method's lines at their indentation in the class
    comments = [
        t.string.lstrip("#").strip()
        for t in tokenize.generate_tokens(io.StringIO("if 1:\n" + code).readline)
        if t.type == tokenize.COMMENT
    ]
    text = _canonical(node) + "\n" + "\n".join(comments)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def _canonical(node: object) -> str:
    if isinstance(node, list):
        return "[" + ", ".join(_canonical(n) for n in node) + "]"
    if not isinstance(node, ast.AST):
        return repr(node)
    if (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    ):
        return f"Doc({' '.join(node.value.value.split())!r})"  # black re-indents docstrings
    fields = [
        f"{k}={_canonical(v)}"
        for k, v in ast.iter_fields(node)
        if v is not None
        and not (isinstance(v, list) and not v)
        and k not in ("kind", "type_comment")
    ]
    return f"{type(node).__name__}({', '.join(fields)})"


def _method_hashes(module: cst.Module) -> dict[Key, str]:
    return _in_record_order([_hash_groups(module)])


def _in_record_order(groups: list) -> dict[Key, str]:
    """_hash_groups of a file's pieces, in order, as one record: every method first (so the
    trailer's first line stays as it was), then the docstrings, then the helpers."""
    return dict(pair for kind in range(3) for g in groups for pair in g[kind])


def _hash_groups(module: cst.Module) -> tuple[list, list, list]:
    """((class, method): hash) for every method, then (class, "__doc__") for every class
    docstring (so a later merge knows it is modelgen's), then (HELPER, name) for every module-level
    function (apply_rotary): "def" is no class name."""
    methods = [
        ((c.name.value, f.name.value), body_hash(f)) for c in _classes(module) for f in _methods(c)
    ]
    docs = [
        ((c.name.value, "__doc__"), doc_hash(c.body.body[0]))
        for c in _classes(module)
        if c.body.body and _is_docstring(c.body.body[0])
    ]
    helpers = [((HELPER, f.name.value), body_hash(f)) for f in _functions(module)]
    return methods, docs, helpers


@functools.lru_cache(maxsize=4096)
def _piece_hashes(piece: str) -> tuple[tuple, ...]:
    """_hash_groups of one top-level piece of a generated file (its head, or one class), read with
    `ast` (a tenth of libcst's time; the hashes are the same text's): a class recurs across models
    and calibration's candidates, and every generate records its file's hashes."""
    try:
        body = ast.parse(piece).body
    except SyntaxError as e:  # compile() took the whole file: never expected
        raise ModelgenError(
            f"internal error: generated code does not parse ({e.msg}); please report it"
        ) from None
    lines = piece.split("\n")
    classes = [s for s in body if isinstance(s, ast.ClassDef)]
    methods = [
        ((c.name, f.name), _code_hash(_function_text(f, lines), f))
        for c in classes
        for f in c.body
        if isinstance(f, ast.FunctionDef)
    ]
    docs = [
        ((c.name, "__doc__"), _text_hash(_lines(c.body[0], lines)))
        for c in classes
        if c.body and _is_docstring_node(c.body[0], lines)
    ]
    helpers = [
        ((HELPER, f.name), _code_hash(_function_text(f, lines), f))
        for f in body
        if isinstance(f, ast.FunctionDef)
    ]
    return tuple(methods), tuple(docs), tuple(helpers)


def _lines(node: ast.stmt, lines: list[str]) -> str:
    return "\n".join(lines[node.lineno - 1 : node.end_lineno])


def _function_text(func: ast.FunctionDef, lines: list[str]) -> str:
    """A function's lines as libcst holds them: its decorators through its last statement, and
    the comment lines after that indented deeper than its `def` (libcst's block footer)."""
    start = min([func.lineno] + [d.lineno for d in func.decorator_list])
    end = func.end_lineno or func.lineno
    while end < len(lines):
        text = lines[end].strip()
        indent = len(lines[end]) - len(lines[end].lstrip())
        if text and not (text.startswith("#") and indent > func.col_offset):
            break
        end += 1
    return "\n".join(lines[start - 1 : end]) + "\n"


def _is_docstring_node(stmt: ast.stmt, lines: list[str]) -> bool:
    """As _is_docstring: one plain string literal (not implicitly concatenated, not an f-string)."""
    if not (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    ):
        return False
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(_lines(stmt, lines).strip()).readline))
    except (tokenize.TokenError, SyntaxError):
        return False
    return sum(t.type == tokenize.STRING for t in tokens) == 1


def doc_hash(stmt: cst.SimpleStatementLine) -> str:
    """8 hex digits of a class docstring's words (black re-indents docstrings: layout is no edit)."""
    return _text_hash(cst.Module(body=[stmt]).code)


def _text_hash(code: str) -> str:
    return hashlib.sha256(" ".join(code.split()).encode("utf-8")).hexdigest()[:8]


def record_bodies(
    source: str,
    fingerprint: str,
    pins: tuple[Pin, ...] = (),
    calibration: str = "",
    verified: str = "",
) -> str:
    """A freshly generated file ending in the trailer: the checkpoint's fingerprint, each method's
    hash, and the decisions a regeneration keeps (trailer.py)."""
    from codegen.render.formatting import top_level_pieces

    pieces = top_level_pieces(source) or [source]
    hashes = _in_record_order([_piece_hashes(piece) for piece in pieces])
    return with_trailer(source, fingerprint, hashes, pins, calibration, verified)


# ------------------------------------------------------------------------------------- merging


@dataclass
class Merged:
    text: str
    notes: list[str] = field(default_factory=list)  # what was kept
    warnings: list[str] = field(default_factory=list)
    yours: set[str] = field(default_factory=set)  # methods kept as the user wrote them: "A.forward"


class _Conflict(Exception):
    """The merge cannot be done cleanly; the message says why, in a few words."""


def merge_file(path: Path, generated: str, mismatch: Callable[[str], str]) -> Merged:
    """What `generate` writes into PATH, a file it generated before: `generated` with the user's edits
    kept, black-formatted and valid. `mismatch(text)` builds the model and describes how its state dict
    differs from the checkpoint ('' when it does not); a merge that does not build is refused.
    Raises a one-line ModelgenError suggesting --force when the merge cannot be done cleanly."""

    def refuse(why: str) -> ModelgenError:
        return ModelgenError(
            f"cannot merge into {path}: {why}; `modelgen generate --force` regenerates it "
            "from scratch (dropping your edits)"
        )

    try:
        text = path.read_text(encoding="utf-8")
        current = cst.parse_module(split_trailer(text)[0])
    except OSError as e:
        raise ModelgenError(f"{path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise refuse("it is not UTF-8 text") from None
    except cst.ParserSyntaxError as e:
        raise refuse(f"it does not parse (line {e.raw_line}: {e.message})") from None
    from codegen.render import (
        format_source,
        validate,
    )  # lazily: render's imports reach back into analyze

    generated_body, trailer = split_trailer(generated)
    if trailer is None:
        raise ModelgenError("internal error: the generated file has no trailer; please report it")
    merger = _Merger(current, cst.parse_module(generated_body), recorded_bodies(text))
    try:
        text = merger.merge()
        compile(text, str(path), "exec")
    except _Conflict as e:
        raise refuse(str(e)) from None
    except SyntaxError as e:
        raise refuse(f"the merged code does not compile (line {e.lineno}: {e.msg})") from None
    text = with_trailer(
        validate(format_source(text)),
        trailer.fingerprint,
        trailer.bodies,
        trailer.pins,
        trailer.calibration,
        trailer.verified,
    )
    try:
        wrong = mismatch(text)
    except Exception as e:  # the user's code runs here: whatever it raises, the merge cannot stand
        wrong = f"building it raised {type(e).__name__}" + (
            f": {str(e).splitlines()[0]}" if str(e) else ""
        )
    if wrong:
        raise refuse(f"the merged model does not build the checkpoint ({wrong})")
    written = {label for label, code, _ in merger.kept if isinstance(code, cst.FunctionDef)}
    return Merged(text, merger.notes, merger.warnings, written)


_NUMBER = re.compile(r"\d+(\.\d+)?")


def _sizes_restated(kept: cst.FunctionDef, fresh: cst.FunctionDef) -> tuple[cst.FunctionDef, int]:
    """KEPT with each comment that states sizes the way a comment of FRESH does (the same words,
    other numbers: `fc takes 2048 = ...` beside today's `fc takes 4096 = ...`) restated with
    FRESH's numbers, in order; how many changed. Comments of the user's own wording stay as
    written."""
    todays: dict[str, list[str]] = {}
    for c in m.findall(fresh, m.Comment()):
        todays.setdefault(_NUMBER.sub("#", c.value), []).append(c.value)
    changed = 0

    class Restate(cst.CSTTransformer):
        def leave_Comment(self, original: cst.Comment, updated: cst.Comment) -> cst.Comment:
            nonlocal changed
            same = todays.get(_NUMBER.sub("#", original.value))
            if not _NUMBER.search(original.value) or not same:
                return updated
            value = same.pop(0) if len(same) > 1 else same[0]
            if value == original.value:
                return updated
            changed += 1
            return updated.with_changes(value=value)

    return kept.visit(Restate()), changed


class _Merger:
    def __init__(self, old: cst.Module, new: cst.Module, record: dict[Key, str] | None) -> None:
        self.old, self.new = old, new
        self.record = record
        self.new_hashes = _method_hashes(new)
        self.new_classes = {c.name.value: c for c in _classes(new)}
        old_names = {c.name.value for c in _classes(old)}
        self.generated_before = (
            {c for c, _ in self.record if c != HELPER}
            if self.record is not None
            else old_names & set(self.new_classes)
        )
        self.notes: list[str] = []
        self.warnings: list[str] = []
        self.additions: list[str] = []  # labels of the user's own code, reported in one line
        # (label, code, its class) of everything kept, checked for references to what is gone
        self.kept: list[tuple[str, cst.CSTNode, str | None]] = []

    def edited(self, cls: str, name: str, func: cst.FunctionDef) -> bool:
        """Not as generated. A file without a record is compared with the new generation instead."""
        baseline = (self.record if self.record is not None else self.new_hashes).get((cls, name))
        return body_hash(func) != baseline

    # ---- the module

    def merge(self) -> str:
        new_body = list(self.new.body)
        header = 1 + next(
            i for i, s in enumerate(new_body[1:]) if not _is_import(s)
        )  # docstring, imports
        own_imports = {_code(s) for s in new_body[1:header]}
        old_body = list(self.old.body)[1 if _docstring(self.old) is not None else 0 :]
        future = [
            s
            for s in old_body
            if m.matches(s, m.SimpleStatementLine([m.ImportFrom(m.Name("__future__"))]))
        ]
        own = [s for s in old_body if _is_import(s) and _code(s) in _OWN_IMPORTS | own_imports]
        unused_own = [
            s for s in own if _code(s) not in own_imports
        ]  # kept below if the user's code needs them
        moved = {id(s) for s in future + own}
        rest = [s for s in old_body if id(s) not in moved]

        old_classes = {c.name.value: c for c in _classes(self.old)}
        deleted = sorted((self.generated_before & self.new_classes.keys()) - old_classes.keys())
        if deleted:
            raise _Conflict(f"class {deleted[0]}, which modelgen generated, is missing")
        classes = [
            self.merge_class(old_classes[c.name.value], c) if c.name.value in old_classes else c
            for c in new_body[header:]
        ]
        index = {c.name.value: i for i, c in enumerate(classes)}

        def place(stmt: cst.CSTNode) -> int | object | None:
            name = stmt.name.value if isinstance(stmt, (cst.ClassDef, cst.FunctionDef)) else None
            if isinstance(stmt, cst.ClassDef) and name in self.generated_before:
                if name in index:
                    return index[name]
                return None if self.keep_stale_class(stmt) else _DROP
            if isinstance(stmt, cst.FunctionDef) and (HELPER, name) in (self.record or {}):
                return self.place_helper(stmt, classes, index)
            if isinstance(stmt, cst.FunctionDef) and isinstance(
                classes[index.get(name, -1)] if name in index else None, cst.FunctionDef
            ):
                return _DROP  # a helper modelgen writes (apply_rotary): regenerated as is
            if name in index:
                raise _Conflict(
                    f"your {_label(stmt)} has the name of a class modelgen now generates; rename it"
                )
            self.additions.append(_label(stmt))
            self.kept.append((_label(stmt), stmt, None))
            return None

        body = _interleave(classes, rest, place)
        used = {n.value for s in body for n in m.findall(s, m.Name())}
        imports = new_body[1:header] + [s for s in unused_own if _bound_names(s) & used]
        self.check_references({c.name.value: c for c in classes})
        if self.additions:
            shown = ", ".join(self.additions[:5]) + (", ..." if len(self.additions) > 5 else "")
            self.notes.append(f"kept your own code: {shown}")
        merged = self.new.with_changes(
            header=self.old.header,
            footer=self.old.footer,
            body=[new_body[0], *future, *imports, *body],
        )
        return merged.code

    def place_helper(
        self, old: cst.FunctionDef, body: list[cst.CSTNode], index: dict[str, int]
    ) -> object | None:
        """A helper function modelgen wrote before: regenerated, or gone when this model no longer
        needs it; the user's edit of it is kept either way (where it was, when it is stale)."""
        name = old.name.value
        edited = self.edited(HELPER, name, old)
        if name in index and isinstance(body[index[name]], cst.FunctionDef):
            if edited:
                body[index[name]] = old
                self.notes.append(f"kept your edit of def {name}")
            return _DROP
        if not edited:
            return _DROP
        self.warnings.append(
            f"kept def {name}, which modelgen no longer generates, because you edited it; "
            "delete it if nothing uses it"
        )
        self.kept.append((_label(old), old, None))
        return None

    def keep_stale_class(self, cls: cst.ClassDef) -> bool:
        """A class modelgen no longer generates goes, unless the user changed something in it."""
        name = cls.name.value
        changed = [
            f"{name}.{f.name.value}" for f in _methods(cls) if self.edited(name, f.name.value, f)
        ]
        if changed:
            self.warnings.append(
                f"kept class {name}, which modelgen no longer generates, because you edited "
                f"{', '.join(changed)}; delete it if nothing uses it"
            )
        return bool(changed)

    # ---- one class

    def merge_class(self, old: cst.ClassDef, new: cst.ClassDef) -> cst.ClassDef:
        name = new.name.value
        old_methods = {f.name.value: f for f in _methods(old)}
        members: list[cst.BaseStatement] = []
        for member in new.body.body:
            method = member.name.value if isinstance(member, cst.FunctionDef) else None
            mine = old_methods.get(method) if method else None
            if (
                method
                and mine is None
                and self.record is not None
                and (name, method) in self.record
            ):
                if method == "__init__":
                    raise _Conflict(f"{name}.__init__, which modelgen generated, is missing")
                self.notes.append(f"left out {name}.{method}: you deleted it")
                continue
            if mine is not None and self.edited(name, method, mine):
                member = (
                    self.merge_init(name, mine, member)
                    if method == "__init__"
                    else self.keep(name, mine, member)
                )
                if method == "forward":
                    self.check_new_members(name, old, new, mine)
            members.append(member)
        index = {s.name.value: i for i, s in enumerate(members) if isinstance(s, cst.FunctionDef)}
        new_doc = 0 if members and _is_docstring(members[0]) else None

        def place(stmt: cst.BaseStatement) -> int | object | None:
            if _is_docstring(stmt) and new_doc is not None:
                return new_doc
            recorded_doc = (self.record or {}).get((name, "__doc__"))
            if _is_docstring(stmt) and recorded_doc == doc_hash(stmt):
                return _DROP  # modelgen wrote it and now writes none: not the user's code
            method = stmt.name.value if isinstance(stmt, cst.FunctionDef) else None
            if method in index:
                return index[method]
            label = f"{name}.{method}" if method else f"{name}: {_label(stmt)}"
            if method is not None and self.record is not None and (name, method) in self.record:
                if not self.edited(name, method, stmt):
                    return _DROP  # generated before, no longer generated, untouched
                self.warnings.append(
                    f"kept {label}, which modelgen no longer generates, because you edited it"
                )
            else:
                self.additions.append(label)
            self.kept.append((label, stmt, name))
            return None

        body = _interleave(members, list(old.body.body), place)
        return new.with_changes(
            body=new.body.with_changes(body=body),
            leading_lines=old.leading_lines,
            decorators=old.decorators,
        )

    def keep(self, cls: str, func: cst.FunctionDef, fresh: cst.FunctionDef) -> cst.FunctionDef:
        label = f"{cls}.{func.name.value}"
        func, updated = _sizes_restated(func, fresh)
        self.notes.append(
            f"kept your edits to {label}"
            + (f" (restated the sizes in {updated} of its comments)" if updated else "")
        )
        self.kept.append((label, func, cls))
        return func

    def merge_init(self, cls: str, old: cst.FunctionDef, new: cst.FunctionDef) -> cst.FunctionDef:
        """modelgen owns the parameters and the registrations; statements the user added stay where
        they were, and so do parameters that only those statements use."""
        statements = list(new.body.body)
        by_code = {_code(s): i for i, s in enumerate(statements)}
        by_target = {t: i for i, s in enumerate(statements) if (t := _target(s))}
        added: list[cst.BaseStatement] = []

        def place(stmt: cst.BaseStatement) -> int | None:
            found = by_code.get(_code(stmt), by_target.get(_target(stmt)))
            if found is None:
                added.append(stmt)
            return found

        body = _interleave(statements, list(old.body.body), place)
        used = {n.value for s in added for n in m.findall(s, m.Name())}
        names = {p.name.value for p in new.params.params}
        extra = [p for p in old.params.params if p.name.value not in names and p.name.value in used]
        label = f"{cls}.__init__"
        if added:
            self.notes.append(
                f"kept your additions to {label} ({len(added)} statement{'s' * (len(added) > 1)}); "
                "its parameters and registrations are modelgen's and were regenerated"
            )
            self.kept += [(label, s, cls) for s in added]
        else:
            self.warnings.append(
                f"regenerated {label}: your edits there were to parameters or registrations, "
                "which modelgen owns (pin choices with --hints)"
            )
        return new.with_changes(
            body=new.body.with_changes(body=body),
            leading_lines=old.leading_lines,
            params=new.params.with_changes(params=[*new.params.params, *extra]),
        )

    # ---- references from kept code

    def check_new_members(
        self, name: str, old: cst.ClassDef, new: cst.ClassDef, forward: cst.FunctionDef
    ) -> None:
        """A kept forward that never calls what this checkpoint added computes without it."""
        added = sorted(_registered(new) - _registered(old))
        used = {a.attr.value for a in m.findall(forward, m.Attribute(value=m.Name("self")))}
        unused = [a for a in added if a not in used]
        if unused:
            self.warnings.append(
                f"{name}.forward (kept as you wrote it) does not use {', '.join(unused)}, new in "
                "this checkpoint: add them to it, or delete the method to get a generated one"
            )

    def check_references(self, classes: dict[str, cst.ClassDef]) -> None:
        """Warn where kept code uses a class modelgen no longer generates, or a `self.<attr>` that the
        regenerated class does not define."""
        gone = {n: "class" for n in self.generated_before - classes.keys()}
        helpers = {f.name.value for f in _functions(self.new)}
        gone.update((n, "helper") for c, n in self.record or {} if c == HELPER and n not in helpers)
        for label, code, cls in self.kept:
            names = {n.value for n in m.findall(code, m.Name())}
            for name in sorted(names & gone.keys()):
                self.warnings.append(
                    f"{label} (kept) uses {name}, a {gone[name]} modelgen no longer generates"
                )
            owner = classes.get(cls) if cls else None
            plain = m.ClassDef(bases=[m.Arg(m.Attribute(m.Name("nn"), m.Name("Module")))])
            if owner is None or not m.matches(owner, plain):
                continue  # attributes a torch base class sets up cannot be read off the source
            used = {a.attr.value for a in m.findall(code, m.Attribute(value=m.Name("self")))}
            for attr in sorted(used - _defined(owner)):
                self.warnings.append(
                    f"{label} (kept) uses self.{attr}, which the regenerated {cls} "
                    "does not define"
                )


def _registered(cls: cst.ClassDef) -> set[str]:
    """What the class's __init__ registers (`self.X = ...`, add_module...)."""
    init = next((f for f in _methods(cls) if f.name.value == "__init__"), None)
    if init is None:
        return set()
    found = {_target(s) for s in m.findall(init, m.SimpleStatementLine())}
    return {t for t in found if t and t != "super().__init__"}


def _defined(cls: cst.ClassDef) -> set[str]:
    """Attributes an instance of `cls` (a plain nn.Module subclass) has: registered or assigned in any
    of its methods, its methods and class attributes, and nn.Module's own."""
    import torch.nn as nn

    names = {t for s in m.findall(cls, m.SimpleStatementLine()) if (t := _target(s))}
    for target in m.findall(cls, m.AssignTarget()):  # also `self.a, self.b = ...`
        names |= {a.attr.value for a in m.findall(target, m.Attribute(value=m.Name("self")))}
    for stmt in cls.body.body:
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            names.add(stmt.name.value)
        else:  # class attributes
            names |= {t.target.value for t in m.findall(stmt, m.AssignTarget(target=m.Name()))}
    return names | set(dir(nn.Module))


# ------------------------------------------------------------------------------------- helpers


def _interleave(owned: Sequence[N], old: Sequence[N], place: Callable[[N], object]) -> list[N]:
    """`owned` in its order, with each old item that `place` answers None for (the user's) right after
    the owned item that preceded it in the old file, so the user's code stays where they put it.
    `place` answers the index of an old item's owned counterpart, or _DROP for modelgen's leftovers.
    """
    after: dict[int, list[N]] = defaultdict(list)
    anchor = -1
    for item in old:
        where = place(item)
        if where is None:
            after[anchor].append(item)
        elif where is not _DROP:
            anchor = where
    out = list(after[-1])
    for i, item in enumerate(owned):
        out += [item, *after[i]]
    return out


def _classes(module: cst.Module) -> list[cst.ClassDef]:
    return [s for s in module.body if isinstance(s, cst.ClassDef)]


def _functions(module: cst.Module) -> list[cst.FunctionDef]:
    return [s for s in module.body if isinstance(s, cst.FunctionDef)]


def _methods(cls: cst.ClassDef) -> list[cst.FunctionDef]:
    return [s for s in cls.body.body if isinstance(s, cst.FunctionDef)]


def _docstring(module: cst.Module) -> cst.SimpleString | None:
    first = module.body[0] if module.body else None
    return first.body[0].value if first is not None and _is_docstring(first) else None


def _is_docstring(stmt: cst.CSTNode) -> bool:
    return m.matches(stmt, m.SimpleStatementLine([m.Expr(m.SimpleString())]))


def _is_import(stmt: cst.CSTNode) -> bool:
    return m.matches(stmt, m.SimpleStatementLine([m.Import() | m.ImportFrom()]))


def _bound_names(stmt: cst.SimpleStatementLine) -> set[str]:
    """The names an `import` binds: `F` for `import torch.nn.functional as F`, `torch` for `import torch.nn`."""
    names = set()
    for alias in stmt.body[0].names:
        if alias.asname is not None:
            names.add(alias.asname.name.value)
        else:
            names.add(cst.Module([]).code_for_node(alias.name).split(".")[0])
    return names


def _code(node: cst.CSTNode) -> str:
    """A statement's code without the comments and blank lines above it, for comparing statements."""
    if hasattr(node, "leading_lines"):
        node = node.with_changes(leading_lines=())
    return cst.Module([]).code_for_node(node).strip()


def _target(stmt: cst.CSTNode) -> str | None:
    """The attribute a constructor statement registers: `self.X = ...`, `self.add_module('X', ...)`,
    `self.register_buffer('X', ...)`, `self.register_parameter('X', ...)`; `super().__init__` for that call.
    """
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return None
    s = stmt.body[0]
    self_attr = m.Attribute(value=m.Name("self"), attr=m.Name())
    if m.matches(s, m.Assign(targets=[m.AssignTarget(self_attr)]) | m.AnnAssign(target=self_attr)):
        return (s.targets[0].target if isinstance(s, cst.Assign) else s.target).attr.value
    if m.matches(
        s, m.Expr(m.Call(func=m.Attribute(m.Call(func=m.Name("super")), m.Name("__init__"))))
    ):
        return "super().__init__"
    registers = m.Name("add_module") | m.Name("register_buffer") | m.Name("register_parameter")
    call = m.Call(
        func=m.Attribute(m.Name("self"), registers), args=[m.Arg(m.SimpleString()), m.ZeroOrMore()]
    )
    if m.matches(s, m.Expr(call)):
        return str(ast.literal_eval(s.value.args[0].value.value))
    return None


def _label(stmt: cst.CSTNode) -> str:
    """How the report names a piece of the user's code: `def helper`, `import numpy as np`."""
    if isinstance(stmt, (cst.ClassDef, cst.FunctionDef)):
        return f"{'class' if isinstance(stmt, cst.ClassDef) else 'def'} {stmt.name.value}"
    first = (_code(stmt).splitlines() or [""])[0]
    return first if len(first) <= 40 else first[:37] + "..."
