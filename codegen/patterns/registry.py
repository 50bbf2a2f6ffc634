"""Every pattern in the catalogue, found by scanning the package: adding a pattern is adding a file.

`best(kind, subject, ctx)` asks every pattern of that kind, keeps the match that explains the most
(keys for a layer, members for a block) and breaks ties by the patterns' declared `priority`. Two
matches equal on both are a catalogue bug and raise, so list order never decides anything. Choices
the losing patterns looked at are forgotten: only the winner's decisions reach the file.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Mapping

from codegen.ir import Module
from codegen.patterns._kit import (
    BlockPattern,
    Facts,
    LayerPattern,
    Match,
    Pattern,
    family,
    holding,
    modules,
)

PACKAGES = ("codegen.patterns.layers", "codegen.patterns.blocks", "codegen.patterns.families")


@lru_cache(maxsize=1)
def all_patterns() -> tuple[Pattern, ...]:
    found: list[Pattern] = []
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
            if info.name.startswith("_"):
                continue
            module = importlib.import_module(f"{package_name}.{info.name}")
            for obj in vars(module).values():
                if (
                    inspect.isclass(obj)
                    and issubclass(obj, (LayerPattern, BlockPattern))
                    and obj.__module__ == module.__name__
                    and obj.role
                ):
                    found.append(obj())
    return tuple(found)


@lru_cache(maxsize=None)
def patterns(kind: str) -> tuple[Pattern, ...]:
    # Cached as the catalogue is: `best` asks for a kind at every node of every analysis.
    return tuple(p for p in all_patterns() if p.kind == kind)


def best(kind: str, subject: Any, ctx: Any) -> Match | None:
    """The most specific match of a `kind` pattern for `subject` (a KeyNode or a ClassDef)."""
    top = _trial(kind, subject, ctx)
    return None if top is None else _match(top, subject, ctx)


def _trial(kind: str, subject: Any, ctx: Any) -> Pattern | None:
    """Every pattern of the kind tried on `subject`: the pattern of the most specific match."""
    resolver = ctx.resolver
    made, used = len(resolver.made), set(resolver.used_hints)
    if kind == "block":  # ~390 patterns split the same class's members: split them once
        held = holding(subject)
        facts = _facts(held.held[1], bool(held.held[2]), ctx)
        regular, fallbacks = _asked(facts)
        with held:
            matches = _matches(regular, fallbacks, subject, ctx)
            if AUDIT_GATES:
                _audit(subject, ctx, facts)
    else:
        matches = _matches(*_split(kind), subject, ctx)
    # Trial matches may have consulted hints and recorded choices: undo that; the winner reruns.
    del resolver.made[made:]
    resolver.used_hints = used
    if not matches:
        return None
    ranked = sorted(matches, key=lambda m: (m.explains, m.pattern.priority), reverse=True)
    top = ranked[0]
    if len(ranked) > 1 and (ranked[1].explains, ranked[1].pattern.priority) == (
        top.explains,
        top.pattern.priority,
    ):
        raise AssertionError(
            f"patterns {top.pattern!r} and {ranked[1].pattern!r} match equally well: "
            "give one a higher priority"
        )
    return top.pattern


def _matches(regular, fallbacks, subject: Any, ctx: Any) -> list[Match]:
    """The matches of `regular`, and of the `fallbacks` that could still win."""
    matches = [m for p in regular if (m := _match(p, subject, ctx)) is not None]
    if fallbacks:  # (block patterns only) asked where they could still win
        explained = len(modules(subject))
        ahead = max(((m.explains, m.pattern.priority) for m in matches), default=None)
        for p in fallbacks:
            if ahead is not None and ahead > (explained, p.priority):
                continue
            m = _match(p, subject, ctx)
            if m is not None:
                if m.explains != explained:
                    raise AssertionError(f"fallback {p!r} explains {m.explains} of {explained}")
                matches.append(m)
                score = (m.explains, p.priority)
                ahead = score if ahead is None else max(ahead, score)
    return matches


def _facts(members: tuple[Module, ...], has_tensors: bool, ctx: Any) -> Facts:
    """What the gates read of a class with these modules (and, or not, tensors)."""
    return Facts(
        len(members),
        has_tensors,
        frozenset().union(*(_names_of(m.attr) for m in members)),
        frozenset(family(m) for m in members),
        frozenset(ctx.role(m) for m in members),
    )


@lru_cache(maxsize=None)  # a few thousand facts in all: most trials cost one lookup
def _asked(facts: Facts) -> tuple[tuple[Pattern, ...], tuple[Pattern, ...]]:
    """`_split("block")` less the patterns whose declared `accepts` rules out a class with these
    `facts`: their `match` would return None at its first lines."""
    regular, fallbacks = _gated()
    asked = tuple(p for p, g in regular if g is None or g.admits(facts)), tuple(
        p for p, g in fallbacks if g is None or g.admits(facts)
    )
    return _interned.setdefault(asked, asked)  # (many facts admit the same patterns)


_interned: dict = {}


@lru_cache(maxsize=1)
def _gated() -> tuple[tuple[tuple[Pattern, Any], ...], ...]:
    """`_split("block")`, each pattern beside its gate."""
    return tuple(tuple((p, _gate(type(p))) for p in ps) for ps in _split("block"))


@lru_cache(maxsize=65536)  # a member's name: asked once, whatever class holds it
def _names_of(attr: str) -> frozenset[str]:
    """The regexes of the gates' `names` that `attr` fully matches (any case)."""
    return frozenset(r for r in _gate_names() if re.fullmatch(r, attr, re.IGNORECASE))


