"""A sentence classification head of its own class (RoBERTa, ELECTRA, XLM-R: `classifier.dense`,
`classifier.out_proj`): the first token's hidden state, a square projection, an activation, then
the projection to the labels. `out_proj(act(dense(x[:, 0])))`.

The activation is not in the weights: tanh for RoBERTa-like heads, GELU for ELECTRA's (its code
fixes it; config.json's model_type says which family).
"""

from __future__ import annotations

from codegen.ir.graph import Graph, Slice
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
    one_named,
    tensors,
)

DENSE, OUT = r"dense|pre_classifier|fc|proj", r"out_proj|classifier|out|fc_out"
# Families whose head applies GELU where RoBERTa's applies tanh.
GELU_HEAD_TYPES = ("electra",)


def _example() -> Example:
    import torch
    import torch.nn as nn

    from codegen.patterns.families._examples import modules as refs

    class Head(nn.Module):
        def __init__(self, d: int = 16, labels: int = 3) -> None:
            super().__init__()
            self.dense, self.out_proj = nn.Linear(d, d), nn.Linear(d, labels)

        def forward(self, x):
            return self.out_proj(torch.tanh(self.dense(x[:, 0])))

    class Classifier(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.roberta, self.classifier = refs()["bert"](), Head()

        def forward(self, ids, attention_mask):
            return self.classifier(self.roberta(ids, attention_mask))

    ids = torch.randint(2, 50, (2, 7))
    mask = torch.ones(2, 7, dtype=torch.long)
    mask[1, 5:] = 0
    config = {
        "model_type": "bert",  # positions from 0, as the reference's embeddings count them
        "num_attention_heads": 2,
        "hidden_act": "gelu",
        "architectures": ["RobertaForSequenceClassification"],
    }
    return Example(Classifier(), (ids, mask), config)


class ClassificationHead(BlockPattern):
    role = "ClassificationHead"
    priority = 5

    accepts = Accepts(2, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 2 or any(family(m) != "linear" for m in members):
            return None
        dense = one_named(members, DENSE)
        out = one_named([m for m in members if m is not dense], OUT)
        if dense is None or out is None or dense.io is None or out.io is None:
            return None
        if dense.io.in_width != dense.io.out_width or out.io.in_width != dense.io.out_width:
            return None  # a square projection, then the labels
        model_type = ctx.resolver.evidence("model_type")
        gelu = model_type is not None and model_type[1] in GELU_HEAD_TYPES
        activation = ctx.choose(
            cls,
            dense.attr,
            "head_activation",  # not `activation`: config.json's hidden_act is the layers' one
            "gelu" if gelu else "tanh",
            ["tanh" if gelu else "gelu", "relu"],
            "the head's activation",
        )
        if model_type is not None and activation.source == "default":
            activation.source, activation.note = "metadata", f"{model_type[0]} {model_type[1]!r}"
        return Match(self, 2, (dense.attr, out.attr, activation.value), [activation])

    def forward(self, match: Match, g: Graph) -> None:
        dense, out, activation = match.found
        x = g.input("x")
        first = g.call_function("getitem", x, (Slice(), 0), name="x", comment="the first token")
        h = act.apply(g, activation, g.call_module((dense,), first, inline=True), inline=True)
        g.output(g.call_module((out,), h), comment="[batch, num_labels]")

    @staticmethod
    def examples():
        return [_example()]
