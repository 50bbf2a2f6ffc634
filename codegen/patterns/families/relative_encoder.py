"""Encoders with T5's relative position bias (T5EncoderModel, the encoder of T5 / mT5 / FLAN-T5).

`RelativeEncoder` (T5's stack): the first block's attention owns the bias table; the stack turns it
into one bias for the sequence (relative_position_bias, padding added) that every block is given,
then the final norm. No absolute positions. Where every layer owns a table (UMT5), each layer adds
its own. `RelativeDecoder`: the same for the decoder (causal buckets, the future masked; the
encoder's output given to each layer's cross-attention). `RelativeEncoderModel`: the token
embedding (`shared`) and the encoder: `input_ids` (+ optional `attention_mask`, 1 attend, 0
padding) in, the last hidden state out.
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
    tensors,
)
from codegen.patterns.blocks.relative_attention import TABLE
from codegen.patterns.blocks.sublayer import as_module_list

TOKENS = r"embed_tokens|shared|wte|word_embeddings|token_embedding"
FINAL_NORM = r"final_layer_norm|layer_norm|norm|ln_f|final_norm"
SOME_LAYER_TABLES = (
    "a stack where some layers after the first own a relative position table and others do not: "
    "which bias the others add is not known"
)


def _items(m) -> list[tuple[str, str]]:
    """(index, class name) of a container's items; a repeat's copies share its first item's class."""
    if m.kind == "repeat" and m.children:
        count = m.repeat if isinstance(m.repeat, int) else 2
        return [(str(i), m.children[0].type_name) for i in range(count)]
    return [(c.attr, c.type_name) for c in m.children if c.kind == "class"]


LOCAL_PADDING = (
    "local attention: a padding query whose whole window is padding gets, in LongT5's blocks, "
    "the mean of its three blocks' values (zeros past the end); here it attends evenly to all "
    "keys. Real tokens' outputs are the library's"
)


def local_radius(ctx: BlockContext) -> int | str | None:
    """LongT5's encoder attention (config.json encoder_attention_type): "local" attends to keys at
    most local_radius positions away (its blocks of local_radius + 1 tokens, each beside the one
    before and after, hold exactly those keys, at T5's bucketed distances): the radius. None
    where config.json names no such type; what is missing where it names another."""
    kind = ctx.resolver.evidence("encoder_attention_type")
    if kind is None:
        return None
    radius = ctx.resolver.evidence("local_radius")
    if kind[1] != "local" or radius is None or type(radius[1]) is not int or radius[1] < 0:
        return f"encoder attention {kind[1]!r} (LongT5's transient global tokens): not built yet"
    ctx.resolver.evidence("global_block_size")  # read only by transient-global attention
    return radius[1]


def _feed_forward_proj_agrees(ctx: BlockContext) -> None:
    """T5's `feed_forward_proj` ("gated-gelu", "relu"...) says whether the MLP is gated, which its
    keys show, and its activation, which config.json also writes as `dense_act_fn` (read by the
    MLP; T5Config derives one from the other, "gated-gelu" giving "gelu_new"). It is used, so not
    reported, only where the two agree."""
    proj, dense = (ctx.resolver.metadata.get(k) for k in ("feed_forward_proj", "dense_act_fn"))
    if proj is None or dense is None or not isinstance(proj[1], str):
        return
    activation = "gelu_new" if proj[1] == "gated-gelu" else proj[1].split("-")[-1]
    if activation == dense[1]:
        ctx.resolver.evidence("feed_forward_proj")


def table_path(ctx: BlockContext, type_name: str) -> tuple[str, ...] | None:
    """Where, inside a class, the RelativeAttention that owns a bias table is; None if none."""
    cls = ctx.classes.get(type_name)
    if cls is None:
        return None
    for m in modules(cls):
        if m.kind == "class":
            inner = ctx.classes.get(m.type_name)
            if ctx.roles.get(m.type_name) == "RelativeAttention" and inner is not None:
                table = one_named(modules(inner), TABLE)
                if table is not None:
                    return (m.attr, table.attr)
            found = table_path(ctx, m.type_name)
            if found:
                return (m.attr, *found)
        elif m.kind in ("sequential", "modulelist", "repeat"):
            for index, name in _items(m):
                found = table_path(ctx, name)
                if found:
                    return (m.attr, index, *found)
    return None


