"""Per-class audit of the zoos: does each generated class compute what the reference's submodule at
the same path computes, and does the file say so where it does not?

A file's verdict (bench_vision_zoo, bench_generative_zoo) is per file: a flagged file can still hold
a class that says `inferred` while its forward computes something else, and a reader trusts it.
For a zoo row: the reference and the file generated from its state dict alone (same weights,
strictly loaded); forward hooks on every reference submodule record its inputs and output on the
zoo's input; each generated class instance at the same path is called with the SAME inputs and its
output compared with the reference's (the first calls of a module called more than once). Inside
it, a submodule given the input the reference's was given returns the reference's output, so a
class is judged on its own forward, not on a flagged part inside it. Per class:

  same           every instance compared matched (to 1e-4, relative to the output's scale), or
                 differed alone while its parent, replayed with it computing as generated,
                 matched (the step boundary moved, or the consumer erases the difference)
  DIFFERENT      an instance computed something else; SILENT where the class says exact/inferred
  layer values   differed only through torch.nn layers of the reference's type that, given
                 its recorded input, compute otherwise: a constructor value no key records
                 (a group count, an eps), which the class's docstring lists
  not comparable no instance could be called that way (no module at the path, another signature,
                 another output shape: the step boundary moved), or it raised NotImplementedError

Run: python benchmarks/audit_classes.py [ROW ...] [--all-classes]
ROW: vision | generative (every row of those zoos), ZOO or ZOO:NAME as bench_vision_zoo takes it
(a vision zoo), g:ZOO or g:ZOO:NAME (a generative zoo, as bench_generative_zoo takes it). Prints
one line per silent class (every class with --all-classes) and a per-row and total tally; exits 1
where a class is silently different. A few seconds a row.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import re
import sys
import tempfile
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

from benchmarks import bench_generative_zoo, bench_vision_zoo  # noqa: E402

CALLS_PER_MODULE = 3  # a module called more than once (shared, or a loop) is compared this often
TRUSTED = ("exact", "inferred")  # what a reader believes without checking


@dataclass
class ClassAudit:
    name: str
    trust: str
    compared: int = 0  # instance calls compared
    differing: list[str] = field(default_factory=list)  # "path: how"
    skipped: list[str] = field(default_factory=list)  # "path: why not comparable"
    # "path: how": differs alone, yet its parent computes the reference's output with it (the
    # step boundary moved: a residual the parent adds here, the child there; or a difference the
    # consumer erases: pix2pix's in-place LeakyReLU leaves its block's skip activated, and the
    # parent's ReLU reads it the same)
    absorbed: list[str] = field(default_factory=list)
    # "path: how": differs only through torch.nn layers whose constructor values no key records
    # (layer_values): the class's dataflow is right, its docstring lists those values
    values: list[str] = field(default_factory=list)
    runs: bool = False  # the model's own forward calls an instance (not only reads its layers)

    @property
    def outcome(self) -> str:
        if self.differing:
            return "DIFFERENT"
        if self.values:
            return "layer values"
        return "same" if self.compared else "not comparable"

    @property
    def silent(self) -> bool:
        return self.trust in TRUSTED and bool(self.differing)


def _detached(value):
    """A copy of a hook's value whose tensors later in-place steps cannot change."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, (tuple, list)):
        return type(value)(_detached(v) for v in value) if not hasattr(value, "_fields") else value
    if isinstance(value, dict):
        return {k: _detached(v) for k, v in value.items()}
    return value


def recorded_calls(reference: nn.Module, inputs: tuple) -> dict[str, list[tuple]]:
    """path -> [(args, kwargs, output)] of the reference's submodules on `inputs`."""
    calls: dict[str, list[tuple]] = {}
    pending: dict[str, list[tuple]] = {}
    handles = []
    for path, module in reference.named_modules():

        def before(module, args, kwargs, path=path):
            pending.setdefault(path, []).append((_detached(args), _detached(kwargs)))

        def after(module, args, kwargs, output, path=path):
            args, kwargs = pending[path].pop()
            made = calls.setdefault(path, [])
            if len(made) < CALLS_PER_MODULE:
                made.append((args, kwargs, _detached(output)))

        handles.append(module.register_forward_pre_hook(before, with_kwargs=True))
        handles.append(module.register_forward_hook(after, with_kwargs=True))
    try:
        with torch.no_grad():
            reference(*inputs)
    finally:
        for handle in handles:
            handle.remove()
    return calls


