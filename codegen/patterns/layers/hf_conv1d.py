"""Hugging Face's `Conv1D` (GPT-2, OpenAI GPT, ImageGPT): a linear layer whose weight is stored
[in_features, out_features], the transpose of nn.Linear's, computing `x @ weight + bias`.

No torch.nn type holds that layout, so such a layer becomes a small generated class (its forward is
the `Conv1D` block pattern in blocks/conv1d.py). When the bias length differs from the weight's
first dimension the layout is plain from the shapes; a square weight needs evidence: config.json's
`model_type`, or a hint (`module_type = "Conv1D"`), else it is nn.Linear, marked as a guess.
"""

from __future__ import annotations

from codegen.patterns._kit import LayerContext, hinted, type_choice

# Model types whose checkpoints hold Conv1D layers, and the names those layers have.
CONV1D_MODEL_TYPES = ("gpt2", "openai-gpt", "imagegpt", "decision_transformer")
CONV1D_NAMES = r"^(c_attn|c_proj|c_fc|q_attn)$"


def is_conv1d(node, ctx: LayerContext) -> bool:
    """A square weight with a bias, named like GPT-2's layers: is it stored transposed?"""
    if not hinted(node, CONV1D_NAMES):
        return False
    found = ctx.resolver.evidence("model_type")
    default = "Conv1D" if found and found[1] in CONV1D_MODEL_TYPES else "nn.Linear"
    note = (
        f"{found[0]} {found[1]!r} stores these transposed"
        if default == "Conv1D"
        else "a square weight named like GPT-2's Conv1D layers"
    )
    choice = type_choice(
        ctx, node, default, ["Conv1D" if default != "Conv1D" else "nn.Linear"], note
    )
    if default == "Conv1D" and choice.source == "default":
        choice.source, choice.note = "metadata", f"{found[0]}"
    return choice.value == "Conv1D"
