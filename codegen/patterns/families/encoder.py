"""Encoder-only transformers (BERT, RoBERTa, ELECTRA, DistilBERT, ViT): embeddings, a stack of
bidirectional layers that take a padding mask, an optional final norm; the last hidden state out.

`TextEmbeddings`: token + position (+ segment) embeddings, then a norm. RoBERTa-style models number
positions after the padding index, skipping padding (config.json's model_type says which).
`PatchEmbedding` / `VisionEmbeddings`: ViT's patches as tokens, a class token, learned positions.
`Encoder`: the layers in turn, each given the mask. `EncoderModel`: the whole; a text model takes
`input_ids` and an optional `attention_mask` (1 attend, 0 padding) and `token_type_ids`.
"""

from __future__ import annotations

import re


from codegen.ir import EXAMPLE_SIDE, ExampleInput
from codegen.ir.graph import Graph, Slice
from codegen.patterns._position_conventions import SURVEYED as SURVEYED_PADDED_POSITIONS
from codegen.patterns._post_norm_conventions import POOLED, SEQUENCE
from codegen.patterns.blocks._conv_parts import conv_kernel
from codegen.patterns.blocks.attention import ROPE_KEYS, ROTARY_TABLE_TYPES, ROTARY_TYPES
from codegen.patterns.blocks.encoder_layer import MEMORY, MEMORY_MASK, ROTARY_TABLE
from codegen.patterns.blocks._rope_scaling import axial_rope
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    family,
    modules,
    not_run,
    one_named,
    other_modality,
    stack,
    tensors,
)

TOKENS = r"word_embeddings|wte|embed_tokens|tok_embeddings|token_embedding"
POSITIONS = r"position_embeddings|wpe|embed_positions|pos_embedding|position_embedding"
SEGMENTS = r"token_type_embeddings|segment_embeddings"
NORM = r"LayerNorm|layer_norm|norm|ln|layernorm"
# Position ids counted from padding_idx + 1, skipping padding (fairseq's convention): the types
# the library survey found (_position_conventions.py), and these checked by tests before it.
PADDED_POSITION_TYPES = tuple(
    sorted(
        SURVEYED_PADDED_POSITIONS
        | {"roberta", "xlm-roberta", "camembert", "longformer", "data2vec-text", "mpnet"}
    )
)
# Position ids from a fixed row, padding not skipped: arange(seq) + 2 (lin9: the library's 5.24
# code registers `position_ids` as arange + 2 for these types, and no other).
FIXED_POSITION_OFFSETS = {"nystromformer": 2, "yoso": 2, "mra": 2}
PROJECT = r"embeddings_project|embedding_hidden_mapping_in"
FINAL_NORM = r"layernorm|LayerNorm|ln_f|norm|final_layer_norm|rms_norm|final_norm"
# A norm between the embeddings and the first layer (CLIP's vision tower spells it pre_layrnorm).
EMBED_NORM = r"pre_layrnorm|pre_layernorm|ln_pre|norm_pre|embeddings_norm|emb_ln"
# A norm of the pooled token only (CLIP vision): not part of the last hidden state.
POOLED_NORM = r"post_layernorm|ln_post|fc_norm"
POOLER = r"pooler"
POOLED_HEAD = r"head|projection_head"
# config.json settings read only by a pooler or prediction head (DeBERTa's ContextPooler and its
# legacy LM head): moot for a model that holds none.
HEAD_ONLY_KEYS = ("pooler_hidden_size", "pooler_hidden_act", "legacy")
# ... and by a projection head after the pooled output (CLAP's text projection): moot for the
# top-level encoder model, whose members are all explained.
PROJECTION_HEAD_KEYS = ("projection_hidden_act",) + tuple(
    # ... and by table question answering's cell-selection and aggregation heads and their losses
    # (TAPAS): moot for the encoder model alone
    """aggregation_labels aggregation_loss_weight aggregation_temperature
    allow_empty_column_selection answer_loss_cutoff answer_loss_importance
    average_approximation_function average_logits_per_cell cell_selection_preference
    disable_per_token_loss huber_loss_delta init_cell_selection_weights_to_zero max_num_columns
    max_num_rows no_aggregation_label_index num_aggregation_labels positive_label_weight
    select_one_column temperature use_answer_as_supervision use_gumbel_for_aggregation
    use_gumbel_for_cells use_normalized_answer_loss""".split()
)
EMBEDDINGS = ("TextEmbeddings", "VisionEmbeddings")
# A second embeddings class, for inputs other than the text (LUKE's entities).
SIDE_EMBEDDINGS = r"entity_embeddings|\w+_entity_embeddings"
# Two-tower models whose text tower attends only to earlier tokens while the vision tower, which
# may share its layer classes, attends to all: the text model applies the causal mask (CLIP); and
# BERT-shaped captioners whose text attends to earlier tokens (GIT: create_causal_mask, the image
# tokens before the text seen by all where there are any). CLIPSeg's and OWLv2's text towers are
# CLIP's (create_causal_mask with is_causal=True, transformers 5.24), their vision towers not.
CAUSAL_TEXT_TOWER_TYPES = ("clip", "git", "clipseg", "owlv2")
# Text models whose forward, not config.json's is_decoder, says whether it runs as a decoder, and
# whose default call runs bidirectional (BLIP's text tower: `is_decoder=False` by default; the
# only model forward in transformers 5 taking that argument, found by reading them).
DECODER_BY_CALL_TYPES = ("blip_text_model",)
# ... and whose cross-attention is given no mask of the encoder's states: BLIP's BlipTextAttention
# does not pass encoder_attention_mask on (transformers 5.24), so the library attends to them all
# and its model takes no such mask here.
UNMASKED_CROSS_TYPES = ("blip_text_model",)
CLASS_TOKEN = r"cls_token|class_token|class_embedding"
MASK_TOKEN = r"mask_token"
# Learned tokens put in after the class token, outside the position table (DINOv2's registers).
REGISTERS = r"register_tokens|reg_tokens?|registers"


