"""Build the MODEL class and strict-load a checkpoint's state into it, with a grouped report on failure."""

from __future__ import annotations

from typing import Any, Mapping

from codegen.errors import first_line
from codegen.errors import CheckFailed, ModelgenError
from codegen.harness.mismatch import MismatchReport, compare, specs_of
from codegen.harness.model_ref import load_model_class


class LoadFailed(CheckFailed):
    """The model does not strict-load the checkpoint; `.report` says which keys differ, per module."""

    def __init__(self, message: str, report: MismatchReport | None = None) -> None:
        super().__init__(message)
        self.report = report


def build_model(spec: str, init_args: Mapping[str, Any] | None = None) -> Any:
    """`MODEL(**init_args)`; generated files default every hyperparameter, so they need none."""
    cls = load_model_class(spec)
    kwargs = dict(init_args or {})
    call = f"{cls.__name__}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"
    try:
        return cls(**kwargs)
    except TypeError as e:
        hint = (
            "; pass them with --init-args '{\"name\": value}' or --init-arg name=value"
            if not kwargs
            else ""
        )
        raise ModelgenError(f"{spec}: {call} cannot be built ({first_line(e)}){hint}") from None
    except Exception as e:
        raise CheckFailed(
            f"{spec}: building {call} failed: {type(e).__name__}: {first_line(e)}"
        ) from None


def strict_load(model: Any, state: Mapping[str, Any], what: str) -> MismatchReport:
    """Load `state` with strict=True; raise LoadFailed (exit 1) with the grouped report when it does not fit.

    Returns the report, which may still list dtype differences (values are converted) and notes.
    """
    report = compare(specs_of(model.state_dict()), specs_of(state))
    if not report.ok:
        raise LoadFailed(
            f"{what}: the model does not strict-load the checkpoint: {report.summary()}", report
        )
    try:
        model.load_state_dict(state, strict=True)
    except Exception as e:  # a custom _load_from_state_dict can still refuse
        raise LoadFailed(
            f"{what}: load_state_dict(strict=True) failed: {first_line(e)}", report
        ) from None
    return report