def _generated(module: nn.Module) -> bool:
    """A class of the generated file, not a torch.nn layer or container."""
    return not type(module).__module__.startswith("torch.")


def _first_tensor(value):
    """The tensor a caller reads first: the value itself, or the first of a tuple or dict."""
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)) and value:
        return _first_tensor(value[0])
    if isinstance(value, dict) and value:
        return _first_tensor(next(iter(value.values())))
    return None


def _same(a, b) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and torch.allclose(a, b, atol=1e-6, rtol=1e-6)


@contextlib.contextmanager
def children_as_recorded(
    module: nn.Module,
    path: str,
    calls: dict[str, list[tuple]],
    keep: frozenset[str] = frozenset(),
    layers: frozenset[str] = frozenset(),
    theirs: dict | None = None,
):
    """Within `module` (at `path`), each generated class at a path the reference called, given the
    same first input the reference's gave it, returns the reference's output: a class is judged on
    its own forward, not on a flagged layer or block inside it (whose own row says so). A submodule
    given another input computes as generated: the difference is the class's own. The classes at
    `keep` (a child under judgement, and the parents between) always compute as generated; the
    torch.nn layers at `layers` (whose constructor values differ: layer_values) stand in too;
    where the reference's layer there is a subclass doing more (`theirs`: timm's BatchNormAct2d,
    a BatchNorm2d that activates too), with the generated layer's type's computation at the
    reference's values, not with its recorded output."""
    handles = []

    def substitute(sub, args, kwargs, output, q):
        ref = (theirs or {}).get(q)
        if q in layers and ref is not None and type(ref) is not type(sub):
            try:
                with torch.no_grad():
                    base = type(sub).forward(ref, *args, **kwargs)
            except RuntimeError:  # a conv padding in its own forward (padded_same), unpadded
                base = None
            # such a conv stands in as recorded below
            if base is not None and (
                not isinstance(output, torch.Tensor) or base.shape == output.shape
            ):
                return base
        given = _first_tensor((*args, *kwargs.values()))
        if not isinstance(output, torch.Tensor) or given is None:
            return None
        for their_args, their_kwargs, their_output in calls[q]:
            seen = _first_tensor((*their_args, *their_kwargs.values()))
            want = _first_tensor(their_output)
            if seen is not None and _same(seen, given) and want is not None:
                if want.shape == output.shape:
                    return want.clone()
        return None

    for name, sub in module.named_modules():
        q = f"{path}.{name}" if path and name else (name or path)
        # Only generated classes: a torch.nn layer computes as the reference's given the same
        # weights, and where its step boundary differs (timm's BatchNormAct2d, detectron2's conv
        # holding its norm, both at the path of a plain layer here) the reference's output would
        # stand in for less than it computed.
        if name and q in calls and (_generated(sub) or q in layers) and q not in keep:
            hook = lambda m, a, k, o, q=q: substitute(m, a, k, o, q)  # noqa: E731
            handles.append(sub.register_forward_hook(hook, with_kwargs=True))
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def compare_call(module: nn.Module, args, kwargs, expected) -> tuple[str, str]:
    """('same' | 'different' | 'skip', detail) for one recorded call replayed on `module`."""
    want = _first_tensor(expected)
    if want is None:
        return "skip", "the reference returns no tensor"
    args, kwargs = _detached(args), _detached(kwargs)  # the recorded inputs stay as recorded
    try:
        with torch.no_grad():
            got = _first_tensor(module(*args, **kwargs))
    except NotImplementedError:
        return "skip", "raises NotImplementedError"
    except (TypeError, RuntimeError, ValueError, IndexError, AttributeError) as exc:
        return "skip", f"cannot take the reference's inputs ({type(exc).__name__})"
    if got is None or got.shape != want.shape:
        shape = None if got is None else tuple(got.shape)
        return "skip", f"another output shape ({shape} for {tuple(want.shape)})"
    if not (want.is_floating_point() and got.is_floating_point()):
        same = torch.equal(got, want)
        return ("same", "") if same else ("different", "integer outputs differ")
    scale = max(1.0, want.abs().max().item()) if want.numel() else 1.0
    diff = (got.float() - want.float()).abs().max().item() if want.numel() else 0.0
    if diff <= 1e-4 * scale:
        return "same", ""
    return "different", f"max diff {diff:.3g} (output scale {scale:.3g})"


