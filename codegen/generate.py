"""`modelgen generate`: analyze, render, prove the file builds the checkpoint's keys, write it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from codegen.analyze.unproven import flag_unproven_calibration
from codegen.analyze.unrun import flag_unrun_forwards
from codegen.analyze import analyze, gap_warnings
from codegen.choices import OPEN_DOMAINS, load_hints
from codegen.errors import ModelgenError
from codegen.harness.example_size import fitting_examples
from codegen.harness.forward_run import ForwardRun, compile_source, run_once
from codegen.ir import ModelIR
from codegen.load import TensorTable
from codegen.naming import check_class_name
from codegen.merge import Merged, merge_file, record_bodies
from codegen.output import Output, is_generated, write_text
from codegen.render import render_source
from codegen.trailer import Pin, Trailer, split_trailer


@dataclass
class GenerateReport:
    output: str
    ir: ModelIR
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what a merge kept of the user's edits
    forward: ForwardRun | None = None  # the written model run once on its example inputs
    calibration: Any = None  # codegen.calibrate.Calibration, with --calibrate

    def trust_line(self) -> str:
        """Which classes' forward is exact, inferred, guessed or missing, in one line."""
        by_level: dict[str, list[str]] = {}
        for name, level in self.ir.trust_levels().items():
            by_level.setdefault(level, []).append(name)
        parts = [
            f"{level} {', '.join(by_level[level])}"
            for level in ("exact", "inferred", "guessed", "missing")
            if level in by_level
        ]
        return "forward trust: " + "; ".join(parts)

    def summary(self) -> str:
        classes = len(self.ir.classes)
        defaults = sorted(
            {c.name for c in self.ir.all_choices() if c.source == "default" and c.alternatives}
        )
        line = (
            f"wrote {self.output}: {classes} class{'es' if classes != 1 else ''}, "
            f"{self.ir.source.num_tensors} tensors"
        )
        if defaults:
            line += f"; choices left at defaults: {', '.join(defaults)}"
        return line


@dataclass
class CalibrationData:
    """What `--calibrate` reads: the checkpoint's tensors and DATA's inputs and recorded outputs."""

    path: str
    state: dict
    inputs: tuple
    target: object
    training_targets: bool = (
        False  # DATA's target is what the model trained towards, not its output
    )
    budget_s: float | None = None  # `--budget`: the search's seconds (None: calibrate's default)
    candidates: int | None = None  # `--candidates`: how many (alone: no time limit, reproducible)
    named_inputs: tuple[str, ...] = ()  # DATA's inputs by name: put in forward's order first

    def budget(self) -> dict:
        """calibrate's budget arguments: a count alone bounds the search by candidates only."""
        out: dict = {}
        if self.candidates is not None:
            out["max_evaluations"] = self.candidates
            out["budget_s"] = None
        if self.budget_s is not None:
            out["budget_s"] = self.budget_s
        return out

    def inputs_for(self, ir: ModelIR) -> tuple:
        """The inputs in the order the top class's forward takes them."""
        if not self.named_inputs:
            return self.inputs
        from codegen.harness.data import Dataset

        graph = ir.top.forward.graph
        params = None if graph is None else [n.target for n in graph.inputs]
        data = Dataset(self.inputs, self.target, self.named_inputs, None, self.path, named=True)
        return data.in_order(params).inputs


def calibration_data(
    ckpt: Any, data_path: str | None, inputs: str | None, target: str | None
) -> CalibrationData | None:
    """What `--calibrate DATA [--inputs] [--target]` asks for; None without --calibrate."""
    if not data_path:
        if inputs or target:
            raise ModelgenError("--inputs/--target go with --calibrate DATA")
        return None
    from codegen.harness.data import load_data

    data = load_data(data_path, inputs, target, need_target=True)
    return CalibrationData(
        data_path,
        ckpt.state_dict(),
        data.inputs,
        data.target,
        data.holds_training_targets,
        named_inputs=data.input_names if data.named else (),
    )


def generate_source(
    table: TensorTable,
    class_name: str = "RecoveredModel",
    hints_path: str | None = None,
    command: str = "",
    calibrate_on: CalibrationData | None = None,
    on_trial: Callable | None = None,
    kept: Trailer | None = None,
) -> tuple[str, ModelIR]:
    """`kept`: the trailer of the file this one replaces; without new DATA, the values its
    calibration picked are pinned again (a choice that no longer exists or fits is dropped)."""
    built = _generate(table, class_name, hints_path, command, calibrate_on, on_trial, kept)
    return built.source, built.ir


@dataclass
class _Built:
    source: str
    ir: ModelIR
    meta_model: Any  # the top class built from the source, proven to have the checkpoint's keys
    calibration: Any  # codegen.calibrate.Calibration or None
    forward: ForwardRun  # the model run once on its example inputs (meta_model, now on the CPU)


