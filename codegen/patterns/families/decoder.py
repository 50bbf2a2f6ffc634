"""Decoder-only language models (GPT-2, LLaMA, Mistral, Qwen2, GPT-NeoX...): the stack of blocks
over token embeddings (plus learned positions where there is a table), and the LM head on top.

`Transformer`: `input_ids` -> embeddings -> blocks -> final norm -> hidden states.
`CausalLM`: the Transformer, then `lm_head` (or the token embedding itself, when config.json says
the head is tied to it and the checkpoint stores it once) -> logits over the vocabulary.
"""

from __future__ import annotations

import re
import struct
from typing import ClassVar

from codegen.ir import ExampleInput
from codegen.ir.graph import Graph
from codegen.patterns._decoder_conventions import cite as conventions_cite
from codegen.patterns._decoder_conventions import convention
from codegen.patterns.blocks.attention import window_plan
from codegen.patterns.blocks.encoder_layer import MEMORY
from codegen.patterns._norm_evidence import lone_weight_norm_pins
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    apply_norm,
    family,
    free_norm,
    modules,
    norm_scale,
    not_run,
    one_named,
    other_modality,
    parameter_free_norm,
    stack,
    tensors,
)

TOKENS = r"wte|embed_tokens|word_embeddings|tok_embeddings|token_embedding|embed_in|tok_emb|wte"
POSITIONS = r"wpe|position_embeddings|embed_positions|pos_emb|pos_embedding|position_embedding"
FINAL_NORM = r"ln_f|norm|final_layer_norm|final_layernorm|norm_f|ln_out|final_norm|layer_norm"
# A norm right after the token embedding (BLOOM).
EMBED_NORM = r"word_embeddings_layernorm|embed_layer_norm|embed_norm|emb_ln|ln_emb|embedding_norm"
HEAD = r"lm_head|embed_out|output|head"
# Projections between a token table narrower (or wider) than the blocks and the blocks' width, in
# and back out (OPT-350m's word_embed_proj_dim, fairseq's project_in_dim / project_out_dim); or
# only in, where nothing reads the table's width after the blocks (CSM's depth decoder's
# inputs_embeds_projector from the backbone's width to its own).
PROJECT_IN = r"project_in|project_in_dim|proj_in|embed_proj|emb_proj|(inputs_)?embeds?_projector"
PROJECT_OUT = r"project_out|project_out_dim|proj_out|output_projection_in"
# Families that scale token embeddings by sqrt(d_model) before the first block, where the
# conventions survey could not measure it (CTRL's sinusoidal positions are added before the block).
SCALED_EMBEDDING_TYPES = ("ctrl",)
# Families whose library keeps that sqrt(d_model) as a bfloat16 buffer (RecurrentGemma's
# `normalizer`): the factor is the rounded value, whatever the weights' dtype.
BFLOAT16_SCALE_TYPES = ("recurrent_gemma",)
# What the conventions survey measured the first block's input to be where nothing normalises
# the token embeddings before it.
UNNORMED_EMBEDDINGS = ("none", "sqrt_d_model", "* embedding_multiplier")
# Settings of heads on the body (ModernBERT's prediction head's activation): moot in a model that
# holds no head (dec11).
HEAD_ONLY_KEYS = ("classifier_activation",)
# A body's inputs for an encoder's states and which of them to attend to (a decoder LM given
# cross-attention), after its attention mask.
CROSS_INPUTS = ("encoder_hidden_states", "encoder_attention_mask")
# Families whose learned position table keeps its first rows unused: position i is row i + offset.
POSITION_OFFSETS = {"opt": 2, "biogpt": 2}
# Families whose positions are fixed sines and cosines, not in the checkpoint: the helper that
# computes them (fairseq's tensor2tensor layout; all sines then all cosines at 10000 ** (-2i / d),
# CTRL's), and the row of position 0.
SINUSOIDAL_POSITION_TYPES = {"xglm": ("fairseq_positions", 2), "ctrl": ("sinusoidal_positions", 0)}


def token_embedding(cls, classes: dict) -> tuple[str, ...] | None:
    """The path of a class's token embedding, by name; through a wrapper (OPT's `decoder`) too."""
    members = modules(cls)
    embeddings = [m for m in members if family(m) == "embedding"]
    m = one_named(embeddings, TOKENS) or only(embeddings, "vocab")
    if m is not None:
        return (m.attr,)
    if len(members) == 1 and members[0].kind == "class" and members[0].type_name in classes:
        inner = token_embedding(classes[members[0].type_name], classes)
        return (members[0].attr, *inner) if inner else None
    return None


