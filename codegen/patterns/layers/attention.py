"""nn.MultiheadAttention: packed or separate input projections and an `out_proj` child."""

from __future__ import annotations

from typing import TYPE_CHECKING

from codegen.ir import Arg, IOSpec
from codegen.patterns._kit import (
    NHEAD_SYNONYMS,
    Example,
    LayerContext,
    LayerPattern,
    Recognised,
    flag,
    names,
    nhead_choice,
    prov,
    shape,
)

if TYPE_CHECKING:
    from codegen.keytree import KeyNode

MHA_TENSORS = {
    "in_proj_weight",
    "in_proj_bias",
    "q_proj_weight",
    "k_proj_weight",
    "v_proj_weight",
    "bias_k",
    "bias_v",
}


def multihead_attention(node: KeyNode, ctx: LayerContext) -> Recognised | None:
    found = names(node)
    if set(node.children) != {"out_proj"} or not found <= MHA_TENSORS:
        return None
    out = node.children["out_proj"]
    if out.children or "weight" not in out.tensors or len(out.tensors["weight"].shape) != 2:
        return None
    e = out.tensors["weight"].shape[0]
    args = [Arg(None, e, "width", prov(out, "weight", 0))]
    nhead = nhead_choice(ctx, node, e)
    args.append(Arg(None, nhead.value, "choice", choice=nhead))
    if "in_proj_weight" not in found:
        if not {"q_proj_weight", "k_proj_weight", "v_proj_weight"} <= found:
            return None
        k, v = shape(node, "k_proj_weight"), shape(node, "v_proj_weight")
        args.append(Arg("kdim", k[1], "width", prov(node, "k_proj_weight", 1)))
        args.append(Arg("vdim", v[1], "width", prov(node, "v_proj_weight", 1)))
    if "in_proj_bias" not in found:
        args.append(flag("bias", False, f"no {prov(node, 'in_proj_bias')}"))
    if "bias_k" in found:
        args.append(flag("add_bias_kv", True, prov(node, "bias_k")))
    batch_first = ctx.resolver.choose(node.path, "batch_first", True, [False])
    args.append(Arg("batch_first", batch_first.value, "choice", choice=batch_first))
    return Recognised("nn.MultiheadAttention", args, IOSpec("attention", e, e))


class MultiheadAttention(LayerPattern):
    role = "MultiheadAttention"
    synonyms = NHEAD_SYNONYMS

    def recognise(self, node, ctx: LayerContext) -> Recognised | None:
        return multihead_attention(node, ctx)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        x = torch.randn(2, 5, 16)
        return [Example(nn.MultiheadAttention(16, 2, batch_first=True), (x, x, x))]
