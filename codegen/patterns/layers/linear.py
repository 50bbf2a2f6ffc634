"""nn.Linear and nn.Bilinear: one 2-D (or 3-D) weight and an optional bias."""

from __future__ import annotations

from codegen.ir import Arg, IOSpec
from codegen.patterns._kit import (
    Example,
    LayerContext,
    LayerPattern,
    Recognised,
    flag,
    hinted,
    names,
    prov,
    shape,
    type_choice,
)

from codegen.patterns.layers.hf_conv1d import is_conv1d

# A bias-free 2-D weight is also what an Embedding holds; these names say it is one (diffusers'
# `time_proj` holding a weight: its learned table of timesteps; `shared` alone: T5's and BART's
# table, where a `shared_expert_gate` is a Linear).
EMBEDDING_NAME = (
    r"emb|wte|wpe|tok|vocab|lookup|position|word|^shared$|relative_attention_bias|^time_proj$"
)
# ...except these, which are LM heads projecting back to the vocabulary (GPT-NeoX's embed_out).
HEAD_NAME = r"^(embed_out|lm_head|unembed|unembedding)$"
# ...and these, which project the embeddings to the layers' width (DeBERTa's embed_proj, CSM's
# depth decoder's inputs_embeds_projector).
PROJECTION_NAME = r"(^|_)(embed|embedding|emb)s?_proj(ection|ector)?$"


class Linear(LayerPattern):
    role = "Linear"
    priority = 10  # a bias-free 2-D weight not named like a table: a Linear before an Embedding

    def recognise(self, node, ctx: LayerContext) -> Recognised | None:
        found = names(node)
        if node.children or "weight" not in found or not found <= {"weight", "bias"}:
            return None
        w = shape(node, "weight")
        if len(w) != 2 or ("bias" in found and shape(node, "bias") != (w[0],)):
            return None
        if "bias" in found and w[0] == w[1] and is_conv1d(node, ctx):
            return None  # stored transposed: a Hugging Face Conv1D (layers/hf_conv1d.py)
        args = [
            Arg(None, w[1], "width", prov(node, "weight", 1)),
            Arg(None, w[0], "width", prov(node, "weight", 0)),
        ]
        choices = []
        if "bias" not in found:
            args.append(flag("bias", False, f"no {prov(node, 'bias')}"))
            projects = hinted(node, HEAD_NAME) or hinted(node, PROJECTION_NAME)
            if hinted(node, EMBEDDING_NAME) and not projects:
                return None
            choice = type_choice(ctx, node, "nn.Linear", ["nn.Embedding"], "a bias-free 2-D weight")
            if choice.value != "nn.Linear":
                return None
            choices.append(choice)
        return Recognised("nn.Linear", args, IOSpec("linear", w[1], w[0]), choices)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        x = torch.randn(2, 6)
        return [Example(nn.Linear(6, 4), (x,)), Example(nn.Linear(6, 3, bias=False), (x,))]


class Bilinear(LayerPattern):
    role = "Bilinear"
    priority = 10  # a 3-D weight named bilinear, rather than a Conv1d

    def recognise(self, node, ctx: LayerContext) -> Recognised | None:
        found = names(node)
        if node.children or "weight" not in found or not found <= {"weight", "bias"}:
            return None
        w = shape(node, "weight")
        if len(w) != 3 or not hinted(node, r"bilinear"):
            return None
        args = [
            Arg(None, w[1], "width", prov(node, "weight", 1)),
            Arg(None, w[2], "width", prov(node, "weight", 2)),
            Arg(None, w[0], "width", prov(node, "weight", 0)),
        ]
        if "bias" not in found:
            args.append(flag("bias", False, f"no {prov(node, 'bias')}"))
        return Recognised("nn.Bilinear", args, IOSpec("linear", w[1], w[0]))

    @staticmethod
    def examples():
        import torch.nn as nn

        class Pair(nn.Module):  # two inputs: the forward is not inferred, the layer must load
            def __init__(self) -> None:
                super().__init__()
                self.bilinear = nn.Bilinear(3, 4, 5)

        return [Example(Pair(), None)]
