"""A transformer over the patches of a diffusion latent (DiT, PixArt: diffusers'
DiTTransformer2DModel and PixArtTransformer2DModel). `forward` takes what the library's does, in
its order: (hidden_states, timestep, class_labels) for a class-conditional model,
(hidden_states, encoder_hidden_states, timestep) for a text-conditional one, then PixArt's size
conditions (resolution [batch, 2], aspect_ratio [batch, 1]: the library's added_cond_kwargs)
where it embeds them.

    x = pos_embed(latent) + sincos_2d_positions(...)   # patches, fixed 2-D positions (no tensors)
    x = each block(x, ...)                             # ModulatedTransformerBlock
    shift, scale = the final modulation                # proj_out_1(silu(c)) | table + c
    x = proj_out(modulate(layer_norm(x), shift, scale))
    return unpatchify(x)                               # [batch, out_channels, height, width]

Where the conditioning comes from: adaLN-Zero (DiT) computes it in every block from the timestep
and the class label, and the output layer reads the first block's `norm1.emb`; adaLN-single
(PixArt) computes it once (`adaln_single`), and the text states pass `caption_projection`.
The positions' grid size (config.json's sample_size / patch_size) and scale (PixArt:
interpolation_scale, or sample_size / 64) are choices: they matter only at other resolutions.
"""

from __future__ import annotations

from codegen.ir import ExampleInput
from codegen.ir.graph import Graph
from codegen.patterns._kit import Accepts, BlockContext, BlockPattern, Match, family, modules
from codegen.patterns._kit import one_named, stack, tensors
from codegen.patterns.blocks._conv_parts import conv_kernel

# config.json keys these models record that the forward above computes for any value the keys and
# shapes allow (their effect is in the shapes, or in paths these models do not take).
_SHOWN = (
    "norm_elementwise_affine",  # affine norms would have keys: the pattern would not match
    "norm_num_groups",  # the group norm of continuous (unpatched) inputs only
    "num_embeds_ada_norm",  # the class table's rows
    "use_additional_conditions",  # resolution embedders would have keys
    "caption_channels",
    "upcast_attention",  # float32 attention: what float32 weights compute anyway
    "num_vector_embeds",  # null for patched inputs (a table of latent pixel classes otherwise)
    "double_self_attention",  # false (true is refused above)
)


