"""A transformer layer: attention and feed-forward, each with a norm and a residual connection.

Layouts (a choice of the class, `residual`): pre-norm `x + attn(norm1(x))` then `x + mlp(norm2(x))`
(GPT-2, LLaMA, ViT); post-norm `norm1(x + attn(x))` (the original Transformer); parallel
`x + attn(norm1(x)) + mlp(norm2(x))` (GPT-NeoX), or with one shared norm (Phi, GPT-J).
Which norm belongs to attention is read from the names (ln_1, input_layernorm, layernorm_before...).
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
    tensors,
)

FIRST_NORM = (
    r"ln_1|ln1|input_layernorm|attention_norm|attn_norm|norm1|layernorm_before|"
    r"self_attn_layer_norm|ln_attn|norm_1|pre_attention_layernorm"
)
SECOND_NORM = (
    r"ln_2|ln2|post_attention_layernorm|ffn_norm|mlp_norm|norm2|layernorm_after|"
    r"final_layer_norm|ln_mlp|norm_2|pre_feedforward_layernorm"
)
PARALLEL_TYPES = {"gpt_neox": "use_parallel_residual", "phi": "", "gptj": "", "codegen": ""}


def _one(members, pattern: str):
    found = [m for m in members if re.fullmatch(pattern, m.attr, re.IGNORECASE)]
    return found[0] if len(found) == 1 else None


class TransformerBlock(BlockPattern):
    role = "Block"
    priority = 10

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls):
            return None
        attn = [m for m in members if ctx.role(m) == "Attention"]
        mlp = [m for m in members if ctx.role(m) == "MLP"]
        norms = [m for m in members if family(m) == "norm"]
        if len(attn) != 1 or len(mlp) != 1 or len(members) != 2 + len(norms):
            return None
        if len(norms) == 2:
            first, second = _one(norms, FIRST_NORM), _one(norms, SECOND_NORM)
            if first is None or second is None or first is second:
                return None
            layouts = ["pre", "post", "parallel"]
        elif len(norms) == 1:
            first = second = norms[0]
            layouts = ["parallel"]
        else:
            return None
        model_type = ctx.resolver.evidence("model_type")
        default, cite = layouts[0], ""
        if model_type and model_type[1] in PARALLEL_TYPES and "parallel" in layouts:
            flag = PARALLEL_TYPES[model_type[1]]
            said = ctx.resolver.evidence(flag) if flag else None
            if said is None or said[1] is True:
                default, cite = "parallel", f"{model_type[0]} {model_type[1]!r}"
            else:
                cite = said[0]
        residual = ctx.choose(
            cls,
            first.attr,
            "residual",
            default,
            [v for v in layouts if v != default],
            "where the norms and residual connections sit",
        )
        if cite and residual.source == "default":
            residual.source, residual.note = "metadata", cite
        found = (attn[0].attr, mlp[0].attr, first.attr, second.attr, residual.value)
        return Match(self, len(members), found, [residual])

    def forward(self, match: Match, g: Graph) -> None:
        attn, mlp, first, second, residual = match.found
        x = g.input("x")
        if residual == "post":
            x = g.call_module((first,), g.call_function("add", x, g.call_module((attn,), x)))
            y = g.call_function("add", x, g.call_module((mlp,), x, inline=True), inline=True)
            g.output(g.call_module((second,), y))
            return
        if residual == "parallel":
            h1 = g.call_module((first,), x, name="h", inline=first != second)
            h2 = h1 if first == second else g.call_module((second,), x, inline=True)
            a = g.call_module((attn,), h1, inline=True)
            y = g.call_function("add", x, a, inline=True)
            g.output(g.call_function("add", y, g.call_module((mlp,), h2, inline=True)))
            return
        a = g.call_module((attn,), g.call_module((first,), x, inline=True), inline=True)
        x = g.call_function("add", x, a)
        m = g.call_module((mlp,), g.call_module((second,), x, inline=True), inline=True)
        g.output(g.call_function("add", x, m))

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.families._examples import modules

        m = modules()
        return [
            Example(
                m["holder"](m["block"]()),
                (torch.randn(2, 5, 16),),
                {"n_head": 2, "hidden_act": "gelu"},
            )
        ]