def _ids_embeddings(ctx: BlockContext, members: list):
    """The one member that is a text-embeddings class taking `input_ids` alone, or None."""
    found = [m for m in members if m.kind == "class" and ctx.role(m) == "TextEmbeddings"]
    cls = ctx.classes.get(found[0].type_name) if len(found) == 1 else None
    graph = cls.forward.graph if cls is not None and cls.forward is not None else None
    if graph is None or [n.target for n in graph.inputs] != ["input_ids"]:
        return None
    return found[0]


def projections(members: list, tokens) -> tuple:
    """(in, out): the Linear from the token table's width to the blocks' and the one back, by
    name and widths; (in, None) where nothing else reads the table's width; (None, None) unless
    they are there and their widths agree."""
    linears = [m for m in members if family(m) == "linear" and m.io]
    into, back = one_named(linears, PROJECT_IN), one_named(linears, PROJECT_OUT)
    width = tokens.io.out_width if tokens is not None and tokens.io else None
    if into is not None and back is None and width is not None and into.io.in_width == width:
        heads = [m for m in members if family(m) == "linear" and m.io and m is not into]
        if not any(m.io.in_width == width for m in heads):  # nothing reads the table's width
            return into, None
    if into is None or back is None or width is None:
        return None, None
    if into.io.in_width != width or back.io.out_width != width:
        return None, None
    if into.io.out_width != back.io.in_width:
        return None, None
    return into, back


def only(embeddings: list, rows: str):
    """The one embedding whose rows count `rows` (vocab, positions, types), else None."""
    found = [m for m in embeddings if m.args and m.args[0].role == rows]
    return found[0] if len(found) == 1 else None


def layer_stack(ctx: BlockContext, m) -> tuple[list, int] | None:
    """A decoder's layers, as (each distinct Block class's member, how many layers): a repeat of
    one class, or a list of Block classes applied in turn (GLM-4-MoE's dense first layers before
    its mixture-of-experts ones); None for anything else."""
    if stack(m) is not None:
        return ([stack(m)[0]], stack(m)[1]) if ctx.role(stack(m)[0]) == "Block" else None
    if m.kind not in ("modulelist", "sequential") or len(m.children) < 2:
        return None
    distinct, count = {}, 0
    for child in m.children:
        item, n = stack(child) or (child, 1)
        if item.kind != "class" or ctx.role(item) != "Block":
            return None
        distinct.setdefault(item.type_name, item)
        count += n
    return list(distinct.values()), count


def post_norm_pins(ctx: BlockContext, block) -> list[tuple[str, str, str, str]]:
    """A decoder stack with no norm after its blocks (nor after the embeddings): in a pre-norm
    stack the residual stream would reach the head unnormalised, so each block normalises its
    own output (OpenAI GPT). Pins a block `residual` choice that was left at its default."""
    cls = ctx.classes.get(block.type_name) if block.kind == "class" else None
    forward = cls.forward if cls is not None else None
    for c in forward.choices if forward is not None else []:
        if c.name == "residual" and c.source == "default" and "post" in c.alternatives:
            why = "no norm follows the decoder's blocks"
            return [(c.path, "residual", "post", why)]
    return []


def final_free_norm(ctx: BlockContext, blocks: list):
    """A norm without parameters after pre-norm blocks (none after post-norm ones, nor where
    config.json removes it: OPT's _remove_final_layer_norm)."""
    free = parameter_free_norm(ctx)
    removed = ctx.resolver.evidence("_remove_final_layer_norm")
    if free is None or (removed is not None and removed[1] is True):
        return None
    for b in blocks:
        cls = ctx.classes.get(b.type_name) if b.kind == "class" else None
        for c in cls.forward.choices if cls is not None and cls.forward else []:
            if c.name == "residual" and c.value == "post":
                return None
    return free


def _scale_width(width: int, model_type) -> int | float:
    """What token embeddings are scaled by the square root of: the width, or, for a family whose
    library keeps sqrt(width) in bfloat16, that rounded root itself (a float)."""
    if model_type is None or model_type[1] not in BFLOAT16_SCALE_TYPES:
        return width
    bits = struct.unpack(">I", struct.pack(">f", width**0.5))[0]
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000  # round to nearest even
    return struct.unpack(">f", struct.pack(">I", bits))[0]


