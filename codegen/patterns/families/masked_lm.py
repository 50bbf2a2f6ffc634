"""Masked language models (BERT, RoBERTa, ALBERT, ELECTRA's generator, DistilBERT
`*ForMaskedLM`, BERT's pre-training checkpoints): the encoder's last hidden state through the
prediction head, logits over the vocabulary for every token.

The head: a square (or narrowing, ALBERT's) `dense`, an activation, a norm, then the vocabulary
projection: a `decoder` Linear, or, where the checkpoint stores only a bias because the weight is
the token table (tied, the usual case), `F.linear(h, word_embeddings.weight, bias)`. Its parts sit
in a `transform` class (BERT: `cls.predictions.transform`), in the head class itself (RoBERTa's
`lm_head`, ALBERT's `predictions`), or at the top (DistilBERT's `vocab_transform`,
`vocab_layer_norm`, `vocab_projector`; ELECTRA's `generator_predictions`, `generator_lm_head`).

The activation is not in the weights: the library's heads named `*LMHead` (RoBERTa and its kin)
apply GELU whatever config.json's hidden_act says, the `*PredictionHeadTransform` ones (BERT and its
kin, ALBERT) follow hidden_act; config.json's model_type says which (GELU_HEAD_TYPES).
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    biased,
    body_inputs,
    family,
    modules,
    one_named,
    split_body,
    tensors,
)

DENSE = r"dense|vocab_transform|transform_dense"
NORM = r"LayerNorm|layer_norm|ln|norm|vocab_layer_norm"
DECODER = r"decoder|vocab_projector|generator_lm_head|lm_head|output"
TRANSFORM = r"transform|generator_predictions|vocab_transform"
HEAD = r"predictions|lm_head|lm_predictions|mlm_head"
HOLDER = r"cls|lm_predictions"
NEXT_SENTENCE = r"seq_relationship"  # BERT pre-training's next-sentence head (not the MLM logits)
BIAS_ONLY = r"vocab_projector|generator_lm_head|decoder"  # (a bias-only lm_head: decoder.HeadBias)
TOKENS = r"word_embeddings|wte|embed_tokens|tok_embeddings|token_embedding"
# Families whose masked-LM head applies GELU whatever hidden_act says (their `*LMHead` classes).
GELU_HEAD_TYPES = (
    "roberta",
    "xlm-roberta",
    "xlm-roberta-xl",
    "camembert",
    "data2vec-text",
    "roberta-prelayernorm",
    "longformer",
    "luke",
    "mpnet",
    "ibert",
    "xmod",
    "esm",
    "gte",
    "electra",
)


def head_activation(ctx: BlockContext, cls, where: str):
    """The head's activation: GELU for the families that fix it, else config.json's hidden_act
    (or DistilBERT's `activation`); cited either way."""
    model_type = ctx.resolver.evidence("model_type")
    default, cite = "gelu", ""
    if model_type is not None and model_type[1] in GELU_HEAD_TYPES:
        cite = f"{model_type[0]} {model_type[1]!r}: its LM head applies GELU"
    else:
        # dec11: ModernBERT's prediction head reads classifier_activation, not hidden_activation
        said = ctx.resolver.metadata.get("classifier_activation")  # (MobileBERT's: a switch)
        keys = ("classifier_activation",) if said and isinstance(said[1], str) else ()
        said = ctx.resolver.evidence(*(keys or act.SYNONYMS["activation"]))
        name = act.ALIASES.get(said[1], said[1]) if said and isinstance(said[1], str) else None
        if name in act.FUNCTIONS and name != "leaky_relu":
            default, cite = name, f"{said[0]} {said[1]!r}"
    choice = ctx.choose(
        cls,
        where,
        "head_activation",  # not `activation`: a family may fix it apart from its layers'
        default,
        act.feed_forward(default),
        "the prediction head's activation",
    )
    if cite and choice.source == "default":
        choice.source, choice.note = "metadata", cite
    return choice


def _transform_parts(ctx: BlockContext, members: list):
    """(dense, norm) of a transform written out (a square or narrowing Linear, then a norm)."""
    linears = [m for m in members if family(m) == "linear"]
    dense = one_named(linears, DENSE)
    norm = one_named([m for m in members if family(m) == "norm"], NORM)
    if dense is None or norm is None or dense.io is None:
        return None
    return dense, norm


class HeadTransform(BlockPattern):
    """`dense` -> activation -> norm: the prediction head's transform (BERT's, ELECTRA's)."""

    role = "HeadTransform"
    priority = 6
    # dec11: or a head class holding the transform alone, the vocabulary projection beside it
    # (ModernBERT's `lm_head` / `head`, then `decoder`)
    named = f"{TRANSFORM}|{HEAD}|head"

    accepts = Accepts(2, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 2 or not re.fullmatch(self.named, cls.named or "", re.I):
            return None
        parts = _transform_parts(ctx, members)
        if parts is None:
            return None
        dense, norm = parts
        activation = head_activation(ctx, cls, dense.attr)
        return Match(self, 2, (dense.attr, norm.attr, activation.value), [activation])

    def forward(self, match: Match, g: Graph) -> None:
        dense, norm, activation = match.found
        h = act.apply(g, activation, g.call_module((dense,), g.input("x"), inline=True))
        g.output(g.call_module((norm,), h))

    @staticmethod
    def examples():
        return [_example("Bert", "relu")]  # BERT's transform follows hidden_act


class MaskedLMHead(BlockPattern):
    """A transform (a class, or its parts), then the vocabulary projection: the `decoder` Linear,
    or the tied token table passed in as `weight`, plus the head's own bias."""

    role = "MaskedLMHead"
    priority = 6
    named = HEAD

    def match(self, cls, ctx: BlockContext) -> Match | None:
        if not re.fullmatch(HEAD, cls.named or "", re.I):
            return None
        members = modules(cls)
        params = tensors(cls)
        bias = params[0] if len(params) == 1 and params[0].attr == "bias" else None
        if len(params) != (bias is not None) or (bias is not None and len(bias.shape) != 1):
            return None
        transform = [m for m in members if ctx.role(m) == "HeadTransform"]
        rest = [m for m in members if m not in transform]
        decoder = one_named([m for m in rest if family(m) == "linear"], DECODER)
        rest = [m for m in rest if m is not decoder]
        choices, parts = [], None
        if transform:
            if len(transform) != 1 or rest:
                return None
        else:
            parts = _transform_parts(ctx, rest)
            if parts is None or len(rest) != 2:
                return None
            choices.append(head_activation(ctx, cls, parts[0].attr))
        if decoder is None and bias is None:
            return None  # nothing says the vocabulary's width: not a head this pattern knows
        found = (
            transform[0].attr if transform else None,
            (parts[0].attr, parts[1].attr, choices[0].value) if parts else None,
            decoder.attr if decoder is not None else None,
            decoder is not None and biased(decoder),
            bias is not None,
        )
        return Match(self, len(members) + len(params), found, choices)

    def forward(self, match: Match, g: Graph) -> None:
        transform, parts, decoder, decoder_bias, bias = match.found
        x = g.input("x")
        weight = g.input("weight") if decoder is None else None
        if transform is not None:
            h = g.call_module((transform,), x, name="h")
        else:
            dense, norm, activation = parts
            h = act.apply(g, activation, g.call_module((dense,), x, inline=True), inline=True)
            h = g.call_module((norm,), h, name="h")
        if decoder is not None:
            logits = g.call_module((decoder,), h, inline=bias and not decoder_bias)
            if bias and not decoder_bias:
                logits = g.call_function("add", logits, g.getattr(("bias",)))
        else:  # the token table's weight, and the head's own bias
            logits = g.call_function("linear", h, weight, g.getattr(("bias",)))
        g.output(logits, comment="[batch, seq, vocab_size]")

    @staticmethod
    def examples():
        return [_example("Roberta", "relu")]  # RoBERTa's lm_head: GELU whatever hidden_act says


class MaskedLMHeadHolder(BlockPattern):
    """A class holding the head (BERT's `cls`), and perhaps the next-sentence head beside it."""

    role = "MaskedLMHead"
    priority = 5
    named = HOLDER

    accepts = Accepts(tensors=False, roles=("MaskedLMHead",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or not re.fullmatch(HOLDER, cls.named or "", re.I):
            return None
        head = [m for m in members if ctx.role(m) == "MaskedLMHead"]
        rest = [m for m in members if m not in head]
        nsp = one_named([m for m in rest if family(m) == "linear"], NEXT_SENTENCE)
        if len(head) != 1 or len(rest) != (nsp is not None):
            return None
        return Match(self, len(members), (head[0].attr, ctx.takes(head[0], "weight")))

    def forward(self, match: Match, g: Graph) -> None:
        head, tied = match.found
        args = (g.input("x"),) + ((g.input("weight"),) if tied else ())
        g.output(g.call_module((head,), *args), comment="the masked-LM logits")

    @staticmethod
    def examples():
        return [_example("Bert")]


class VocabBias(BlockPattern):
    """A vocabulary projection that stores only its bias (its weight is the token table):
    `F.linear(x, weight, bias)`."""

    role = "VocabBias"
    priority = 6
    named = BIAS_ONLY

    accepts = Accepts(0, 0, tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        params = tensors(cls)
        if modules(cls) or len(params) != 1 or params[0].attr != "bias":
            return None
        if not re.fullmatch(BIAS_ONLY, cls.named or "", re.I) or len(params[0].shape) != 1:
            return None
        return Match(self, 1, None)

    def forward(self, match: Match, g: Graph) -> None:
        x, weight = g.input("x"), g.input("weight")
        g.output(g.call_function("linear", x, weight, g.getattr(("bias",))))

    @staticmethod
    def examples():
        return [_tied_example()]


def _token_table(ctx: BlockContext, body) -> tuple[str, ...] | None:
    """The path, from the body, of the token table's weight (`embeddings.word_embeddings`)."""
    cls = ctx.classes.get(body.type_name)
    embed = [m for m in modules(cls) if ctx.role(m) == "TextEmbeddings"] if cls else []
    inner = ctx.classes.get(embed[0].type_name) if len(embed) == 1 else None
    tokens = one_named(modules(inner), TOKENS) if inner is not None else None
    if tokens is None:
        return None
    return (body.attr, embed[0].attr, tokens.attr, "weight")


class MaskedLM(BlockPattern):
    """The encoder, then the prediction head on every token."""

    role = "MaskedLM"
    priority = 10
    accepts = Accepts(2, 4, tensors=False, roles=(("EncoderModel", "Transformer"),))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        # dec11: or a decoder's body under the same head (ModernBERT's decoder)
        split = split_body(cls, ctx, "EncoderModel", range(2, 5)) or split_body(
            cls, ctx, "Transformer", range(2, 5)
        )
        if split is None:
            return None
        body, rest = split
        head = [m for m in rest if ctx.role(m) == "MaskedLMHead"]
        transform = [m for m in rest if ctx.role(m) == "HeadTransform"]
        bias_only = [m for m in rest if ctx.role(m) == "VocabBias"]
        choices, parts = [], None
        if head:
            if len(rest) != 1:
                return None
            tied = ctx.takes(head[0], "weight")
            found = ("head", head[0].attr, tied)
        else:
            others = [m for m in rest if m not in transform and m not in bias_only]
            linears = [m for m in others if family(m) == "linear"]
            projector = bias_only[0] if len(bias_only) == 1 else one_named(linears, DECODER)
            others = [m for m in others if m is not projector]
            if projector is None or len(bias_only) > 1 or len(transform) > 1:
                return None
            if not transform:
                parts = _transform_parts(ctx, others)
                if parts is None or len(others) != 2:
                    return None
                choices.append(head_activation(ctx, cls, parts[0].attr))
            elif others:
                return None
            tied = projector in bias_only
            step = transform[0].attr if transform else (parts[0].attr, parts[1].attr)
            found = ("parts", step, choices[0].value if choices else None, projector.attr, tied)
        arch = ctx.resolver.evidence("architectures")
        # (enc10: and the same head on a BERT-style body run as a decoder, BertLMHeadModel,
        # RobertaForCausalLM, BLIP's text decoder: config.json's is_decoder makes the body causal)
        heads = r"MaskedLM|ForPreTraining|ForMaskedLM|LMHeadModel|ForCausalLM"
        if arch and not re.search(heads, str(arch[1])):
            return None
        table = _token_table(ctx, body) if tied else None
        if tied and table is None:
            return None
        found = (body.attr, body_inputs(ctx, body), table) + found
        return Match(self, len(rest) + 2, found, choices)

    def forward(self, match: Match, g: Graph) -> None:
        body, inputs, table, kind = match.found[:4]
        args = [g.input(name, optional=optional) for name, optional in inputs]
        x = g.call_module((body,), *args, comment="[batch, seq, d_model]")
        weight = (g.getattr(table),) if table is not None else ()
        if kind == "head":
            head = match.found[4]
            g.output(g.call_module((head,), x, *weight), comment="[batch, seq, vocab_size]")
            return
        step, activation, projector = match.found[4:7]
        if isinstance(step, str):
            h = g.call_module((step,), x, name="h")
        else:
            dense, norm = step
            h = act.apply(g, activation, g.call_module((dense,), x, inline=True), inline=True)
            h = g.call_module((norm,), h, name="h")
        logits = g.call_module((projector,), h, *weight)
        g.output(logits, comment="[batch, seq, vocab_size]")

    @staticmethod
    def examples():
        # BERT's head follows hidden_act, RoBERTa's applies GELU whatever it says; DistilBERT's
        # head sits at the top
        return [_example("Bert", "relu"), _example("Roberta", "relu"), _example("DistilBert")]


def _example(name: str, hidden_act: str = "gelu") -> Example:
    """The library's `{name}ForMaskedLM` from a tiny config, returning its logits."""
    import json

    import torch
    import transformers as t

    from codegen.patterns.blocks._encoder_examples import TINY

    torch.manual_seed(0)
    ids = torch.randint(2, 50, (2, 7))
    mask = torch.ones(2, 7, dtype=torch.long)
    mask[1, 5:] = 0
    if name == "DistilBert":
        sizes = dict(vocab_size=50, dim=16, n_layers=2, n_heads=4, hidden_dim=32)
        config = t.DistilBertConfig(**sizes, max_position_embeddings=32, activation=hidden_act)
    else:
        config = getattr(t, f"{name}Config")(**TINY, hidden_act=hidden_act)
    base = getattr(t, f"{name}ForMaskedLM")

    class Reference(base):  # type: ignore[misc, valid-type]
        def forward(self, input_ids, attention_mask=None):  # type: ignore[override]
            return super().forward(input_ids=input_ids, attention_mask=attention_mask).logits

    model = Reference(config).eval()
    with torch.no_grad():  # unit-scale weights: a wrong activation shows above the tolerance
        for n, p in model.named_parameters():
            p.normal_(0, p[0].numel() ** -0.5) if p.dim() >= 2 else p.normal_(0.5, 0.2)
    metadata = json.loads(config.to_json_string())
    return Example(
        model, (ids, mask), {k: v for k, v in metadata.items() if not isinstance(v, dict)}
    )


def _tied_example() -> Example:
    """DistilBERT's masked LM as saved with its projector tied: only the projector's bias."""
    import torch.nn as nn
    import torch.nn.functional as F

    reference = _example("DistilBert")
    mlm = reference.module

    class Bias(nn.Module):
        def __init__(self, bias) -> None:
            super().__init__()
            self.bias = nn.Parameter(bias.detach().clone())

    class Tied(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.distilbert = mlm.distilbert
            self.vocab_transform, self.vocab_layer_norm = mlm.vocab_transform, mlm.vocab_layer_norm
            self.vocab_projector = Bias(mlm.vocab_projector.bias)

        def forward(self, input_ids, attention_mask=None):
            x = self.distilbert(input_ids=input_ids, attention_mask=attention_mask)[0]
            h = self.vocab_layer_norm(F.gelu(self.vocab_transform(x)))
            table = self.distilbert.embeddings.word_embeddings.weight
            return F.linear(h, table, self.vocab_projector.bias)

    return Example(Tied().eval(), reference.inputs, reference.metadata)
