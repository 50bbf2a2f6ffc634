"""A diffusion U-Net (diffusers' UNet2DModel): `forward(sample, timestep)` returns the predicted
sample (noise, or whatever the model was trained to predict).

    temb = time_embedding(timestep_embedding(timestep))     # sinusoidal features, then an MLP
    x = conv_in(sample); every down block returns its maps, kept for the up path
    x = mid_block(x, temb)
    each up block concatenates the latest kept maps back, one per resnet
    return conv_out(act(conv_norm_out(x)))

The sinusoidal features' layout (cos first, frequency shift) leaves no tensors: choices, settled
by config.json's flip_sin_to_cos and freq_shift where the folder has them. So is whether the
sample is first mapped from [0, 1] to [-1, 1] (`2 * sample - 1`, config.json's
center_input_sample; off by default, as diffusers' UNet2DModel has it).
"""

from __future__ import annotations

from codegen.ir import ExampleInput
from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
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
from codegen.patterns.blocks._unet_parts import RESNETS, item_paths, items, last_built_first
from codegen.patterns.blocks.conv_encoder import group_pins

CONV_IN, CONV_OUT, NORM_OUT = r"conv_in", r"conv_out", r"conv_norm_out|norm_out"
TIME_FEATURES, CLASSES = r"time_proj", r"class_embedding|label_emb|class_embed"
ADDED = r"add_embedding"  # more conditioning added to the time embedding (text states pooled)
TIME, DOWN, MID, UP = (
    r"time_embedding|time_embed|temb",
    r"down_blocks|down",
    r"mid_block|mid",
    r"up_blocks|up",
)


def _count_resnets(ctx: BlockContext, path_cls) -> int | None:
    """How many resnets an up block runs: one kept map each."""
    resnets = one_named(modules(path_cls), RESNETS)
    return len(item_paths(path_cls, resnets)) if resnets is not None else None