def config_factor(ctx: BlockContext, *keys: str) -> tuple[float, str] | None:
    """A constant factor config.json gives (Granite's embedding_multiplier, logits_scaling,
    MiniCPM's scale_emb), with its citation; None where there is none or it is 1."""
    found = ctx.resolver.evidence(*keys)
    if found is None or type(found[1]) not in (int, float) or found[1] == 1:
        return None
    return float(found[1]), f"{found[0]} {found[1]}"


def logit_divisor(ctx: BlockContext) -> tuple[float, str] | None:
    """What the last hidden state is divided by before the head: config.json's logits_scaling,
    or MiniCPM's muP width ratio hidden_size / dim_model_base."""
    found = config_factor(ctx, "logits_scaling")
    base = ctx.resolver.evidence("dim_model_base") if found is None else None
    width = ctx.resolver.evidence("hidden_size") if base is not None else None
    if base is None or width is None or type(base[1]) not in (int, float) or base[1] <= 0:
        return found
    if type(width[1]) is not int or width[1] == base[1]:
        return found
    return width[1] / base[1], f"{width[0]} {width[1]} / {base[0]} {base[1]}"


Factor = tuple[float, str] | None  # a constant and its citation


def logit_transforms(ctx: BlockContext) -> tuple[Factor, Factor, Factor]:
    """What config.json does to a causal LM's logits: (divisor, soft cap, factor)."""
    # the survey measured which way a family applies its logit factor (Granite divides by
    # logits_scaling, HyperCLOVA X multiplies, Cohere multiplies by logit_scale); a type it
    # did not measure divides, as Granite does
    model_type = ctx.resolver.evidence("model_type")
    measured = convention(model_type[1], "logits") if model_type else None
    divisor = factor = None
    if measured in ("* logits_scaling", "* logit_scale"):
        factor = config_factor(ctx, measured[2:])
    elif measured is None or measured == "/ logits_scaling":
        divisor = logit_divisor(ctx)
    if factor is None:  # Falcon-H1's muP factor on the logits
        factor = config_factor(ctx, "lm_head_multiplier")
    cap = config_factor(ctx, "final_logit_softcapping", "logits_soft_cap")  # RecurrentGemma's
    return divisor, cap, factor


def apply_logit_transforms(g: Graph, logits, divisor: Factor, cap: Factor, factor: Factor):
    """The logits divided, multiplied and soft-capped as logit_transforms found."""
    if divisor is not None:
        logits = g.call_function("truediv", logits, divisor[0], comment=f"divided by {divisor[1]}")
    if factor is not None:
        logits = g.call_function("mul", logits, factor[0], comment=f"times {factor[1]}")
    if cap is not None:  # soft-capped to (-cap, cap)
        capped = g.call_function("tanh", g.call_function("truediv", logits, cap[0], inline=True))
        logits = g.call_function("mul", capped, cap[0], comment=f"soft cap {cap[1]}")
    return logits


