"""`modelgen finetune`: tune the selected parameters on DATA with everything else frozen.

prepare() builds the model, loads the checkpoint strictly, checks the data fits, freezes, finds a
cacheable head and picks the method; train() measures the baseline, trains (least squares or Adam) and
measures the result; check() proves the frozen tensors bit-identical and the loss improved. prepare and
train run in every process of a distributed run; check, export and reporting only in the parent.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import torch

from codegen.errors import CheckFailed, ModelgenError
from codegen.harness.adam import AdamSettings, Rows, train_adam
from codegen.harness.data import Dataset, load_data
from codegen.harness.device import resolve_device, to_device
from codegen.harness.distributed import Comm
from codegen.harness.fit import arrange_inputs, check_fits
from codegen.harness.freeze import (
    Selection,
    changed_frozen,
    freeze,
    set_train_modes,
    split_patterns,
    tuned_keys,
)
from codegen.harness.head import Head, InputCapture, find_head, probe
from codegen.harness.loading import build_model, strict_load
from codegen.harness.losses import loss_sum
from codegen.harness.lstsq import NormalEquations
from codegen.harness.mismatch import MismatchReport
from codegen.harness.progress import Progress

METHODS = ("auto", "lstsq", "adam")
EVAL_BATCH = 256  # samples per forward when only measuring


@dataclass
class Job:
    """Everything a process needs to rebuild the run (picklable: spawned workers receive it)."""

    checkpoint: str
    model: str
    data: str
    train: str
    inputs: str | None = None
    target: str | None = None
    remap: str | None = None
    key: str | None = None
    strip: bool = True
    strip_prefixes: tuple[str, ...] = ()
    loss: str = "mse"
    method: str = "auto"
    epochs: int = 20
    lr: float = 1e-3
    batch_size: int = 32
    val_fraction: float = 0.1
    patience: int = 5
    seed: int = 0
    device: str = "auto"
    init_args: dict[str, Any] = field(default_factory=dict)  # MODEL's constructor arguments


@dataclass
class Prepared:
    job: Job
    model: torch.nn.Module
    state: dict[str, torch.Tensor]  # the checkpoint as read: never modified
    load_report: MismatchReport
    data: Dataset
    selection: Selection
    device: torch.device
    head: Head | None
    head_reason: str  # why there is no cacheable head
    method: str
    method_reason: str
    train_index: torch.Tensor
    val_index: torch.Tensor


@dataclass
class TrainResult:
    method: str
    baseline: float  # mean loss over all samples, before and after
    final: float
    baseline_val: float | None  # on the held-out split, when there is one
    final_val: float | None
    cached_features: bool  # the frozen trunk ran once per sample, not once per step
    ridge: float | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    train_seconds: float = 0.0

    @property
    def decisive(self) -> tuple[str, float, float]:
        """The loss that decides whether training helped: held-out when there is a split."""
        if self.final_val is not None and self.baseline_val is not None:
            return "validation", self.baseline_val, self.final_val
        return "training", self.baseline, self.final


# A loss this small relative to the targets' scale (float round-off) means there is nothing to learn.
ALREADY_FITS = 1e-9


def prepare(job: Job, rank: int = 0) -> Prepared:
    from codegen.remap import open_remapped

    _check_settings(job)
    device = resolve_device(job.device)
    if device.type == "cuda":
        device = torch.device("cuda", rank)
        torch.cuda.set_device(device)
    state = open_remapped(
        job.checkpoint,
        job.remap,
        key=job.key,
        strip=job.strip,
        strip_prefixes=tuple(job.strip_prefixes),
    ).state_dict()
    model = build_model(job.model, job.init_args)
    report = strict_load(model, state, job.model)
    model.to(device)
    data = arrange_inputs(model, load_data(job.data, job.inputs, job.target, need_target=True))
    check_fits(model, data, job.loss, device)
    selection = freeze(model, split_patterns(job.train))
    _check_output_depends_on(model, job.train, data.take(slice(0, 2)), device)
    head, head_reason = find_head(model, selection.names)
    if head is not None:
        model.eval()
        head_reason = probe(model, head, to_device(data.take(slice(0, 2)).inputs, device))
        head = None if head_reason else head
    method, method_reason = choose_method(job.method, job.loss, selection, head, head_reason)
    train_index, val_index = _split(len(data), job.val_fraction, job.seed)
    return Prepared(
        job,
        model,
        state,
        report,
        data,
        selection,
        device,
        head,
        head_reason,
        method,
        method_reason,
        train_index,
        val_index,
    )


def choose_method(
    requested: str, loss: str, selection: Selection, head: Head | None, head_reason: str
) -> tuple[str, str]:
    """lstsq when the trainable set is exactly a final Linear under MSE; else Adam. Returns (method, why)."""
    if requested not in METHODS:
        raise ModelgenError(f"--method {requested}: choose one of {', '.join(METHODS)}")
    if loss != "mse":
        why_not = f"least squares needs --loss mse, not {loss}"
    elif head is None:
        why_not = "the trainable set is not a final layer whose inputs can be cached"
    elif not isinstance(head.module, torch.nn.Linear):
        why_not = (
            f"the trainable head {head.name} is a {type(head.module).__name__}, not one Linear"
        )
    elif {id(p) for p in head.module.parameters()} != {id(p) for p in selection.params}:
        why_not = (
            f"only part of {head.name} trains; least squares solves its weight and bias together"
        )
    else:
        why_not = ""
    if requested == "lstsq" and why_not:
        raise ModelgenError(f"--method lstsq: {why_not}")
    if requested == "adam" or why_not:
        return "adam", why_not or "requested"
    return "lstsq", f"{head.name} is a final Linear under MSE: closed-form solution"  # type: ignore[union-attr]


def _check_settings(job: Job) -> None:
    from codegen.harness.losses import LOSSES

    if job.loss not in LOSSES:
        raise ModelgenError(f"--loss {job.loss}: choose one of {', '.join(LOSSES)}")
    for flag, value in (
        ("--epochs", job.epochs),
        ("--batch-size", job.batch_size),
        ("--patience", job.patience),
    ):
        if value < 1:
            raise ModelgenError(f"{flag} {value}: must be at least 1")
    if not job.lr > 0:
        raise ModelgenError(f"--lr {job.lr}: must be positive")
    if not 0.0 <= job.val_fraction < 1.0:
        raise ModelgenError(f"--val-fraction {job.val_fraction}: must be in [0, 1)")


def _check_output_depends_on(model: Any, train: str, sample: Dataset, device: Any) -> None:
    """One line, before any training, when the trained parameters cannot change the output
    (a pooler beside a model that returns its hidden states): every step would be a no-op."""
    model.eval()
    with torch.enable_grad():
        output = model(*to_device(sample.inputs, device))
    outputs = output if isinstance(output, (tuple, list)) else (output,)
    if not any(isinstance(o, torch.Tensor) and o.requires_grad for o in outputs):
        raise ModelgenError(
            f"the model's output does not depend on --train {train}: fine-tuning it cannot change "
            "what the model computes; train layers the output passes through"
        )


def _split(n: int, val_fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_val = int(n * val_fraction)
    return order[n_val:], order[:n_val]


# ---------------------------------------------------------------------------------------- train


def train(p: Prepared, comm: Comm, progress: Progress) -> TrainResult:
    """Baseline, training and final loss; every loss is summed over all ranks' shares of the samples."""
    started = time.perf_counter()
    train_rows, val_rows = (
        p.train_index[comm.rank :: comm.world],
        p.val_index[comm.rank :: comm.world],
    )
    if not len(train_rows):
        raise ModelgenError(
            f"process {comm.rank} of {comm.world} has no training samples: use fewer processes"
        )
    p.model.eval()
    if p.method == "lstsq":
        equations = NormalEquations(p.head.module, p.device)  # type: ignore[union-attr, arg-type]
        base_train = _measure(
            p,
            train_rows,
            comm,
            capture=p.head,
            sink=lambda args, target: equations.add(args[0], target),
        )
        base_val = _measure(p, val_rows, comm)
        comm.all_reduce(equations.gram)
        comm.all_reduce(equations.cross)
        ridge = equations.solve_into_linear()
        history: list[dict[str, Any]] = []
    else:
        ridge = None
        base_train, base_val, history = _train_adam(p, train_rows, val_rows, comm, progress)
    p.model.eval()
    final_train, final_val = _measure(p, train_rows, comm), _measure(p, val_rows, comm)
    baseline, final = _combine(base_train, base_val), _combine(final_train, final_val)
    history = (
        [{"epoch": 0, "train": _mean(base_train), "val": _mean(base_val)}]
        + history
        + ([] if history else [{"epoch": 1, "train": _mean(final_train), "val": _mean(final_val)}])
    )
    return TrainResult(
        p.method,
        baseline,
        final,
        _mean(base_val),
        _mean(final_val),
        cached_features=p.head is not None,
        ridge=ridge,
        history=history,
        train_seconds=time.perf_counter() - started,
    )