class UNet(BlockPattern):
    role = "UNet"
    priority = 10
    synonyms = {**act.SYNONYMS, "center_input": ("center_input_sample",)}

    accepts = Accepts(tensors=False, names=(CONV_IN, CONV_OUT, NORM_OUT, TIME, DOWN, UP))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls):
            return None
        conv_in, conv_out = one_named(members, CONV_IN), one_named(members, CONV_OUT)
        norm_out, time = one_named(members, NORM_OUT), one_named(members, TIME)
        down, mid, up = one_named(members, DOWN), one_named(members, MID), one_named(members, UP)
        features_m, classes = one_named(members, TIME_FEATURES), one_named(members, CLASSES)
        added = one_named(members, ADDED)
        optional = (mid, features_m, classes, added)
        used = [m for m in (conv_in, conv_out, norm_out, time, down, up, *optional) if m]
        if None in (conv_in, conv_out, norm_out, time, down, up) or len(used) != len(members):
            return None
        if family(conv_in) != "conv" or family(conv_out) != "conv" or family(norm_out) != "norm":
            return None
        if ctx.role(time) != "TimeEmbedding" or (mid is not None and ctx.role(mid) != "MidBlock"):
            return None
        downs, ups = items(cls, down, ctx, "UNetDownBlock"), items(cls, up, ctx, "UNetUpBlock")
        if not downs or not ups:
            return None
        if last_built_first(up, ctx):  # latent diffusion's `up`: finest level at 0, run last
            ups = ups[::-1]
        time_cls = ctx.classes.get(time.type_name)
        held = [c for m in modules(time_cls) for c in (m.children or [m])] if time_cls else []
        first = [m for m in held if family(m) == "linear"]  # beside each other, or in a list
        features = min((m.io.in_width for m in first if m.io.in_width), default=None)
        time_width = max((m.io.out_width for m in first if m.io.out_width), default=None)
        features_kind = _features_kind(features_m, ctx)
        if features_m is not None and features_kind is None:
            return None
        if added is not None and ctx.role(added) != "TextTimeEmbedding":
            return None
        class_kind = _class_kind(cls, classes, ctx, features, time_width)
        if classes is not None and class_kind is None:
            return None
        # What each down block keeps (its returned list) and each up block takes back.
        down_cls = [_item_class(cls, down, p, ctx) for p in downs]
        up_cls = [_item_class(cls, up, p, ctx) for p in ups]
        kept = [_returned(c) for c in down_cls]
        mid_cls = ctx.classes.get(mid.type_name) if mid is not None else None
        context = [_takes_context(c) for c in down_cls + [mid_cls] + up_cls]
        taken = [_count_resnets(ctx, c) if c else None for c in up_cls]
        if features is None or None in kept or None in taken:
            return None
        if 1 + sum(kept) != sum(taken):
            return None
        center = ctx.choose(
            cls, conv_in.attr, "center_input", False, [True], "the sample mapped to 2 * x - 1"
        )
        if features_kind is None:
            ddpm = _ddpm_time_layout(time, ctx)
            flip = ctx.choose(
                cls, time.attr, "flip_sin_to_cos", not ddpm, [ddpm], "cos features first"
            )
            shift = ctx.choose(
                cls,
                time.attr,
                "freq_shift",
                int(ddpm),
                [1 - int(ddpm)],
                "frequencies 1e4 ** (-i / (d/2 - shift))",
            )
            for c in (flip, shift) if ddpm else ():
                if c.source == "default":
                    c.source, c.note = "metadata", DDPM_TIME_LAYOUT
            layout = [flip, shift]
        else:  # diffusers builds its held features without the sinusoids' layout settings
            for key in ("time_embedding_type", "flip_sin_to_cos", "freq_shift"):
                ctx.resolver.evidence(key)
            layout = []
        if features_kind == "FourierFeatures":  # score-SDE: the output is divided by the level
            divide = ctx.choose(
                cls, conv_out.attr, "divide_by_level", True, [False], "output / noise level"
            )
            layout = [divide]
        if classes is not None:
            ctx.resolver.evidence("num_class_embeds")
            layout += [class_kind] if class_kind != "layer" else []
        told = ctx.resolver.evidence("addition_embed_type")
        if added is not None and told is not None and told[1] != "text":
            return None  # the keys of another kind of added conditioning
        if told is None or added is None:  # its head count acts only with it
            ctx.resolver.evidence("addition_embed_type_num_heads")
        activation = ctx.choose(
            cls,
            norm_out.attr,
            "activation",
            "silu",
            act.alternatives("silu", told=ctx.resolver),
            "before conv_out",
        )
        act.fixed_by_class(ctx.resolver, activation, self.role)
        found = dict(
            conv_in=conv_in.attr,
            conv_out=conv_out.attr,
            norm_out=norm_out.attr,
            time=time.attr,
            mid=mid.attr if mid else None,
            downs=list(zip(downs, kept, context[: len(downs)])),
            ups=list(zip(ups, taken, context[len(downs) + 1 :])),
            mid_context=context[len(downs)],
            features=features,
            in_channels=conv_in.io.in_width,
            time_proj=(features_m.attr, features_kind) if features_m else None,
            classes=classes.attr if classes else None,
            added=added.attr if added else None,
            class_width=_class_width(classes, ctx),
            # the width of the states its transformers attend to, for the smoke run's inputs
            text_width=(ctx.resolver.evidence("cross_attention_dim") or (None, None))[1],
        )
        choices = [center, *layout, activation]
        return Match(self, len(members), found, choices, pins=group_pins(cls))

    def forward(self, match: Match, g: Graph) -> None:
        f = match.found
        values = {c.name: c.value for c in match.choices}
        sample, timestep = g.input("sample"), g.input("timestep")
        text = None
        if any(c for _, _, c in f["downs"] + f["ups"]) or f["mid_context"] or f["added"]:
            text = g.input("encoder_hidden_states")  # what the transformers attend to
        labels = g.input("class_labels") if f["classes"] else None
        batch = g.call_method("size", sample, 0, inline=True)
        t = g.call_method("reshape", timestep, -1, name="t", inline=True)
        level = g.call_method("expand", t, batch, name="t", comment="one timestep per sample")
        if f["time_proj"] is None:
            flip, shift = values["flip_sin_to_cos"], values["freq_shift"]
            t = g.call_function(
                "timestep_embedding", level, f["features"], bool(flip), float(shift), name="t"
            )
        else:
            t = g.call_module((f["time_proj"][0],), level, name="t")
        temb = g.call_module((f["time"],), t, name="temb", comment="[batch, time embedding]")
        if labels is not None:
            if values.get("class_input") == "timestep features":  # the labels are timesteps too
                flip, shift = values.get("flip_sin_to_cos", True), values.get("freq_shift", 0)
                width = f["class_width"]
                labels = g.call_function(
                    "timestep_embedding", labels, width, bool(flip), float(shift), name="c"
                )
            c = g.call_module((f["classes"],), labels, inline=True)
            temb = g.call_function("add", temb, c, name="temb", comment="plus the class vector")
        if f["added"]:
            pooled = g.call_module((f["added"],), text, inline=True)
            temb = g.call_function("add", temb, pooled, name="temb", comment="plus the text's")
        if values["center_input"]:
            sample = g.call_function("mul", sample, 2.0, inline=True)
            sample = g.call_function(
                "sub", sample, 1.0, name="sample", comment="from [0, 1] to [-1, 1]"
            )
        x = g.call_module((f["conv_in"],), sample, name="x")
        kept: list = [x]
        for path, count, context in f["downs"]:
            extra = (text,) if context else ()
            states = g.call_module(path, x, temb, *extra, name="states")
            maps = [g.call_function("getitem", states, i, inline=True) for i in range(count)]
            kept += maps
            x = g.call_function("getitem", states, -1, name="x")
        if f["mid"]:
            extra = (text,) if f["mid_context"] else ()
            x = g.call_module((f["mid"],), x, temb, *extra, name="x")
        for path, count, context in f["ups"]:
            skips, kept = kept[len(kept) - count :], kept[: len(kept) - count]
            extra = (text,) if context else ()
            x = g.call_module(path, x, temb, skips, *extra, name="x", comment=_skip_note(count))
        x = g.call_module((f["norm_out"],), x, name="x", inline=True)
        x = act.apply(g, values["activation"], x, name="x", inline=True)
        x = g.call_module((f["conv_out"],), x, name="x")
        if values.get("divide_by_level"):
            level = g.call_method("reshape", level, -1, 1, 1, 1, inline=True)
            x = g.call_function("truediv", x, level, name="x", comment="score = output / level")
        g.output(x)

    def example_inputs(self, match: Match, cls) -> list[ExampleInput]:
        f = match.found
        size = 2 ** max(len(f["downs"]), 3)
        inputs = [ExampleInput((2, f["in_channels"], size, size)), ExampleInput((2,), 1000)]
        if f["classes"]:
            classes = next(m for m in modules(cls) if m.attr == f["classes"])
            if family(classes) == "embedding":
                inputs.append(ExampleInput((2,), classes.io.vocab))
            elif {c.name: c.value for c in match.choices}.get("class_input") != "timestep features":
                inputs.append(ExampleInput((2, f["class_width"])))
            else:
                inputs.append(ExampleInput((2,), 1000))
        attends = any(c for _, _, c in f["downs"] + f["ups"]) or f["mid_context"] or f["added"]
        if attends and isinstance(f["text_width"], int):
            inputs.append(ExampleInput((2, 7, f["text_width"])))
        return inputs

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.blocks._generative_examples import META, modules as zoo

        torch.manual_seed(1)
        inputs = (torch.randn(2, 3, 16, 16), torch.tensor([3, 750]))
        meta = {**META, "flip_sin_to_cos": True, "freq_shift": 0}
        return [Example(zoo()["unet"](), inputs, meta)]


