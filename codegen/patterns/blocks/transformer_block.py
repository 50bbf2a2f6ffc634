"""A transformer layer: attention and feed-forward, each with a norm and a residual connection.

Layouts (a choice of the class, `residual`): pre-norm `x + attn(norm1(x))` then `x + mlp(norm2(x))`
(GPT-2, LLaMA, ViT); post-norm `norm1(x + attn(x))` (the original Transformer); parallel
`x + attn(norm1(x)) + mlp(norm2(x))` (GPT-NeoX), or with one shared norm (Phi, GPT-J).
Which norm belongs to attention is read from the names (ln_1, input_layernorm, layernorm_before...).
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._decoder_conventions import cite as conventions_cite
from codegen.patterns._decoder_conventions import convention
from codegen.patterns.blocks.encoder_layer import ROTARY_TABLE
from codegen.patterns.blocks.selective_scan import SEQUENCE_MIXERS
from codegen.patterns._kit import (
    Accepts,
    one_named,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    apply_norm,
    family,
    norm_scale,
    free_norm,
    parameter_free_norm,
    modules,
    tensors,
)

FIRST_NORM = (
    r"ln_1|ln1|input_layernorm|attention_norm|attn_norm|norm1|layernorm_before|"
    r"self_attn_layer_norm|ln_attn|norm_1|pre_attention_layernorm|sa_layer_norm|layer_norm1|"
    r"attention_layernorm|"  # Apertus
    r"attn_ln|attention_ln|"  # GTE's original layout (enc7a)
    r"operator_norm|"  # LFM2's: before attention or the short conv (dec8)
    r"temporal_pre_norm|"  # Griffin's (RecurrentGemma): before attention or the recurrence
    r"attention_layer_norm|"  # lin11: OLMo-core's (OLMo hybrid's checkpoints)
    r"layer_norm"  # beside final_layer_norm (wav2vec2's encoder layers)
)
SECOND_NORM = (
    r"ln_2|ln2|post_attention_layernorm|ffn_norm|mlp_norm|norm2|layernorm_after|"
    r"final_layer_norm|ln_mlp|norm_2|pre_feedforward_layernorm|output_layer_norm|layer_norm2|"
    r"feedforward_layernorm|"  # Apertus
    r"mlp_ln|ffn_ln|"  # GTE's original layout (enc7a)
    r"pre_ff_layernorm|"  # Jamba's (dec8)
    r"channel_pre_norm|"  # Griffin's (RecurrentGemma)
    r"feedforward_layer_norm|"  # lin11: OLMo-core's (OLMo hybrid's checkpoints)
    r"ffn_layer_norm"  # blk12: SeamlessM4T's text layers (their feed-forward is `ffn`)
)
UP, DOWN = r"fc1|c_fc|fc_in|up_proj|linear1", r"fc2|c_proj|fc_out|down_proj|linear2"
PARALLEL_KEYS = ("use_parallel_residual", "parallel_attn")
# norm after each residual add (encoders and seq2seq decoders: the survey covers causal LMs)
POST_TYPES = ("distilbert", "bart", "marian", "plbart", "blenderbot-small", "nomic_bert", "led")
POST_TYPES += ("fsmt",)  # s2s10: fairseq's default layout (no normalize_before in its config)
FEED_FORWARD_ROLES = ("MLP", "MoE")  # a feed-forward, or a mixture of them
SHARED_MLP = r"shared_mlp|shared_expert|shared_experts"  # beside a mixture, on the same input


def feed_forward_list(m) -> bool:
    """A Sequential of Linear, a slot without tensors (the activation), Linear that widens then
    narrows back (CTRL's `ffn`): a feed-forward called whole."""
    items = m.children if m.kind == "sequential" else []
    if len(items) != 3 or items[1].kind != "placeholder":
        return False
    up, down = items[0].io, items[2].io
    if not (up and down and up.family == "linear" and down.family == "linear"):
        return False
    return bool(up.in_width and up.out_width and up.out_width > up.in_width == down.out_width)


def numbered(norms: list) -> tuple:
    """Two norms named alike but for a trailing number (layernorm1, layernorm2): lower first."""
    found = [re.fullmatch(r"(.*?)_?(\d+)", m.attr) for m in norms]
    if None in found or found[0].group(1) != found[1].group(1):
        return None, None
    pair = sorted(zip((int(f.group(2)) for f in found), range(2)))
    if pair[0][0] == pair[1][0]:
        return None, None
    return norms[pair[0][1]], norms[pair[1][1]]


# Families whose layers norm first and add each branch to the normed input, as BLOOM's
# apply_residual_connection_post_layernorm, with no key saying it (read from their code; moe10)
NORMED_RESIDUAL_TYPES = ("minimax",)
# Families whose library divides each branch's output by sqrt(num_hidden_layers / N) in its code
# (ESM C's `scaling_factor`, N = 36): the depth comes from config.json, N from the code.
DEPTH_SCALED_TYPES = {"esmc": 36}


def branch_multiplier(ctx: BlockContext) -> float | None:
    """Granite's (and HyperCLOVA X's) factor on each branch's output before its residual add
    (config.json residual_multiplier, or MiniCPM's scale_depth over the square root of the depth);
    None where there is none or it is 1."""
    multiplier = ctx.resolver.evidence("residual_multiplier")
    if multiplier is None:  # MiniCPM's depth-muP: scale_depth / sqrt(num_hidden_layers)
        depth, layers = ctx.resolver.evidence("scale_depth"), ctx.resolver.evidence(
            "num_hidden_layers"
        )
        numbers = depth is not None and layers is not None and type(depth[1]) in (int, float)
        if numbers and type(layers[1]) is int and layers[1] > 0:
            multiplier = (depth[0], depth[1] / layers[1] ** 0.5)
    model_type = ctx.resolver.evidence("model_type")
    if multiplier is None and model_type is not None and model_type[1] in DEPTH_SCALED_TYPES:
        layers = ctx.resolver.evidence("num_hidden_layers")
        if layers is not None and type(layers[1]) is int and layers[1] > 0:
            multiplier = (layers[0], (DEPTH_SCALED_TYPES[model_type[1]] / layers[1]) ** 0.5)
    if multiplier is None or type(multiplier[1]) not in (int, float) or multiplier[1] == 1:
        return None
    return float(multiplier[1])


class _FreeNorm:
    """Stands for a norm without parameters (no member, no key): its choices sit on `where`."""

    type_name = "F.layer_norm"

    def __init__(self, where: str) -> None:
        self.attr, self.where = None, where


class _NoNorm(_FreeNorm):
    """Stands for no norm where a layer's first norm would be (an Identity): its input as it is."""


class TransformerBlock(BlockPattern):
    role = "Block"
    priority = 10

    accepts = Accepts(2, tensors=False, roles=(("Attention", *SEQUENCE_MIXERS),))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls):
            return None
        # attention, or a sequence mixer in its place (LFM2's gated short conv)
        attn = [m for m in members if ctx.role(m) in ("Attention", *SEQUENCE_MIXERS)]
        mlp = [m for m in members if ctx.role(m) in FEED_FORWARD_ROLES or feed_forward_list(m)]
        norms = [m for m in members if family(m) == "norm"]
        choices = []
        inline = None  # a feed-forward written into the block (OPT's fc1, fc2): (up, down, act)
        linears = [m for m in members if family(m) == "linear"]
        if not mlp and len(linears) == 2:
            up, down = one_named(linears, UP), one_named(linears, DOWN)
            widens = up is not None and up.io and (up.io.out_width or 0) > (up.io.in_width or 0)
            if up is None or down is None or up is down or not widens:
                return None
            activation = ctx.choose(
                cls,
                up.attr,
                "activation",
                "gelu",
                act.feed_forward("gelu", ctx.resolver),
                "the feed-forward activation",
                aliases=act.ALIASES,
            )
            choices.append(activation)
            inline, mlp = (up.attr, down.attr, activation.value), [up, down]
        if len(attn) != 1 or len(members) != 1 + len(mlp) + len(norms):
            return None
        if not inline and len(mlp) == 2:  # a mixture beside a shared MLP (GraniteMoeShared)
            moe = [m for m in mlp if ctx.role(m) == "MoE"]
            shared = one_named([m for m in mlp if ctx.role(m) == "MLP"], SHARED_MLP)
            if len(moe) != 1 or shared is None:
                return None
            inline, mlp = (moe[0].attr, shared.attr), [moe[0], shared]
        if len(mlp) != (2 if inline else 1):
            return None
        if len(norms) == 2:
            first, second = one_named(norms, FIRST_NORM), one_named(norms, SECOND_NORM)
            if first is None and second is None:  # other names: numbered in order (layernorm1)
                first, second = numbered(norms)
            if first is None or second is None or first is second:
                return None
            layouts = ["pre", "post", "parallel"]
        elif len(norms) == 1 and one_named(norms, SECOND_NORM) and not one_named(norms, FIRST_NORM):
            # dec11: only the feed-forward's norm, named so: the attention reads the stream as it
            # is (ModernBERT's first layer, whose attn_norm is an Identity)
            first, second = _NoNorm(attn[0].attr if attn else ""), norms[0]
            layouts = ["pre"]
        elif len(norms) == 1:
            first = second = norms[0]
            layouts = ["parallel"]
        elif not norms and parameter_free_norm(ctx) is not None:
            first = second = _FreeNorm(attn[0].attr if attn else "")
            layouts = ["pre", "post"]
        else:
            return None
        model_type = ctx.resolver.evidence("model_type")
        default, cite = layouts[0], ""
        measured = convention(model_type[1], "residual") if model_type else None
        if measured in layouts:  # the conventions survey called the family's block
            default, cite = measured, conventions_cite(model_type)
        elif model_type and model_type[1] in POST_TYPES and "post" in layouts:
            default, cite = "post", f"{model_type[0]} {model_type[1]!r}"
        speech = ctx.resolver.evidence("conv_stride")  # a speech encoder over conv features
        if speech is not None and "post" in layouts:  # do_stable_layer_norm (below) says pre
            default, cite = "post", f"{speech[0]}: a speech encoder's layers (wav2vec2's layout)"
        # wav2vec2's do_stable_layer_norm: its pre-norm layers (the post-norm ones otherwise)
        norm_first = ctx.resolver.evidence(
            "do_layer_norm_before", "normalize_before", "do_stable_layer_norm"
        )
        if norm_first is not None and isinstance(norm_first[1], bool) and "post" in layouts:
            default, cite = "pre" if norm_first[1] else "post", norm_first[0]
        # config.json's own word wins (GPT-NeoX and StableLM's use_parallel_residual, Falcon's
        # parallel_attn): attention and feed-forward side by side, or one after the other.
        said = ctx.resolver.evidence(*PARALLEL_KEYS)
        if said is not None and isinstance(said[1], bool) and "parallel" in layouts:
            if said[1]:
                default, cite = "parallel", f"{said[0]} true"
            elif "pre" in layouts:
                default, cite = ("pre" if default == "parallel" else default), f"{said[0]} false"
        # BLOOM's apply_residual_connection_post_layernorm: pre-norm, but each residual add
        # starts from the normed input rather than the input
        normed = ctx.resolver.evidence("apply_residual_connection_post_layernorm")
        if normed is not None and normed[1] is True and default == "pre":
            layouts = layouts + ["pre_normed_residual"]
            default, cite = "pre_normed_residual", f"{normed[0]} true"
        elif model_type and model_type[1] in NORMED_RESIDUAL_TYPES and len(norms) == 2:
            layouts = layouts + ["pre_normed_residual"]  # which the survey reads as "post"
            default, cite = "pre_normed_residual", f"{model_type[0]} {model_type[1]!r}"
        residual = ctx.choose(
            cls,
            first.attr or first.where,
            "residual",
            default,
            [v for v in layouts if v != default],
            "where the norms and residual connections sit",
        )
        if cite and residual.source == "default":
            residual.source, residual.note = "metadata", cite
        masked = ctx.takes(attn[0], "mask")
        choices.insert(0, residual)
        scale, offset = norm_scale(
            ctx, cls, first if first.attr else second if second.attr else None
        )
        choices += scale
        feed = inline or mlp[0].attr
        branch_scale = branch_multiplier(ctx)
        found = (attn[0].attr, feed, first.attr, second.attr, residual.value, masked, offset)
        free = None
        if isinstance(first, _FreeNorm) and not isinstance(first, _NoNorm):
            free = parameter_free_norm(ctx)
        found += (branch_scale, free, ctx.takes(attn[0], "window"))
        found += (ctx.takes(attn[0], ROTARY_TABLE), ctx.takes(attn[0], "index"))
        found += (ctx.takes(attn[0], "bias"),)  # a position bias its caller computed (WavLM)
        # a feed-forward written as a Sequential (CTRL's `ffn`): its activation is a keyless slot,
        # pinned where config.json proves it; left at its default, the block says guessed
        listed = not inline and feed_forward_list(mlp[0])
        pins = act.slot_pins(mlp[0].children[1], ctx.resolver) if listed else []
        return Match(self, len(members), found, choices, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        attn, mlp, first, second, residual, masked, offset, branch_scale, free = match.found[:9]
        x = g.input("x")
        # this layer's sliding window (0: none) where layers differ: the attention's argument
        # the position bias the caller computed for every layer, first (audio11: WavLM)
        bias = (g.input("bias"),) if match.found[12] else ()
        window = (g.input("window", annotation="int"),) if match.found[9] else ()

        def scaled(branch):  # a branch's output, times branch_scale, before its residual add
            if branch_scale is None:
                return branch
            return g.call_function("mul", branch, branch_scale, inline=True)

        def norm(path: str | None, value, **options):
            if path is None and free is None:  # no norm at all there (_NoNorm)
                return value
            if path is None:  # a norm without parameters, so without a key
                return free_norm(g, value, free, **options)
            return apply_norm(g, (path,), value, offset, **options)

        def feed_forward(value, **options):
            if isinstance(mlp, str):
                return g.call_module((mlp,), value, **options)
            if len(mlp) == 2:  # the mixture's output plus the shared MLP's, on the same input
                routed = g.call_module((mlp[0],), value, inline=True)
                return g.call_function("add", routed, g.call_module((mlp[1],), value, **options))
            up, down, activation = mlp
            h = act.apply(g, activation, g.call_module((up,), value, inline=True), inline=True)
            return g.call_module((down,), h, **options)

        # An encoder's attention takes the padding mask: pass it through (and the rotary angles
        # its caller computed, where it reads them).
        # an attention told its layer's place in the stack (differential attention) takes it
        # last, after its mask: then the mask is a required argument that may be None
        indexed = match.found[11]
        optional = {"annotation": "torch.Tensor | None"} if indexed else {"optional": True}
        mask = bias + window + ((g.input("mask", **optional),) if masked else ())
        if match.found[10]:
            mask += (g.input(ROTARY_TABLE, **optional),)
        if indexed:
            mask += (g.input("index", "int"),)
        if residual == "post":
            a = scaled(g.call_module((attn,), x, *mask, inline=True))
            x = norm(first, g.call_function("add", x, a, inline=True))
            y = g.call_function("add", x, scaled(feed_forward(x, inline=True)), inline=True)
            g.output(norm(second, y))
            return
        if residual == "parallel":
            h1 = norm(first, x, name="h", inline=first != second)
            h2 = h1 if first == second else norm(second, x, inline=True)
            a = scaled(g.call_module((attn,), h1, *mask, inline=True))
            y = g.call_function("add", x, a, inline=True)
            g.output(g.call_function("add", y, scaled(feed_forward(h2, inline=True))))
            return
        if residual == "pre_normed_residual":  # each add starts from the normed input
            h = norm(first, x, name="h")
            a = scaled(g.call_module((attn,), h, *mask, inline=True))
            x = g.call_function("add", h, a)
            h = norm(second, x, name="h")
            g.output(g.call_function("add", h, scaled(feed_forward(h, inline=True))))
            return
        a = scaled(g.call_module((attn,), norm(first, x, inline=True), *mask, inline=True))
        x = g.call_function("add", x, a)
        m = scaled(feed_forward(norm(second, x, inline=True), inline=True))
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


# Norms on a branch's output, before its residual add (Gemma 2's sandwich, OLMo-2's post-norm).
# Beside one of these, `post_attention_layernorm` is the attention's output norm, not the MLP's
# input norm as in LLaMA: the set of names decides.
POST_ATTN_NORM = r"post_attention_layernorm|post_attn_norm|post_attention_norm|post_operator_norm"
# ... unless a name that can only mean the attention's output norm is there too (GLM-4's
# post_self_attn_layernorm): then post_attention_layernorm is, as in LLaMA, the MLP's input norm.
ONLY_POST_ATTN_NORM = r"post_self_attn_layernorm|post_self_attention_layernorm"
LLAMA_PRE_FF_NORM = r"post_attention_layernorm"
PRE_FF_NORM = r"pre_feedforward_layernorm|pre_ffn_norm|pre_mlp_layernorm|ffn_norm"  # LFM3's last
POST_FF_NORM = r"post_feedforward_layernorm|post_ffn_norm|post_mlp_layernorm"
# lin11: families whose layers norm only each branch's output (OLMo-2's reordered norms), read
# from their code; OLMo hybrid's checkpoints name the attention's output norm feedforward_layer_norm
REORDERED_TYPES = ("olmo2", "olmo3", "olmo_hybrid")
# Each branch's output norm numbered (HyperCLOVA X's post_norm1, post_norm2).
NUMBERED_POST_NORM = r"post_norm_?\d|post_ln_?\d|post_layernorm_?\d"
PRE_ATTN_NORM = r"input_layernorm|pre_attention_layernorm|ln_1|attention_norm|operator_norm"
FIRST_SCALE = r"layer_scale1|layer_scale_1|ls1|ls_1|layerscale1|gamma_1"
SECOND_SCALE = r"layer_scale2|layer_scale_2|ls2|ls_2|layerscale2|gamma_2"


class LayerScale(BlockPattern):
    """`x * gamma`: a learned per-channel scale on a branch's output (DINOv2's `layer_scale1`,
    timm's `ls1`), a class holding one vector and nothing else, named like one."""

    role = "LayerScale"
    priority = 5

    accepts = Accepts(0, 0, tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        params = tensors(cls)
        if modules(cls) or len(params) != 1 or len(params[0].shape) != 1:
            return None
        scale_name = f"{FIRST_SCALE}|{SECOND_SCALE}|layer_scale|ls"
        if not re.fullmatch(scale_name, cls.named or "") and not re.fullmatch(
            r"lambda1|lambda_1|gamma|scale", params[0].attr
        ):
            return None
        return Match(self, 1, params[0].attr)

    def forward(self, match: Match, g: Graph) -> None:
        g.output(g.call_function("mul", g.input("x"), g.getattr((match.found,))))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class Scale(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.lambda1 = nn.Parameter(torch.rand(16))

            def forward(self, x):
                return x * self.lambda1

        class Holder(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.layer_scale1 = Scale()

            def forward(self, x):
                return self.layer_scale1(x)

        return [Example(Holder(), (torch.randn(2, 5, 16),))]


def _llama_pre_ff_beside_post_attn(norms: list) -> bool:
    """post_attention_layernorm and exactly one other name for the attention's output norm."""
    if one_named(norms, LLAMA_PRE_FF_NORM) is None:
        return False
    others = [m for m in norms if not re.fullmatch(LLAMA_PRE_FF_NORM, m.attr, re.I)]
    return one_named(others, POST_ATTN_NORM) is not None


class SandwichBlock(BlockPattern):
    """`x + post_attn(attn(pre_attn(x)))` then `x + post_ff(mlp(pre_ff(x)))`, each pre norm
    optional: a block with a norm on each branch's output (its names say so, and its count)."""

    role = "Block"
    priority = 11

    accepts = Accepts(2, tensors=False, roles=(("Attention", *SEQUENCE_MIXERS), FEED_FORWARD_ROLES))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls):
            return None
        # attention, or a sequence mixer in its place (LFM3's short conv)
        attn = [m for m in members if ctx.role(m) in ("Attention", *SEQUENCE_MIXERS)]
        mlp = [m for m in members if ctx.role(m) in FEED_FORWARD_ROLES]
        norms = [m for m in members if family(m) == "norm"]
        scales = [m for m in members if ctx.role(m) == "LayerScale"]
        if len(attn) != 1 or len(mlp) != 1 or len(members) != 2 + len(norms) + len(scales):
            return None
        if scales:  # LayerScale on each branch's output (DINOv2, CaiT): pre-norm names
            slots = [one_named(norms, FIRST_NORM), one_named(scales, FIRST_SCALE)]
            slots += [one_named(norms, SECOND_NORM), one_named(scales, SECOND_SCALE)]
            if len(scales) != 2 or len(norms) != 2 or None in slots:
                return None
        elif len([m for m in norms if re.fullmatch(NUMBERED_POST_NORM, m.attr)]) == 2:
            # post norms numbered by branch: post_attention_layernorm is the MLP's input norm
            posts = numbered([m for m in norms if re.fullmatch(NUMBERED_POST_NORM, m.attr)])
            slots = [one_named(norms, PRE_ATTN_NORM), posts[0]]
            slots += [one_named(norms, LLAMA_PRE_FF_NORM), posts[1]]
        elif one_named(norms, ONLY_POST_ATTN_NORM) is not None:
            slots = [one_named(norms, p) for p in (PRE_ATTN_NORM, ONLY_POST_ATTN_NORM)]
            slots += [one_named(norms, p) for p in (LLAMA_PRE_FF_NORM, POST_FF_NORM)]
        elif _llama_pre_ff_beside_post_attn(norms):
            # moe12: post_attention_layernorm beside another attention output norm's name
            # (Kolibri's post_attn_norm, GLM-4's layout): it is, as in LLaMA, the MLP's input norm
            post = [m for m in norms if not re.fullmatch(LLAMA_PRE_FF_NORM, m.attr, re.I)]
            slots = [one_named(norms, PRE_ATTN_NORM), one_named(post, POST_ATTN_NORM)]
            slots += [one_named(norms, p) for p in (LLAMA_PRE_FF_NORM, POST_FF_NORM)]
        else:
            slots = [one_named(norms, p) for p in (PRE_ATTN_NORM, POST_ATTN_NORM)]
            slots += [one_named(norms, p) for p in (PRE_FF_NORM, POST_FF_NORM)]
        guessed = ""
        other = [m for m in norms if m is not slots[3]]
        if slots[3] is not None and len(norms) == 2 and not any(slots[:3]):
            # a norm on the feed-forward's output, and one more named for neither branch's
            # input: OLMo-2's reordered block, whose other norm is the attention's output norm
            # (OLMo hybrid's checkpoints call it feedforward_layer_norm, as olmo-core does)
            slots = [None, other[0], None, slots[3]]
            model_type = ctx.resolver.evidence("model_type")
            if model_type is None or model_type[1] not in REORDERED_TYPES:
                guessed = f"{other[0].attr} read as the attention's output norm (OLMo-2's layout)"
        if slots[3] is None or slots[1] is None:
            return None  # no norm on the feed-forward's output: a pre/post/parallel block
        if len({id(s) for s in slots if s is not None}) != len(norms) + len(scales):
            return None
        choices, offset = norm_scale(ctx, cls, norms[0] if norms else None)
        found = (
            attn[0].attr,
            mlp[0].attr,
            [s.attr if s else None for s in slots],
            offset,
            ctx.takes(attn[0], "mask"),
            [s is not None and s in scales for s in slots],
            ctx.takes(attn[0], "window"),
            branch_multiplier(ctx),
            ctx.takes(attn[0], ROTARY_TABLE),
        )
        return Match(self, len(members) + 1, found, choices, guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        attn, mlp, (pre_a, post_a, pre_f, post_f), offset, masked, scaled, windowed = match.found[
            :7
        ]
        branch_scale = match.found[7]
        x = g.input("x")
        # this layer's sliding window (0: none) where layers differ: the attention's argument
        window = (g.input("window", annotation="int"),) if windowed else ()
        # An encoder's attention takes the padding mask: pass it through (and the rotary angles
        # its caller computed, where it reads them).
        mask = window + ((g.input("mask", optional=True),) if masked else ())
        if match.found[8]:
            mask += (g.input(ROTARY_TABLE, optional=True),)
        for branch, pre, post, extra, layer_scale in (
            (attn, pre_a, post_a, mask, scaled[1]),
            (mlp, pre_f, post_f, (), scaled[3]),
        ):
            h = apply_norm(g, (pre,), x, offset, inline=True) if pre else x
            h = g.call_module((branch,), h, *extra, inline=True)
            if layer_scale:
                h = g.call_module((post,), h, inline=True)
            else:
                h = apply_norm(g, (post,), h, offset, inline=True)
            if branch_scale is not None:  # config.json residual_multiplier
                h = g.call_function("mul", h, branch_scale, inline=True)
            x = g.call_function("add", x, h)
        g.output(x)

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.families._examples import modules

        import torch.nn as nn

        m = modules()
        block = m["holder"](m["post_norm_block"]())

        class Sandwich(nn.Module):  # moe12: Kolibri's names, post_attention_layernorm pre-MLP
            def __init__(self, d: int = 16) -> None:
                super().__init__()
                self.self_attn, self.mlp = m["attention"](d), m["mlp"](d)
                self.input_layernorm, self.post_attn_norm = nn.LayerNorm(d), nn.LayerNorm(d)
                self.post_attention_layernorm = nn.LayerNorm(d)
                self.post_ffn_norm = nn.LayerNorm(d)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                x = x + self.post_attn_norm(self.self_attn(self.input_layernorm(x)))
                return x + self.post_ffn_norm(self.mlp(self.post_attention_layernorm(x)))

        with torch.no_grad():  # norms that are not the identity, so a swapped one shows
            sandwich = Sandwich()
            for norm in (sandwich.post_attn_norm, sandwich.post_attention_layernorm):
                norm.weight.uniform_(0.5, 1.5)
                norm.bias.normal_()
        config = {"n_head": 2, "hidden_act": "gelu"}
        inputs = (torch.randn(2, 5, 16),)
        return [Example(block, inputs, config), Example(m["holder"](sandwich), inputs, config)]