class LatentTransformer(BlockPattern):
    role = "LatentTransformer"
    priority = 10
    accepts = Accepts(names=("pos_embed", "transformer_blocks"), roles=("PatchEmbedding",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        embed, blocks = one_named(members, r"pos_embed"), one_named(members, r"transformer_blocks")
        out1, out2 = one_named(members, r"proj_out_1"), one_named(members, r"proj_out_2")
        proj_out, adaln = one_named(members, r"proj_out"), one_named(members, r"adaln_single")
        caption = one_named(members, r"caption_projection")
        table = [t for t in tensors(cls) if t.attr == "scale_shift_table"]
        used = [m for m in (embed, blocks, out1, out2, proj_out, adaln, caption) if m is not None]
        if None in (embed, blocks) or len(used) != len(members):
            return None
        if len(table) != len(tensors(cls)) or ctx.role(embed) != "PatchEmbedding":
            return None
        item = stack(blocks)
        if item is None or ctx.role(item[0]) != "ModulatedTransformerBlock":
            return None
        zero = out1 is not None and out2 is not None and not table and adaln is None
        single = proj_out is not None and table and adaln is not None and out1 is out2 is None
        if not zero and not single:
            return None
        if single and ctx.role(adaln) != "AdaptiveModulation":
            return None
        if caption is not None and ctx.role(caption) != "CaptionProjection":
            return None
        if zero and not ctx.takes(item[0], "timestep"):
            return None  # adaLN-Zero blocks condition themselves
        if single and not ctx.takes(item[0], "modulation"):
            return None
        embed_cls = ctx.classes.get(embed.type_name)
        conv = modules(embed_cls)[0] if embed_cls is not None else None
        kernel = conv_kernel(conv) if conv is not None else None
        patch = kernel[0] if isinstance(kernel, tuple) else kernel
        width = conv.io.out_width if conv is not None and conv.io else None
        if not isinstance(patch, int) or not isinstance(width, int):
            return None
        told = ctx.resolver.evidence("norm_type")
        if told is not None and told[1] != ("ada_norm_zero" if zero else "ada_norm_single"):
            return None
        kind = ctx.resolver.evidence("attention_type")
        if kind is not None and kind[1] != "default":
            return Match(self, len(members), missing=f"attention_type {kind[1]!r}")
        double = ctx.resolver.evidence("double_self_attention")
        if double is not None and double[1] is True:
            return Match(self, len(members), missing=f"attn2 as self-attention ({double[0]})")
        for key in _SHOWN:
            _consume(ctx, key)
        choices = _position_choices(ctx, cls, embed.attr, patch)
        eps = ctx.choose(
            cls, "norm_out", "eps", 1e-6, [1e-5], "the output layer norm", accepts="unit_float"
        )
        if eps.source == "metadata":  # its eps is fixed in code, whatever norm_eps says
            eps.alternatives = [eps.value] + [a for a in eps.alternatives if a != 1e-6]
            eps.value, eps.source, eps.note = 1e-6, "structure", "diffusers fixes it"
        found = dict(
            embed=embed.attr,
            blocks=blocks.attr,
            zero=zero,
            out=(out1.attr, out2.attr) if zero else proj_out.attr,
            adaln=adaln.attr if adaln is not None else None,
            caption=caption.attr if caption is not None else None,
            labels=ctx.takes(item[0], "class_labels"),
            sizes=adaln is not None and ctx.takes(adaln, "resolution"),
            context=ctx.takes(item[0], "context"),
            patch=patch,
            width=width,
            in_channels=conv.io.in_width,
            # for the smoke run's inputs: the text states' width, the class table's rows
            text_width=_text_width(ctx, cls, caption, blocks),
            classes=_classes(ctx, item[0]),
        )
        return Match(self, len(members) + len(table), found, [*choices, eps])

    def forward(self, match: Match, g: Graph) -> None:
        f = match.found
        base, scale, eps = (c.value for c in match.choices)
        latent = g.input("hidden_states")
        text = g.input("encoder_hidden_states") if f["context"] else None
        timestep = g.input("timestep")
        labels = g.input("class_labels") if f["labels"] else None
        # PixArt's size conditions (the library's added_cond_kwargs), where it embeds them
        sizes = [g.input("resolution"), g.input("aspect_ratio")] if f["sizes"] else []
        height, width = (
            g.call_function(
                "floordiv", g.call_method("size", latent, d, inline=True), f["patch"], name=n
            )
            for d, n in ((2, "height"), (3, "width"))
        )
        device = g.call_method("device", latent, inline=True)
        grid = base if base else height
        positions = g.call_function(
            "sincos_2d_positions",
            height,
            width,
            f["width"],
            grid,
            float(scale),
            device,
            inline=True,
        )
        x = g.call_module((f["embed"],), latent, inline=True)
        x = g.call_function("add", x, positions, name="x", comment="[batch, patches, d_model]")
        conditioning = [timestep] + ([labels] if labels is not None else [])
        if f["zero"]:
            x = g.call_module((f["blocks"],), x, *conditioning, each=True, name="x")
            emb = (f["blocks"], "0", "norm1", "emb")  # the output layer's conditioning
            c = g.call_module(emb, *conditioning, inline=True)
            c = g.call_function("silu", c, inline=True)
            c = g.call_module((f["out"][0],), c, inline=True)
            batch = g.call_method("size", latent, 0, inline=True)
            c = g.call_method("reshape", c, batch, 2, -1, name="c")
        else:
            modulation = g.call_module((f["adaln"],), timestep, *sizes, name="modulation")
            if text is not None and f["caption"] is not None:
                text = g.call_module((f["caption"],), text, name="context")
            extra = (text,) if f["context"] else ()
            x = g.call_module((f["blocks"],), x, *extra, modulation, each=True, name="x")
            c = g.call_module((f["adaln"], "emb"), timestep, *sizes, inline=True)
            c = g.call_method("unsqueeze", c, 1, inline=True)
            c = g.call_function("add", g.getattr(("scale_shift_table",)), c, name="c")
        parts = g.call_method("chunk", c, 2, kwargs={"dim": 1}, name="parts")
        shift, scale_ = (g.call_function("getitem", parts, i, inline=True) for i in range(2))
        h = g.call_function("layer_norm", x, [f["width"]], kwargs={"eps": eps}, inline=True)
        x = g.call_function("modulate", h, shift, scale_, name="x")
        last = f["out"][1] if f["zero"] else f["out"]
        x = g.call_module((last,), x, name="x")
        g.output(g.call_function("unpatchify", x, height, width, f["patch"]))

    def example_inputs(self, match: Match, cls) -> list[ExampleInput]:
        f = match.found
        side = 4 * f["patch"]
        inputs = [ExampleInput((2, f["in_channels"], side, side))]
        if f["context"]:
            inputs.append(ExampleInput((2, 7, f["text_width"])))
        inputs.append(ExampleInput((2,), 1000))
        if f["labels"]:
            inputs.append(ExampleInput((2,), f["classes"]))
        if f["sizes"]:
            inputs += [ExampleInput((2, 2)), ExampleInput((2, 1))]
        return inputs

    @staticmethod
    def examples():
        from codegen.patterns.blocks import _latent_transformer_examples as z

        return [z.dit_example(), z.pixart_example()]


def _position_choices(ctx: BlockContext, cls, where: str, patch: int):
    """The grid the fixed positions were laid out for (patches per side at the trained size; 0:
    the input's own) and their scale; both act only at another resolution than the trained one."""
    size = ctx.resolver.evidence("sample_size")
    ctx.resolver.evidence("patch_size")
    trained = size[1] // patch if size and isinstance(size[1], int) else 0
    base = ctx.choose(
        cls, where, "position_grid", trained, [0], "patches per side when trained", accepts="index"
    )
    if size and base.source == "default" and trained:
        base.source, base.note = "metadata", f"{size[0]} / patch size"
    told = ctx.resolver.evidence("interpolation_scale")
    _consume(ctx, "interpolation_scale")  # null: the rule below
    name = ctx.resolver.evidence("_class_name")
    default, why = 1.0, ""
    if told is not None and told[1] is not None:
        default, why = float(told[1]), told[0]
    elif name is not None and name[1] == "PixArtTransformer2DModel" and size:
        default, why = float(max(size[1] // 64, 1)), f"{name[0]} {name[1]!r}: sample_size / 64"
    scale = ctx.choose(
        cls,
        where,
        "position_scale",
        default,
        [1.0, 2.0],
        "positions divided by it",
        accepts="positive_number",
    )
    if why and scale.source == "default":
        scale.source, scale.note = "metadata", why
    return base, scale


def _text_width(ctx: BlockContext, cls, caption, blocks) -> int | None:
    """The width of the text states a text-conditional model takes (its caption projection's)."""
    if caption is not None:
        caption_cls = ctx.classes.get(caption.type_name)
        first = one_named(modules(caption_cls), r"linear_1") if caption_cls else None
        return first.io.in_width if first is not None and first.io else None
    told = ctx.resolver.metadata.get("cross_attention_dim")
    return told[1] if told and isinstance(told[1], int) else None


def _classes(ctx: BlockContext, block) -> int | None:
    """How many class labels the blocks' label table accepts (for the smoke run)."""
    cls = ctx.classes.get(block.type_name)
    seen = [cls] if cls is not None else []
    while seen:
        here = seen.pop()
        for m in modules(here):
            if family(m) == "embedding" and m.io is not None and m.io.vocab:
                return m.io.vocab
            if m.kind == "class" and m.type_name in ctx.classes:
                seen.append(ctx.classes[m.type_name])
    return None


def _consume(ctx: BlockContext, key: str) -> None:
    """Mark a config.json key as used, a null one too (the metadata table skips nulls)."""
    ctx.resolver.evidence(key)
    tables = [ctx.resolver.nested] + list(ctx.resolver.nested.values())  # config.json's own too
    if any(isinstance(t, dict) and key in t for t in tables):
        ctx.resolver.consumed.add(key)
