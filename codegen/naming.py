"""Names: which key segments can be Python attributes, and what generated classes are called."""

from __future__ import annotations

import keyword
import re
from functools import lru_cache

from codegen.errors import ModelgenError
from codegen.safetext import is_plain_attr, printable  # noqa: F401 (is_plain_attr re-exported)

# Names generated files use at module level; a class must not shadow them.
MODULE_GLOBALS = {"math", "torch", "nn", "F", "Tensor", "Optional", "List", "Tuple"}


@lru_cache(maxsize=1)
def reserved_names() -> frozenset[str]:
    """Names nn.Module already uses: a child, parameter or buffer of that name cannot be registered."""
    import torch.nn as nn

    return frozenset(dir(nn.Module)) | frozenset(vars(nn.Module())) | {"example_inputs"}


def check_registrable(segment: str, key: str) -> None:
    """Refuse, naming the key, what no nn.Module can hold under that name."""
    if segment == "":
        raise ModelgenError(
            f"key {key!r} has an empty name segment, which no nn.Module can hold; rename it with --remap"
        )
    if segment in reserved_names():
        raise ModelgenError(
            f"key {key!r}: {segment!r} is an nn.Module attribute, so no module can register it; rename it with --remap"
        )


def check_class_name(name: str) -> None:
    """`--class-name`: a name the generated file can define without shadowing what it uses."""
    import builtins

    if not (name.isascii() and name.isidentifier()) or keyword.iskeyword(name):
        raise ModelgenError(f"--class-name {printable(name)!r}: not a Python class name")
    if name in MODULE_GLOBALS or hasattr(builtins, name) or name.startswith("__"):
        raise ModelgenError(
            f"--class-name {name}: the generated file needs that name for something else"
        )


def class_name_for(path: str, taken: set[str]) -> str:
    """`pos_encoder` -> PosEncoder, `layers.3` -> Layer, `blocks.0` -> Block; unique among `taken`."""
    parts = [p for p in path.split(".") if p]
    base = ""
    if parts and parts[-1].isdigit():
        parent = parts[-2] if len(parts) > 1 else ""
        base = _camel(_singular(parent)) if len(parent) > 2 else "Block"
    elif parts:
        base = _camel(parts[-1])
    if not base or not base.isidentifier() or not base.isascii() or keyword.iskeyword(base):
        base = "Block"
    if base in MODULE_GLOBALS or _is_nn_name(base):
        base += "Module" if not base.endswith("Module") else "Block"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}{n}", n + 1
    taken.add(name)
    return name


def role_names(classes: list[tuple[str, str, set[str], str]], taken: set[str]) -> dict[str, str]:
    """New names for generated classes whose forward a pattern recognised, from its role.

    `classes`: (current name, role, member names, key path of the first instance). One class of a
    role is called by the role (`BasicBlock`); several are told apart by a member the plainest one
    lacks (`DownsampleBasicBlock`), else by where they are used (`DecoderMLP`). A role that is not a
    usable class name (shadows a torch.nn or module name) leaves the key-path name.
    Returns {current name: new name} for the classes renamed.
    """
    by_role: dict[str, list[tuple[str, set[str], str]]] = {}
    for name, role, members, path in classes:
        if role and _camel(role) == role and not _is_nn_name(role) and role not in MODULE_GLOBALS:
            by_role.setdefault(role, []).append((name, members, path))
    renamed: dict[str, str] = {}
    used = set(taken) - {name for group in by_role.values() for name, _, _ in group}
    for role, group in by_role.items():
        plain = min(group, key=lambda g: len(g[1]))
        for name, members, path in group:
            if len(group) == 1 or (name, members, path) == plain:
                base = role
            else:
                extra = sorted(members - plain[1])
                # where the two are used differs: the first differing segment says where
                other = plain[2].split(".")
                where = [
                    p
                    for i, p in enumerate(path.split("."))
                    if p and not p.isdigit() and (i >= len(other) or other[i] != p)
                ]
                words = [_camel(extra[0])] if extra else [_camel(w) for w in where[:1]]
                base = _without_repeats("".join(w for w in words if w), role) + role
            if not (base.isidentifier() and base.isascii()):
                base = role
            new, n = base, 2
            while new in used:
                new, n = f"{base}{n}", n + 1
            used.add(new)
            renamed[name] = new
    return {old: new for old, new in renamed.items() if old != new}


def _without_repeats(prefix: str, role: str) -> str:
    """The prefix less the words the role already says: `relative_attention_bias` before
    `RelativeAttention` gives `BiasRelativeAttention`, not `RelativeAttentionBiasRelativeAttention`.
    """
    words = re.findall(r"[A-Z][a-z0-9]*|[a-z0-9]+", prefix)
    kept = [w for w in words if w not in re.findall(r"[A-Z][a-z0-9]*", role)]
    return "".join(kept) if kept else prefix


def _camel(text: str) -> str:
    words = [w for w in re.split(r"[^0-9a-zA-Z]+", text) if w]
    out = "".join(w[:1].upper() + w[1:] for w in words)
    return out if out[:1].isalpha() else ""


def _singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@lru_cache(maxsize=None)
def _is_nn_name(name: str) -> bool:
    import torch.nn as nn

    return hasattr(nn, name)