@lru_cache(maxsize=1)
def _gate_names() -> tuple[str, ...]:
    gates = (_gate(type(p)) for p in patterns("block"))
    return tuple(dict.fromkeys(r for g in gates if g is not None for r in g.names))


def _gate(kind: type) -> Any:
    """The `accepts` declared by the class whose `match` the pattern runs, or by a subclass of it
    on the way (one narrowing the shared `match` by its own attributes: a role), never inherited
    past an override: a subclass's own `match` answers for itself (its gate or None)."""
    for c in kind.__mro__:
        if "accepts" in vars(c) or "match" in vars(c):
            return vars(c).get("accepts")
    return None


# Tests set this: every trial then also asks the patterns its gates skipped, which must not match.
AUDIT_GATES = False


def _audit(subject: Any, ctx: Any, facts: Facts) -> None:
    asked = set(map(id, sum(_asked(facts), ())))
    for p in sum(_split("block"), ()):
        if id(p) not in asked and _match(p, subject, ctx) is not None:
            raise AssertionError(f"{p!r} matches {subject.name} though its accepts rules it out")


@lru_cache(maxsize=None)
def _split(kind: str) -> tuple[tuple[Pattern, ...], tuple[Pattern, ...]]:
    """A kind's patterns: (the others, the fallbacks by priority, highest first)."""
    every = patterns(kind)
    fallbacks = sorted((p for p in every if p.fallback), key=lambda p: -p.priority)
    return tuple(p for p in every if not p.fallback), tuple(fallbacks)


def _match(pattern: Pattern, subject: Any, ctx: Any) -> Match | None:
    """`pattern.match`, its choices reading the config spellings it declares."""
    if not pattern.synonyms:  # an empty scope changes no spelling: most patterns declare none
        return pattern.match(subject, ctx)
    with ctx.resolver.within(pattern.synonyms):
        return pattern.match(subject, ctx)


@lru_cache(maxsize=None)  # a function of the fixed catalogue: asked for every member of every class
def named_role(attr: str) -> str:
    """`attr` (lowercased) when some pattern's forward depends on that attribute name, else ""."""
    for p in all_patterns():
        if p.named and re.fullmatch(p.named, attr, re.IGNORECASE):
            return attr.lower()
    return ""


@lru_cache(maxsize=1)  # a function of the fixed catalogue: asked by every analysis (and rerun)
def synonyms() -> Mapping[str, tuple[str, ...]]:
    """Metadata names for each choice, as the patterns that make the choice declare them."""
    out: dict[str, tuple[str, ...]] = {}
    for p in all_patterns():
        for choice, names in p.synonyms.items():
            out[choice] = tuple(dict.fromkeys(out.get(choice, ()) + names))
    return MappingProxyType(out)
