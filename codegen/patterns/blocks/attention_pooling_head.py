"""Multihead attention pooling (SigLIP's vision head, big_vision's MAP head): a learned probe
[1, n, d] attends over the tokens; its output, plus an MLP of its norm, is the pooled feature:

`h = attention(probe, x, x)[0]; h = h + mlp(norm(h)); h[:, 0]`

Recognised from what the members are: one [1, n, d] parameter (the probe), one
nn.MultiheadAttention of width d, one norm and one MLP class of width d; names play no part.
"""

from __future__ import annotations

from codegen.ir.graph import Graph, Slice
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
    tensors,
)


class AttentionPoolingHead(BlockPattern):
    role = "AttentionPoolingHead"
    priority = 5

    accepts = Accepts(3, 3, tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members, params = modules(cls), tensors(cls)
        if len(params) != 1 or len(members) != 3:
            return None
        probe = params[0]
        if probe.kind != "parameter" or len(probe.shape) != 3 or probe.shape[0] != 1:
            return None
        attention = [m for m in members if m.type_name == "nn.MultiheadAttention"]
        norms = [m for m in members if family(m) == "norm"]
        mlps = [m for m in members if m.kind == "class" and ctx.role(m) == "MLP"]
        if len(attention) != 1 or len(norms) != 1 or len(mlps) != 1:
            return None
        width = attention[0].io.in_width if attention[0].io is not None else None
        if width is None or isinstance(probe.shape[2], int) and probe.shape[2] != width:
            return None
        if any(m.io is None or m.io.in_width not in (None, width) for m in norms + mlps):
            return None
        found = (probe.attr, attention[0].attr, norms[0].attr, mlps[0].attr)
        return Match(self, 4, found)

    def forward(self, match: Match, g: Graph) -> None:
        probe, attention, norm, mlp = match.found
        x = g.input("x")
        batch = g.call_method("size", x, 0, inline=True)
        query = g.call_method("expand", g.getattr((probe,)), batch, -1, -1, name="probe")
        h = g.call_module((attention,), query, x, x, name="h", unpack=2, comment="probe attends")
        h = g.call_function("add", h, g.call_module((mlp,), g.call_module((norm,), h, inline=True)))
        g.output(g.call_function("getitem", h, (Slice(), 0)), comment="[batch, d_model]")

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.blocks._vision6_examples import modules as zoo

        # What SigLIP's config.json says: the MLP's tanh GELU, the norm's eps, the heads.
        config = {
            "hidden_act": "gelu_pytorch_tanh",
            "layer_norm_eps": 1e-6,
            "num_attention_heads": 4,
        }
        head = zoo()["attention_pooling_head"](16, 4)
        return [Example(head, (torch.randn(2, 7, 16),), config)]
