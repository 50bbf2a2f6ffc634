"""Self-attention over the pixels of a feature map through Linear projections, as labml.ai's
annotated DDPM writes it (`AttentionBlock`: `projection`, `output`, and a `norm`):

    s = x.reshape(batch, channels, -1).permute(0, 2, 1)             # [batch, pixels, channels]
    qkv = projection(s).view(batch, -1, heads, 3 * head_dim)        # per head: q, k, v
    q, k, v = qkv.chunk(3, dim=-1)
    out = softmax over the keys of q k^T / sqrt(head_dim), times v
    return (output(out) + s).permute(0, 2, 1).view(batch, channels, height, width)

labml's forward never calls the `norm` it builds: whether the map is normalised first is a choice
(not, as labml's code runs). Its head size defaults to the channel count (`d_k = n_channels`), so
the projection's width gives the head count; both are defaults no key proves, so the class says
guessed until calibration or a hint settles them.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
)
from codegen.patterns._kit import one_named, tensors


class PixelSequenceAttention(BlockPattern):
    role = "SpatialAttention"
    priority = 6

    accepts = Accepts(2, 3, tensors=False, names=("projection", "output"), families=("linear",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls):
            return None
        proj, out = one_named(members, r"projection"), one_named(members, r"output")
        norm = one_named(members, r"norm")
        if None in (proj, out) or len(members) != 2 + (norm is not None):
            return None
        if family(proj) != "linear" or family(out) != "linear" or proj.kind != "builtin":
            return None
        if norm is not None and family(norm) != "norm":
            return None
        channels, inner = out.io.out_width, out.io.in_width
        if not isinstance(channels, int) or not isinstance(inner, int):
            return None
        if proj.io.in_width != channels or proj.io.out_width != 3 * inner:
            return None
        default = inner // channels if inner % channels == 0 else 1  # labml: d_k = n_channels
        heads = ctx.choose(
            cls,
            proj.attr,
            "num_heads",
            default,
            [d for d in range(1, inner + 1) if inner % d == 0 and d != default],
            f"of {inner} features (labml: head size = channels)",
        )
        if not isinstance(heads.value, int) or inner % heads.value:
            return None
        choices, unsure = [heads], [heads]
        if norm is not None:
            normed = ctx.choose(
                cls, norm.attr, "normalize", False, [True], "labml's forward never calls it"
            )
            choices.append(normed)
            unsure.append(normed)
        unsure = [c.name for c in unsure if c.source == "default"]
        guessed = f"{' and '.join(unsure)}: no key records it" if unsure else ""
        found = (proj.attr, out.attr, norm.attr if norm is not None else None)
        return Match(self, len(members), found, choices, guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        proj, out, norm = match.found
        heads = match.choices[0].value
        normed = len(match.choices) > 1 and match.choices[1].value
        x = g.input("x")
        size = g.call_method("size", x, name="size", inline=True)
        seq = g.call_method("flatten", x, 2, name="s", inline=True)
        seq = g.call_method("transpose", seq, 1, 2, name="s", comment="[batch, pixels, channels]")
        h = seq
        if normed:
            h = g.call_module((norm,), x, name="h", inline=True)
            h = g.call_method("flatten", h, 2, name="h", inline=True)
            h = g.call_method("transpose", h, 1, 2, name="h")
        qkv = g.call_module((proj,), h, name="qkv", inline=True)
        h = g.call_function("head_interleaved_attention", qkv, heads, name="h")
        h = g.call_function("add", g.call_module((out,), h, inline=True), seq, name="h")
        h = g.call_method("transpose", h, 1, 2, name="h", inline=True)
        g.output(g.call_method("reshape", h, size))

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.families._skip_stack_examples import labml_attention

        torch.manual_seed(1)
        return [
            Example(labml_attention(32, 1), (torch.randn(2, 32, 4, 4),)),
            Example(labml_attention(32, 2), (torch.randn(2, 32, 4, 3),)),
        ]
