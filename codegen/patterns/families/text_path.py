"""The text path of a multimodal model: a language model beside the parts that read images, video
or audio (a vision or audio tower, its projector or connector, a patch merger, a diffusion head),
as in the library's `...Model` of a vision-language or speech-language family. Given token ids
alone the library runs only the language model: the other parts' outputs replace placeholder
tokens' embeddings, and there are none without their inputs. So does this class: its forward
takes the ids (and the language model's mask) and returns the language model's output; the
other modalities' inputs are not taken, which the class's docstring says.

Recognised from names and roles together: exactly one member is a token-id Transformer (or a
causal LM with its head) whose name does not say a modality, and every other member (and any tensor the class holds) is named after
a modality or a connector between them. Its trust is `guessed`: some families' text path differs
(a prefix attending both ways, positions counted from the images), which no key shows.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, modules, tensors

# Names of the parts that read another modality, or connect it to the text (lowercased search).
MODALITY = re.compile(
    r"vision|visual|image|video|audio|speech|sound|acoustic|semantic|multi_?modal|mm_|"
    r"projector|connector|adapter|merger|resampler|perceiver|tokenizer|diffusion|latent|"
    r"patch|pixel|tower",
    re.IGNORECASE,
)
TEXT_ROLES = ("Transformer", "CausalLM")


class TextPath(BlockPattern):
    role = "Transformer"  # a causal LM head wraps it as it wraps a decoder stack
    names_class = False
    priority = 4
    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        text = [m for m in members if not MODALITY.search(m.attr)]
        # a decoder stack, or a causal LM with its head (Llava's saved `language_model.lm_head`)
        if len(text) != 1 or len(members) < 2 or ctx.role(text[0]) not in TEXT_ROLES:
            return None
        if not all(MODALITY.search(t.attr) for t in tensors(cls)):
            return None
        parts = sorted(m.attr for m in members if m is not text[0])
        found = (text[0].attr, ctx.takes(text[0], "attention_mask"), parts)
        # guessed, naming every part it leaves out: those may have no forward of their own
        guessed = (
            f"the text path only: the ids go through {text[0].attr}, as the library runs them "
            f"without images or audio; {', '.join(parts)} are not run and their inputs are not "
            "taken"
        )
        return Match(self, len(members) + len(tensors(cls)), found, guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        body, masked, _ = match.found  # the docstring names the parts left out
        args = [g.input("input_ids")]
        if masked:
            args.append(g.input("attention_mask", optional=True))
        g.output(g.call_module((body,), *args))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        from codegen.patterns.families._examples import modules as shared

        class VisionTower(nn.Module):  # reads images: never run on the text path
            def __init__(self) -> None:
                super().__init__()
                self.patch_embedding = nn.Conv2d(3, 24, 4, stride=4)
                self.post_layernorm = nn.LayerNorm(24)

        class TextAndImages(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.language_model = shared()["lm"]().transformer
                self.vision_tower = VisionTower()
                self.multi_modal_projector = nn.Linear(24, 16)

            def forward(self, ids: torch.Tensor) -> torch.Tensor:
                return self.language_model(ids)

        class LM(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.model, self.lm_head = TextAndImages(), nn.Linear(16, 50, bias=False)

            def forward(self, ids: torch.Tensor) -> torch.Tensor:
                return self.lm_head(self.model(ids))

        config = {"n_head": 2, "hidden_act": "gelu", "architectures": ["ToyForCausalLM"]}
        return [Example(LM(), (torch.randint(0, 50, (2, 7)),), config)]