# The DDPM port (pesser/pytorch_diffusion, from the original TensorFlow code) holds its time MLP as
# `temb.dense` and builds the features sin first, frequencies 1e4 ** (-i / (d/2 - 1)).
DDPM_TIME_LAYOUT = "the DDPM port's get_timestep_embedding (`temb.dense`) by convention"


def _ddpm_time_layout(time, ctx: BlockContext) -> bool:
    own = ctx.classes.get(time.type_name) if time.kind == "class" else None
    return time.attr == "temb" and own is not None and [m.attr for m in modules(own)] == ["dense"]


# How class_embedding reads the labels: config.json's class_embed_type, where it has one.
CLASS_INPUTS = {"timestep": "timestep features", "projection": "as given"}


def _class_kind(cls, classes, ctx: BlockContext, features, time_width):
    """The `class_input` choice of a U-Net's class conditioning, or None where `classes` is not
    one. A table looks labels up (no choice to make); an MLP like the time embedding's
    (diffusers' class_embed_type "timestep" or "projection") takes either the labels' sinusoidal
    features, as the timestep's, or the labels as given (a vector per sample); a Linear
    ("simple_projection") takes them as given."""
    if classes is None:
        return None
    kinds = list(CLASS_INPUTS.values())
    if family(classes) in ("embedding", "linear"):  # a table, or a Linear: no choice to make
        if classes.io.out_width != time_width:
            return None
        ctx.resolver.evidence("class_embed_type")
        return "layer"
    if ctx.role(classes) != "TimeEmbedding":
        return None
    class_cls = ctx.classes.get(classes.type_name)
    linears = [m for m in modules(class_cls) if family(m) == "linear"] if class_cls else []
    if max((m.io.out_width or 0 for m in linears), default=None) != time_width:
        return None
    width = _class_width(classes, ctx)
    told = ctx.resolver.evidence("class_embed_type")
    ctx.resolver.evidence("projection_class_embeddings_input_dim")  # the width the shapes show
    # Without config.json, sinusoidal features where the widths agree with the timestep's.
    default = "timestep features" if width == features else "as given"
    choice = ctx.choose(
        cls,
        classes.attr,
        "class_input",
        default,
        [k for k in kinds if k != default],
        "what the class MLP reads",
    )
    if told is not None and told[1] in CLASS_INPUTS and choice.source == "default":
        choice.value, choice.source, choice.note = CLASS_INPUTS[told[1]], "metadata", told[0]
        choice.alternatives = [k for k in kinds if k != choice.value]
    elif told is not None and told[1] not in CLASS_INPUTS:
        return None  # a kind this pattern does not compute: the file says the class is unknown
    return choice