class RelativeEncoder(BlockPattern):
    role = "Encoder"
    priority = 12
    synonyms = {"max_distance": ("relative_attention_max_distance",)}
    layer_role = "Block"
    bidirectional = True  # keys after the query have their own buckets; a decoder's are masked

    accepts = Accepts(tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls):
            return None
        stacks = [
            m
            for m in members
            if m.kind in ("sequential", "modulelist", "repeat")
            and all(ctx.roles.get(name) == self.layer_role for _, name in _items(m))
            and _items(m)
        ]
        if len(stacks) != 1:
            return None
        stack = stacks[0]
        items = _items(stack)
        if not all(ctx.takes(m, "bias") for m in stack.children):
            return None
        norm = one_named([m for m in members if family(m) == "norm"], FINAL_NORM)
        tokens = one_named([m for m in members if family(m) == "embedding"], TOKENS)
        if len(members) != 1 + (norm is not None) + (tokens is not None):
            return None
        tables = [table_path(ctx, name) for _, name in items]
        if tables[0] is None:
            return None
        as_module_list(stack)
        per_layer = any(tables[1:])
        if per_layer and not all(tables):
            return Match(self, len(members), missing=SOME_LAYER_TABLES)
        _feed_forward_proj_agrees(ctx)
        said = ctx.resolver.evidence(*self.synonyms["max_distance"])  # any value config.json has
        distance = ctx.choose(
            cls,
            stack.attr,
            "max_distance",
            128,
            [32, 64, 256] + ([said[1]] if said and isinstance(said[1], int) else []),
            "the relative distance the last bucket starts at",
            accepts="positive_int",
        )
        window = local_radius(ctx) if self.bidirectional else None
        if isinstance(window, str):
            return Match(self, len(members), missing=window)
        # (index, path of its bias table): every layer's own (UMT5), or the first one's for all
        paths = [(i, (stack.attr, i, *t, "weight")) for (i, _), t in zip(items, tables) if t]
        found = (
            tokens.attr if tokens else None,
            paths if per_layer else paths[:1],
            stack.attr,
            norm.attr if norm else None,
            int(distance.value),
            window,
        )
        guessed = LOCAL_PADDING if window is not None else ""
        return Match(self, len(members), found, [distance], guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        tokens, tables, stack, norm, max_distance, window = match.found
        if tokens is not None:
            x = g.call_module((tokens,), g.input("input_ids"), comment="[batch, seq, d_model]")
        else:
            x = g.input("x")
        extra, mask = self.stack_inputs(g)
        seq = g.call_method("size", x, 1, name="seq", inline=len(tables) == 1)

        def bias_from(table, comment: str):
            bias = g.call_function(
                "relative_position_bias",
                g.getattr(table),
                seq,
                self.bidirectional,
                max_distance,
                name="bias",
                comment=comment,
            )
            if window is not None:  # local attention: keys within `window` of their query only
                bias = g.call_function("local_band_bias", bias, window, name="bias")
            return self.mask_bias(g, bias, mask)

        if len(tables) == 1:  # T5: the first layer's table gives the bias every layer adds
            bias = bias_from(tables[0][1], "[1, heads, seq, seq]: the first layer's table")
            x = g.call_module((stack,), x, bias, *extra, each=True)
        else:  # UMT5: each layer adds the bias of its own table
            for index, table in tables:
                bias = bias_from(table, f"layer {index}'s own table")
                x = g.call_module((stack, index), x, bias, *extra, name="x")
        g.output(g.call_module((norm,), x) if norm else x)

    def stack_inputs(self, g: Graph) -> tuple:
        """(the inputs every layer is given after x and bias, the padding mask the bias takes)."""
        return (), g.input("attention_mask", optional=True)

    def mask_bias(self, g: Graph, bias, mask):
        return g.call_function("additive_padding_mask", bias, mask, name="bias")

    @staticmethod
    def examples():
        from codegen.patterns.families._seq2seq_examples import example

        return [example("t5"), example("t5_stack_embeds"), example("umt5")]


class RelativeDecoder(RelativeEncoder):
    """T5's decoder stack: the first layer's table read causally (the future masked), the
    encoder's output and its padding mask given to every layer's cross-attention."""

    role = "Decoder"
    layer_role = "DecoderBlock"
    bidirectional = False

    def stack_inputs(self, g: Graph) -> tuple:
        memory = g.input("memory")  # the encoder's output [batch, source seq, d_model]
        memory_mask = g.input("memory_mask", optional=True)  # 1 attend, 0 padding; or None
        mask = g.call_function("padding_mask", memory_mask, name="memory_mask")
        return (memory, mask), None

    def mask_bias(self, g: Graph, bias, mask):
        return g.call_function("additive_causal_mask", bias, name="bias")

    @staticmethod
    def examples():
        from codegen.patterns.families._seq2seq_examples import example

        return [example("t5_model"), example("umt5_model")]


def _relative_encoder(ctx: BlockContext, m) -> bool:
    cls = ctx.classes.get(m.type_name) if m.kind == "class" else None
    return cls is not None and cls.forward.pattern == RelativeEncoder.__name__


class RelativeEncoderModel(BlockPattern):
    """The token table and the encoder: the ids are embedded here unless the encoder has its own."""

    role = "EncoderModel"
    priority = 12

    accepts = Accepts(2, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 2:
            return None
        encoder = [m for m in members if _relative_encoder(ctx, m)]
        tokens = one_named([m for m in members if family(m) == "embedding"], TOKENS)
        if len(encoder) != 1 or tokens is None:
            return None
        embeds_itself = ctx.takes(encoder[0], "input_ids")
        ctx.resolver.evidence("scale_decoder_outputs")  # scales an LM head: none here
        return Match(self, 2, (tokens.attr, encoder[0].attr, embeds_itself))

    def forward(self, match: Match, g: Graph) -> None:
        tokens, encoder, embeds_itself = match.found
        ids = g.input("input_ids")
        attention_mask = g.input("attention_mask", optional=True)
        if embeds_itself:  # the encoder's own table holds the same weights as this one (tied)
            g.output(g.call_module((encoder,), ids, attention_mask))
            return
        x = g.call_module((tokens,), ids, comment="[batch, seq, d_model]")
        g.output(
            g.call_module((encoder,), x, attention_mask),
            comment="[batch, seq, d_model]: the last hidden state",
        )

    @staticmethod
    def examples():
        from codegen.patterns.families._seq2seq_examples import example

        return [example("t5")]