def _generate(
    table: TensorTable,
    class_name: str,
    hints_path: str | None,
    command: str,
    calibrate_on: CalibrationData | None,
    on_trial: Callable | None,
    kept: Trailer | None = None,
    on_progress: Callable | None = None,
) -> _Built:
    check_class_name(class_name)
    hints = load_hints(hints_path)
    picked, note, result = None, "", None
    if calibrate_on is None and kept is not None:
        picked = {(p, n): v for p, n, v, source in kept.pins if source == "calibrated"}
        note = kept.calibration if picked else ""
    if calibrate_on is not None:
        from codegen.calibrate import calibrate

        inputs = calibrate_on.inputs
        if calibrate_on.named_inputs:  # forward's parameter order, from the uncalibrated file
            inputs = calibrate_on.inputs_for(analyze(table, class_name=class_name, hints=hints))
        result = calibrate(
            table,
            calibrate_on.state,
            inputs,
            calibrate_on.target,
            class_name,
            hints,
            on_trial=on_trial,
            training_targets=calibrate_on.training_targets,
            on_progress=on_progress,
            **calibrate_on.budget(),
        )
        picked = result.picked
        note = result.docstring_note(Path(calibrate_on.path).name)
    ir = analyze(
        table,
        class_name=class_name,
        hints=hints,
        command=command,
        calibrated=picked,
        calibration_note=note,
    )
    if result is not None and result.reproduces:
        ir.source.verified = Path(calibrate_on.path).name  # type: ignore[union-attr]
    elif picked and kept is not None and table.recorded_by(kept.fingerprint):
        ir.source.verified = kept.verified  # the same weights with the same values: still proven
    flag_unproven_calibration(ir, picked)
    decided = decisions(ir)
    if calibrate_on is None and not any(source == "calibrated" for *_, source in decided):
        ir.source.calibration = ""  # kept pins that no longer apply: nothing calibrated is left
    source = _render(ir, decided)
    meta_model = check_builds(source, class_name, table)
    # Run once: a class whose parent's forward the analysis cannot follow (missing, a loop) and
    # that the run never called is checked by nothing (analyze/unrun.py); it says so.
    forward = run_once(meta_model, source)
    if forward.status == "failed":  # perhaps only the example's image size: try the usual ones
        source, meta_model, forward = _resized_examples(ir, decided, source, meta_model, forward)
    if flag_unrun_forwards(ir.classes, forward.ran):
        source = _render(ir, decided)  # docstrings only: the built model is the same
        if forward.status == "failed":  # where it failed, by the new file's line numbers
            forward = run_once(_build_on_meta(source, class_name), source)
    return _Built(source, ir, meta_model, result, forward)


def _resized_examples(
    ir: ModelIR, decided: tuple[Pin, ...], source: str, meta_model: Any, forward: ForwardRun
) -> tuple[str, Any, ForwardRun]:
    """The file with example_inputs() at an image size its forward runs on, where the one
    analysis wrote does not run and another does (harness/example_size.py); else as it was."""
    top = next(c for c in ir.classes if c.is_top)
    examples = top.forward.examples
    # (meta_model holds random values on the CPU now: shapes are tried on a fresh meta build)
    resized = fitting_examples(_build_on_meta(source, top.name), examples) if examples else None
    if resized is None:
        return source, meta_model, forward
    top.forward.examples = resized
    text = _render(ir, decided)
    model = _build_on_meta(text, top.name)
    run = run_once(model, text)
    if run.status != "ok":  # the shapes ran, the values did not: keep what analysis wrote
        top.forward.examples = examples
        return source, meta_model, forward
    return text, model, run


def _render(ir: ModelIR, decided: tuple[Pin, ...]) -> str:
    """The file's text with its trailer: modelgen's mark, the hashes a later merge tells the
    user's edits by, and the decisions a later regeneration keeps."""
    return record_bodies(
        render_source(ir),
        ir.source.fingerprint,
        decided,
        ir.source.calibration,
        ir.source.verified if ir.source.calibration else "",
    )


def decisions(ir: ModelIR) -> tuple[Pin, ...]:
    """Every choice something settled (calibration, a hint, metadata), once, in a stable order.
    A type a recognised pattern settles is read again from the checkpoint each time: not pinned."""
    found: dict[tuple[str, str], Pin] = {}
    for c in ir.all_choices():
        if c.source not in ("default", "pattern", "structure") and (c.path, c.name) not in found:
            found[(c.path, c.name)] = (c.path, c.name, c.value, c.source)
    return tuple(found[k] for k in sorted(found))


@dataclass
class ChoiceRow:
    """One line of `generate --list-choices`: what a hint can pin, spelled as hints spell it."""

    path: str
    name: str
    value: Any
    source: str
    allowed: list[Any]
    also_accepts: str


