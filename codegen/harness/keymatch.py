"""Plan a remap that makes a checkpoint's keys fit a model's: a prefix to strip or add, renamed subtrees
and keys, and keys to drop. Names and shapes only; no torch.

Evidence, strongest first:
- a prefix: how many keys match exactly once it is stripped (Lightning's `model.`) or added;
- a renamed subtree: the multiset of (relative key, shape) under an unexpected module equals the one
  under a missing module (`classifier.*` → `fc.*`); name similarity and equal layer indices rank ties;
- a renamed key: equal shape, same parent module, similar name;
- whatever is left unexpected is dropped (an EMA copy, a loss module, an old persistent buffer).
Missing keys are never papered over: the plan only renames and drops, so the strict load still checks
that every tensor the model has comes from the checkpoint.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

from codegen.harness.mismatch import BATCH_COUNTER, Spec
from codegen.remap import Remap, Rules

WRITE_THRESHOLD = 0.6  # suggestions below this are shown, not written
SHOW_THRESHOLD = 0.45  # below this, an equal shape is all two keys share
MAX_CANDIDATES = (
    50  # partners tried per key or subtree beyond the obvious ones: keeps unrelated files fast
)
_DIGITS = re.compile(r"(?<=\.)\d+(?=\.|$)|^\d+(?=\.|$)")


@dataclass(frozen=True)
class Suggestion:
    source: (
        str  # checkpoint pattern, after the prefix step ("classifier.", "layers.*.attn.", "pos")
    )
    target: str  # model pattern; "" for a drop
    tensors: int
    confidence: float
    reason: str
    count: int = 1  # subtrees or keys a wildcard pattern stands for


@dataclass
class Plan:
    strip_prefixes: list[str] = field(default_factory=list)
    add_prefix: str = ""
    renames: list[Suggestion] = field(default_factory=list)  # written to the remap
    drops: list[Suggestion] = field(default_factory=list)  # written to the remap
    possible: list[Suggestion] = field(
        default_factory=list
    )  # shown only: too weak or shapes differ

    @property
    def empty(self) -> bool:
        return not (self.strip_prefixes or self.add_prefix or self.renames or self.drops)

    def remap(self, container: str | None) -> Remap:
        return Remap(
            container=container,
            strip_prefixes=list(self.strip_prefixes),
            add_prefix=self.add_prefix,
            rename={s.source: s.target for s in self.renames},
            drop=[s.source for s in self.drops],
        )


def plan(
    expected: Mapping[str, Spec],
    found: Mapping[str, Spec],
    non_persistent: Iterable[str] = (),
) -> Plan:
    """What renames `found` (a checkpoint) into `expected` (a model's state dict)."""
    result = Plan()
    names = list(found)
    strip = _best_prefix(names, set(expected), strip=True)
    if strip:
        result.strip_prefixes.append(strip)
        names = [n.removeprefix(strip) for n in names]
    result.add_prefix = _best_prefix(names, set(expected), strip=False) or ""
    specs = {result.add_prefix + n: s for n, s in zip(names, found.values())}

    # Both sets shrink as renames claim keys; what is left unexpected at the end is dropped.
    unexpected = {n for n in specs if n not in expected}
    missing = {n for n in expected if n not in specs}
    copies = _copies(
        specs, expected, unexpected
    )  # an EMA copy must not lend its tensors to renames
    for keys in copies.values():
        unexpected -= keys
    renames, possible = _subtree_renames(specs, expected, unexpected, missing)
    renames += _key_renames(specs, expected, unexpected, missing)
    for s in sorted(renames, key=lambda s: -s.confidence):  # ranked: surest first
        if s.confidence >= WRITE_THRESHOLD:
            result.renames.append(s)
        elif s.confidence >= SHOW_THRESHOLD:
            result.possible.append(s)
    result.possible += possible
    for keys in copies.values():
        unexpected |= keys
    kept = len(specs) - len(unexpected) - sum(s.tensors for s in result.possible)
    if kept <= 0:  # nothing matched: pairings by shape alone are noise
        result.renames, result.possible = [], []
    else:  # when nothing would be left, the checkpoint is not this model's: dropping is no fix
        result.drops = _fold(_drops(specs, unexpected, set(copies), set(non_persistent)), specs)
    result.renames = _fold(result.renames, specs)
    return result


# ------------------------------------------------------------------------------------------ prefixes


def _best_prefix(names: Sequence[str], expected: set[str], strip: bool) -> str | None:
    """The dotted prefix whose stripping from the checkpoint's keys (or adding to all of them) makes the
    most keys match; None when none helps. EMA-looking prefixes lose ties: the plain weights are the model.
    """
    counts: Counter[str] = Counter()
    have = set(names)
    for key in (
        (n for n in names if n not in expected) if strip else (e for e in expected if e not in have)
    ):
        parts = key.split(".")
        for i in range(1, len(parts)):
            if ".".join(parts[i:]) in (expected if strip else have):
                counts[".".join(parts[:i]) + "."] += 1
    base = sum(n in expected for n in names)
    best, best_gain = None, 0
    for prefix, _ in sorted(counts.items(), key=lambda kv: (-kv[1], "ema" in kv[0].lower()))[:5]:
        renamed = [n.removeprefix(prefix) for n in names] if strip else [prefix + n for n in names]
        if len(set(renamed)) < len(renamed) or "" in renamed:
            continue  # would merge two keys
        gain = sum(n in expected for n in renamed) - base
        if gain > best_gain:
            best, best_gain = prefix, gain
    return best


# ------------------------------------------------------------------------------------------- renames


def _subtree_renames(
    specs: Mapping[str, Spec], expected: Mapping[str, Spec], unexpected: set[str], missing: set[str]
) -> tuple[list[Suggestion], list[Suggestion]]:
    """Whole unexpected modules renamed onto whole missing ones: same signature first, then (as possible
    renames only) the same relative keys with other shapes."""
    u_trees = _whole_subtrees(specs, unexpected)
    m_trees = _whole_subtrees(expected, missing)
    sure = _match(u_trees, m_trees, _signature, specs, expected)
    _claim(sure, u_trees, m_trees, unexpected, missing)
    u_trees = {p: k for p, k in u_trees.items() if k <= unexpected}
    m_trees = {p: k for p, k in m_trees.items() if k <= missing}
    loose = _match(u_trees, m_trees, _relative_keys, specs, expected)
    _claim(
        loose, u_trees, m_trees, unexpected, missing
    )  # left for the user, neither renamed nor dropped
    loose = [
        Suggestion(
            s.source,
            s.target,
            s.tensors,
            round(s.confidence * 0.5, 2),
            "same keys, other shapes: " + _shape_changes(s.source, s.target, specs, expected),
        )
        for s in loose
    ]
    return sure, loose


def _shape_changes(
    source: str, target: str, specs: Mapping[str, Spec], expected: Mapping[str, Spec], most: int = 3
) -> str:
    """`weight [10, 64] -> [12, 64]` for the keys of two subtrees whose shapes differ (checkpoint ->
    model), so the user sees what a rename would not fix."""
    ours = {k[len(source) :]: list(v[0]) for k, v in specs.items() if k.startswith(source)}
    theirs = {k[len(target) :]: list(v[0]) for k, v in expected.items() if k.startswith(target)}
    changed = [f"{r} {ours[r]} -> {theirs[r]}" for r in sorted(ours) if ours[r] != theirs.get(r)]
    more = f", ... ({len(changed)} in all)" if len(changed) > most else ""
    return ", ".join(changed[:most]) + more


def _claim(
    found: list[Suggestion], u_trees, m_trees, unexpected: set[str], missing: set[str]
) -> None:
    for s in found:
        unexpected -= u_trees[s.source[:-1]]
        missing -= m_trees[s.target[:-1]]


def _match(u_trees, m_trees, signature, specs, expected) -> list[Suggestion]:
    """Greedy: biggest subtrees first, then equal layer indices, then name similarity."""
    by_sig: dict[tuple, list[str]] = defaultdict(list)
    by_sig_index: dict[tuple, list[str]] = defaultdict(
        list
    )  # a block's partner has its layer index
    for q, keys in m_trees.items():
        sig = signature(q, keys, expected)
        by_sig[sig].append(q)
        by_sig_index[(sig, _indices(q))].append(q)
    pairs = []
    for p, keys in u_trees.items():
        sig = signature(p, keys, specs)
        if not sig:
            continue
        for q in by_sig_index.get((sig, _indices(p))) or by_sig.get(sig, [])[:MAX_CANDIDATES]:
            # a rename inside the same parent (`layers.3.attn` → `layers.3.attention`) beats a move
            same_place = p.rpartition(".")[0] == q.rpartition(".")[0]
            pairs.append(
                (len(keys), same_place, _indices(q) == _indices(p), _similarity(p, q), p, q)
            )
    pairs.sort(key=lambda t: (-t[0], -t[1], -t[2], -t[3], t[4], t[5]))
    best_of: dict[str, tuple] = {}
    for t in pairs:  # ranking bonus only for a pair that is each side's unique best
        for side in (t[4], "\0" + t[5]):
            if side not in best_of:
                best_of[side] = t
            elif best_of[side][:4] == t[:4]:
                best_of[side] = ()
    used_u: set[str] = set()
    used_m: set[str] = set()
    out = []
    for size, same_place, same_idx, sim, p, q in pairs:
        u_keys, m_keys = u_trees[p], m_trees[q]
        if u_keys & used_u or m_keys & used_m:
            continue
        used_u |= u_keys
        used_m |= m_keys
        unique = best_of.get(p) == best_of.get("\0" + q) != ()
        # equal layer indices settle a repeated block's partner as well as a similar name would
        indexed = bool(_indices(p)) and same_idx and unique
        confidence = 0.5 + 0.2 * unique + 0.1 * (size >= 2) + 0.2 * max(sim, float(indexed))
        out.append(
            Suggestion(p + ".", q + ".", size, round(min(confidence, 0.99), 2), "same shapes")
        )
    return out


def _key_renames(
    specs: Mapping[str, Spec], expected: Mapping[str, Spec], unexpected: set[str], missing: set[str]
) -> list[Suggestion]:
    """Single keys: equal shape, same parent module preferred, similar leaf name."""
    pairs = []
    by_shape: dict[tuple, list[str]] = defaultdict(list)
    by_place: dict[tuple, list[str]] = defaultdict(list)
    for m in sorted(missing):
        if not m.endswith(BATCH_COUNTER):
            by_shape[tuple(expected[m][0])].append(m)
            by_place[(m.rpartition(".")[0], tuple(expected[m][0]))].append(m)
    for u in unexpected:
        shape = tuple(specs[u][0])
        anywhere = by_shape.get(shape, [])
        for m in by_place.get((u.rpartition(".")[0], shape)) or anywhere[:MAX_CANDIDATES]:
            same_parent = u.rpartition(".")[0] == m.rpartition(".")[0]
            pairs.append(
                (same_parent, _similarity(u.rpartition(".")[2], m.rpartition(".")[2]), u, m)
            )
    pairs.sort(key=lambda t: (-t[0], -t[1], t[2], t[3]))
    best_of: dict[str, tuple] = {}
    for t in pairs:
        for side in (t[2], "\0" + t[3]):
            if side not in best_of:
                best_of[side] = t
            elif best_of[side][:2] == t[:2]:
                best_of[side] = ()
    out, used = [], set()
    for same_parent, sim, u, m in pairs:
        if u in used or m in used:
            continue
        used |= {u, m}
        unique = best_of.get(u) == best_of.get("\0" + m) != ()
        confidence = 0.35 + 0.2 * unique + 0.1 * same_parent + 0.35 * sim
        shape = list(specs[u][0])
        out.append(Suggestion(u, m, 1, round(min(confidence, 0.99), 2), f"same shape {shape}"))
    unexpected -= used
    missing -= used
    return out


# --------------------------------------------------------------------------------------------- drops


def _copies(
    specs: Mapping[str, Spec], expected: Mapping[str, Spec], unexpected: set[str]
) -> dict[str, set[str]]:
    """Unexpected modules that hold at least half of the model again under their own prefix (`ema.`,
    `model_ema.module.`): a second set of weights, not renamed layers."""
    wanted = {k for k in expected if not k.endswith(BATCH_COUNTER)}
    out: dict[str, set[str]] = {}
    for p, keys in sorted(
        _whole_subtrees(specs, unexpected).items(), key=lambda kv: (kv[0].count("."), kv[0])
    ):
        if any(p.startswith(q + ".") for q in out) or len(keys) < 2:
            continue
        same = sum(
            1
            for k in keys
            if (r := k[len(p) + 1 :]) in wanted and tuple(expected[r][0]) == tuple(specs[k][0])
        )
        if same >= max(2, len(wanted) / 2):
            out[p] = keys
    return out


def _drops(
    specs: Mapping[str, Spec], pending: set[str], copies: set[str], non_persistent: set[str]
) -> list[Suggestion]:
    """Whole unexpected modules as one prefix each, stray keys one by one, each with why it is extra."""
    whole = _whole_subtrees(specs, pending)
    out, done = [], set()
    for p in sorted(whole, key=lambda p: (p.count("."), p)):  # outermost first
        keys = whole[p]
        if keys & done:
            continue
        done |= keys
        why = "a second copy of the model (EMA weights?)" if p in copies else "not in the model"
        out.append(Suggestion(p + ".", "", len(keys), 1.0, why))
    for key in sorted(pending - done):
        why = (
            "a non-persistent buffer of the model" if key in non_persistent else "not in the model"
        )
        out.append(Suggestion(key, "", 1, 1.0, why))
    return out


# -------------------------------------------------------------------------------------------- folding


def _fold(suggestions: list[Suggestion], specs: Mapping[str, Spec]) -> list[Suggestion]:
    """`layers.0.attn.` … `layers.99.attn.` → one `layers.*.attn.` rule, when that rule renames exactly
    the same keys (and no others) as the rules it replaces."""
    groups: dict[tuple, list[Suggestion]] = defaultdict(list)
    for s in suggestions:
        groups[(_DIGITS.sub("*", s.source), _DIGITS.sub("*", s.target), s.reason)].append(s)
    out = []
    for (source, target, reason), members in groups.items():
        carried = all(_indices(s.source) == _indices(s.target) for s in members) or not target
        if (
            len(members) > 1
            and "*" in source
            and carried
            and _same_effect(members, source, target, specs)
        ):
            out.append(
                Suggestion(
                    source,
                    target,
                    sum(s.tensors for s in members),
                    min(s.confidence for s in members),
                    reason,
                    len(members),
                )
            )
        else:
            out += members
    return out


def _same_effect(
    members: list[Suggestion], source: str, target: str, specs: Mapping[str, Spec]
) -> bool:
    explicit = _effect({s.source: s.target or s.source for s in members}, specs)
    return explicit == _effect({source: target or source}, specs)


def _effect(rules: Mapping[str, str], keys: Iterable[str]) -> dict[str, str]:
    """Key → what the rules make of it, for the keys they touch (a drop maps a key to itself)."""
    lookup = Rules(rules)
    out = {}
    for key in keys:
        pattern = lookup.find(key)
        if pattern is not None:
            out[key] = pattern.apply(key, rules[pattern.text])
    return out


# -------------------------------------------------------------------------------------------- helpers


def _whole_subtrees(side: Mapping[str, Spec], chosen: set[str]) -> dict[str, set[str]]:
    """Module paths (not the root) all of whose keys on `side` are in `chosen` → those keys."""
    under: dict[str, set[str]] = defaultdict(set)
    for key in side:
        parts = key.split(".")
        for i in range(1, len(parts)):
            under[".".join(parts[:i])].add(key)
    return {p: keys for p, keys in under.items() if keys <= chosen}


def _signature(module: str, keys: set[str], side: Mapping[str, Spec]) -> tuple:
    """Multiset of (key relative to the module, shape); BatchNorm counters left out (old checkpoints
    lack them)."""
    cut = len(module) + 1 if module else 0
    return tuple(
        sorted((k[cut:], tuple(side[k][0])) for k in keys if not k.endswith(BATCH_COUNTER))
    )


def _relative_keys(module: str, keys: set[str], side: Mapping[str, Spec]) -> tuple:
    return tuple(name for name, _ in _signature(module, keys, side))


def _indices(name: str) -> tuple[str, ...]:
    return tuple(_DIGITS.findall(name))


_SIM_CACHE: dict[tuple[str, str], float] = {}


def _similarity(a: str, b: str) -> float:
    """difflib ratio of the names with layer indices masked, cached: repeated blocks share templates."""
    key = (_DIGITS.sub("#", a), _DIGITS.sub("#", b))
    if key not in _SIM_CACHE:
        if len(_SIM_CACHE) > 100_000:
            _SIM_CACHE.clear()
        _SIM_CACHE[key] = difflib.SequenceMatcher(None, *key).ratio()
    return _SIM_CACHE[key]