def _train_adam(
    p: Prepared, train_rows: torch.Tensor, val_rows: torch.Tensor, comm: Comm, progress: Progress
) -> tuple[torch.Tensor, torch.Tensor, list[dict[str, Any]]]:
    settings = AdamSettings(
        p.job.loss, p.job.epochs, p.job.lr, p.job.batch_size, p.job.patience, p.job.seed
    )
    data = p.data
    if p.head is not None:  # frozen trunk: run it once, then train the head on its cached outputs
        cache_train, cache_val = _FeatureCache(), _FeatureCache()
        base_train = _measure(p, train_rows, comm, capture=p.head, sink=cache_train.add)
        base_val = _measure(p, val_rows, comm, capture=p.head, sink=cache_val.add)
        module = p.head.module
        rows, val_cached = cache_train.rows(p.device), cache_val.rows(p.device)

        def validate() -> float | None:
            return _mean(_measure_rows(module, val_cached, p.job.loss, comm, p.device))

    else:
        base_train, base_val = _measure(p, train_rows, comm), _measure(p, val_rows, comm)
        module = p.model
        rows = Rows(data.inputs, data.target, train_rows, p.device)

        def validate() -> float | None:
            return _mean(_measure(p, val_rows, comm))

    start_metric = _mean(base_val)
    start_metric = _mean(base_train) if start_metric is None else start_metric
    set_train_modes(p.model, p.selection)
    modes = _modes_of(p.model)

    def validate_in_eval() -> float | None:
        p.model.eval()
        try:
            return validate()
        finally:
            _restore_modes(p.model, modes)

    history = train_adam(
        module, p.selection.params, rows, settings, comm, validate_in_eval, start_metric, progress
    )
    return base_train, base_val, history


