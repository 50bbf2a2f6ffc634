"""What a model's other norms show about a lone-weight norm (a 1-D `weight`, no bias): an RMSNorm
or a bias-free LayerNorm, which its keys cannot tell apart.

Where config.json names neither eps (`rms_norm_eps` / `layer_norm_eps`) and the model holds
LayerNorms with a bias, its lone-weight norms are read as LayerNorms without one (ESM C's q/k and
final norms beside its layers' biased LayerNorms): a family mixes norm kinds far more rarely
than it drops a bias. A model with no biased LayerNorm keeps the RMSNorm default.
"""

from __future__ import annotations

from codegen.patterns._kit import BlockContext, biased, family, modules


def _biased_layer_norm(m) -> bool:
    if m.type_name != "nn.LayerNorm":
        return False
    return biased(m)


def lone_weight_norm_pins(ctx: BlockContext, top) -> list[tuple[str, str, str, str]]:
    """Pins of the lone-weight norms' `module_type` (left at its RMSNorm default, nothing cited)
    to nn.LayerNorm, where other norms of the model are LayerNorms with a bias; else, where some
    lone-weight norms are RMSNorms by default and others LayerNorms only because of their names
    (LFM2's q_layernorm beside its operator_norm), those to nn.RMSNorm: one kind in one model."""
    norms = [m for cls in (top, *ctx.classes.values()) for m in modules(cls) if family(m) == "norm"]
    if not any(_biased_layer_norm(m) for m in norms):
        return _named_layer_norm_pins(norms)
    pins = []
    for m in norms:
        for c in m.choices:
            if c.name != "module_type" or c.source != "default" or c.value != "nn.RMSNorm":
                continue
            if "nn.LayerNorm" in c.alternatives:
                why = "the model's other norms are LayerNorms (with a bias)"
                pins.append((c.path, "module_type", "nn.LayerNorm", why))
    return pins


def _named_layer_norm_pins(norms: list) -> list[tuple[str, str, str, str]]:
    kinds = [
        c for m in norms for c in m.choices if c.name == "module_type" and c.source == "default"
    ]
    kinds = [c for c in kinds if {"nn.RMSNorm", "nn.LayerNorm"} <= {c.value, *c.alternatives}]
    if not any(c.value == "nn.RMSNorm" for c in kinds):
        return []
    why = "the model's other lone-weight norms are RMSNorms"
    return [(c.path, "module_type", "nn.RMSNorm", why) for c in kinds if c.value == "nn.LayerNorm"]
