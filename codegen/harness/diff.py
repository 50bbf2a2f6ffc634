"""`modelgen diff CKPT MODEL`: why a checkpoint does not strict-load into a class, and the remap that fixes
what renaming can fix.

The model is built on the meta device (no memory, no init cost) for its state_dict's names, shapes and
dtypes; non-persistent buffers are not in a state_dict, so they are neither expected nor reported
missing. Every state dict in the file is tried, so a trainer dict whose weights sit under another key
than the one modelgen picks by default (a GAN's `discriminator`) is found too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from codegen.errors import CheckFailed
from codegen.harness.keymatch import Plan, Suggestion, plan
from codegen.harness.mismatch import MismatchReport, Spec, compare, specs_of
from codegen.load import TensorTable, open_checkpoint
from codegen.remap import Remap, open_remapped

MAX_CONTAINERS = 8  # trainer dicts hold a handful; each try re-reads the pickle
MAX_LISTED = 6
WRAPPERS = {"module.": "DataParallel/DDP", "_orig_mod.": "torch.compile", "model.": "Lightning?"}


@dataclass
class ModelKeys:
    spec: str
    expected: dict[str, Spec]
    buffers: set[str]  # persistent buffers (in the state dict)
    non_persistent: set[str]


@dataclass
class Fit:
    """One state dict of the file against the model: as it loads now, the plan, and after the plan."""

    table: TensorTable
    before: MismatchReport
    plan: Plan
    remap: Remap
    after: MismatchReport

    @property
    def score(self) -> tuple[int, int, int]:
        bad = [d for d in self.after.differences if d.kind in ("missing", "shape")]
        return (self.after.ok, -len(bad), -len(self.after.differences))


@dataclass
class ModelDiff:
    model: ModelKeys
    default: Fit  # the state dict verify would load (with --key/--remap as given)
    chosen: Fit  # the one the remap uses
    also_fits: list[str] = field(default_factory=list)  # other state dicts that load as well (EMA)

    @property
    def ok_now(self) -> bool:
        return self.default.before.ok

    @property
    def ok_after(self) -> bool:
        return self.chosen.after.ok


def model_keys(spec: str, init_args: Mapping[str, Any] | None = None) -> ModelKeys:
    import torch

    from codegen.harness.loading import build_model

    try:
        with torch.device("meta"), _SkipRandomInit():
            model = build_model(spec, init_args)
    except CheckFailed:  # an __init__ that computes values (.item(), numpy) cannot run on meta
        model = build_model(spec, init_args)
    state = model.state_dict()
    buffers = {name for name, _ in model.named_buffers()}
    return ModelKeys(spec, specs_of(state), buffers & set(state), buffers - set(state))


class _SkipRandomInit:
    """Random init of meta tensors is a no-op anyway, but torch routes it through code that imports
    torch._dynamo (seconds, once per process); only shapes are read here."""

    NAMES = frozenset(
        {"normal_", "uniform_", "trunc_normal_", "bernoulli_", "exponential_", "random_"}
    )

    def __new__(cls) -> Any:
        from torch.overrides import TorchFunctionMode

        class Mode(TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
                kwargs = kwargs or {}
                target = args[0] if args else kwargs.get("tensor", kwargs.get("self"))
                if getattr(func, "__name__", "") in cls.NAMES and getattr(target, "is_meta", False):
                    return target
                return func(*args, **kwargs)

        return Mode()


def diff_model(
    checkpoint: str,
    model: str,
    key: str | None = None,
    strip: bool = True,
    strip_prefixes: tuple[str, ...] = (),
    remap_path: str | None = None,
    init_args: Mapping[str, Any] | None = None,
) -> ModelDiff:
    keys = model_keys(model, init_args)
    table = open_remapped(checkpoint, remap_path, key, strip, strip_prefixes).table
    default = _fit(keys, table)
    fits = [default]
    if key is None and remap_path is None:  # the user named none: try every state dict in the file
        for other in table.other_containers[:MAX_CONTAINERS]:
            other_table = open_checkpoint(
                checkpoint, key=other, strip=strip, strip_prefixes=strip_prefixes
            ).table
            fits.append(_fit(keys, other_table))
    chosen = max(
        fits, key=lambda f: f.score
    )  # max keeps the first of equals: the default wins ties
    also = [f.table.container for f in fits if f is not chosen and f.after.ok and f.table.container]
    return ModelDiff(keys, default, chosen, also)


def _fit(keys: ModelKeys, table: TensorTable) -> Fit:
    found = specs_of(table.tensors)
    before = compare(keys.expected, found)
    p = plan(keys.expected, found, keys.non_persistent)
    remap = p.remap(table.container)
    after = compare(keys.expected, specs_of(remap.apply_table(table).tensors))
    return Fit(table, before, p, remap, after)


# -------------------------------------------------------------------------------------------- output


def render(d: ModelDiff, remap_flag: str | None, wrote: str | None) -> list[str]:
    """Plain text lines; `wrote` is the remap file written, if any."""
    table, fit = d.default.table, d.chosen
    n_buffers = len(d.model.buffers)
    lines = [
        f"checkpoint: {table.source}, {len(table.tensors)} tensors{_where(table)}",
        f"model: {d.model.spec}, {len(d.model.expected)} keys"
        + (f" ({_count(n_buffers, 'buffer')})" if n_buffers else "")
        + (
            f"; {_count(len(d.model.non_persistent), 'non-persistent buffer')} not in its state dict"
            if d.model.non_persistent
            else ""
        ),
    ]
    if d.also_fits:
        lines.append(
            f'also fits the model: {_names(d.also_fits)} (to load it instead: --key, or "container" in the remap)'
        )
    now = "with " + remap_flag if remap_flag else "as verify loads it now"
    if d.ok_now and fit is d.default:
        lines.append(f"{now}: {_ok(d.default.before)}")
        lines += _indent(d.default.before.notes, "note: ")
        return lines
    lines.append(f"{now}: {d.default.before.summary()}")
    if fit is d.default:  # another state dict fits better: the details of this one are noise
        lines += _indent(d.default.before.render().splitlines())
        lines += _strict_false(d.default.before)
    if (
        remap_flag
    ):  # a given remap is judged, not extended: write a fresh one from the original file
        lines += _hints(d, d.default.before)
        return lines
    lines += _plan_lines(d)
    if fit.plan.empty and fit is d.default:
        unrelated = len(fit.before.of_kind("unexpected")) == len(fit.table.tensors)
        lines.append(
            "no key of the checkpoint is the model's, even renamed: is this the model's checkpoint?"
            if unrelated
            else "no rename or drop fixes this"
        )
    else:
        lines.append(f"with the remap: {_ok(fit.after) if fit.after.ok else fit.after.summary()}")
        if not fit.after.ok:
            lines += _indent(fit.after.render().splitlines())
            lines += _strict_false(fit.after)
    lines += _hints(d, fit.after)
    if wrote:
        lines.append(f"wrote {wrote}; pass --remap {wrote} to verify, finetune or generate")
    elif not (fit.plan.empty and fit is d.default):
        lines.append(
            "write it with --write-remap remap.json, then pass --remap remap.json to verify/finetune/generate"
        )
    return lines


def _plan_lines(d: ModelDiff) -> list[str]:
    fit, p = d.chosen, d.chosen.plan
    lines = []
    if fit is not d.default:
        lines.append(
            f"container: the model fits {fit.table.container!r}, not {d.default.table.container!r} (picked by default)"
        )
    for prefix in p.strip_prefixes:
        lines.append(f"prefix: strip {prefix!r} (the model has no such prefix{_known(prefix)})")
    if p.add_prefix:
        lines.append(
            f"prefix: add {p.add_prefix!r} (the model expects it; the checkpoint lacks it)"
        )
    if p.renames:
        lines.append("renames (checkpoint -> model, confidence):")
        lines += [f"  {_rename(s)}" for s in p.renames[:15]]
        lines += [f"  ... and {len(p.renames) - 15} more"] if len(p.renames) > 15 else []
    if p.drops:
        lines.append("drops (not the model's weights):")
        lines += [f"  {_drop(s)}" for s in p.drops[:10]]
        lines += [f"  ... and {len(p.drops) - 10} more"] if len(p.drops) > 10 else []
    if p.possible:
        lines.append("possible renames, not written (check by hand):")
        lines += [f"  {_rename(s)}" for s in p.possible[:10]]
    return lines


def _hints(d: ModelDiff, report: MismatchReport) -> list[str]:
    missing = [x.name for x in report.of_kind("missing")]
    lines = []
    buffers = [m for m in missing if m in d.model.buffers]
    if buffers:
        lines.append(
            f"hint: {len(buffers)} missing key(s) are buffers ({_names(buffers)}): if the model computes "
            "them in __init__, register them with persistent=False; otherwise the checkpoint lacks them"
        )
    if report.of_kind("shape"):
        lines.append(
            "hint: size mismatches mean the model was built with other hyperparameters; "
            "change its constructor arguments (no remap changes a shape)"
        )
    return lines


def _strict_false(report: MismatchReport) -> list[str]:
    """What the usual "fix" would cost, in tensors left as initialised."""
    n = len(report.of_kind("missing"))
    return (
        [
            f"strict=False would hide this and leave {_count(n, 'tensor')} at the model's initial values"
        ]
        if n
        else []
    )


def _where(table: TensorTable) -> str:
    parts = []
    if table.container:
        others = (
            f" (other state dicts: {_names(table.other_containers)})"
            if table.other_containers
            else ""
        )
        parts.append(f"state dict {table.container!r}{others}")
    if table.ignored:
        parts.append(f"ignored: {_names(table.ignored)}")
    if table.stripped_prefixes:
        parts.append("stripped: " + ", ".join(f"{p!r}{_known(p)}" for p in table.stripped_prefixes))
    return "; " + "; ".join(parts) if parts else ""


def _known(prefix: str) -> str:
    return f", {WRAPPERS[prefix]}" if prefix in WRAPPERS else ""


def _ok(report: MismatchReport) -> str:
    extra = "" if report.exact else f" ({report.summary()}; values are converted)"
    return f"loads strictly{extra}"


def _rename(s: Suggestion) -> str:
    return f"{s.source} -> {s.target}  {s.confidence:.0%}  ({_size(s)}, {s.reason})"


def _drop(s: Suggestion) -> str:
    return f"{s.source}  ({_size(s)}, {s.reason})"


def _size(s: Suggestion) -> str:
    what = "subtree" if s.source.endswith(".") else "key"
    tensors = _count(s.tensors, "tensor")
    return f"{_count(s.count, what)}, {tensors}" if s.count > 1 else tensors


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _names(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:MAX_LISTED])
    return shown + (f", ... ({len(names)} in all)" if len(names) > MAX_LISTED else "")


def _indent(lines: list[str], lead: str = "") -> list[str]:
    return [f"  {lead}{line}" for line in lines]
