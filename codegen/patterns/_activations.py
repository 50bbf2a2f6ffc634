"""The one activation vocabulary: what a choice named `activation` may hold, and how each applies.

Block patterns add the function to a forward graph (`apply`); numbered slots without tensors offer
the module forms (`MODULES`). Names follow torch.nn.functional; `identity` applies nothing.
"""

from __future__ import annotations

from codegen.ir.graph import Graph, Value

# name -> the printer's function-table entry (None: nothing to apply)
FUNCTIONS: dict[str, str | None] = {
    "relu": "relu",
    "gelu": "gelu",
    "silu": "silu",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "hardswish": "hardswish",
    "hardsigmoid": "hardsigmoid",
    "identity": None,
}
# The module form of each, for numbered slots of a Sequential that hold no tensors.
MODULES: dict[str, str] = {
    "relu": "nn.ReLU()",
    "gelu": "nn.GELU()",
    "tanh": "nn.Tanh()",
    "silu": "nn.SiLU()",
    "sigmoid": "nn.Sigmoid()",
    "identity": "nn.Identity()",
}
GATES = ["sigmoid", "hardsigmoid"]  # squashing functions that gate a signal into [0, 1]

# Metadata spellings of the activation choice (Hugging Face configs, trainers).
SYNONYMS = {"activation": ("activation", "hidden_act", "activation_function", "act", "act_fn")}


# What a hidden activation usually is, in the order calibration tries them.
COMMON = ["relu", "gelu", "silu", "tanh", "identity"]


def alternatives(default: str, *, gates: bool = False) -> list[str]:
    return [n for n in (GATES if gates else COMMON) if n != default]


def apply(g: Graph, activation: str, value: Value, **options) -> Value:
    """`value` through `activation`; unchanged for identity."""
    fn = FUNCTIONS.get(activation)
    if fn is None:
        return value
    return g.call_function(fn, value, **options)