class Transformer(BlockPattern):
    role = "Transformer"
    priority = 10
    accepts = Accepts(tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        # members of another modality (Phi-4-multimodal's image and audio embeddings, merged
        # into the token embeddings where their inputs are given): a text forward does not run them
        # (a projector of the token embeddings themselves is this model's own: PROJECT_IN)
        modal = [
            m
            for m in modules(cls)
            if other_modality(m, ctx) and not re.fullmatch(PROJECT_IN, m.attr, re.I)
        ]
        members = [m for m in modules(cls) if m not in modal]
        if tensors(cls):
            return None
        embeddings = [m for m in members if family(m) == "embedding"]
        # By name, else by what the rows are (the Embedding pattern tells positions and token
        # types from tokens): OpenAI GPT's tokens_embed / positions_embed, any other spelling.
        tokens = one_named(embeddings, TOKENS) or only(embeddings, "vocab")
        # dec11: or an embeddings class that reads the ids alone (ModernBERT's tokens then norm)
        whole = tokens is None and (tokens := _ids_embeddings(ctx, members)) is not None
        others = [m for m in embeddings if m is not tokens]
        positions = one_named(others, POSITIONS) or only(others, "positions")
        # the layers: a repeat of one Block class, or a list holding a single one (a one-layer model),
        # or a list of Block classes that differ (dense and mixture-of-experts layers)
        blocks = [m for m in members if layer_stack(ctx, m) is not None]
        norms = [m for m in members if family(m) == "norm"]
        embed_norm = one_named(norms, EMBED_NORM)
        rest = [m for m in norms if m is not embed_norm]
        # the one norm beside the blocks is the final one, whatever its name (CTRL's layernorm),
        # unless its name ties it to the embeddings (then nothing here says where it applies)
        norm = one_named(rest, FINAL_NORM)
        if norm is None and len(rest) == 1 and not re.search("emb", rest[0].attr, re.I):
            norm = rest[0]
        # an LM head in the same class (minGPT's `head`): the one Linear back to the vocabulary
        vocab = tokens.io.vocab if tokens is not None and tokens.io else None
        heads = [m for m in members if family(m) == "linear" and m.io and m.io.out_width == vocab]
        head = heads[0] if len(heads) == 1 and vocab else None
        project_in, project_out = projections(members, tokens)
        used = [m for m in (tokens, positions, embed_norm, norm, head) if m is not None] + blocks
        used += [m for m in (project_in, project_out) if m is not None]
        if (tokens is None or positions is None) and len(blocks) == 1:
            if len(used) + 1 == len(members):
                return self._table_as_linear(cls, members, used)
        if tokens is None or len(blocks) != 1 or len(used) != len(members):
            return None
        model_type = ctx.resolver.evidence("model_type")
        scaled = model_type is not None and model_type[1] in SCALED_EMBEDDING_TYPES
        cite = f"{model_type[0]} {model_type[1]!r}" if model_type else ""
        measured = convention(model_type[1], "embedding_scale") if model_type else None
        if embed_norm is not None and norm is None and measured in UNNORMED_EMBEDDINGS:
            # the survey saw the first block read the table's rows as they are: a norm named for
            # the embeddings is the one after the blocks (LFM2's embedding_norm)
            norm, embed_norm = embed_norm, None
        if measured in ("none", "sqrt_d_model", "* embedding_multiplier", "normed"):
            scaled, cite = measured == "sqrt_d_model", conventions_cite(model_type)
        # fairseq-style decoders (BioGPT, XGLM) say it: scale_embedding true is sqrt(d_model);
        # so does AFMoE's mup_enabled (muP's input scaling, its only use in the code; moe10)
        said = ctx.resolver.evidence("scale_embedding", "mup_enabled")
        if said is not None and isinstance(said[1], bool):
            scaled, cite = said[1], f"{said[0]} {str(said[1]).lower()}"
        if whole:  # the embeddings class computes its own output
            scaled, cite = False, "the embeddings class's own forward"
        scale = ctx.choose(
            cls,
            tokens.attr,
            "embedding_scale",
            "sqrt_d_model" if scaled else "none",
            ["none" if scaled else "sqrt_d_model"],
            "token embeddings times sqrt(d_model)",
        )
        if cite and scale.source == "default":
            scale.source, scale.note = "metadata", cite
        choices = [scale]
        width = tokens.io.out_width if tokens.io else None
        if scale.value == "sqrt_d_model" and width is None:
            return None
        scales, offset = norm_scale(ctx, cls, norm)
        choices += scales
        first_row = 0
        if positions is not None:
            known = POSITION_OFFSETS.get(model_type[1], 0) if model_type else 0
            row = ctx.choose(
                cls,
                positions.attr,
                "position_offset",
                known,
                [v for v in (0, 2) if v != known],
                "the table row of position 0",
                accepts="index",
            )
            if model_type is not None and row.source == "default":
                row.source, row.note = "metadata", f"{model_type[0]} {model_type[1]!r}"
            choices.append(row)
            first_row = int(row.value)
        kinds_of_block, layers = layer_stack(ctx, blocks[0])
        if any(ctx.takes(b, "positions") for b in kinds_of_block):
            return None  # layers given relative positions' sinusoids (a Conformer's): not called so
        masked = {ctx.takes(b, "mask") for b in kinds_of_block}
        # blocks given cross-attention (GPT-2's add_cross_attention): the encoder's states
        crossed = {ctx.takes(b, MEMORY) for b in kinds_of_block}
        windowed = {ctx.takes(b, "window") for b in kinds_of_block}
        indexed = {ctx.takes(b, "index") for b in kinds_of_block}  # told their place (DiffLlama)
        if len(masked) != 1 or len(windowed) != 1 or len(indexed) != 1 or len(crossed) != 1:
            return None  # the layers must be called alike
        if crossed == {True} and (windowed == {True} or indexed == {True}):
            return None  # not met yet: cross-attending layers told a window or their place
        if indexed == {True} and windowed == {True}:
            return None  # not met yet: a window and an index for each layer
        windows = None  # each layer's sliding window (0: none), where they differ
        if windowed == {True}:
            windows = window_plan(ctx)
            kinds = ctx.resolver.evidence_list("layer_types", "attention_layers")
            if not isinstance(windows, tuple) or len(windows) != layers or not kinds:
                return None
            windows = (windows, kinds[0])
        fixed = None  # sinusoidal positions computed in the forward: (first row, width)
        if positions is None and model_type and model_type[1] in SINUSOIDAL_POSITION_TYPES:
            if width is None:
                return None
            fixed = (*SINUSOIDAL_POSITION_TYPES[model_type[1]], width)
        if cls.is_top and head is None:  # dec11: a head's settings, moot with no head held
            ctx.resolver.consumed.update(HEAD_ONLY_KEYS)
        pins = lone_weight_norm_pins(ctx, cls)
        if norm is None and embed_norm is None:
            pins += [p for b in kinds_of_block for p in post_norm_pins(ctx, b)]
        found = (
            tokens.attr,
            (positions.attr, first_row) if positions else None,
            blocks[0].attr,
            norm.attr if norm else None,
            _scale_width(width, model_type) if scale.value == "sqrt_d_model" else None,
            offset,
            embed_norm.attr if embed_norm else None,
            masked == {True},
            # where the survey measured none, the family ignores the key (then reported unused)
            config_factor(ctx, "embedding_multiplier", "scale_emb") if measured != "none" else None,
            final_free_norm(ctx, kinds_of_block) if norm is None else None,
            fixed,
            windows,
            head.attr if head is not None else None,
        )
        # a norm without parameters on the embeddings, before the first block (NanoChat's)
        free_first = None
        if measured == "normed" and not embed_norm and not whole:
            free_first = parameter_free_norm(ctx)
        found += (free_first, indexed == {True})
        found += (
            project_in.attr if project_in else None,
            project_out.attr if project_out else None,
            tuple(m.attr for m in modal),
            crossed == {True},
        )
        guessed = not_run(modal, ctx)
        return Match(self, len(members) + len(modal), found, choices, pins=pins, guessed=guessed)

    def _table_as_linear(self, cls, members, used) -> Match | None:
        """A stack of blocks beside one bias-free 2-D weight the shapes left a Linear (CTRL's `w`,
        a `pos_table`): the token table, or else the position table, of a body that reads token
        ids. Pin it an Embedding, and run again."""
        (table,) = [m for m in members if not any(m is u for u in used)]
        kind = next((c for c in table.choices if c.name == "module_type"), None)
        if family(table) != "linear" or kind is None or kind.source != "default":
            return None
        if "nn.Embedding" not in kind.alternatives:
            return None
        why = "a decoder's table beside its blocks, looked up by index"
        return Match(
            self,
            len(members),
            None,
            missing=f"the table {table.attr}: read as a Linear",
            pins=[(kind.path, "module_type", "nn.Embedding", why)],
        )

    def forward(self, match: Match, g: Graph) -> None:
        tokens, positions, blocks, norm, scale_width, offset, embed_norm, masked = match.found[:8]
        multiplier, free, fixed, windows, head, free_first, indexed = match.found[8:15]
        project_in, project_out, modal, crossed = match.found[15:]
        paired = {"each_index": True} if indexed else {}
        if windows:
            paired = {
                "each_paired": ("window", windows[0]),
                "comment": windows[1],  # 0: no window
            }
        ids = g.input("input_ids")
        # 1 for tokens to attend to, 0 for padding ([batch, seq]); None attends to every token.
        attention_mask = g.input("attention_mask", optional=True) if masked else None
        x = g.call_module((tokens,), ids, comment="[batch, seq, d_model]")
        if isinstance(scale_width, float):  # sqrt(d_model) as the library rounds it
            x = g.call_function(
                "mul", x, scale_width, comment="scaled by sqrt(d_model), rounded to bfloat16"
            )
        elif scale_width is not None:
            root = g.call_function("sqrt", scale_width, inline=True)
            x = g.call_function("mul", x, root, comment="scaled by sqrt(d_model)")
        if multiplier is not None:
            x = g.call_function("mul", x, multiplier[0], comment=f"times {multiplier[1]}")
        if project_in is not None:
            x = g.call_module((project_in,), x, comment="to the blocks' width")
        if positions is not None:
            table, first_row = positions
            seq = g.call_method("size", ids, 1, inline=True)
            device = g.call_method("device", ids, inline=True)
            pos = g.call_function(
                "arange", seq, kwargs={"device": device}, name="positions", inline=bool(first_row)
            )
            if first_row:
                pos = g.call_function(
                    "add", pos, first_row, name="positions", comment="the table's first rows unused"
                )
            x = g.call_function("add", x, g.call_module((table,), pos, inline=True))
        if fixed is not None:  # fixed sines and cosines: nothing in the checkpoint
            helper, first_row, width = fixed
            seq = g.call_method("size", ids, 1, inline=True)
            device = g.call_method("device", ids, inline=True)
            rows = (first_row,) if helper == "fairseq_positions" else ()
            table = g.call_function(helper, seq, width, *rows, device, inline=True)
            where = f" from row {first_row}" if rows else ""
            x = g.call_function("add", x, table, comment=f"sinusoidal positions{where}")
        if embed_norm is not None:
            x = g.call_module((embed_norm,), x)
        elif free_first is not None:
            x = free_norm(g, x, free_first, comment=f"no parameters ({free_first[1]})")
        states = ()
        if crossed:  # the encoder's states the blocks' cross-attention reads, where given
            memory = g.input("encoder_hidden_states", optional=True)
            memory_mask = g.input("encoder_attention_mask", optional=True)  # 1: attend
            memory_mask = g.call_function("padding_mask", memory_mask, name="memory_mask")
            states = (memory, memory_mask)
        if masked:
            mask = g.call_function("padding_mask", attention_mask, name="mask")
            x = g.call_module((blocks,), x, mask, *states, each=True, **paired)
        else:
            x = g.call_module((blocks,), x, *states, each=True, **paired)
        if norm is not None:
            x = apply_norm(g, (norm,), x, offset)
        elif free is not None:
            x = free_norm(g, x, free, comment=f"no parameters ({free[1]})")
        if project_out is not None:
            x = g.call_module((project_out,), x, comment="back to the token table's width")
        said = f"; {', '.join(modal)}: not run" if modal else ""
        if head is not None:
            g.output(g.call_module((head,), x), comment=f"[batch, seq, vocab_size]{said}")
            return
        g.output(x, comment=said[2:])

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.families._examples import modules

        return [
            Example(
                modules()["lm"](),
                (torch.randint(0, 50, (2, 7)),),
                {"n_head": 2, "hidden_act": "gelu"},
            )
        ]


# The library's encoder-decoders assembled from two whole models: their `decoder` member is always
# built as a causal LM (AutoModelForCausalLM.from_config), whatever its own config's architectures.
COMPOSED_TYPES = ("encoder-decoder", "vision-encoder-decoder", "speech-encoder-decoder")


def composed_decoder(ctx: BlockContext, cls) -> str:
    """Where `cls` is such a composite's `decoder` member itself: the citation, else ""."""
    whole = ctx.resolver.whole.get("model_type")
    tower = ctx.resolver.tower or ""
    if whole is None or whole[1] not in COMPOSED_TYPES or tower.split(":")[-1] != "decoder":
        return ""
    if not cls.instances or any(path != "decoder" for path, _ in cls.instances):
        return ""
    return f"config.json model_type {whole[1]!r}: its decoder is a causal LM"


class TransformerWrapper(BlockPattern):
    """A class holding only the Transformer (OPT's `model.decoder`): it passes the ids through."""

    role = "Transformer"
    priority = 5

    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 1 or members[0].kind != "class":
            return None
        choices, tied = [], None
        body_cls = ctx.classes.get(members[0].type_name)
        embedding = token_embedding(body_cls, ctx.classes) if body_cls else None
        composed = composed_decoder(ctx, cls)
        inputs = None  # the body's own inputs, passed through, where it is not a Transformer's
        if ctx.role(members[0]) != "Transformer":
            # a composite's decoder over another decoder body (TrOCR's, a seq2seq decoder
            # stack reading the encoder's states): the body's hidden states, then the head
            graph = body_cls.forward.graph if body_cls and body_cls.forward else None
            if not composed or embedding is None or graph is None:
                return None
            inputs = [
                (n.target, n.annotation.removesuffix(" | None"), n.optional) for n in graph.inputs
            ]
            if not inputs or inputs[0][0] != "input_ids" or graph.returns != "torch.Tensor":
                return None
        if embedding is not None and composed:
            tie = ctx.resolver.evidence("tie_word_embeddings")
            if tie is not None and tie[1] is False:
                return None  # an untied head would be stored: not this wrapper
            tied = embedding  # the library's composite builds it with AutoModelForCausalLM
            if (ctx.resolver.metadata.get("is_decoder") or (None, None))[1] is True:
                ctx.resolver.evidence("is_decoder")  # as the composite sets it: a decoder's
        elif embedding is not None and ctx.resolver.evidence("architectures") is None:
            # Without a config, whether a head tied to the token embedding sat on top (GPT-2's
            # LMHeadModel stores no lm_head) is not in the weights: a choice calibration can settle.
            c = ctx.choose(
                cls, embedding[-1], "tied_head", False, [True], "logits from the token embedding"
            )
            choices.append(c)
            tied = embedding if c.value else None
        found = (members[0].attr, ctx.takes(members[0], "attention_mask"), tied)
        found += (tuple(n for n in CROSS_INPUTS if ctx.takes(members[0], n)), inputs)
        return Match(self, 1, found, choices)

    def forward(self, match: Match, g: Graph) -> None:
        body, masked, tied, crossed, inputs = match.found
        if inputs is not None:  # every input of the body, as it names them
            args = [g.input(name, annotation, optional) for name, annotation, optional in inputs]
        else:
            args = [g.input("input_ids")]
            if masked:
                args.append(g.input("attention_mask", optional=True))
            args += [g.input(name, optional=True) for name in crossed]  # an encoder's states
        if tied is None:
            g.output(g.call_module((body,), *args))
            return
        x = g.call_module((body,), *args, comment="[batch, seq, d_model]")
        weight = g.getattr((body, *tied, "weight"))
        g.output(g.call_function("linear", x, weight), comment="the head tied to the embedding")

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.families._examples import modules

        m = modules()
        return [
            Example(
                m["holder"](m["lm"]().transformer),
                (torch.randint(0, 50, (2, 7)),),
                {"n_head": 2, "hidden_act": "gelu"},
            )
        ]


class HeadBias(BlockPattern):
    """A head that stores only its bias (its weight tied to the token table, so not saved): it
    adds the bias to the logits the causal LM computes with the table."""

    role = "HeadBias"
    priority = 5
    named = HEAD

    accepts = Accepts(0, 0, tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        params = tensors(cls)
        if modules(cls) or len(params) != 1 or params[0].attr != "bias":
            return None
        if not re.fullmatch(HEAD, cls.named or "", re.IGNORECASE):
            return None
        return Match(self, 1, None) if len(params[0].shape) == 1 else None

    def forward(self, match: Match, g: Graph) -> None:
        g.output(g.call_function("add", g.input("x"), g.getattr(("bias",))))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        from codegen.patterns.families._examples import modules

        class Bias(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.bias = nn.Parameter(torch.randn(50))

        class TiedLM(nn.Module):  # CTRL's head: only its bias is stored
            def __init__(self) -> None:
                super().__init__()
                self.transformer, self.lm_head = modules()["lm"]().transformer, Bias()

            def forward(self, ids):
                x = self.transformer(ids)
                return F.linear(x, self.transformer.wte.weight, self.lm_head.bias)

        config = {"n_head": 2, "hidden_act": "gelu", "architectures": ["TiedLMHeadModel"]}
        return [Example(TiedLM(), (torch.randint(0, 50, (2, 7)),), config)]


def _vocabulary(ctx: BlockContext, head) -> int | None:
    """The vocabulary size config.json gives, where a head predicts over it (every token's logits,
    not a pooled token's labels)."""
    vocab = ctx.resolver.evidence("vocab_size") if head is not None and head.io else None
    return vocab[1] if vocab is not None and head.io.out_width == vocab[1] else None


class CausalLM(BlockPattern):
    role = "CausalLM"
    priority = 10
    body: ClassVar[str] = "Transformer"  # the role of the body it holds

    accepts = Accepts(1, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or not 1 <= len(members) <= 2:
            return None
        body = [m for m in members if ctx.role(m) == self.body]
        head = one_named([m for m in members if family(m) == "linear"], HEAD)
        # a head that stores only its bias, its weight the token table (CTRL's lm_head)
        bias = one_named([m for m in members if ctx.role(m) == "HeadBias"], HEAD)
        vocab = None
        if self.body == "EncoderModel":  # a text encoder's, under a head over the vocabulary
            vocab = _vocabulary(ctx, head)
            body = [m for m in members if ctx.role(m) == "EncoderModel"] if vocab else []
            body = body if len(body) == 1 and ctx.takes(body[0], "input_ids") else []
        if len(body) != 1 or len(members) != 1 + (head is not None or bias is not None):
            return None
        tied, choices = None, []
        if head is None:
            arch = ctx.resolver.evidence("architectures")
            tie = ctx.resolver.evidence("tie_word_embeddings")
            body_cls = ctx.classes.get(body[0].type_name)
            if not (arch and re.search(r"CausalLM|LMHeadModel", str(arch[1]))):
                return None  # no evidence of a head: TransformerWrapper offers it as a choice
            if (tie is not None and tie[1] is False) or body_cls is None:
                return None
            tied = token_embedding(body_cls, ctx.classes)
            if tied is None:
                return None
        masked = ctx.takes(body[0], "attention_mask")
        divisor, cap, factor = logit_transforms(ctx)
        found = (body[0].attr, head.attr if head else None, tied, masked, divisor, cap, factor)
        # a body that cross-attends to an encoder's states where given: passed on, in its order
        crossed = tuple(n for n in CROSS_INPUTS if ctx.takes(body[0], n))
        found += (bias.attr if bias else None, crossed, vocab)
        return Match(self, len(members) + 1, found, choices)

    def forward(self, match: Match, g: Graph) -> None:
        body, head, tied, masked, divisor, cap, factor, bias = match.found[:8]
        args = [g.input("input_ids")]
        if masked:  # 1 for tokens to attend to, 0 for padding ([batch, seq])
            args.append(g.input("attention_mask", optional=True))
        args += [g.input(name, optional=True) for name in match.found[8]]
        x = g.call_module((body,), *args, comment="[batch, seq, d_model]")
        scaled = divisor is not None or cap is not None or factor is not None
        if head is not None:
            logits = g.call_module((head,), x, inline=scaled)
        elif tied is None:  # the body alone
            g.output(x)
            return
        else:
            g[x].comment = "[batch, seq, d_model]; the head is the token embedding (tied)"
            weight = g.getattr((body, *tied, "weight"))
            logits = g.call_function("linear", x, weight, inline=scaled or bias is not None)
            if bias is not None:
                logits = g.call_module((bias,), logits, inline=scaled, comment="plus its bias")
        logits = apply_logit_transforms(g, logits, divisor, cap, factor)
        g.output(logits, comment="[batch, seq, vocab_size]" if head is not None else "")

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.families._examples import modules

        return [
            Example(
                modules()["lm"](),
                (torch.randint(0, 50, (2, 7)),),
                {"n_head": 2, "hidden_act": "gelu"},
            )
        ]


class EncoderLM(CausalLM):
    """A text encoder's body under a head over the vocabulary config.json gives (GIT's `output`
    on its BERT-shaped captioner): the logits of every token, as the causal LM's are; whether the
    tokens see later ones is the body's (its EncoderModel's causal mask)."""

    body = "EncoderModel"

    def example_inputs(self, match: Match, cls) -> list[ExampleInput]:
        return [ExampleInput((2, 16), vocab=match.found[-1])]

    @staticmethod
    def examples():
        import torch.nn as nn

        from codegen.patterns.blocks.encoder_layer import _example

        bert = _example("bert")

        class Captioner(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.body, self.output = bert.module, nn.Linear(16, 50)

            def forward(self, ids, attention_mask):
                return self.output(self.body(ids, attention_mask))

        return [Example(Captioner(), bert.inputs, {**bert.metadata, "vocab_size": 50})]
