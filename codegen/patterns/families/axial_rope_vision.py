"""A vision transformer whose positions are a 2-D (axial) rotary in every attention (MLCD's and
DINOv3's vision towers; the layout of Qwen2-VL's and GLM-4V's): the model computes each patch's
rotary angles from the patch grid (half of the angles turn with the row, half with the column;
`axial_rope_angles`) and gives their sines and cosines to every layer beside the tokens:

    x = pre_norm(embeddings(pixels))
    angles = [the front tokens' angles; the patches' angles]     # [seq, head_dim / 2]
    x = encoder(x, None, sin | cos of the angles)                # or each layer in turn

The conventions are config.json's (_rope_scaling.axial_rope): rope_type "axial" numbers rows and
columns 0, 1, ... and gives the class token the learned [1, head_dim / 2] angles beside the
embeddings (MLCD); DINOv3's model_type puts each patch at 2 pi times its centre's coordinates in
[-1, 1] and leaves the tokens in front (class, registers) unturned. Recognised from what the
members are (embeddings without a position table, layers that read rotary angles, norms named as
the encoder family names them) and config.json's patch_size and head width, which no key records.
A norm of the pooled token only (post_layernorm) is left to the heads, as the library's last
hidden state does.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    family,
    modules,
    one_named,
    stack,
    tensors,
)
from codegen.patterns._norm_evidence import lone_weight_norm_pins
from codegen.patterns.blocks._rope_scaling import axial_rope, staggered_axial
from codegen.patterns.blocks.encoder_layer import ROTARY_TABLE
from codegen.patterns.families.encoder import (
    EMBED_NORM,
    EMBEDDINGS,
    FINAL_NORM,
    POOLED_NORM,
    _class_token,
    _cuts_image_into_patches,
)

# Vision towers whose code fixes every norm's eps where config.json names none
# (modeling_pixtral.py: PixtralRMSNorm(hidden_size, eps=1e-5) before the layers and in each).
FIXED_NORM_EPS = {"pixtral": 1e-5}
# Vision towers whose last hidden state packs every image's patches into one sequence
# [1, batch * patches, d], each image attending to itself alone (modeling_pixtral.py's block mask).
PACKED_IMAGE_TYPES = ("pixtral",)


class AxialRopeVisionModel(BlockPattern):
    role = "EncoderModel"
    priority = 6
    accepts = Accepts(2, roles=(("Encoder", "Block"),))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members, params = modules(cls), tensors(cls)
        embed = [m for m in members if ctx.role(m) in EMBEDDINGS]
        # ... or the patches' conv held by the model itself (Pixtral's `patch_conv`).
        bare = not embed and len(convs := [m for m in members if family(m) == "conv"]) == 1
        if bare and convs[0].io is not None and convs[0].io.ndim == 2:
            embed = convs if _cuts_image_into_patches(convs[0]) else []
        # The layers in an Encoder class, or (DINOv3) a stack of them held by the model itself.
        encoder = [m for m in members if ctx.role(m) in ("Encoder", "Block")]
        if len(embed) != 1 or len(encoder) != 1 or not ctx.takes(encoder[0], ROTARY_TABLE):
            return None
        if ctx.role(embed[0]) not in ("VisionEmbeddings", "conv") or len(params) > 1:
            return None
        if ctx.role(encoder[0]) == "Block" and stack(encoder[0]) is None:
            return None
        rotary = axial_rope(ctx.resolver.nested)
        patch = ctx.resolver.evidence("patch_size")
        head_dim = _head_dim(ctx)
        if rotary is None or patch is None or type(patch[1]) is not int or head_dim is None:
            return None
        if head_dim % 4:
            return None
        rest = [m for m in members if m is not embed[0] and m is not encoder[0]]
        norms = [m for m in rest if family(m) == "norm"]
        embed_norm = one_named(norms, EMBED_NORM)
        pooled_norm = one_named(norms, POOLED_NORM)
        norm = one_named([m for m in norms if m not in (embed_norm, pooled_norm)], FINAL_NORM)
        if len(rest) != sum(m is not None for m in (embed_norm, pooled_norm, norm)):
            return None
        # The class token's angles: a learned [1, head_dim / 2] vector.
        front = params[0] if params else None
        if front is not None and (len(front.shape) != 2 or front.shape[0] != 1):
            return None
        if front is not None and isinstance(front.shape[1], int) and 2 * front.shape[1] != head_dim:
            return None
        if bare and front is not None:
            return None  # a class token's angles with no class token
        centred = rotary[1]
        if (
            front is not None
            and centred
            or not centred
            and (front is not None) != _class_token(ctx, embed[0])
        ):
            # a class token whose angles nothing gives, or angles for no token; centred (DINOv3):
            # the tokens in front of the patches are not turned
            return None
        # Conventions of the model_type, read from the library's code: which frequencies the
        # columns turn at, and whether the images come out packed into one sequence.
        model_type = ctx.resolver.evidence("model_type")
        said = (model_type[0], model_type[1]) if model_type else None
        staggered = _convention(
            ctx,
            cls,
            encoder[0].attr,
            said,
            "axial_frequencies",
            staggered_axial(ctx.resolver.nested),
            ("staggered", "shared"),
            "staggered: columns at the odd frequencies (Pixtral); shared: the rows' (MLCD)",
        )
        packed = _convention(
            ctx,
            cls,
            encoder[0].attr,
            said,
            "output_layout",
            said is not None and said[1] in PACKED_IMAGE_TYPES,
            ("packed", "batched"),
            "packed: every image's tokens in one sequence [1, batch * seq, d] (Pixtral)",
        )
        found = (
            embed[0].attr,
            encoder[0].attr,
            embed_norm.attr if embed_norm else None,
            norm.attr if norm else None,
            front.attr if front is not None else None,
            (patch[1], head_dim, rotary[0], centred, staggered.value == "staggered"),
            ctx.role(encoder[0]) == "Block",
            bare,
            packed.value == "packed",
        )
        pins = lone_weight_norm_pins(ctx, cls) + _fixed_eps_pins(ctx, cls, said)
        return Match(self, len(members) + len(params), found, [staggered, packed], pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        embed, encoder, embed_norm, norm, front, rope, each, bare, packed = match.found
        patch, head_dim, theta, centred, staggered = rope
        pixels = g.input("pixel_values")
        x = g.call_module((embed,), pixels, comment="[batch, seq, d_model]", inline=bare)
        if bare:  # the patches' conv itself: its patches as a token sequence
            x = g.call_method("flatten", x, 2, inline=True)
            x = g.call_method("transpose", x, 1, 2, name="x", comment="[batch, patches, d_model]")
        if embed_norm is not None:
            x = g.call_module((embed_norm,), x)
        height = g.call_function(
            "floordiv", g.call_method("size", pixels, 2, inline=True), patch, name="height"
        )
        width = g.call_function(
            "floordiv", g.call_method("size", pixels, 3, inline=True), patch, name="width"
        )
        device = g.call_method("device", x, name="device")
        angles = g.call_function(
            "axial_rope_angles",
            height,
            width,
            head_dim,
            theta,
            centred,
            staggered,
            device,
            name="angles",
            comment="[patches, head_dim / 2]: rows, then columns",
        )
        if centred:  # the tokens in front of the patches (class, registers) are not turned
            front_count = g.call_function(
                "sub",
                g.call_method("size", x, 1, inline=True),
                g.call_method("size", angles, 0, inline=True),
                inline=True,
            )
            unturned = g.call_function(
                "torch.zeros", front_count, head_dim // 2, kwargs={"device": device}, inline=True
            )
            angles = g.call_function(
                "cat",
                (unturned, angles),
                kwargs={"dim": 0},
                name="angles",
                comment="front tokens unturned",
            )
        if front is not None:
            angles = g.call_function(
                "cat",
                (g.getattr((front,)), angles),
                kwargs={"dim": 0},
                name="angles",
                comment="the class token's first",
            )
        sines = g.call_function("torch.sin", angles, inline=True)
        cosines = g.call_function("torch.cos", angles, inline=True)
        sinusoidal = g.call_function(
            "cat", (sines, cosines), kwargs={"dim": -1}, name="sinusoidal", comment="sin | cos"
        )
        x = g.call_module((encoder,), x, None, sinusoidal, each=each)
        if norm is not None:
            x = g.call_module((norm,), x)
        if packed:  # each image attends to itself alone there: the same as a batch, laid end to end
            d_model = g.call_method("size", x, 2, inline=True)
            x = g.call_method(
                "reshape", x, 1, -1, d_model, name="x", comment="the images packed in one sequence"
            )
            g.output(x, comment="[1, batch * seq, d_model]: the last hidden state")
            return
        g.output(x, comment="[batch, seq, d_model]: the last hidden state")

    @staticmethod
    def examples():
        from codegen.patterns.families._vision7_examples import dinov3, mlcd

        return [mlcd(), dinov3()]


def _fixed_eps_pins(ctx: BlockContext, top, said) -> list[tuple[str, str, float, str]]:
    """Pins of every norm's eps left at its default, where the family's code fixes one eps for
    all its norms and config.json names none (FIXED_NORM_EPS)."""
    eps = FIXED_NORM_EPS.get(said[1]) if said is not None else None
    if eps is None:
        return []
    norms = [m for c in (top, *ctx.classes.values()) for m in modules(c) if family(m) == "norm"]
    why = f"{said[0]} {said[1]!r}: its code gives every norm eps {eps:g}"
    return [
        (c.path, "eps", eps, why)
        for m in norms
        for c in m.choices
        if c.name == "eps" and c.source == "default"
    ]


def _convention(ctx, cls, where, said, name, yes: bool, values: tuple, note: str):
    """A choice the model_type settles (source: config.json's model_type, cited): an unchecked
    model_type makes the file guessed (analyze._flag_unchecked_model_type); a hint overrides."""
    default = values[0] if yes else values[1]
    choice = ctx.choose(cls, where, name, default, [v for v in values if v != default], note)
    if said is not None and choice.source == "default":
        choice.source, choice.note = "metadata", f"{said[0]} {said[1]!r}"
    return choice


def _head_dim(ctx: BlockContext) -> int | None:
    said = ctx.resolver.evidence("head_dim")
    if said is not None and type(said[1]) is int:
        return said[1]
    width = ctx.resolver.evidence("hidden_size", "d_model", "embed_dim")
    heads = ctx.resolver.evidence("num_attention_heads", "num_heads", "n_head")
    if width is None or heads is None or type(width[1]) is not int or type(heads[1]) is not int:
        return None
    return width[1] // heads[1] if heads[1] > 0 and width[1] % heads[1] == 0 else None
