"""Run a freshly generated model once on its own example inputs: does forward run, and what comes out?

`generate` calls this on the model it has just built on the meta device (to prove the keys): it gets
real CPU tensors filled with random values (the checkpoint's bytes are never read) and runs on one
thread. Models too large or too deep for that to be quick are not run, and the summary says so and
points at `verify`: measured on the benchmarks, a meta-device forward costs over 2 s of one-time
set-up and ~2 ms an op, and giving 10,000 tensors CPU storage ~1 s, either of which would double
generate's time. A failure is named by the generated class, method and source line where it
happened, from the traceback's frames inside the generated file.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Any

from codegen.errors import first_line

SOURCE_NAME = "<modelgen generated model>"  # the file name generated code is compiled under
GENERATED_MODULE = "modelgen_check"  # the __name__ it runs under: its classes' __module__
CPU_MAX_PARAMETERS = 50_000_000  # 200 MB of float32: above this, generate does not run the model
CPU_MAX_TENSORS = 1_000  # giving each tensor storage costs ~0.1 ms: above this, not run either


@dataclass
class ForwardRun:
    status: str  # ok | failed | skipped
    inputs: str = ""  # where the inputs came from: example_inputs(), or the first layer
    output: str = ""  # the output's shape(s), e.g. [2, 10]
    error: str = ""  # where and why it failed, or why it was skipped
    # the generated classes whose forward the run called (on any input tried); None: not run
    ran: frozenset[str] | None = None

    def summary(self) -> str:
        where = self.inputs if self.inputs.endswith("()") else f"inputs {self.inputs}"
        if self.status == "ok":
            return f"forward runs on {where} -> {self.output}"
        if self.status == "skipped":
            return f"forward not run: {self.error}"
        return f"forward fails on {where}: {self.error}"


def compile_source(source: str, class_name: str) -> tuple[dict[str, Any], type]:
    """Execute the generated source under SOURCE_NAME; its namespace and the top class."""
    namespace: dict[str, Any] = {"__name__": GENERATED_MODULE}
    exec(compile(source, SOURCE_NAME, "exec"), namespace)
    return namespace, namespace[class_name]


def run_once(meta_model: Any, source: str) -> ForwardRun:
    """Run `meta_model` (built on the meta device from `source`) once on its example inputs, or on
    inputs read from its first layer (verify's smoke inputs) where the file declares none."""
    import torch

    from codegen.harness.inputs import smoke_inputs

    params = list(meta_model.parameters())
    count, tensors = sum(p.numel() for p in params), len(params)
    if count > CPU_MAX_PARAMETERS or tensors > CPU_MAX_TENSORS:
        return ForwardRun(
            "skipped",
            error=f"{count:,} parameters in {tensors:,} tensors are more than generate runs "
            f"({CPU_MAX_PARAMETERS:,} / {CPU_MAX_TENSORS:,}); modelgen verify runs it",
        )
    model = _random_cpu_copy(meta_model).eval()
    smoke = smoke_inputs(model)
    if not smoke:
        return ForwardRun("skipped", error=smoke.source)
    errors = []
    ran: set[str] = set()
    hooks = [
        m.register_forward_pre_hook(lambda module, args: ran.add(type(module).__name__))
        for m in model.modules()
        if type(m).__module__ == GENERATED_MODULE
    ]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny inputs: extra threads only wait on each other
    try:
        for inputs in smoke.candidates:
            try:
                with torch.no_grad():
                    out = model(*inputs)
            except (
                Exception
            ) as e:  # the generated forward's own failure, reported where it happened
                errors.append(where_failed(e, SOURCE_NAME, source))
                continue
            return ForwardRun("ok", smoke.source, output=_shapes(out), ran=frozenset(ran))
    finally:
        torch.set_num_threads(threads)
        for hook in hooks:
            hook.remove()
    return ForwardRun("failed", smoke.source, error=errors[0], ran=frozenset(ran))


def _random_cpu_copy(meta_model: Any) -> Any:
    """The meta model with CPU storage and random values: cheaper than building it again."""
    import torch

    model = meta_model.to_empty(device="cpu")
    with torch.no_grad():
        for t in list(model.parameters()) + list(model.buffers()):
            if t.is_floating_point():
                t.uniform_(0.5, 1.0) if t.dim() == 1 else t.normal_(0.0, 0.02)
            else:
                t.zero_()
    return model


def where_failed(error: BaseException, filename: str, source: str | None = None) -> str:
    """`Class.method, line N `code`: Type: message` from the innermost frame of the traceback in
    `filename` (the generated file; its text is `source`, else read from disk), else `Type: message`.
    """
    import linecache

    frame, line = None, 0
    for f, lineno in traceback.walk_tb(error.__traceback__):
        if f.f_code.co_filename == filename:
            frame, line = f, lineno
    what = f"{type(error).__name__}: {first_line(error)}"
    if frame is None:
        return what
    owner = frame.f_locals.get("self")
    method = frame.f_code.co_name
    name = f"{type(owner).__name__}.{method}" if owner is not None else method
    if source is not None:
        lines = source.splitlines()
        code = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    else:
        code = linecache.getline(filename, line).strip()
    return f"{name}, line {line} `{code}`: {what}"


def _shapes(value: Any) -> str:
    import torch

    if isinstance(value, torch.Tensor):
        return f"[{', '.join(map(str, value.shape))}]"
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(_shapes(v) for v in value) + ")"
    return type(value).__name__
