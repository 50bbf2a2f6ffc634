"""`modelgen diff CKPT_A CKPT_B`: what changed between two checkpoints, e.g. before regenerating.

The grouping (whole modules as one line, repeated blocks folded to `layers.{6-11}`) is mismatch.compare's,
read with B as the "expected" side: keys only B has are added, keys only A has are removed.
"""

from __future__ import annotations

from dataclasses import dataclass

from codegen.harness.mismatch import (
    BATCH_COUNTER,
    Difference,
    MismatchReport,
    change_text,
    compare,
    old_counters,
    specs_of,
)
from codegen.load import TensorTable

MAX_GROUPS = 25
VERBS = {"missing": "added", "unexpected": "removed", "shape": "resized", "dtype": "dtype"}


@dataclass
class CheckpointDiff:
    a: TensorTable
    b: TensorTable
    report: MismatchReport  # expected = B, found = A
    counters_added: (
        int  # BatchNorm counters only B has (compare leaves them out of its differences)
    )

    @property
    def same(self) -> bool:
        return self.report.exact and not self.counters_added


def diff_checkpoints(a: TensorTable, b: TensorTable) -> CheckpointDiff:
    report = compare(specs_of(b.tensors), specs_of(a.tensors))
    return CheckpointDiff(a, b, report, len(old_counters(b.tensors, a.tensors)))


def render(d: CheckpointDiff) -> list[str]:
    a, b = d.a, d.b
    head = f"{a.source} ({len(a.tensors)} tensors) -> {b.source} ({len(b.tensors)} tensors)"
    lines = [f"{head}: {_summary(d)}"]
    if a.container != b.container:
        lines.append(
            f"  state dict: {a.container or '(top level)'!r} -> {b.container or '(top level)'!r}"
        )
    if a.stripped_prefixes != b.stripped_prefixes:
        lines.append(f"  stripped prefixes: {a.stripped_prefixes} -> {b.stripped_prefixes}")
    groups = d.report.groups()
    for kind, label, diffs in groups[:MAX_GROUPS]:
        lines.append(f"  {label or '(top level)'}: {_describe(kind, diffs)}")
    if len(groups) > MAX_GROUPS:
        lines.append(f"  ... and {len(groups) - MAX_GROUPS} more group(s)")
    if d.counters_added:
        lines.append(f"  {d.counters_added} BatchNorm {BATCH_COUNTER} counter(s) added")
    return lines


def _summary(d: CheckpointDiff) -> str:
    if d.same:
        return "same names, shapes and dtypes"
    words = {
        "missing": "added",
        "unexpected": "removed",
        "shape": "resized",
        "dtype": "dtype changes",
    }
    parts = [f"{len(d.report.of_kind(k))} {w}" for k, w in words.items() if d.report.of_kind(k)]
    return "keys: " + ", ".join(parts) if parts else "only BatchNorm counters differ"


def _describe(kind: str, diffs: list[Difference]) -> str:
    """One group: `added (6 x 16 keys)`, `resized weight [10, 64] -> [20, 64]`, `dtype weight float32 -> float16`."""
    verb = VERBS[kind]
    modules = list(dict.fromkeys(x.module for x in diffs))
    first = [x for x in diffs if x.module == modules[0]]
    if diffs[0].whole:
        per = f"{len(first)} keys"
        return f"{verb} ({len(modules)} x {per})" if len(modules) > 1 else f"{verb} ({per})"
    parts = []
    for x in first:  # folded modules share leaves and specs: show one; A is "found", B "expected"
        parts.append(change_text(kind, x.leaf, x.found, x.expected, "->"))
    times = f" (x {len(modules)})" if len(modules) > 1 else ""
    return f"{verb} {', '.join(parts)}{times}"