def list_choices(
    table: TensorTable, class_name: str = "RecoveredModel", hints_path: str | None = None
) -> list[ChoiceRow]:
    """Every choice the analysis makes, once per (path, name), in a stable order."""
    check_class_name(class_name)
    ir = analyze(table, class_name=class_name, hints=load_hints(hints_path))
    rows: dict[tuple[str, str], ChoiceRow] = {}
    for c in ir.all_choices():
        if (c.path, c.name) not in rows and (c.alternatives or c.also_accepts):
            rows[(c.path, c.name)] = ChoiceRow(
                c.path,
                c.name,
                c.value,
                c.source,
                [c.value, *c.alternatives],
                OPEN_DOMAINS[c.also_accepts][1] if c.also_accepts else "",
            )
    return sorted(rows.values(), key=lambda r: (r.path, r.name))


def generate_file(
    table: TensorTable,
    output: Output,
    class_name: str = "RecoveredModel",
    hints_path: str | None = None,
    command: str = "",
    calibrate_on: CalibrationData | None = None,
    on_trial: Callable | None = None,
    recalibrate: bool = False,
    on_progress: Callable | None = None,
) -> GenerateReport:
    """`recalibrate`: forget the values an earlier calibration recorded in the file (DATA given
    again searches anew either way)."""
    kept = None
    if not recalibrate and calibrate_on is None and is_generated(output.path):
        kept = kept_trailer(output.path)
    built = _generate(
        table, class_name, hints_path, command, calibrate_on, on_trial, kept, on_progress
    )
    source, ir = built.source, built.ir
    forward = built.forward
    report = GenerateReport(str(output.path), ir, list(ir.warnings), calibration=built.calibration)
    pinned = sorted({f"{c.path} {c.name}" for c in ir.all_choices() if c.source == "calibrated"})
    if kept is not None and pinned:
        report.notes.append(
            f"kept the calibrated values the file records ({', '.join(pinned)}); "
            "--recalibrate forgets them, --calibrate DATA searches again"
        )
    if not output.force and is_generated(output.path):
        merged = merge_existing(output.path, source, class_name, table)
        if merged.text != source:
            forward = run_once(_build_on_meta(merged.text, class_name), merged.text)
        source = merged.text
        report.notes += merged.notes
        # A forward the user wrote where modelgen could not infer one is theirs, not a gap.
        gaps = gap_warnings(ir.classes)
        report.warnings = [w for w in report.warnings if w not in gaps]
        report.warnings = gap_warnings(ir.classes, frozenset(merged.yours)) + report.warnings
        report.warnings += merged.warnings
    write_text(output, source)
    report.forward = forward
    return report


def kept_trailer(path: Path) -> Trailer | None:
    """The trailer of a file modelgen wrote, for the decisions it records; None if unreadable."""
    try:
        return split_trailer(path.read_text(encoding="utf-8"))[1]
    except (OSError, UnicodeDecodeError):
        return None


def merge_existing(path: Path, source: str, class_name: str, table: TensorTable) -> Merged:
    """What generate writes into PATH, a file it generated before: `source` with the user's edits kept
    (codegen/merge.py), proven to build the checkpoint's keys like a fresh file."""
    return merge_file(path, source, lambda text: build_mismatch(text, class_name, table))


def check_builds(source: str, class_name: str, table: TensorTable) -> Any:
    """A mismatch between a freshly generated file and its checkpoint is a generator bug, caught here
    instead of in the user's load. Returns the model built on the meta device."""
    model = _build_on_meta(source, class_name)
    mismatch = _mismatch(model, table)
    if mismatch:
        raise ModelgenError(
            f"internal error: the generated model does not match the checkpoint ({mismatch}); "
            "please report it"
        )
    return model


def build_mismatch(source: str, class_name: str, table: TensorTable) -> str:
    """Build the class on the meta device and compare its state dict with the checkpoint's keys and
    shapes: '' when equal, else what is missing, unexpected or of the wrong shape."""
    return _mismatch(_build_on_meta(source, class_name), table)


def _build_on_meta(source: str, class_name: str) -> Any:
    import torch

    _, cls = compile_source(source, class_name)
    with torch.device("meta"):
        return cls()


def _mismatch(model: Any, table: TensorTable) -> str:
    expected = {k: t.shape for k, t in table.tensors.items()}
    # A batch norm's step counter that the checkpoint lacks (frozen batch norms save none; older
    # torch saved none) is filled in at load time, as each layer's match already allows.
    built = {
        k: tuple(v.shape)
        for k, v in model.state_dict().items()
        if k in expected or k.rsplit(".", 1)[-1] != "num_batches_tracked"
    }
    if built != expected:
        missing = sorted(set(expected) - set(built))[:3]
        extra = sorted(set(built) - set(expected))[:3]
        wrong = sorted(k for k in set(built) & set(expected) if built[k] != expected[k])[:3]
        return f"missing {missing}, unexpected {extra}, wrong shape {wrong}"
    return ""
