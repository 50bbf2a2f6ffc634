"""`--loss mse|cross_entropy|l1` as (sum, count) pairs, so losses add up exactly across batches and ranks."""

from __future__ import annotations

from typing import Any

from codegen.errors import ModelgenError

LOSSES = ("mse", "cross_entropy", "l1")


def loss_sum(name: str, output: Any, target: Any) -> tuple[Any, int]:
    """The summed loss of a batch and how many terms it sums; the mean loss is sum / count."""
    import torch.nn.functional as F

    if name == "cross_entropy":
        logits, labels = _class_last(output, target)
        return F.cross_entropy(logits, labels, reduction="sum"), logits.shape[0]
    target = target.to(output.dtype)
    fn = F.mse_loss if name == "mse" else F.l1_loss
    return fn(output, target, reduction="sum"), output.numel()


def check_target(name: str, output: Any, target: Any, target_name: str) -> None:
    """One-line error when the model's output and the target cannot be compared under this loss.

    Shapes are shown per batch (`[*, 16, 64]`): the batch size of a probe means nothing to the user.
    """
    import torch

    if not isinstance(output, torch.Tensor):
        raise ModelgenError(
            f"the model's forward returns a {type(output).__name__}; fine-tuning needs one tensor"
        )
    got, want = _dims(output), _dims(target)
    if name == "cross_entropy":
        try:
            _class_last(output, target)
        except ValueError as e:
            raise ModelgenError(
                f"target {target_name} {want} does not fit model output {got} for cross_entropy: {e}"
            ) from None
    elif output.shape != target.shape:
        raise ModelgenError(
            f"target {target_name} {want} does not match the model output {got} ({name} needs equal shapes)"
        )


def _class_last(output: Any, target: Any) -> tuple[Any, Any]:
    """Rows of logits [M, C] and labels [M] (or probabilities [M, C]); classes on the last dim or on dim 1."""
    if target.is_floating_point():  # class probabilities, same shape as the logits
        if target.shape != output.shape:
            raise ValueError("probability targets need the output's shape")
        return output.reshape(-1, output.shape[-1]), target.reshape(-1, output.shape[-1]).to(
            output.dtype
        )
    if output.dim() < 2:
        raise ValueError("the output has no class dimension")
    if target.shape == output.shape[:-1]:
        return output.reshape(-1, output.shape[-1]), target.reshape(-1).long()
    if target.shape == output.shape[:1] + output.shape[2:]:
        return output.movedim(1, -1).reshape(-1, output.shape[1]), target.reshape(-1).long()
    raise ValueError("class-index targets need the output's shape without its class dimension")


def _dims(t: Any) -> str:
    return f"[{', '.join(['*', *map(str, t.shape[1:])])}]"
