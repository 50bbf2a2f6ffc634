"""The resnet block of openai's improved-diffusion and guided-diffusion (ResBlock): the same
computation as the diffusion resnet block (resnet_block.py), its layers held in Sequentials with
the activations in numbered slots between them:

    in_layers = [norm, SiLU, conv];  emb_layers = [SiLU, linear];  out_layers = [norm, SiLU,
    dropout, conv];  skip_connection = identity or a conv
    h = in_layers(x);  h = out_layers(h + emb_layers(emb)[..., None, None])
    return skip_connection(x) + h

A time projection twice the width is a scale and a shift (use_scale_shift_norm): it modulates the
normalised map, `out_norm(h) * (1 + scale) + shift`, then the rest of out_layers.
"""

from __future__ import annotations

from codegen.patterns import _activations as act
from codegen.patterns._kit import Accepts, BlockContext, Example, Match, family, modules, one_named
from codegen.patterns._kit import tensors
from codegen.patterns.blocks.resnet_block import ResnetBlock

SHORTCUT = r"skip_connection|shortcut|skip"


def _layers(m, kinds: list[str]) -> list[tuple[str, ...]] | None:
    """The paths of a Sequential's layers when their families are `kinds`, in order."""
    if m is None or m.kind not in ("sequential", "modulelist"):
        return None
    real = [c for c in m.children if c.kind != "placeholder"]
    if [family(c) for c in real] != kinds or any(c.kind != "builtin" for c in real):
        return None
    return [(m.attr, c.attr) for c in real]


class LayeredResnetBlock(ResnetBlock):
    role = "ResnetBlock"
    priority = 5

    accepts = Accepts(tensors=False, names=("in_layers", "out_layers"))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls):
            return None
        into, emb = one_named(members, r"in_layers"), one_named(members, r"emb_layers")
        out, short = one_named(members, r"out_layers"), one_named(members, SHORTCUT)
        used = [m for m in (into, emb, out, short) if m is not None]
        if into is None or out is None or len(used) != len(members):
            return None
        first, second = _layers(into, ["norm", "conv"]), _layers(out, ["norm", "conv"])
        proj = _layers(emb, ["linear"]) if emb is not None else [None]
        if None in (first, second, proj):
            return None
        if short is not None and (short.kind != "builtin" or family(short) != "conv"):
            return None
        layers = {(m.attr, c.attr): c for m in (into, out) for c in m.children}
        norm1, conv1 = layers[first[0]], layers[first[1]]
        norm2, conv2 = layers[second[0]], layers[second[1]]
        c_in, c_mid = conv1.io.in_width, conv1.io.out_width
        if norm1.io.in_width != c_in or norm2.io.in_width != c_mid or conv2.io.out_width != c_mid:
            return None
        if short is None and c_in != c_mid:
            return None
        linear = next((c for c in emb.children if family(c) == "linear"), None) if emb else None
        scale_shift = linear is not None and linear.io.out_width == 2 * c_mid
        if linear is not None and linear.io.out_width not in (c_mid, 2 * c_mid):
            return None
        activation = ctx.choose(
            cls,
            into.attr,
            "activation",
            "silu",
            act.alternatives("silu", told=ctx.resolver),
            "after each norm and before the time projection",
        )
        found = (first[0], first[1], second[0], second[1], proj[0], short and (short.attr,))
        pins = [
            (c.path, "module_type", "nn.GroupNorm", "a resnet block's norm over a feature map")
            for n in (norm1, norm2)
            for c in n.choices
            if c.name == "module_type" and c.source == "default" and n.type_name != "nn.GroupNorm"
        ]
        return Match(self, len(members), found + (scale_shift,), [activation], pins=pins)

    def example_inputs(self, match: Match, cls):
        return []

    @staticmethod
    def examples():
        from codegen.patterns.blocks._generative_examples import META, modules as zoo

        z = zoo()
        return [
            Example(
                z["holder"](z["openai_resblock"](32, 64, 12, False)), z["with_temb"](32, 12), META
            ),
            Example(
                z["holder"](z["openai_resblock"](32, 32, 12, True)), z["with_temb"](32, 12), META
            ),
        ]
