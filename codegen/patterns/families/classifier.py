"""A model with a classification head on top of an encoder or a decoder: the head's logits out.

- `EncoderClassifier` (BERT, RoBERTa, DistilBERT, ALBERT, ELECTRA, ViT `*ForSequenceClassification`,
  `*ForTokenClassification`, `ViTForImageClassification`): the encoder's last hidden state, then
  per token (token classification) or pooled: through the encoder's pooler where it has one
  (BERT, ALBERT), else the first token (ViT, DistilBERT's `pre_classifier` + ReLU, or a head class
  that pools itself: RoBERTa's `classifier.dense` / `out_proj`).
- `DecoderClassifier` (GPT-2, LLaMA `*ForSequenceClassification`): the score of each sequence's
  last token that is not padding, found with config.json's `pad_token_id`, as the library does.

Which pooling is not in the weights: config.json's `architectures` says (`...ForTokenClassification`
is per token); without it, a pooler or a head class means pooled, a bare linear is a choice.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph, Slice
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    body_inputs,
    family,
    modules,
    one_named,
    split_body,
    tensors,
)

HEAD = r"classifier|score|head|cls_head|classification_head|fc"
PRE = r"pre_classifier"
POOLER = r"pooler"


def _pooler(ctx: BlockContext, body):
    """The body's pooler: (attr, is_a_class) for a Pooler class or a bare linear named so."""
    cls = ctx.classes.get(body.type_name)
    if cls is None:
        return None
    found = one_named(modules(cls), POOLER)
    if found is None:
        return None
    if ctx.role(found) == "Pooler":
        return found.attr, True
    return (found.attr, False) if family(found) == "linear" else None


class EncoderClassifier(BlockPattern):
    role = "Classifier"
    priority = 10

    accepts = Accepts(2, 3, tensors=False, roles=("EncoderModel",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        split = split_body(cls, ctx, "EncoderModel", range(2, 4))
        if split is None:
            return None
        body, rest = split
        head_class = [m for m in rest if ctx.role(m) == "ClassificationHead"]
        linears = [m for m in rest if family(m) == "linear"]
        pre = one_named(linears, PRE)
        head = one_named([m for m in linears if m is not pre], HEAD)
        if head_class:
            if len(rest) != 1:
                return None
            return Match(
                self,
                3,
                (body.attr, body_inputs(ctx, body), "head", head_class[0].attr, None, None),
            )
        if head is None or len(rest) != 1 + (pre is not None):
            return None
        pooler = _pooler(ctx, body)
        arch = ctx.resolver.evidence("architectures")
        options = ["first_token", "per_token"] + (["pooler"] if pooler else [])
        default, cite = ("pooler" if pooler else "first_token"), ""
        if arch and re.search(r"ForTokenClassification", str(arch[1])):
            default, cite = "per_token", f"{arch[0]} {arch[1]!r}"
        elif arch and re.search(r"For(Sequence|Image)Classification", str(arch[1])):
            cite = f"{arch[0]} {arch[1]!r}"
        if pre is not None and default == "pooler":
            default = "first_token"
        pooling = ctx.choose(
            cls,
            head.attr,
            "pooling",
            default,
            [o for o in options if o != default],
            "what the head classifies: the pooled sequence or each token",
        )
        if cite and pooling.source == "default":
            pooling.source, pooling.note = "metadata", cite
        found = (
            body.attr,
            body_inputs(ctx, body),
            pooling.value,
            head.attr,
            pre.attr if pre else None,
            pooler,
        )
        return Match(self, len(rest) + 2, found, [pooling])

    def forward(self, match: Match, g: Graph) -> None:
        body, inputs, pooling, head, pre, pooler = match.found
        args = [g.input(name, optional=optional) for name, optional in inputs]
        x = g.call_module((body,), *args, comment="[batch, seq, d_model]")
        if pooling == "head":
            g.output(g.call_module((head,), x), comment="[batch, num_labels]")
            return
        if pooling == "per_token":
            g.output(g.call_module((head,), x), comment="[batch, seq, num_labels]")
            return
        if pooling == "pooler" and pooler is not None:
            attr, is_class = pooler
            if is_class:
                x = g.call_module((body, attr), x, name="pooled")
            else:  # ALBERT: a bare linear, then tanh
                first = g.call_function("getitem", x, (Slice(), 0), inline=True)
                dense = g.call_module((body, attr), first, inline=True)
                x = g.call_function("tanh", dense, name="pooled", comment="the first token, pooled")
        else:
            x = g.call_function(
                "getitem", x, (Slice(), 0), name="pooled", comment="the first token"
            )
        if pre is not None:  # DistilBERT: a projection and ReLU before the labels
            x = g.call_function("relu", g.call_module((pre,), x, inline=True), name="pooled")
        g.output(g.call_module((head,), x), comment="[batch, num_labels]")

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        from codegen.patterns.families._examples import modules as refs

        class Classifier(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.vit, self.classifier = refs()["vit"](), nn.Linear(16, 4)

            def forward(self, pixels):
                return self.classifier(self.vit(pixels)[:, 0])

        config = {
            "model_type": "vit",
            "num_attention_heads": 2,
            "hidden_act": "gelu",
            "architectures": ["ViTForImageClassification"],
        }
        return [Example(Classifier(), (torch.randn(2, 3, 16, 16),), config)]


class DecoderClassifier(BlockPattern):
    role = "Classifier"
    priority = 10
    synonyms = {"pad_token_id": ("pad_token_id",)}

    accepts = Accepts(2, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 2:
            return None
        body = [m for m in members if ctx.role(m) == "Transformer"]
        head = one_named([m for m in members if family(m) == "linear"], HEAD)
        if len(body) != 1 or head is None:
            return None
        arch = ctx.resolver.evidence("architectures")
        if arch and not re.search(r"ForSequenceClassification", str(arch[1])):
            return None
        pad = ctx.choose(
            cls,
            head.attr,
            "pad_token_id",
            -1,
            [0, 1, 2],
            "padding's token id; -1: no padding, the last token is scored",
            accepts="index",
        )
        found = (body[0].attr, body_inputs(ctx, body[0]), head.attr, int(pad.value))
        return Match(self, 3, found, [pad])

    def forward(self, match: Match, g: Graph) -> None:
        body, inputs, head, pad = match.found
        args = [g.input(name, optional=optional) for name, optional in inputs]
        x = g.call_module((body,), *args, comment="[batch, seq, d_model]")
        x = g.call_function(
            "last_tokens", x, args[0], pad, name="x", comment="each sequence's last real token"
        )
        g.output(g.call_module((head,), x), comment="[batch, num_labels]")

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        from codegen.patterns.families._examples import modules as refs

        class Classifier(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.transformer = refs()["lm"]().transformer
                self.score = nn.Linear(16, 3, bias=False)

            def forward(self, ids):
                x = self.score(self.transformer(ids))
                real = (ids != 0).int()
                last = (torch.arange(ids.size(1)) * real).argmax(-1)
                return x[torch.arange(ids.size(0)), last]

        ids = torch.randint(1, 50, (2, 7))
        ids[1, 5:] = 0  # right padding
        config = {
            "n_head": 2,
            "hidden_act": "gelu",
            "pad_token_id": 0,
            "architectures": ["GPT2ForSequenceClassification"],
        }
        return [Example(Classifier(), (ids,), config)]
