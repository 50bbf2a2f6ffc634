"""`--remap FILE`: renaming checkpoint keys before loading. The format is not designed yet; this is the
one place that will read it, so verify and finetune stay unchanged when it lands."""

from __future__ import annotations

from typing import Any, Mapping

from codegen.errors import ModelgenError


def apply_remap(path: str | None, state: Mapping[str, Any]) -> Mapping[str, Any]:
    if path is None:
        return state
    raise ModelgenError("--remap is not supported yet")
