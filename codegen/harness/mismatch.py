"""Compare two sets of tensor names/shapes/dtypes and describe the difference briefly, per module.

This is the report `verify` prints when a model does not strict-load a checkpoint, and the one
`modelgen diff` reuses. It works on plain `(shape, dtype)` pairs, so it needs neither tensors nor torch:

    report = compare(expected=model_specs, found=checkpoint_specs)
    if not report.ok:
        print(report.render())

`expected` is what the model declares (its `state_dict()`), `found` what the checkpoint holds. Keys the
model lacks are *unexpected*, keys the checkpoint lacks are *missing*, as in `load_state_dict`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

Spec = tuple[Sequence[int], str]  # (shape, dtype name such as "float32")

MAX_LEAVES = 8  # per report line; a module with more direct tensors says how many

# BatchNorm checkpoints saved before torch 0.4.1 lack this counter; load_state_dict fills it with 0.
BATCH_COUNTER = "num_batches_tracked"


@dataclass(frozen=True)
class Difference:
    """One key that differs. `expected`/`found` are `(shape, dtype)` or None when absent on that side."""

    kind: str  # "missing" | "unexpected" | "shape" | "dtype"
    name: str
    expected: Spec | None = None
    found: Spec | None = None
    whole: str = (
        ""  # the largest module all of whose keys are missing (or unexpected), when above this key's own
    )

    @property
    def module(self) -> str:
        """What the report groups by: the key's module, or the whole module it is part of."""
        return self.whole or self.name.rpartition(".")[0]

    @property
    def leaf(self) -> str:
        return self.name[len(self.module) + 1 :] if self.module else self.name


@dataclass
class MismatchReport:
    """The differences between what a model expects and what a checkpoint holds."""

    differences: list[Difference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # harmless differences worth a line

    KINDS = {
        "missing": "missing from the checkpoint",
        "unexpected": "unexpected (not in the model)",
        "shape": "size mismatch (model vs checkpoint)",
        "dtype": "dtype differs (model vs checkpoint; load_state_dict converts)",
    }

    def of_kind(self, kind: str) -> list[Difference]:
        return [d for d in self.differences if d.kind == kind]

    @property
    def ok(self) -> bool:
        """True when `load_state_dict(strict=True)` succeeds: dtype differences only convert values."""
        return not any(d.kind in ("missing", "unexpected", "shape") for d in self.differences)

    @property
    def exact(self) -> bool:
        """True when names, shapes and dtypes all agree."""
        return not self.differences

    def summary(self) -> str:
        """One line: `3 missing, 1 unexpected, 2 size mismatches` or `all keys match`."""
        words = {
            "missing": ("missing", "missing"),
            "unexpected": ("unexpected", "unexpected"),
            "shape": ("size mismatch", "size mismatches"),
            "dtype": ("dtype difference", "dtype differences"),
        }
        parts = []
        for kind, (one, many) in words.items():
            n = len(self.of_kind(kind))
            if n:
                parts.append(f"{n} {one if n == 1 else many}")
        return ", ".join(parts) if parts else "all keys match"

    def groups(self) -> list[tuple[str, str, list[Difference]]]:
        """`(kind, module label, differences)` per module; modules that differ only in their numeric
        indices and have the same leaves and specs fold into one group: `layers.{0-2}.norm3`."""
        out: list[tuple[str, str, list[Difference]]] = []
        for kind in self.KINDS:
            by_module: dict[str, list[Difference]] = {}
            for d in self.of_kind(kind):
                by_module.setdefault(d.module, []).append(d)
            folded: dict[tuple[str, tuple], list[Difference]] = {}
            for module, diffs in by_module.items():
                signature = tuple(
                    (d.leaf, _spec_text(d.expected), _spec_text(d.found)) for d in diffs
                )
                folded.setdefault((_INDEX.sub("#", module), signature), []).extend(diffs)
            for diffs in folded.values():
                out.append((kind, _fold_label([d.module for d in diffs]), diffs))
        return out

    def render(self, limit: int = 20) -> str:
        """Plain text (no markup), one line per module group, at most `limit` group lines."""
        if self.exact:
            return self.summary()
        lines: list[str] = []
        shown = 0
        groups = self.groups()
        for kind, label in self.KINDS.items():
            kind_groups = [g for g in groups if g[0] == kind]
            if not kind_groups:
                continue
            lines.append(f"{label}: {len(self.of_kind(kind))} key(s)")
            for _, module, diffs in kind_groups:
                if shown == limit:
                    break
                lines.append(f"  {module or '(top level)'}: {_describe(kind, diffs)}")
                shown += 1
        if shown < len(groups):
            lines.append(f"  ... and {len(groups) - shown} more group(s)")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "summary": self.summary(),
            "differences": [
                {"kind": d.kind, "name": d.name}
                | ({"expected": _spec_json(d.expected)} if d.expected else {})
                | ({"found": _spec_json(d.found)} if d.found else {})
                for d in self.differences
            ],
            "notes": self.notes,
        }


