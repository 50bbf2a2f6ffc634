"""Hugging Face's `Conv1D` (GPT-2, OpenAI GPT, ImageGPT): a linear layer whose weight is stored
[in_features, out_features], the transpose of nn.Linear's, computing `x @ weight + bias`.

No torch.nn type holds that layout, so such a layer becomes a small generated class (its forward is
the `Conv1D` block pattern in blocks/conv1d.py). When the bias length differs from the weight's
first dimension the layout is plain from the shapes; a square weight needs evidence: config.json's
`model_type`; else the checkpoint's own convention: where every non-square layer named like these
shows the transposed layout (its bias is as long as the weight's second dimension), the square ones
stored under the same names are taken to share it (GPT-2's attn.c_proj beside its c_attn and c_fc;
GPT-BigCode's c_attn, a plain Linear, says the opposite); a hint (`module_type`) overrides either.
Without any of these it is nn.Linear, a choice calibration may settle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from codegen.patterns._kit import LayerContext, hinted, type_choice

if TYPE_CHECKING:
    from codegen.keytree import KeyNode

# Model types whose checkpoints hold Conv1D layers, and the names those layers have.
CONV1D_MODEL_TYPES = ("gpt2", "openai-gpt", "imagegpt", "decision_transformer")
CONV1D_NAMES = r"^(c_attn|c_proj|c_fc|q_attn)$"


def transposed_convention(root) -> str:
    """Why the checkpoint's square layers named like Conv1D's are stored transposed: its non-square
    ones so named all are ('' when none is, or some are not)."""
    shown: dict[str, bool] = {}  # layer name -> every non-square one so named is transposed
    for node in root.walk():
        w, b = node.tensors.get("weight"), node.tensors.get("bias")
        if (
            node.children
            or w is None
            or b is None
            or len(w.shape) != 2
            or not hinted(node, CONV1D_NAMES)
        ):
            continue
        if w.shape[0] != w.shape[1]:
            transposed = b.shape == (w.shape[1],)
            shown[node.name] = shown.get(node.name, True) and transposed
    if not shown or not all(shown.values()):
        return ""
    return (
        f"stored [in, out] like this checkpoint's {', '.join(sorted(shown))} (their biases show it)"
    )


def is_conv1d(node, ctx: LayerContext) -> bool:
    """A square weight with a bias, named like GPT-2's layers: is it stored transposed?"""
    if not hinted(node, CONV1D_NAMES):
        return False
    found = ctx.resolver.evidence("model_type")
    by_type = found is not None and found[1] in CONV1D_MODEL_TYPES
    by_convention = found is None and ctx.conv1d_convention
    default = "Conv1D" if by_type or by_convention else "nn.Linear"
    if by_type:
        note = f"{found[0]} {found[1]!r} stores these transposed"
    elif by_convention:
        note = ctx.conv1d_convention
    else:
        note = "a square weight named like GPT-2's Conv1D layers"
    choice = type_choice(
        ctx, node, default, ["Conv1D" if default != "Conv1D" else "nn.Linear"], note
    )
    if by_type and choice.source == "default":
        choice.source, choice.note = "metadata", f"{found[0]}"
    return choice.value == "Conv1D"
