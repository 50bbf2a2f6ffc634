"""A checkpoint of several towers (a vision-language or audio-language model: LLaVA, Idefics3,
Fuyu, ModernVBERT) called with text only: its forward is its text tower's. The other members,
named for the modality they carry (`vision_model`, `connector`, `multi_modal_projector`,
`vision_embed_tokens`, `audio_tower`, an `image_newline` tensor), are loaded, so the checkpoint
loads strictly, but not run: without images or audio the library runs the text tower alone on
the token embeddings, which is what this forward computes. The file says so on the call; a
modality member whose own forward modelgen could not infer makes this forward 'guessed', naming
it, so the file is flagged even though the text path does not reach it.

The wrapper takes its text tower's role (a `Transformer` body, a `CausalLM`, a text
`EncoderModel`), so a head around it (LLaVA's `lm_head` beside `model`) is recognised as around
the tower itself.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    modules,
    not_run,
    other_modality,
    tensors,
)
from codegen.patterns.blocks.wrapper import call_through, signature
from codegen.patterns.families.decoder import (
    apply_logit_transforms,
    logit_transforms,
    token_embedding,
)


class _TextPath(BlockPattern):
    """One text tower of this pattern's role beside members of other modalities only."""

    priority = 4
    trust_note = (
        "a recognised pattern: the text tower's forward on text inputs alone; the members of "
        "other modalities (images, audio) are loaded, not run"
    )

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if any(not other_modality(t) for t in tensors(cls)):
            return None
        towers = [m for m in members if not other_modality(m)]
        others = [m for m in members if other_modality(m)]
        if len(towers) != 1 or not others or towers[0].kind != "class":
            return None
        tower = towers[0]
        inner = ctx.classes.get(tower.type_name)
        graph = inner.forward.graph if inner is not None and inner.forward is not None else None
        if ctx.role(tower) != self.role or graph is None or not ctx.takes(tower, "input_ids"):
            return None
        head, unapplied = _head_not_stored(cls, ctx, self.role, inner)
        found = (tower.attr, tuple(m.attr for m in others), *signature(inner), head)
        gaps = [g for g in (not_run(others, ctx), unapplied) if g]
        return Match(self, len(members) + len(tensors(cls)), found, guessed="; ".join(gaps))

    def forward(self, match: Match, g: Graph) -> None:
        tower, others, inputs, returns, _, head = match.found
        x = call_through(g, (tower,), inputs, returns)
        if head is not None:  # the head tied to the text tower's token table
            table, transforms = head
            g[x].comment = "[batch, seq, d_model]; the head is the token embedding (tied)"
            weight = g.getattr((tower, *table, "weight"))
            logits = g.call_function("linear", x, weight, inline=any(transforms))
            x = apply_logit_transforms(g, logits, *transforms)
        g.output(x, comment=f"{', '.join(others)}: not run")

    def example_inputs(self, match: Match, cls) -> list:
        return match.found[4]


def _head_not_stored(cls, ctx: BlockContext, role: str, tower_cls) -> tuple[tuple | None, str]:
    """Where this class is the whole checkpoint and config.json names a class that returns logits
    (Gemma 3's `...ForConditionalGeneration`), but no head is stored (tied to the token table,
    so saved once): the library's logits are the text tower's hidden states times that table,
    scaled or capped as config.json says. Returns (the head: the table's path in the tower and
    the logit transforms, or None; what is left unapplied, or ''). Where the tower is not a bare
    transformer body, or config.json unties the head, the head is not built, and said, so the
    file is flagged rather than returning hidden states as if they were the output."""
    arch = ctx.resolver.evidence("architectures")
    generates = arch and re.search(
        r"ForConditionalGeneration|ForCausalLM|LMHeadModel", str(arch[1])
    )
    if not cls.is_top or role == "CausalLM" or not generates:
        return None, ""
    tie = ctx.resolver.evidence("tie_word_embeddings")
    table = token_embedding(tower_cls, ctx.classes) if role == "Transformer" else None
    if table is not None and not (tie is not None and tie[1] is False):
        transforms = logit_transforms(ctx)
        given = [t[1] for t in transforms if t is not None]
        if not given:
            return (table, transforms), ""
        # a composite's code applies its text config's logit factors or not (Gemma 3's caps
        # them, LLaVA-NeXT's leaves Granite's logits_scaling to the text model it never calls)
        return (table, (None, None, None)), (
            f"whether the logits take config.json's {', '.join(given)} is this composite's "
            "code, not the checkpoint's: not applied"
        )
    return None, (
        f"config.json's architectures {arch[1]!r} returns logits through a head the checkpoint "
        "does not store; this forward returns the text tower's hidden states"
    )


class TextPathTransformer(_TextPath):
    role = "Transformer"
    accepts = Accepts(2, roles=("Transformer",))

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.families._examples import modules as refs

        ids = torch.randint(0, 50, (2, 7))
        return [
            Example(
                _two_towers(refs()["lm"]().transformer), (ids,), {"n_head": 2, "hidden_act": "gelu"}
            )
        ]


class TextPathCausalLM(_TextPath):
    role = "CausalLM"
    accepts = Accepts(2, roles=("CausalLM",))

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.families._examples import modules as refs

        ids = torch.randint(0, 50, (2, 7))
        return [Example(_two_towers(refs()["lm"]()), (ids,), {"n_head": 2, "hidden_act": "gelu"})]


class TextPathEncoder(_TextPath):
    role = "EncoderModel"
    accepts = Accepts(2, roles=("EncoderModel",))

    @staticmethod
    def examples():
        from codegen.patterns.blocks.encoder_layer import _example

        bert = _example("bert")
        return [Example(_two_towers(bert.module), bert.inputs, bert.metadata)]


def _two_towers(text):
    """A vision-language model laid out as LLaVA's: a vision tower, a projector, the text tower."""
    import torch
    import torch.nn as nn

    class VisionLanguage(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.vision_tower = nn.Linear(12, 16)
            self.multi_modal_projector = nn.Linear(16, 16)
            self.image_newline = nn.Parameter(torch.zeros(16))
            self.language_model = text

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.language_model(*inputs)

    return VisionLanguage()