class _FeatureCache:
    """Head inputs and targets of this rank's samples, in row order, kept on the training device."""

    def __init__(self) -> None:
        self.args: list[tuple[torch.Tensor, ...]] = []
        self.targets: list[torch.Tensor] = []

    def add(self, args: tuple[torch.Tensor, ...], target: torch.Tensor) -> None:
        self.args.append(tuple(a.detach() for a in args))
        self.targets.append(target.detach())

    def rows(self, device: torch.device) -> Rows | None:
        if not self.targets:
            return None
        inputs = tuple(torch.cat(parts) for parts in zip(*self.args))
        return Rows(inputs, torch.cat(self.targets), None, device)


def _measure(
    p: Prepared,
    index: torch.Tensor,
    comm: Comm,
    capture: Head | None = None,
    sink: Callable[[tuple[torch.Tensor, ...], torch.Tensor], None] | None = None,
) -> torch.Tensor:
    """[loss sum, term count] of the model over the samples at `index`, summed over ranks.

    With `capture`, each batch's head inputs go to `sink(args, target)` from the same forward."""
    totals = torch.zeros(2, dtype=torch.float64, device=p.device)
    capturing = InputCapture(capture.entry) if capture is not None else None
    try:
        with torch.no_grad():
            for start in range(0, len(index), EVAL_BATCH):
                batch = p.data.take(index[start : start + EVAL_BATCH])
                target = batch.target.to(p.device)
                output = p.model(*to_device(batch.inputs, p.device))
                totals += _pair(*loss_sum(p.job.loss, output, target))
                if sink is not None:
                    sink(capturing.args, target)  # type: ignore[union-attr]
    finally:
        if capturing is not None:
            capturing.close()
    return comm.all_reduce(totals)