def compare(expected: Mapping[str, Spec], found: Mapping[str, Spec]) -> MismatchReport:
    """Differences between a model's `(shape, dtype)` per key and a checkpoint's, in the model's order."""
    report = MismatchReport()
    missing_whole = _whole_modules({n for n in expected if n not in found}, expected)
    unexpected_whole = _whole_modules({n for n in found if n not in expected}, found)
    counters = old_counters(expected, found)
    for name, spec in expected.items():
        other = found.get(name)
        if other is None:
            if name in counters:
                continue  # counted in the note below
            report.differences.append(
                Difference("missing", name, expected=spec, whole=missing_whole.get(name, ""))
            )
        elif tuple(spec[0]) != tuple(other[0]):
            report.differences.append(Difference("shape", name, expected=spec, found=other))
        elif spec[1] != other[1]:
            report.differences.append(Difference("dtype", name, expected=spec, found=other))
    report.differences += [
        Difference("unexpected", n, found=s, whole=unexpected_whole.get(n, ""))
        for n, s in found.items()
        if n not in expected
    ]
    if counters:
        report.notes.append(
            f"{len(counters)} BatchNorm {BATCH_COUNTER} counter(s) are not in the checkpoint "
            "(saved by an older torch); load_state_dict sets them to 0"
        )
    return report


def old_counters(expected: Mapping[str, Any], found: Mapping[str, Any]) -> list[str]:
    """BatchNorm counters `found` lacks while holding the rest of their module: an older torch saved
    it. A counter whose whole module is absent is just part of a missing module."""
    modules = {k.rpartition(".")[0] for k in found}
    return [
        n
        for n in expected
        if n.rpartition(".")[2] == BATCH_COUNTER
        and n not in found
        and n.rpartition(".")[0] in modules
    ]


def specs_of(state: Mapping[str, Any]) -> dict[str, Spec]:
    """`(shape, dtype)` per key of a state dict of tensors (or of load.TensorEntry objects)."""
    return {k: (tuple(v.shape), str(v.dtype).removeprefix("torch.")) for k, v in state.items()}


# ------------------------------------------------------------------------------------- helpers


def _whole_modules(names: set[str], side: Mapping[str, Spec]) -> dict[str, str]:
    """For each name, the outermost module all of whose keys on `side` are in `names`, when that module
    contains submodules' keys too: a missing layer is then one line, not one per sublayer."""
    total: dict[str, int] = {}
    hit: dict[str, int] = {}
    nested: set[str] = set()  # modules with keys of submodules
    for counts, keys in ((total, side), (hit, names)):
        for key in keys:
            prefixes = _prefixes(key)
            for prefix in prefixes:
                counts[prefix] = counts.get(prefix, 0) + 1
            nested.update(prefixes[:-1])
    out: dict[str, str] = {}
    for key in names:
        own = key.rpartition(".")[0]
        whole = next((p for p in _prefixes(key) if hit[p] == total[p]), None)
        if whole is not None and (
            whole != own or whole in nested
        ):  # `model.scale` beside `model.fc.*` too
            out[key] = whole
    return out


def _prefixes(key: str) -> list[str]:
    """Module paths above a key, outermost first: a.b.weight → [a, a.b]."""
    parts = key.split(".")[:-1]
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


_INDEX = re.compile(r"(?<=\.)\d+(?=\.|$)|^\d+(?=\.|$)")


def _fold_label(modules: list[str]) -> str:
    """Modules layers.0/1/2.norm3 (same template, so the same number of parts) → `layers.{0-2}.norm3`."""
    unique = list(dict.fromkeys(modules))
    if len(unique) == 1:
        return unique[0]
    columns = zip(*(m.split(".") for m in unique))
    return ".".join(col[0] if len(set(col)) == 1 else _ranges(list(col)) for col in columns)


def _ranges(values: list[str]) -> str:
    """["0", "1", "2", "5"] → `{0-2,5}`."""
    runs: list[list[int]] = []
    for n in sorted({int(v) for v in values}):
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return "{" + ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs) + "}"


def _spec_text(spec: Spec | None) -> str:
    return "" if spec is None else f"[{', '.join(map(str, spec[0]))}] {spec[1]}"


def _spec_json(spec: Spec) -> dict[str, Any]:
    return {"shape": list(spec[0]), "dtype": spec[1]}


def _describe(kind: str, diffs: list[Difference]) -> str:
    """The leaves of one group; with both sides' shapes or dtypes where those differ."""
    first_module = diffs[0].module
    if diffs[0].whole:
        n = sum(d.module == first_module for d in diffs)
        return f"the whole module ({n} keys)"
    parts = []  # folded modules share their leaves and specs: show one
    own = [d for d in diffs if d.module == first_module]
    for d in own[:MAX_LEAVES]:
        parts.append(change_text(kind, d.leaf, d.expected, d.found, "vs"))
    more = f", ... ({len(own)} keys)" if len(own) > MAX_LEAVES else ""
    return ", ".join(parts) + more


def change_text(kind: str, leaf: str, first: Spec | None, second: Spec | None, sep: str) -> str:
    """One leaf of a group: `weight [10, 64] vs [12, 64]`, `weight float32 -> float16`, or its name."""
    if kind == "shape":
        return f"{leaf} [{_dims(first)}] {sep} [{_dims(second)}]"
    if kind == "dtype":
        return f"{leaf} {first[1]} {sep} {second[1]}"  # type: ignore[index]
    return leaf


def _dims(spec: Spec | None) -> str:
    return ", ".join(map(str, spec[0])) if spec else ""