def absorbed_by_parent(model: nn.Module, path: str, calls: dict[str, list[tuple]]) -> str | None:
    """The nearest generated ancestor of `path` the reference called whose replay on its recorded
    inputs gives the reference's output every time, with the class at `path` and the ancestors
    between computing as generated (the class called, not bypassed) and all else as recorded;
    None where none does. A parent that differs itself passes the question up: pix2pix's nested
    blocks each leave their skip activated, and the first ReLU above erases it."""
    modules = dict(model.named_modules())
    child = modules[path]
    parts = path.split(".")
    keep = {path}
    for cut in range(len(parts) - 1, -1, -1):
        q = ".".join(parts[:cut])
        parent = modules.get(q)
        if parent is None or not _generated(parent) or q not in calls:
            continue
        ran = []
        handle = child.register_forward_pre_hook(lambda m, a: ran.append(True))
        try:
            outcomes = []
            for args, kwargs, output in calls[q]:
                with children_as_recorded(parent, q, calls, keep=frozenset(keep)):
                    outcomes.append(compare_call(parent, args, kwargs, output)[0])
        finally:
            handle.remove()
        if not ran:
            return None  # the parent bypasses the class: nothing vouches for its forward
        if set(outcomes) == {"same"}:
            return q or "(top)"
        keep.add(q)
    return None


def layer_values(
    module: nn.Module, path: str, calls: dict, theirs: dict, listed: frozenset[str] = frozenset()
) -> frozenset[str]:
    """Paths of the torch.nn leaf layers within `module` where the reference holds a layer of the
    same type that, given its recorded input, computes otherwise: the weights are the same, so a
    constructor value no key records differs (a group count, an eps, a padding: the class's
    docstring lists what it left at defaults). A class is judged apart from them. A reference
    layer of a subclass that does more (timm's BatchNormAct2d: its activation too) is compared
    by what the generated layer's type computes at its values: the rest is the class's. A conv
    the reference pads as TensorFlow does counts where `listed` (the class's docstring's labels
    of `padding` left at default) names it (padded_same)."""
    found = set()
    for name, sub in module.named_modules():
        q = f"{path}.{name}" if path and name else (name or path)
        ref = theirs.get(q)
        if not name or _generated(sub) or ref is None or not isinstance(ref, type(sub)):
            continue
        if next(sub.children(), None) is not None:
            continue  # a container's difference is what it holds: dataflow, not a value
        if q not in calls:
            continue
        args, kwargs, output = calls[q][0]
        if padded_same(sub, docstring_label(name), ref, args, output, listed):
            found.add(q)
            continue
        if type(ref) is not type(sub):
            try:
                with torch.no_grad():
                    output = type(sub).forward(ref, *_detached(args), **_detached(kwargs))
            except RuntimeError:
                continue  # its values alone cannot run as the generated type: not a value
        if compare_call(sub, args, kwargs, output)[0] == "different":
            found.add(q)
    return frozenset(found)


def docstring_label(name: str) -> str:
    """A member's label as a class docstring writes it: `downsample.1` is `downsample[1]`."""
    first, *rest = name.split(".")
    return first + "".join(f"[{part}]" for part in rest)


def listed_defaults(source: str, choice: str) -> dict[str, frozenset[str]]:
    """Class name -> the labels its docstring lists for `choice` among the values "Not recorded
    in the checkpoint, left at defaults" ("..." where the listing is cut short)."""
    found = {}
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ClassDef):
            continue
        text = " ".join((ast.get_docstring(node) or "").split())
        at = re.search(r"left at defaults: (.*?)\.(\s|$)", text)
        labels: set[str] = set()
        for part in at.group(1).split("; ") if at else []:
            named = re.fullmatch(rf"{re.escape(choice)} \((.*)\)", part)
            if named:
                labels |= {label.strip() for label in named.group(1).split(",")}
        found[node.name] = frozenset(labels)
    return found