def _class_width(classes, ctx: BlockContext) -> int | None:
    """The width of what the class conditioning reads (its features, or the labels' vector)."""
    if classes is None:
        return None
    if classes.io is not None and family(classes) in ("embedding", "linear"):
        return classes.io.in_width
    class_cls = ctx.classes.get(classes.type_name)
    first = one_named(modules(class_cls), r"linear_1") if class_cls else None
    return first.io.in_width if first is not None else None


def _takes_context(c) -> bool:
    graph = c.forward.graph if c is not None else None
    return graph is not None and any(n.target == "context" for n in graph.inputs)


def _features_kind(m, ctx: BlockContext) -> str | None:
    """What the U-Net's own time features are: Fourier features, or a table of timesteps."""
    if m is None:
        return None
    if family(m) == "embedding":
        return "embedding"
    return "FourierFeatures" if ctx.role(m) == "FourierFeatures" else None


def _item_class(cls, container, path, ctx: BlockContext):
    if container.kind == "class":
        return ctx.classes.get(container.type_name)
    if container.kind == "repeat":
        return ctx.classes.get(container.children[0].type_name)
    child = next((c for c in container.children if c.attr == path[-1]), None)
    return ctx.classes.get(child.type_name) if child is not None else None


def _returned(c) -> int | None:
    """How many maps a down block's forward returns (its output is a list of them)."""
    graph = c.forward.graph if c is not None else None
    if graph is None or graph.returns != "list[torch.Tensor]" or not graph.nodes:
        return None
    out = graph.nodes[-1]
    return len(out.args[0]) if out.op == "output" and isinstance(out.args[0], list) else None


def _skip_note(count: int) -> str:
    return (
        f"takes back the last {count} kept maps" if count != 1 else "takes back the last kept map"
    )