def _measure_rows(
    module: torch.nn.Module, rows: Rows | None, loss: str, comm: Comm, device: Any
) -> torch.Tensor:
    """Like _measure, over cached rows through the head only."""
    totals = torch.zeros(2, dtype=torch.float64, device=device)
    if rows is not None:
        with torch.no_grad():
            for start in range(0, len(rows), EVAL_BATCH):
                inputs, target = rows.get(torch.arange(start, min(start + EVAL_BATCH, len(rows))))
                totals += _pair(*loss_sum(loss, module(*inputs), target))
    return comm.all_reduce(totals)


def _pair(summed: torch.Tensor, count: int) -> torch.Tensor:
    return torch.stack([summed.double(), summed.new_tensor(float(count), dtype=torch.float64)])


def _mean(totals: torch.Tensor) -> float | None:
    return None if totals[1] == 0 else float(totals[0] / totals[1])


def _combine(a: torch.Tensor, b: torch.Tensor) -> float:
    return _mean(a + b)  # type: ignore[return-value]


def _modes_of(model: torch.nn.Module) -> list[bool]:
    return [m.training for m in model.modules()]


def _restore_modes(model: torch.nn.Module, modes: list[bool]) -> None:
    for m, training in zip(model.modules(), modes):
        m.training = training


# ---------------------------------------------------------------------------------------- check


def _target_scale(p: Prepared) -> float:
    """What a loss of the same size as the targets would be: mean square (mse), mean magnitude (l1),
    1 for cross entropy (its loss has no target scale)."""
    target = p.data.target.double()
    if p.job.loss == "mse":
        return float(target.square().mean()) or 1.0
    if p.job.loss == "l1":
        return float(target.abs().mean()) or 1.0
    return 1.0


def check(p: Prepared, result: TrainResult) -> None:
    """Frozen tensors bit-identical to the checkpoint, and the deciding loss below its baseline."""
    allowed = tuned_keys(p.model, p.selection)
    moved = changed_frozen(p.model.state_dict(), p.state, allowed)
    if moved:
        shown = ", ".join(moved[:5]) + (f" and {len(moved) - 5} more" if len(moved) > 5 else "")
        raise CheckFailed(f"frozen tensors changed during training: {shown}")
    split, before, after = result.decisive
    scale = _target_scale(p)
    if before <= ALREADY_FITS * scale:
        raise CheckFailed(
            f"the {split} loss is already {before:.3g} before tuning (targets' scale {scale:.3g}): "
            "the model reproduces DATA's targets (are they its own outputs?); nothing to tune"
        )
    if not after < before:
        hint = (
            "least squares is optimal on the training split, so the head overfits: add data or "
            "train a different layer"
            if result.method == "lstsq"
            else "try another --lr, more --epochs, or training other layers"
        )
        raise CheckFailed(
            f"the {split} loss did not improve ({before:.6g} before, {after:.6g} after): {hint}"
        )
