"""`--remap FILE`: the one place that reads, checks, applies and writes a key remap.

A remap is a small JSON object that `modelgen diff --write-remap` writes and people edit by hand:

    {"container": "model", "strip_prefixes": ["model."], "add_prefix": "",
     "rename": {"classifier.": "fc.", "layers.*.attn.": "layers.*.attention.", "pos": "pos_embed"},
     "drop": ["ema."]}

Steps run in that order, each on the names the previous one produced:
- container: where the state dict sits in a trainer dict (as `--key`);
- strip_prefixes: removed from the start of every key that has them;
- add_prefix: put in front of every key;
- rename: a pattern ending in "." renames every key starting with it, any other pattern one exact key;
  `*` stands for one name segment (a layer index) and is carried over to the target in order; the
  most specific pattern wins (more segments, then fewer `*`);
- drop: keys (or, ending in ".", subtrees) that are not the model's: an EMA copy, a loss module.

Every rule must match some key, so a stale or mistyped remap fails loudly instead of doing nothing.
The same mapping serves a TensorTable (names only, for generate) and a state dict (tensors, for
verify/finetune), so both always agree.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from codegen.errors import ModelgenError
from codegen.files import read_small_text
from codegen.load import Checkpoint, TensorEntry, TensorTable, open_checkpoint
from codegen.output import Output, write_text

FIELDS = ("container", "strip_prefixes", "add_prefix", "rename", "drop")


@dataclass
class Remap:
    container: str | None = None
    strip_prefixes: list[str] = field(default_factory=list)
    add_prefix: str = ""
    rename: dict[str, str] = field(default_factory=dict)
    drop: list[str] = field(default_factory=list)
    source: str = "remap"  # file name, for messages

    def mapping(self, names: Iterable[str]) -> dict[str, str]:
        """Old name → new name for every key that survives, in the original order."""
        names = list(names)
        current = {n: n for n in names}
        for prefix in self.strip_prefixes:
            if not any(v.startswith(prefix) for v in current.values()):
                raise self.error(f"strip_prefixes {prefix!r}: no key starts with it")
            current = {k: v.removeprefix(prefix) for k, v in current.items()}
        current = {k: self.add_prefix + v for k, v in current.items()}
        renames = Rules(self.rename)
        used: set[str] = set()
        for k, v in current.items():
            rule = renames.find(v)
            if rule is not None:
                current[k] = rule.apply(v, self.rename[rule.text])  # type: ignore[assignment]
                used.add(rule.text)
        self._all_used("rename", self.rename, used)
        drops = Rules({p: "" for p in self.drop})
        dropped = {k: rule.text for k, v in current.items() if (rule := drops.find(v)) is not None}
        self._all_used("drop", self.drop, set(dropped.values()))
        current = {k: v for k, v in current.items() if k not in dropped}
        if names and not current:
            raise self.error("drops every key")
        _check_unique(self, current)
        return current

    def apply_table(self, table: TensorTable) -> TensorTable:
        new = self.mapping(table.tensors)
        tensors = {
            new[k]: dataclasses.replace(e, name=new[k])
            for k, e in table.tensors.items()
            if k in new
        }
        _retie(tensors, table.tensors, new)
        return dataclasses.replace(
            table,
            tensors=tensors,
            container=self.container or table.container,
            stripped_prefixes=table.stripped_prefixes + self.strip_prefixes,
        )

    def apply_state(self, state: Mapping[str, Any]) -> dict[str, Any]:
        return {new: state[old] for old, new in self.mapping(state).items()}

    def to_json(self) -> str:
        data = {name: getattr(self, name) for name in FIELDS}
        return json.dumps(data, indent=2) + "\n"

    def error(self, message: str) -> ModelgenError:
        return ModelgenError(f"{self.source}: {message}")

    def _all_used(self, what: str, rules: Iterable[str], used: set[str]) -> None:
        unused = [r for r in rules if r not in used]
        if unused:
            raise self.error(f"{what} {unused[0]!r} matches no key")


# --------------------------------------------------------------------------------------- file I/O


def load_remap(path: str | Path) -> Remap:
    path = Path(path)
    text = read_small_text(path, "remap")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ModelgenError(f"{path.name}: not valid JSON (line {e.lineno}: {e.msg})") from None
    except RecursionError:
        raise ModelgenError(f"{path.name}: nested too deeply for a remap") from None
    return parse_remap(data, path.name)


def parse_remap(data: Any, source: str = "remap") -> Remap:
    def bad(message: str) -> ModelgenError:
        return ModelgenError(f"{source}: {message}")

    if not isinstance(data, dict):
        raise bad(f"must be a JSON object with fields {', '.join(FIELDS)}")
    unknown = [k for k in data if k not in FIELDS]
    if unknown:
        raise bad(f"unknown field {unknown[0]!r} (known: {', '.join(FIELDS)})")
    container = data.get("container")
    strip = data.get("strip_prefixes", [])
    add = data.get("add_prefix", "")
    rename = data.get("rename", {})
    drop = data.get("drop", [])
    if container is not None and (not isinstance(container, str) or not container):
        raise bad('container must be a key path such as "model" or "ckpt/ema", or null')
    if not _strings(strip) or "" in strip:
        raise bad("strip_prefixes must be a list of non-empty strings")
    if not isinstance(add, str) or (add and not add.endswith(".")):
        raise bad(f'add_prefix {add!r} must be "" or end with "."')
    if not isinstance(rename, dict) or not _strings(rename.values()):
        raise bad('rename must be an object of "old": "new" strings')
    if not _strings(drop):
        raise bad("drop must be a list of strings")
    for old, new in rename.items():
        Pattern(old, bad)
        if old.endswith(".") and new and not new.endswith("."):
            raise bad(
                f'rename {old!r}: a prefix (ending in ".") must map to "" or another prefix, not {new!r}'
            )
        if not old.endswith(".") and (not new or new.endswith(".")):
            raise bad(f"rename {old!r}: an exact key must map to a key, not {new!r}")
        if new.count("*") != old.count("*"):
            raise bad(f"rename {old!r} -> {new!r}: both sides need the same number of '*'")
    for pattern in drop:
        Pattern(pattern, bad)
    return Remap(container, list(strip), add, dict(rename), list(drop), source)


def write_remap(remap: Remap, output: Output) -> None:
    write_text(output, remap.to_json())


def open_remapped(
    path: str | Path,
    remap_path: str | Path | None,
    key: str | None = None,
    strip: bool = True,
    strip_prefixes: tuple[str, ...] = (),
) -> Checkpoint:
    """open_checkpoint, then the remap (when given) on both the table and the tensors."""
    if remap_path is None:
        return open_checkpoint(path, key=key, strip=strip, strip_prefixes=strip_prefixes)
    remap = load_remap(remap_path)
    if key and remap.container and key != remap.container:
        raise ModelgenError(
            f"--key {key} conflicts with container {remap.container!r} in {remap.source}"
        )
    try:
        ckpt = open_checkpoint(
            path, key=key or remap.container, strip=strip, strip_prefixes=strip_prefixes
        )
    except ModelgenError as e:
        if key or not remap.container:
            raise
        # load says "--key X"; here the user never typed one: name the remap field instead
        raise ModelgenError(
            str(e).replace(
                f"--key {remap.container}:",
                f"container {remap.container!r} " f"(from {remap.source}):",
                1,
            )
        ) from None
    return Checkpoint(remap.apply_table(ckpt.table), lambda: remap.apply_state(ckpt.state_dict()))


# ---------------------------------------------------------------------------------------- helpers


class Pattern:
    """A rename/drop pattern: "a.*.b." (a prefix) or "a.*.b" (one key); `*` is one name segment."""

    def __init__(self, text: str, bad: Any = None) -> None:
        self.text = text
        self.prefix = text.endswith(".")
        self.parts = text[:-1].split(".") if self.prefix else text.split(".")
        if not text or "" in self.parts or any("*" in p and p != "*" for p in self.parts):
            message = f"pattern {text!r}: name segments must be non-empty, and '*' a whole segment"
            raise (bad(message) if bad else ModelgenError(message))

    def rank(self) -> tuple[int, int, int]:
        """Most specific first: exact keys, then more segments, then fewer wildcards."""
        return (self.prefix, -len(self.parts), self.parts.count("*"))

    def match(self, key: str) -> tuple[list[str], str] | None:
        """(the segments `*` stood for, the rest of the key) or None."""
        parts = key.split(".")
        n = len(self.parts)
        if (
            len(parts) < n
            or (not self.prefix and len(parts) != n)
            or (self.prefix and len(parts) == n)
        ):
            return None
        stars = []
        for want, got in zip(self.parts, parts):
            if want == "*":
                stars.append(got)
            elif want != got:
                return None
        return stars, ".".join(parts[n:])

    def apply(self, key: str, target: str) -> str | None:
        found = self.match(key)
        if found is None:
            return None
        stars, rest = found
        out = target
        for s in stars:
            out = out.replace("*", s, 1)
        return out + rest if self.prefix else out


class Rules:
    """Patterns looked up by key: literal ones through dicts (a remap with hundreds of exact renames
    stays fast on a 100k-key checkpoint), wildcard ones by scanning; the most specific match wins.
    """

    def __init__(self, patterns: Iterable[str]) -> None:
        self.exact: dict[str, Pattern] = {}
        self.prefixes: dict[str, Pattern] = {}
        self.wild: list[Pattern] = []
        for text in patterns:
            pattern = Pattern(text)
            if "*" in pattern.parts:
                self.wild.append(pattern)
            else:
                (self.prefixes if pattern.prefix else self.exact)[text] = pattern

    def find(self, key: str) -> Pattern | None:
        found = [self.exact[key]] if key in self.exact else []
        if self.prefixes:
            parts = key.split(".")
            found += [
                self.prefixes[p]
                for i in range(1, len(parts))
                if (p := ".".join(parts[:i]) + ".") in self.prefixes
            ]
        found += [w for w in self.wild if w.match(key) is not None]
        return min(found, key=Pattern.rank) if found else None


def _strings(values: Any) -> bool:
    return isinstance(values, (list, type({}.values()))) and all(isinstance(v, str) for v in values)


def _check_unique(remap: Remap, mapping: Mapping[str, str]) -> None:
    seen: dict[str, str] = {}
    for old, new in mapping.items():
        if not new:
            raise remap.error(f"turns {old!r} into an empty name")
        other = seen.setdefault(new, old)
        if other != old:
            raise remap.error(f"{other!r} and {old!r} would both become {new!r}")


def _retie(
    tensors: dict[str, TensorEntry], before: Mapping[str, TensorEntry], new: Mapping[str, str]
) -> None:
    """Ties point at renamed keys; when the first key of a tie was dropped, the next one takes over."""
    owner: dict[str, str] = {}
    for old, entry in before.items():
        if old not in new or entry.tied_to is None:
            continue
        first = entry.tied_to
        target = new.get(first) or owner.setdefault(first, new[old])
        if target != new[old]:
            tensors[new[old]] = dataclasses.replace(tensors[new[old]], tied_to=target)
        else:
            tensors[new[old]] = dataclasses.replace(tensors[new[old]], tied_to=None)
