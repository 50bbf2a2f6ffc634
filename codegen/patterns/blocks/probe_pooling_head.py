"""Attention pooling by a learned query over projected keys and values (AIMv2's vision head; the
"attentive probe" of AIM, V-JEPA and CoCa's pooler written with bare projections): the [1, n, d]
query attends, head by head, over `k(x)` and `v(x)`; the queries' outputs are averaged and projected:

`h = softmax(q k(x)^T / sqrt(d_head)) v(x); out(h.mean(1))` -> [batch, d]

Recognised from what the members are: one [1, n, d] parameter (the query) and three square
Linears of width d; which Linear is the key, the value and the output projection the names say
(`k_proj`/`key`, `v_proj`/`value`, `output_proj`/`out_proj`/`proj`), since the shapes cannot.
The head count is config.json's (or a hint); unknown, the forward names the gap.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    NHEAD_SYNONYMS,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
    one_named,
    tensors,
)
from codegen.patterns.blocks.attention import HEAD_COUNTS, UNKNOWN_HEADS

KEY = r"k|k_proj|key|to_k"
VALUE = r"v|v_proj|value|to_v"
OUT = r"o|o_proj|out|out_proj|output_proj|proj|to_out"


class ProbePoolingHead(BlockPattern):
    role = "AttentionPoolingHead"  # pooled features, left to the callers that read them
    priority = 5
    synonyms = NHEAD_SYNONYMS

    accepts = Accepts(3, 3, tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members, params = modules(cls), tensors(cls)
        if len(params) != 1 or len(members) != 3:
            return None
        probe = params[0]
        if probe.kind != "parameter" or len(probe.shape) != 3 or probe.shape[0] != 1:
            return None
        linears = [m for m in members if family(m) == "linear"]
        width = linears[0].io.in_width if linears and linears[0].io else None
        if len(linears) != 3 or width is None:
            return None
        if isinstance(probe.shape[2], int) and probe.shape[2] != width:
            return None
        if any(m.io is None or (m.io.in_width, m.io.out_width) != (width, width) for m in linears):
            return None
        key, value, out = (one_named(linears, names) for names in (KEY, VALUE, OUT))
        if key is None or value is None or out is None or len({key.attr, value.attr, out.attr}) < 3:
            return None
        counts = [h for h in HEAD_COUNTS if width % h == 0]
        nhead = ctx.choose(
            cls,
            key.attr,
            "nhead",
            None,
            counts,
            "unknown: calibrate or hint",
            accepts="positive_int",
        )
        if nhead.value is None:
            return Match(self, 4, missing=UNKNOWN_HEADS, choices=[nhead])
        if width % int(nhead.value):
            return None
        found = (probe.attr, key.attr, value.attr, out.attr, int(nhead.value))
        return Match(self, 4, found, choices=[nhead])

    def forward(self, match: Match, g: Graph) -> None:
        probe, key, value, out, nhead = match.found
        x = g.input("x")
        batch = g.call_method("size", x, 0, name="batch")
        seq = g.call_method("size", x, 1, name="seq")
        query = g.call_method("expand", g.getattr((probe,)), batch, -1, -1, inline=True)
        queries = g.call_method("size", query, 1, inline=True)

        def heads(v, length, name: str):
            split = g.call_method("view", v, batch, length, nhead, -1, inline=True)
            return g.call_method("transpose", split, 1, 2, name=name)

        q = heads(query, queries, "q")
        k = heads(g.call_module((key,), x, inline=True), seq, "k")
        v = heads(g.call_module((value,), x, inline=True), seq, "v")
        y = g.call_function(
            "scaled_dot_product_attention", q, k, v, comment=f"the query attends, {nhead} heads"
        )
        y = g.call_method("transpose", y, 1, 2, inline=True)
        y = g.call_method("reshape", y, batch, queries, -1, inline=True)
        pooled = g.call_method("mean", y, 1, name="pooled", comment="[batch, d_model]")
        g.output(g.call_module((out,), pooled))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class Head(nn.Module):  # AIMv2's head, as its paper's code writes it
            def __init__(self, d: int = 16, nhead: int = 4, bias: bool = False) -> None:
                super().__init__()
                self.nhead = nhead
                self.k_proj = nn.Linear(d, d, bias=bias)
                self.v_proj = nn.Linear(d, d, bias=bias)
                self.cls_token = nn.Parameter(torch.randn(1, 1, d))
                self.output_proj = nn.Linear(d, d)

            def forward(self, x):
                b, n, d = x.shape
                q = self.cls_token.expand(b, -1, -1).reshape(b, 1, self.nhead, -1).transpose(1, 2)
                k = self.k_proj(x).reshape(b, n, self.nhead, -1).transpose(1, 2)
                v = self.v_proj(x).reshape(b, n, self.nhead, -1).transpose(1, 2)
                y = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, 1, d)
                return self.output_proj(y.mean(1))

        class Holder(nn.Module):
            def __init__(self, head: nn.Module) -> None:
                super().__init__()
                self.head = head

            def forward(self, x):
                return self.head(x)

        return [
            Example(Holder(Head()), (torch.randn(2, 7, 16),), {"num_attention_heads": 4}),
            Example(Holder(Head(24, 3, True)), (torch.randn(2, 5, 24),), {"num_heads": 3}),
        ]