def _example(name: str) -> Example:
    from codegen.patterns.blocks.encoder_layer import _example as reference

    return reference(name)


class TextEmbeddings(BlockPattern):
    role = "TextEmbeddings"
    priority = 5
    accepts = Accepts(names=(TOKENS,), families=("embedding",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if any(not _id_buffer(t) for t in tensors(cls)):
            return None
        embeddings = [m for m in members if family(m) == "embedding"]
        tokens = one_named(embeddings, TOKENS)
        positions = one_named(embeddings, POSITIONS)
        segments = one_named(embeddings, SEGMENTS)
        norm = one_named([m for m in members if family(m) == "norm"], NORM)
        used = [m for m in (tokens, positions, segments, norm) if m is not None]
        if tokens is None:
            return None
        layout = _layout_tables(embeddings, used, tokens)
        used += [m for m in embeddings if layout and m.attr in layout]
        columns = _type_columns(embeddings, used, tokens) if segments is None else ()
        _type_sizes_shown(ctx, columns)
        used += [m for m in embeddings if m.attr in columns]
        summed, summed_guess = _summed_tables(members, used, tokens)
        used += [m for m in embeddings if m.attr in summed]
        widen = _sum_projection(members, used, tokens, norm)
        mapped = _input_map(members, used, tokens) if widen is None else (None, "")
        if mapped is None:
            return None  # (a norm is optional: CLIP's text embeddings are a plain sum)
        model_type = ctx.resolver.evidence("model_type")
        rotates = model_type is not None and model_type[1] in ROTARY_TABLE_TYPES + ROTARY_TYPES
        # ... or config.json gives a rotary base, or names rotary positions (ESM, GTE, Jina).
        # (the key is read, never consumed, here: other values are for the attention to take)
        kind = ctx.resolver.metadata.get("position_embedding_type")
        rotates = rotates or ctx.resolver.evidence(*ROPE_KEYS) is not None
        rotates = rotates or (kind is not None and kind[1] == "rotary")
        # DeBERTa's position_biased_input: false, positions enter in the attention alone
        biased = ctx.resolver.metadata.get("position_biased_input")
        if biased is not None and biased[1] is (positions is not None):
            ctx.resolver.evidence("position_biased_input")
        if positions is None and not rotates and not (biased and biased[1] is False):
            return None  # positions enter in the attention only where config.json says so
        padded = positions is not None and model_type is not None
        padded = padded and model_type[1] in PADDED_POSITION_TYPES
        cells = _cell_positions(ctx, columns, positions)
        choices = []
        padding_idx = None
        if padded:
            pad = ctx.choose(
                cls,
                positions.attr,
                "padding_idx",
                1,
                [0],
                f"positions count from it ({model_type[0]} {model_type[1]!r})",
                accepts="index",
            )
            padding_idx = int(pad.value)
            choices.append(pad)
        elif model_type is None:
            # Without config.json nothing says how positions are numbered: a choice calibration
            # settles (its own name, so a BERT's pad_token_id in other metadata never sets it).
            pad = ctx.choose(
                cls,
                positions.attr,
                "padded_positions",
                None,
                [1, 0],
                "None: numbered from 0; N: from N + 1, skipping padding N (RoBERTa)",
            )
            padding_idx = None if pad.value is None else int(pad.value)
            choices.append(pad)
        found = (
            tokens.attr,
            positions.attr if positions else None,
            segments.attr if segments else None,
            norm.attr if norm else None,
            padding_idx,
            mapped[0],
            layout,
            summed,
            widen.attr if widen is not None else None,
        )
        late = _late_projection(ctx, cls, members, mapped[0], norm)
        if late is not None:  # the square map comes after the norm, not before the positions
            choices.append(late)
            found = found[:5] + (None,) + found[6:] + (mapped[0][0],)
            mapped = (None, "")
        else:
            found += (None,)
        found += ((columns, cells), _position_offset(cls, ctx, positions, padded))
        guessed = "; ".join(g for g in (mapped[1], summed_guess) if g)
        return Match(self, len(members), found, choices, guessed=guessed)

    synonyms = {"padding_idx": ("pad_token_id",)}

    def forward(self, match: Match, g: Graph) -> None:
        tokens, positions, segments, norm, padding_idx, mapped, layout, summed, widen, late = (
            match.found[:10]
        )
        columns, cells = match.found[10]
        offset = match.found[11]  # the row of position 0
        ids = g.input("input_ids")
        types = g.input("token_type_ids", optional=True) if segments or columns else None
        if columns:
            types = g.call_function(
                "token_type_columns",
                types,
                ids,
                len(columns),
                name="types",
                comment="[batch, seq, tables]: zeros if not given",
            )
        extra_ids = [(a, g.input(f"{a}_ids", optional=True)) for a in mapped[1]] if mapped else []
        summed_ids = [(a, g.input(name, optional=True)) for a, name in summed.items()]
        boxes = g.input("bbox", optional=True) if layout else None
        x = g.call_module((tokens,), ids, comment="[batch, seq, d_model]")
        if mapped is not None:
            parts = [x] + [
                g.call_module((a,), g.call_function("token_types", i, ids, inline=True))
                for a, i in extra_ids
            ]
            if len(parts) > 1:
                x = g.call_function("cat", parts, -1, comment="ids not given: all zeros")
            x = g.call_module((mapped[0],), x, comment="mapped to the layers' width")
        if positions is None:
            pass  # positions enter in the attention (rotary)
        elif cells:
            pos = g.call_function(
                "cell_positions",
                types,
                g.getattr((positions, "num_embeddings")),
                name="positions",
                comment="counted from each table cell's first token",
            )
        elif padding_idx is not None:
            pos = g.call_function(
                "padded_positions",
                ids,
                padding_idx,
                name="positions",
                comment="numbered from the padding index + 1, padding excluded",
            )
        else:
            seq = g.call_method("size", ids, 1, inline=True)
            device = g.call_method("device", ids, inline=True)
            pos = g.call_function("arange", seq, kwargs={"device": device}, name="positions")
            if offset:
                pos = g.call_function(
                    "add", pos, offset, name="positions", comment=f"row {offset} is position 0"
                )
        if positions is not None:
            x = g.call_function("add", x, g.call_module((positions,), pos, inline=True))
        if segments is not None:
            seg = g.call_function("token_types", types, ids, inline=True)
            x = g.call_function("add", x, g.call_module((segments,), seg, inline=True))
        for k, attr in enumerate(columns):
            column = g.call_function("getitem", types, (Slice(), Slice(), k), inline=True)
            x = g.call_function("add", x, g.call_module((attr,), column, inline=True))
        if layout is not None:
            x = _add_layout(g, x, layout, boxes, ids)
        for attr, given in summed_ids:
            picked = g.call_function("token_types", given, ids, inline=True)
            x = g.call_function(
                "add",
                x,
                g.call_module((attr,), picked, inline=True),
                comment="ids: zeros if not given",
            )
        if widen is not None:
            x = g.call_module((widen,), x, comment="to the layers' width")
        if late is None:
            g.output(g.call_module((norm,), x) if norm is not None else x)
            return
        x = g.call_module((norm,), x)
        g.output(g.call_module((late,), x, comment="projected after the norm"))

    @staticmethod
    def examples():
        return [_example("bert"), _example("distil")]


def _position_offset(cls, ctx: BlockContext, positions, padded: bool) -> int:
    """The table row of position 0 where the model type's code fixes one (FIXED_POSITION_OFFSETS);
    0 elsewhere, as BERT numbers them."""
    model_type = ctx.resolver.evidence("model_type")
    known = FIXED_POSITION_OFFSETS.get(model_type[1]) if model_type else None
    if positions is None or padded or known is None:
        return 0
    return known


# The library's id buffers, saved persistent by some families (CLAP's text model): positions
# 0..max-1 and all-zero token types, [1, max_positions] integers. Loaded, never read: the forward
# computes the same ids from input_ids.
ID_BUFFERS = ("position_ids", "token_type_ids")


def _id_buffer(t) -> bool:
    return t.kind == "buffer" and t.attr in ID_BUFFERS and "int" in t.dtype and len(t.shape) == 2


# 2-D positions of a token's box on a page (LayoutLM): one table per coordinate kind, as wide as
# the tokens, looked up from `bbox` [batch, seq, 4] = (left, top, right, bottom).
LAYOUT = {kind: rf"{kind}_?(pos(ition)?_?)?(emb(edding)?s?)?" for kind in ("x", "y", "h", "w")}
# Argument names the embeddings' own inputs already use.
TAKEN = {"input_ids", "token_type_ids", "attention_mask", "bbox", "self_ids"}


def _type_columns(embeddings: list, used: list, tokens) -> tuple[str, ...]:
    """Token-type tables numbered 0..n-1 under one segment name (TAPAS's token_type_embeddings_0
    to _6), each as wide as the tokens: one `token_type_ids` [batch, seq, n] input whose column k
    indexes table k, all zeros when not given (as the library does). Else ()."""
    width = tokens.io.out_width if tokens.io else None
    numbered = {}
    for m in embeddings:
        found = re.fullmatch(rf"({SEGMENTS})_(\d+)", m.attr)
        if m not in used and found and m.io is not None and m.io.out_width == width:
            numbered[int(found.group(found.lastindex))] = m.attr
    if len(numbered) < 2 or sorted(numbered) != list(range(len(numbered))):
        return ()
    return tuple(numbered[k] for k in range(len(numbered)))


def _type_sizes_shown(ctx: BlockContext, columns: tuple) -> None:
    """config.json's type_vocab_sizes, one per numbered table: the tables' shapes show them."""
    said = ctx.resolver.metadata.get("type_vocab_sizes")
    if said is not None and isinstance(said[1], (list, tuple)) and len(said[1]) == len(columns):
        ctx.resolver.evidence("type_vocab_sizes")


def _cell_positions(ctx: BlockContext, columns: tuple, positions) -> bool:
    """Whether positions restart at each table cell (config.json reset_position_index_per_cell,
    TAPAS: a cell is the tokens of one column id (type column 1) and row id (column 2)). Read only
    where such columns exist; a true value without them stays unconsumed, so the file is flagged."""
    said = ctx.resolver.metadata.get("reset_position_index_per_cell")
    if said is None or positions is None or not isinstance(said[1], bool):
        return False
    if said[1] and len(columns) < 3:
        return False
    ctx.resolver.evidence("reset_position_index_per_cell")
    return said[1]


def _late_projection(ctx: BlockContext, cls, members: list, mapped, norm):
    """A square Linear beside the tables and a norm, not named as an input map (FNet's
    `projection`): its widths do not say where it acts. FNet's library normalises the tables'
    sum, then projects it; the other place (mapping the token embeddings before positions are
    added) stays a choice calibration can settle. The choice, where it is "after_norm"; else
    None (and the map stays before the positions, guessed)."""
    if mapped is None or norm is None or mapped[1]:
        return None
    linear = next(m for m in members if m.attr == mapped[0])
    if re.fullmatch(INPUT_MAP, linear.attr, re.IGNORECASE) or linear.io is None:
        return None
    if linear.io.in_width != linear.io.out_width:
        return None
    where = ctx.choose(
        cls,
        linear.attr,
        "projection",
        "after_norm",
        ["before_positions"],
        "where the square map acts: on the normalised sum (FNet), or on the token embeddings",
    )
    return where if where.value == "after_norm" else None


def _layout_tables(embeddings: list, used: list, tokens) -> tuple | None:
    """(x, y, h, w) tables of 2-D box positions beside the tokens, all four as wide as them."""
    width = tokens.io.out_width if tokens.io else None
    rest = [m for m in embeddings if m not in used]
    found = [one_named(rest, pattern) for pattern in LAYOUT.values()]
    if any(m is None or m.io is None or m.io.out_width != width for m in found):
        return None
    return tuple(m.attr for m in found)


def _add_layout(g: Graph, x, layout: tuple, boxes, ids):
    """`x + x_t(left) + y_t(top) + x_t(right) + y_t(bottom) + h_t(bottom - top) + w_t(right -
    left)`, the boxes all zeros when not given (as the library does)."""
    xs, ys, hs, ws = layout
    box = g.call_function(
        "token_boxes", boxes, ids, name="box", comment="[batch, seq, 4]: left, top, right, bottom"
    )
    sides = ("left", "top", "right", "bottom")
    corner = [
        g.call_function("getitem", box, (Slice(), Slice(), k), name=side)
        for k, side in enumerate(sides)
    ]
    for table, coordinate in ((xs, 0), (ys, 1), (xs, 2), (ys, 3)):
        x = g.call_function("add", x, g.call_module((table,), corner[coordinate], inline=True))
    height = g.call_function("sub", corner[3], corner[1], inline=True)
    width = g.call_function("sub", corner[2], corner[0], inline=True)
    x = g.call_function("add", x, g.call_module((hs,), height, inline=True))
    return g.call_function("add", x, g.call_module((ws,), width, inline=True))


def _summed_tables(members: list, used: list, tokens) -> tuple[dict, str]:
    """Extra id tables as wide as the tokens, beside no map that could take them ({attr: argument
    name}, and what is guessed): each is looked up from ids of its own, all zeros when not given
    (as token types are), and added. Nothing in the keys says the library adds them, nor what a
    missing input means, so the file says it is guessed."""
    if any(family(m) == "linear" for m in members if m not in used):
        return {}, ""  # a map takes the extra tables (RoCBert): _input_map reads its widths
    width = tokens.io.out_width if tokens.io else None
    extras = [m for m in members if m not in used and family(m) == "embedding"]
    found: dict[str, str] = {}
    for m in extras:
        stem = re.sub(r"_?(embeddings?|embeds?|emb)$", "", m.attr, flags=re.IGNORECASE)
        name = f"{stem or m.attr}_ids"
        if m.io is None or m.io.out_width != width:
            return {}, ""
        if not (name.isidentifier() and name.isascii()) or name in TAKEN or name in found.values():
            return {}, ""
        found[m.attr] = name
    if not found:
        return {}, ""
    said = ", ".join(
        f"{a} is added, looked up from {n} (zeros when not given)" for a, n in found.items()
    )
    return found, f"that {said}"


def _sum_projection(members: list, used: list, tokens, norm):
    """A lone Linear beside the tables that takes their width to another one (DeBERTa's
    `embed_proj`): the tables' sum is projected, then normalised. Widths say so: every table has
    the token width (so they are summed before it) and the norm has the projection's."""
    rest = [m for m in members if m not in used]
    if len(rest) != 1 or family(rest[0]) != "linear" or rest[0].io is None or tokens.io is None:
        return None
    width, io = tokens.io.out_width, rest[0].io
    if width is None or io.in_width != width or io.out_width in (None, width):
        return None
    tables = [m for m in used if family(m) == "embedding"]
    if any(m.io is None or m.io.out_width != width for m in tables):
        return None
    if norm is not None and (norm.io is None or norm.io.in_width != io.out_width):
        return None
    return rest[0]


# A linear map of the token embeddings inside the embeddings (RoCBert's `map_inputs_layer`).
INPUT_MAP = r"map_inputs?(_layer)?|inputs?_(proj|projection|map|mapping)"


def _argument_name(attr: str, taken: set[str]) -> bool:
    name = f"{attr}_ids"
    return name.isidentifier() and name.isascii() and name not in taken


def _input_map(members: list, used: list, tokens) -> tuple | None:
    """What else the embeddings hold beside token/position/segment tables and a norm: None when
    something is not understood; else ((map, [extra tables concatenated before it]) or None, what
    is guessed). A Linear there maps the token embeddings, with extra tables (RoCBert's shape and
    pronunciation ids) concatenated where its input width says so, before positions are added;
    the tables its width leaves out are unused (switched off in the library's config)."""
    rest = [m for m in members if m not in used]
    if not rest:
        return None, ""
    linears = [m for m in rest if family(m) == "linear"]
    extras = [m for m in rest if family(m) == "embedding"]
    if len(linears) != 1 or len(linears) + len(extras) != len(rest):
        return None
    mapping, width = linears[0], tokens.io.out_width if tokens.io else None
    if mapping.io is None or width is None or mapping.io.out_width != width:
        return None
    # Each extra table's ids are a forward argument named after it: a plain name, not one taken.
    if not all(m.io and m.io.out_width and _argument_name(m.attr, TAKEN) for m in extras):
        return None
    subsets = [
        [m for k, m in enumerate(extras) if picks >> k & 1]
        for picks in range(1 << len(extras))
        if width + sum(m.io.out_width for k, m in enumerate(extras) if picks >> k & 1)
        == mapping.io.in_width
    ]
    if len(subsets) != 1:
        return None  # the widths do not say which tables feed the map
    guessed = []
    if len(subsets[0]) > 1:
        guessed.append("the order in which the extra embeddings are concatenated")
    if mapping.io.in_width == width and not re.fullmatch(INPUT_MAP, mapping.attr, re.IGNORECASE):
        guessed.append(f"that {mapping.attr} maps the token embeddings before positions are added")
    return (mapping.attr, [m.attr for m in subsets[0]]), "; ".join(guessed)


def _cuts_image_into_patches(conv) -> bool:
    """A lone conv reading image channels (at most 4) in non-overlapping patches (kernel ==
    stride): timm's `patch_embed.proj` / `stem.proj`, whatever its holder is called."""
    args = {a.keyword: a.value for a in conv.args}
    kernel, stride = conv_kernel(conv), args.get("stride", 1)
    patches = kernel not in (None, 1, (1, 1)) and kernel == stride
    return patches and conv.io.in_width is not None and conv.io.in_width <= 4


FRAMES_FIRST = "pixel_values as [batch, frames, channels, height, width]; false: channels first"


class PatchEmbedding(BlockPattern):
    """`proj(pixels).flatten(2).transpose(1, 2)`: non-overlapping patches as a token sequence; a
    video's tubelets (a Conv3d over frames too) the same way, after putting channels before frames
    where the clip comes frames first (the library's video models: ViViT, VideoMAE)."""

    role = "PatchEmbedding"
    priority = 6  # over Upsample's lone stride-1 conv: calibration tries other strides too

    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 1 or family(members[0]) != "conv":
            return None
        conv = members[0]
        if conv.io is None or conv.io.ndim not in (2, 3):
            return None
        if cls.named != "patch_embeddings" and not _cuts_image_into_patches(conv):
            return None
        if conv.io.ndim == 2:
            return Match(self, 1, (conv.attr, False, None))
        # config.json's tubelets are the kernel's (VideoMAE's count frames only: its patch_size
        # gives the rest); the conv's stride, its kernel, follows them
        kernel, tubelet = conv_kernel(conv), ctx.resolver.evidence("tubelet_size")
        kernel = kernel if isinstance(kernel, tuple) else (kernel,) * 3
        if tubelet is not None and tubelet[1] not in (kernel, kernel[0], list(kernel)):
            return None
        # the library's video configs count frames (num_frames), and its models take clips
        # frames first; nothing in the weights says which way a clip comes
        said = ctx.resolver.evidence("num_frames")
        frames = ctx.choose(
            cls, conv.attr, "frames_first", said is not None, [said is None], FRAMES_FIRST
        )
        if said is not None and frames.source == "default":
            frames.source, frames.note = "metadata", f"{said[0]} (a video config: frames first)"
        # a smoke test's clip: as long and as large as the config says (a position table may
        # fix both), else two tubelets of 32-pixel frames
        side = ctx.resolver.evidence("image_size")
        count = said[1] if said is not None and type(said[1]) is int else 2 * kernel[0]
        side = side[1] if side is not None and type(side[1]) is int else EXAMPLE_SIDE
        clip = (2, count, conv.io.in_width, side, side) if frames.value else None
        return Match(self, 1, (conv.attr, bool(frames.value), clip), [frames])

    def example_inputs(self, match: Match, cls) -> list[ExampleInput] | None:
        clip = match.found[2]
        return (
            [ExampleInput(clip, why=f"clips of {clip[1]} frames, frames first")] if clip else None
        )

    def forward(self, match: Match, g: Graph) -> None:
        conv, frames_first, _ = match.found
        x = g.input("pixel_values")
        if frames_first:
            x = g.call_method("permute", x, 0, 2, 1, 3, 4, name="x", comment="channels first")
        x = g.call_method("flatten", g.call_module((conv,), x, inline=True), 2, inline=True)
        g.output(g.call_method("transpose", x, 1, 2), comment="[batch, patches, d_model]")

    named = r"patch_embeddings"

    @staticmethod
    def examples():
        return [_example("vit"), _example("video_vit")]


class VisionEmbeddings(BlockPattern):
    """ViT: patches, learned tokens in front (a class token; DeiT's distillation token after it),
    learned positions added. A mask token (DINOv2, BEiT: a [1, d] vector swapped in for masked
    patches during pre-training) takes no part when no patch is masked, as a user calls it."""

    role = "VisionEmbeddings"
    priority = 5

    accepts = Accepts(1, 1)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members, params = modules(cls), tensors(cls)
        if len(members) != 1:
            return None
        # The patches' conv held here itself (DINOv3's `patch_embeddings`, BLIP's
        # `patch_embedding`), not in a class: where the positions are a 2-D rotary, or where a
        # class token goes in front (a table beside a lone conv may be ViTDet's, resized, which
        # puts no token in front).
        rotary = axial_rope(ctx.resolver.nested) is not None
        conv = family(members[0]) == "conv" and members[0].io is not None
        conv = conv and members[0].io.ndim == 2 and _cuts_image_into_patches(members[0])
        token = any(
            re.fullmatch(CLASS_TOKEN, t.attr) and tuple(t.shape[:2]) == (1, 1)
            for t in params
            if len(t.shape) == 3
        )
        conv = conv and (rotary or token)
        if ctx.role(members[0]) != "PatchEmbedding" and not conv:
            return None
        registers = [t for t in params if re.fullmatch(REGISTERS, t.attr) and len(t.shape) == 3]
        # Several class tokens in one tensor (Pixio's [1, n, d] `cls_token`): in front, by name.
        classes = [t for t in params if re.fullmatch(CLASS_TOKEN, t.attr) and len(t.shape) == 3]
        fronts = [
            t
            for t in params
            if len(t.shape) == 3
            and (tuple(t.shape[:2]) == (1, 1) or t in classes and t.shape[0] == 1)
            and t not in registers
        ]
        tables = [
            t
            for t in params
            if len(t.shape) == 3
            and t.shape[0] == 1
            and t.shape[1] > 1
            and t not in registers + fronts
        ]
        unused = [t for t in params if re.fullmatch(MASK_TOKEN, t.attr) and len(t.shape) <= 2]
        # No position table: positions enter in the attention (BEiT's relative bias), where
        # config.json does not say there is an absolute table (its use_absolute_position_embeddings),
        # or as a 2-D rotary config.json describes (DINOv3).
        absolute = ctx.resolver.evidence("use_absolute_position_embeddings")
        # A [1, 1, d] mask token too stands in for masked patches, never in front (DINOv3's
        # beside a 2-D rotary; FLAVA's image tower beside a table counting one class token).
        unused += [t for t in fronts if re.fullmatch(MASK_TOKEN, t.attr)]
        fronts = [t for t in fronts if t not in unused]
        if unused:  # config.json's switch for it (FLAVA's mask_token, BEiT's use_mask_token)
            ctx.resolver.evidence("mask_token", "use_mask_token")
        if not tables and not rotary and (absolute is None or absolute[1] is not False):
            return None
        # No token in front (I-JEPA): patches and positions only, where a table is there.
        if not (fronts or tables) or len(tables) > 1:
            return None
        if len(fronts) + len(tables) + len(unused) + len(registers) != len(params):
            return None
        if registers and (len(registers) > 1 or len(fronts) != 1 or not tables and not rotary):
            return None
        several = [t for t in fronts if t in classes and t.shape[1] != 1]
        if several:  # config.json's count of class tokens, where it records one, agrees
            said = ctx.resolver.evidence("n_cls_tokens", "num_cls_tokens", "num_class_tokens")
            if said is not None and said[1] != several[0].shape[1]:
                return None
        fronts.sort(key=lambda t: re.fullmatch(CLASS_TOKEN, t.attr) is None)  # class token first
        found = (members[0].attr, [t.attr for t in fronts], tables[0].attr if tables else None)
        found += (registers[0].attr if registers else None, ctx.role(members[0]) == "conv")
        return Match(self, len(params) + 1, found, guessed=_random_masking(ctx))

    def forward(self, match: Match, g: Graph) -> None:
        patches, fronts, table, registers = match.found[:4]
        pixels = g.input("pixel_values")
        x = g.call_module((patches,), pixels, comment="[batch, patches, d_model]")
        if match.found[4]:  # the conv itself: its patches as a token sequence
            x = g.call_method("flatten", x, 2, inline=True)
            x = g.call_method("transpose", x, 1, 2, name="x")
        if fronts:
            batch = g.call_method("size", x, 0, inline=True)
            tokens = [
                g.call_method("expand", g.getattr((t,)), batch, -1, -1, inline=True) for t in fronts
            ]
            x = g.call_function(
                "cat",
                (*tokens, x),
                kwargs={"dim": 1},
                comment=" then ".join(fronts) + " in front of the patches",
            )
        if registers is not None and table is None:  # registers after the class token
            batch = g.call_method("size", x, 0, inline=True)
            extra = g.call_method("expand", g.getattr((registers,)), batch, -1, -1, inline=True)
            first = g.call_function("getitem", x, (Slice(), Slice(None, 1)), inline=True)
            rest = g.call_function("getitem", x, (Slice(), Slice(1, None)), inline=True)
            g.output(g.call_function("cat", (first, extra, rest), kwargs={"dim": 1}))
            return
        if registers is not None:
            x = g.call_function(
                "add_positions_and_registers", x, g.getattr((table,)), g.getattr((registers,))
            )
            g.output(x)
            return
        g.output(g.call_function("add", x, g.getattr((table,))) if table else x)

    @staticmethod
    def examples():
        return [_example("vit")]


def _random_masking(ctx: BlockContext) -> str:
    """Where config.json says the embeddings mask patches at random (ViT-MAE's `mask_ratio`), what
    this forward does instead (vis9): the library keeps 1 - mask_ratio of the patches, in an order
    its `noise` input (else torch.rand) draws; this forward keeps every patch, in order."""
    said = ctx.resolver.evidence("mask_ratio")
    if said is None or type(said[1]) not in (int, float):
        return ""
    kept = "the same tokens in another order" if said[1] == 0 else "fewer tokens, reordered"
    return (
        f"config.json {said[0]} {said[1]!r}: the library shuffles the patches by random noise "
        f"(ViT-MAE's masking) and returns {kept}; this forward keeps every patch in order, as the "
        "library does given ascending noise"
    )


def _input_projection(members: list) -> object | None:
    """A lone Linear beside the layer stack that maps the embeddings' width to the layers' (RemBERT's
    `embedding_hidden_mapping_in`): named so, or changing the width (the layers keep theirs, so a
    width-changing map can only come first)."""
    linears = [m for m in members if family(m) == "linear"]
    if len(linears) != 1 or linears[0].io is None:
        return None
    named = re.fullmatch(PROJECT, linears[0].attr, re.IGNORECASE) is not None
    return linears[0] if named or linears[0].io.in_width != linears[0].io.out_width else None


def _maskless_or_masked(ctx: BlockContext, layer) -> bool:
    """A layer that takes the padding mask, or one whose mixing takes no mask at all (FNet's
    Fourier sublayer, role PostNormAttention, takes only x)."""
    if ctx.takes(layer, "mask"):
        return True
    cls = ctx.classes.get(layer.type_name)
    graph = cls.forward.graph if cls is not None and cls.forward is not None else None
    return graph is not None and [n.target for n in graph.inputs] == ["x"]


class Encoder(BlockPattern):
    """(A projection to the layers' width,) the layers in turn; each is given the padding mask
    when it takes one."""

    role = "Encoder"
    priority = 5

    accepts = Accepts(1, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or not 1 <= len(members) <= 2:
            return None
        from codegen.patterns.families.decoder import layer_stack

        # one Block class repeated, or several applied in turn (a Q-Former's layers with and
        # without cross-attention) that take the same inputs
        stacks = [(m, layer_stack(ctx, m)) for m in members if layer_stack(ctx, m) is not None]
        project = _input_projection(members) if len(members) == 2 else None
        if len(stacks) != 1 or (len(members) == 2 and project is None):
            return None
        holder, (layers, _) = stacks[0]
        layer = layers[0]
        if not all(_maskless_or_masked(ctx, m) for m in layers):
            return None
        inputs = {
            tuple(ctx.takes(m, name) for name in (ROTARY_TABLE, "mask", MEMORY)) for m in layers
        }
        if len(inputs) != 1:
            return None
        rotary = ctx.takes(layer, ROTARY_TABLE)  # angles the model computes (axial rotary)
        masked = ctx.takes(layer, "mask")
        # the encoder's states its layers' cross-attention reads (passed after the mask)
        memory = masked and ctx.takes(layer, MEMORY)
        found = (holder.attr, project.attr if project else None, rotary, masked, memory)
        return Match(self, len(members), found)

    def forward(self, match: Match, g: Graph) -> None:
        layers, project, rotary, masked, memory = match.found
        x = g.input("x")
        mask = (g.input("mask", optional=True),) if masked else ()
        angles = (g.input(ROTARY_TABLE, optional=True),) if rotary else ()
        states = (
            (g.input(MEMORY, optional=True), g.input(MEMORY_MASK, optional=True)) if memory else ()
        )
        if project is not None:
            x = g.call_module((project,), x, comment="to the layers' width")
        g.output(g.call_module((layers,), x, *mask, *angles, *states, each=True))

    @staticmethod
    def examples():
        return [_example("bert"), _example("distil")]


def _embedding_inputs(ctx: BlockContext, embed) -> tuple[str, ...]:
    """The text embeddings' inputs after `input_ids` (token types, a box per token, ids of extra
    tables), in their order: the model takes each, optional, after its attention mask."""
    cls = ctx.classes.get(embed.type_name)
    graph = cls.forward.graph if cls is not None and cls.forward is not None else None
    names = [n.target for n in graph.inputs] if graph is not None else []
    return tuple(names[1:]) if names[:1] == ["input_ids"] else ()


def _post_norm_pins(ctx: BlockContext, encoder) -> list:
    """An encoder whose stack no norm follows (in the encoder or the model): in a pre-norm stack the
    residual stream would come out unnormalised, so each layer normalises its own output (BERT's
    layout, Jina's and GTE's layers). Pins the layers' `residual` choice left at its default."""
    from codegen.patterns.families.decoder import post_norm_pins

    cls = ctx.classes.get(encoder.type_name)
    if cls is None or any(family(m) == "norm" for m in modules(cls)):
        return []
    stacks = [stack(m) for m in modules(cls) if stack(m) is not None]
    return post_norm_pins(ctx, stacks[0][0]) if len(stacks) == 1 else []


def _pooled_projection(ctx: BlockContext, linears: list):
    """The one Linear named as a head whose output width is config.json's projection_size (a
    projection of the pooled token, SigLIP's text tower), or None."""
    head = one_named(linears, POOLED_HEAD)
    said = ctx.resolver.metadata.get("projection_size")
    if head is None or head.io is None or said is None or said[1] != head.io.out_width:
        return None
    ctx.resolver.evidence("projection_size")
    return head


def _class_token(ctx: BlockContext, embed) -> bool:
    """Whether the embeddings put a learned token in front ([d] as CLIP's, [1, 1, d] as ViT's)."""
    cls = ctx.classes.get(embed.type_name)
    found = tensors(cls) if cls is not None else []
    return any(len(t.shape) == 1 or tuple(t.shape[:2]) == (1, 1) for t in found)


def _post_norm_scope(ctx: BlockContext, cls, norm) -> str:
    """What a norm named as CLIP's pooled-token norm normalises: "pooled" (CLIP: the last hidden
    state is the stack's output) or "sequence" (BLIP, GIT: every token). Same names either way,
    so the library's code, surveyed per model_type (_post_norm_conventions), is the evidence."""
    model_type = ctx.resolver.evidence("model_type")
    mtype = model_type[1] if model_type is not None else None
    surveyed = "sequence" if mtype in SEQUENCE else "pooled" if mtype in POOLED else None
    default = surveyed or "pooled"
    choice = ctx.choose(
        cls,
        norm.attr,
        "post_norm_scope",
        default,
        ["sequence" if default == "pooled" else "pooled"],
        "whether the norm after the stack normalises every token or the pooled one only",
    )
    if surveyed is not None and choice.source == "default":
        choice.source = "metadata"
        choice.note = f"the library's code for {model_type[0]} {mtype!r}, surveyed: {surveyed}"
    return choice.value


class EncoderModel(BlockPattern):
    """Embeddings, (a projection to the layers' width,) the encoder, (a final norm): the last
    hidden state. A pooler, where there is one, is left to the heads that read it
    (`model.pooler(hidden)`), as the library's `last_hidden_state` does."""

    role = "EncoderModel"
    priority = 5

    accepts = Accepts(2, tensors=False, roles=(EMBEDDINGS, "Encoder"))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls):
            return None
        embed = [m for m in members if ctx.role(m) in EMBEDDINGS]
        encoder = [m for m in members if ctx.role(m) == "Encoder"]
        if len(embed) != 1 or len(encoder) != 1:
            return None
        if ctx.takes(encoder[0], ROTARY_TABLE):
            return None  # its layers read rotary angles this model computes (axial_rope_vision)
        rest = [m for m in members if m is not embed[0] and m is not encoder[0]]
        project = one_named([m for m in rest if family(m) == "linear"], PROJECT)
        norms = [m for m in rest if family(m) == "norm"]
        embed_norm = one_named(norms, EMBED_NORM)
        pooled_norm = one_named(norms, POOLED_NORM)
        norm = one_named([m for m in norms if m not in (embed_norm, pooled_norm)], FINAL_NORM)
        # A pooler (a Pooler class, or ALBERT's bare Linear before a tanh) is left to the heads.
        poolers = [m for m in rest if ctx.role(m) == "Pooler" or family(m) == "linear"]
        pooler = one_named([m for m in poolers if m is not project], POOLER)
        # A projection of the pooled token whose width config.json names (SigLIP's text `head`:
        # projection_size), left to the callers that read the pooled output too.
        pooled_head = _pooled_projection(ctx, [m for m in poolers if m not in (project, pooler)])
        # SigLIP's attention-pooling head reads the last hidden state: left to its callers too.
        heads = [m for m in rest if ctx.role(m) == "AttentionPoolingHead"]
        # Embeddings of other inputs (LUKE's entity_embeddings): a word-only forward leaves them
        # unused, as the library does when their ids are not given; the file says so.
        side = [m for m in rest if m.kind == "class" and re.fullmatch(SIDE_EMBEDDINGS, m.attr)]
        side = side if ctx.role(embed[0]) == "TextEmbeddings" else []
        # Members of another modality (GIT's image_encoder and visual_projection, whose features
        # the library puts before the text's): a text-only forward does not run them.
        modal = [m for m in rest if other_modality(m) and ctx.role(embed[0]) == "TextEmbeddings"]
        rest = [m for m in rest if m not in side and m not in modal]
        if len(rest) != len(heads[:1]) + sum(
            m is not None for m in (project, norm, pooler, embed_norm, pooled_norm, pooled_head)
        ):
            return None
        if pooled_norm is not None and norm is None and not _class_token(ctx, embed[0]):
            # No class token to pool (SigLIP): the post norm is on every token, as a final norm.
            norm = pooled_norm
        elif pooled_norm is not None and norm is None:
            if _post_norm_scope(ctx, cls, pooled_norm) == "sequence":  # BLIP, GIT
                norm = pooled_norm
        if cls.is_top and pooler is None and not heads:  # settings of heads it does not hold
            for key in HEAD_ONLY_KEYS:
                ctx.resolver.evidence(key)
        if cls.is_top:  # every member is explained: no projection head to read its settings
            ctx.resolver.consumed.update(PROJECTION_HEAD_KEYS)  # whatever their values, null too
        text = ctx.role(embed[0]) == "TextEmbeddings"
        # No norm after the stack at all (a pooled token's norm counts: CLIP's vision tower).
        after = norm is not None or pooled_norm is not None
        pins = [] if after else _post_norm_pins(ctx, encoder[0])
        model_type = ctx.resolver.evidence("model_type")
        causal = text and model_type is not None and model_type[1] in CAUSAL_TEXT_TOWER_TYPES
        # an encoder's layers run as a decoder (BERT or RoBERTa with is_decoder true): causal;
        # the model's own key only, not a sub-config's (a composite model's decoder_config)
        top = ctx.resolver.metadata.get("is_decoder")
        own = top is not None and ctx.resolver.own_level(top[0])
        said = ctx.resolver.evidence("is_decoder") if text and own else None
        if model_type is not None and model_type[1] in DECODER_BY_CALL_TYPES:
            # the call decides: the model's runs bidirectional, its LM-head model's as a decoder
            # (BlipTextLMHeadModel), whatever config.json's is_decoder says
            arch = ctx.resolver.evidence("architectures")
            causal = causal or bool(arch and re.search(r"LMHeadModel|ForCausalLM", str(arch[1])))
        else:
            causal = causal or (said is not None and said[1] is True)
        found = (
            embed[0].attr,
            (text, causal),
            _embedding_inputs(ctx, embed[0]) if text else (),
            project.attr if project else None,
            encoder[0].attr,
            norm.attr if norm else None,
            pooler.attr if pooler else None,
            embed_norm.attr if embed_norm else None,
            ctx.takes(encoder[0], "mask"),
            ctx.takes(encoder[0], MEMORY),
            not (model_type is not None and model_type[1] in UNMASKED_CROSS_TYPES),
            tuple(m.attr for m in modal),
        )
        guessed = not_run(modal, ctx)
        if side:
            guessed = (
                f"{', '.join(m.attr for m in side)} is not used: this forward takes the text "
                "inputs only (the library's output without the other inputs)"
            )
        return Match(self, len(members), found, pins=pins, guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        embed, (text, causal), extra, project, encoder, norm, pooler, embed_norm, masked = (
            match.found[:9]
        )
        crosses = match.found[9]  # its layers read the encoder's states where they are given
        crosses = crosses and text and masked
        masks_states = crosses and match.found[10]  # ... attending only to those marked 1
        if text:
            ids = g.input("input_ids")
            attention_mask = g.input("attention_mask", optional=True) if masked else None
            args = (ids, *(g.input(name, optional=True) for name in extra))
            states = g.input("encoder_hidden_states", optional=True) if crosses else None
            states_mask = g.input("encoder_attention_mask", optional=True) if masks_states else None
            x = g.call_module((embed,), *args, comment="[batch, seq, d_model]")
            # (no mask where its layers mix every position: FNet)
            mask = g.call_function("padding_mask", attention_mask, name="mask") if masked else None
            if causal:
                seq = g.call_method("size", ids, 1, inline=True)
                device = g.call_method("device", ids, inline=True)
                mask = g.call_function(
                    "causal_padding_mask", mask, seq, device, name="mask", comment="earlier only"
                )
        else:
            x = g.call_module((embed,), g.input("pixel_values"), comment="[batch, seq, d_model]")
            mask = None
        if project is not None:
            x = g.call_module((project,), x)
        if embed_norm is not None:
            x = g.call_module((embed_norm,), x)
        if crosses:  # 1 for the states to attend to, 0 padding
            if masks_states:
                states_mask = g.call_function("padding_mask", states_mask, name="memory_mask")
            unmasked = "" if masks_states else "every state attended, as the library's model does"
            x = g.call_module((encoder,), x, mask, states, states_mask, comment=unmasked)
        else:
            x = g.call_module((encoder,), *((x, mask) if mask is not None else (x,)))
        if norm is not None:
            x = g.call_module((norm,), x)
        modal = match.found[11]
        said = f"; {', '.join(modal)}: not run" if modal else ""
        g.output(x, comment=f"[batch, seq, d_model]: the last hidden state{said}")

    @staticmethod
    def examples():
        return [_example("bert"), _example("vit"), _example("distil")]