def tf_same_pads(x: torch.Tensor, conv: nn.Conv2d) -> list[int]:
    """TensorFlow's 'SAME' padding of `x` before `conv` (F.pad's order: width first): the
    strided conv gives ceil(size / stride) positions, an odd pixel going after."""
    pads: list[int] = []
    for i in (1, 0):
        size, k, s, d = x.shape[i - 2], conv.kernel_size[i], conv.stride[i], conv.dilation[i]
        total = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
        pads += [total // 2, total - total // 2]
    return pads


def padded_same(sub: nn.Module, label: str, ref: nn.Module, args, output, listed) -> bool:
    """A generated Conv2d (`label`, as its class's docstring names it) whose `padding` the class
    lists as left at its default (`listed`: the labels there, "..." where cut short), while the reference's conv, with the same weights, gives its recorded output
    once its input is padded as TensorFlow pads ('SAME', from the input's size: timm's
    Conv2dSame, a Keras port's ZeroPadding2D): the padding choice's `pad_same`, a value no key
    records (codegen/patterns/layers/conv.py offers it on every strided conv), not dataflow."""
    if type(sub) is not nn.Conv2d or not isinstance(ref, nn.Conv2d) or not args:
        return False
    if sub.padding_mode != "zeros" or (label not in listed and "..." not in listed):
        return False
    x, want = _first_tensor(args), _first_tensor(output)
    if x is None or want is None or x.dim() != 4:
        return False
    with torch.no_grad():
        if compare_call(sub, args, {}, want)[0] != "different":
            return False  # computes as the reference's (or not comparable): no value differs
        padded = nn.functional.pad(x, tf_same_pads(x, sub))
        got = nn.functional.conv2d(
            padded, sub.weight, sub.bias, sub.stride, 0, sub.dilation, sub.groups
        )
    if got.shape != want.shape:
        return False
    return bool(torch.allclose(got, want, atol=1e-5, rtol=1e-4))


def called_classes(model: nn.Module, inputs: tuple) -> set[str]:
    """The classes whose forward the model's own forward runs: a parent that reads a member's
    layers (`self.body.conv1(x)`) never runs the member's forward, so nothing the model computes
    vouches for it."""
    ran: set[str] = set()
    handles = [
        m.register_forward_pre_hook(lambda m, args: ran.add(type(m).__name__))
        for m in model.modules()
    ]
    try:
        with torch.no_grad():
            model(*inputs)
    except Exception:  # noqa: BLE001 - a forward that cannot run still ran what it reached
        pass
    finally:
        for handle in handles:
            handle.remove()
    return ran


def audit(reference: nn.Module, inputs: tuple, model: nn.Module, source: str) -> list[ClassAudit]:
    """Each class of the generated file, its trust and what replaying the reference's recorded
    submodule calls on its instances showed."""
    from tests.zoo_verdicts import class_trust

    trust = class_trust(source)
    padding_listed = listed_defaults(source, "padding")
    found = {name: ClassAudit(name, level) for name, level in trust.items()}
    calls = recorded_calls(reference, inputs)
    theirs = dict(reference.named_modules())
    model.eval()
    for name in called_classes(model, inputs) & set(found):
        found[name].runs = True
    for path, module in model.named_modules():
        name = type(module).__name__
        if name not in found or not _generated(module):
            continue
        row = found[name]
        shown = path or "(top)"
        if path not in theirs:
            row.skipped.append(f"{shown}: no reference module at this path")
            continue
        if path not in calls:
            row.skipped.append(f"{shown}: the reference never calls it")
            continue
        for args, kwargs, output in calls[path]:
            with children_as_recorded(module, path, calls):
                outcome, detail = compare_call(module, args, kwargs, output)
            if outcome == "skip":
                row.skipped.append(f"{shown}: {detail}")
                continue
            row.compared += 1
            if outcome == "different":
                parent = absorbed_by_parent(model, path, calls) if path else None
                listed = padding_listed.get(name, frozenset())
                layers = layer_values(module, path, calls, theirs, listed)
                if parent is not None:
                    row.absorbed.append(f"{shown}: {detail} alone; {parent} is the same with it")
                elif layers and _same_with(
                    module, path, calls, layers, (args, kwargs, output), theirs
                ):
                    at = ", ".join(sorted(layers))
                    row.values.append(f"{shown}: {detail}; the same given {at} as recorded")
                else:
                    row.differing.append(f"{shown}: {detail}")
    return list(found.values())


def _same_with(
    module: nn.Module, path: str, calls: dict, layers: frozenset, call: tuple, theirs: dict
) -> bool:
    """Whether the class replays the recorded `call` right once `layers` stand in as recorded."""
    args, kwargs, output = call
    with children_as_recorded(module, path, calls, layers=layers, theirs=theirs):
        return compare_call(module, args, kwargs, output)[0] == "same"


def build_row(row: str) -> tuple[nn.Module, tuple]:
    """The reference of a row ('v:ZOO:NAME' or 'g:ZOO:NAME') and its inputs, as a tuple."""
    kind, key, name = row.split(":", 2)
    if kind == "v":
        reference, x = bench_vision_zoo._zoo(key).build(name)
        return reference, (x,)
    return bench_generative_zoo._zoo(key).build(name)


def rows(requested: list[str]) -> list[str]:
    """Command-line rows as 'v:ZOO:NAME' / 'g:ZOO:NAME', in the benches' own spelling."""
    found = []
    for item in requested or ["vision", "generative"]:
        if item == "vision":
            found += [f"v:{n}" for n in bench_vision_zoo.names([])]
        elif item == "generative":
            found += [f"g:{n}" for n in bench_generative_zoo.names()]
        elif item.startswith("g:"):
            found += [f"g:{n}" for n in bench_generative_zoo.expand([item[2:]])]
        else:
            listed = bench_vision_zoo.names([item.removeprefix("v:")])
            if not listed:
                raise SystemExit(f"audit_classes: no vision zoo row {item!r}")
            found += [f"v:{n}" for n in listed]
    return found


def audit_row(row: str) -> list[ClassAudit]:
    """Generate the row's file from its state dict alone and audit its classes."""
    from tests import generative_zoo_check

    reference, inputs = build_row(row)
    with tempfile.TemporaryDirectory() as tmp:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            model, source = generative_zoo_check.generate(reference, Path(tmp), "--quiet")
    return audit(reference, inputs, model, source)


def tally(classes: list[ClassAudit]) -> Counter:
    """How many classes fall in each (trust group, outcome) cell."""
    count: Counter = Counter()
    for c in classes:
        group = "trusted" if c.trust in TRUSTED else "flagged"
        count[(group, "silent" if c.silent else c.outcome)] += 1
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rows", nargs="*", help="vision | generative | ZOO[:NAME] | g:ZOO[:NAME]")
    parser.add_argument("--all-classes", action="store_true", help="a line for every class")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    total: Counter = Counter()
    silent_rows = []
    for row in rows(args.rows):
        start = time.perf_counter()
        try:
            classes = audit_row(row)
        except Exception as exc:  # noqa: BLE001 - a benchmark row, not a test
            print(f"{row:34} crash {type(exc).__name__}: {str(exc)[:100]}", flush=True)
            total[("row", "crash")] += 1
            continue
        count = tally(classes)
        total.update(count)
        cells = " ".join(f"{g}/{o}={n}" for (g, o), n in sorted(count.items()))
        print(f"{row:34} {time.perf_counter() - start:5.1f}s {cells}", flush=True)
        for c in classes:
            if c.silent or args.all_classes:
                mark = "SILENT" if c.silent else c.outcome
                ran = "" if c.runs else "; the model never runs its forward"
                print(f"    {c.name} ({c.trust}): {mark}, {c.compared} calls compared{ran}")
                for line in (c.differing or c.values or c.absorbed or c.skipped)[:4]:
                    print(f"        {line}")
        if any(c.silent for c in classes):
            silent_rows.append(row)
    trusted = sum(n for (g, _), n in total.items() if g == "trusted")
    compared = sum(
        n
        for (g, o), n in total.items()
        if g == "trusted" and o in ("same", "silent", "layer values")
    )
    print(
        f"trusted (exact/inferred) classes: {trusted}, compared {compared}, "
        f"silent {total[('trusted', 'silent')]}, differing through unrecorded layer values "
        f"{total[('trusted', 'layer values')]}; flagged classes: same "
        f"{total[('flagged', 'same')]}, different {total[('flagged', 'DIFFERENT')]}, "
        f"not comparable {total[('flagged', 'not comparable')]}; crashed rows "
        f"{total[('row', 'crash')]}"
    )
    if silent_rows:
        print("rows with a silent class: " + " ".join(silent_rows))
    return 1 if silent_rows else 0


if __name__ == "__main__":
    sys.exit(main())
