"""A contrastive two-tower model (CLIPModel): a text encoder and a vision encoder, each pooled to
one vector (the text at its end-of-text token, the image at its class token, normalised by the
tower's post_layernorm), projected to a shared width, normalised, and compared: the output is
`logits_per_image` [images, texts], every cosine similarity times exp(logit_scale).

The end-of-text token is the first `eos_token_id` in each sequence (config.json); an
`eos_token_id` of 2 means the largest id instead, as the library keeps for configs written before
that field was fixed. A text tower holding a BERT pooler (BLIP's) pools through it where the model
type's code does: the keys cannot tell, since a tower may hold a pooler its model never calls
(ALIGN's).
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph, Slice
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
from codegen.patterns.families.encoder import POOLED_NORM, POOLER

TEXT_PROJECTION = r"text_projection|text_proj"
IMAGE_PROJECTION = r"visual_projection|vision_projection|image_projection|visual_proj"
SCALE = r"logit_scale"
# The model types whose code reads an end-of-text id of 2 as "the largest id" (configs written
# before CLIP's id was fixed); MetaCLIP 2, a copy of CLIP, reads 2 as the id itself. CLIPSeg
# keeps CLIP's test; OWLv2 pools at the largest id whatever its config says.
LEGACY_EOS_TYPES = ("clip", "clip_text_model", "clipseg", "owlv2")
# The model types whose code takes the text tower's pooler output (tanh(dense(first token))):
# BlipModel's text_embeds = text_outputs.pooler_output.
POOLER_TEXT_TYPES = ("blip",)


def eos_guess(ctx: BlockContext, eos: int) -> str:
    """What a forward pooling at `eos` rests on without proof: '' where the id is not CLIP's old
    2, or where model_type names a family whose code reads 2 as the largest id."""
    if eos != 2:
        return ""
    model_type = ctx.resolver.evidence("model_type")
    if model_type and model_type[1] in LEGACY_EOS_TYPES:
        return ""
    return "that an end-of-text id of 2 means the largest id, as CLIP reads it"


class DualEncoder(BlockPattern):
    role = "DualEncoder"
    priority = 5
    synonyms = {"eos_token_id": ("eos_token_id",)}

    accepts = Accepts(4, 4, tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members, params = modules(cls), tensors(cls)
        if len(members) != 4 or len(params) != 1 or not re.fullmatch(SCALE, params[0].attr):
            return None
        if len(params[0].shape) != 0:
            return None
        towers = [m for m in members if ctx.role(m) == "EncoderModel"]
        text = [m for m in towers if ctx.takes(m, "input_ids")]
        vision = [m for m in towers if ctx.takes(m, "pixel_values")]
        linears = [m for m in members if family(m) == "linear"]
        text_proj = one_named(linears, TEXT_PROJECTION)
        image_proj = one_named(linears, IMAGE_PROJECTION)
        if len(text) != 1 or len(vision) != 1 or text_proj is None or image_proj is None:
            return None
        inner = ctx.classes.get(vision[0].type_name)
        pooled_norm = one_named(
            [m for m in modules(inner) if family(m) == "norm"] if inner else [], POOLED_NORM
        )
        if pooled_norm is None:
            return None
        model_type = ctx.resolver.evidence("model_type")
        text_inner = ctx.classes.get(text[0].type_name)
        text_pooler = one_named(
            [m for m in modules(text_inner) if ctx.role(m) == "Pooler"] if text_inner else [],
            POOLER,
        )
        if text_pooler is not None and model_type and model_type[1] in POOLER_TEXT_TYPES:
            found = (text[0].attr, ctx.takes(text[0], "attention_mask"), vision[0].attr)
            found += (pooled_norm.attr, text_proj.attr, image_proj.attr, params[0].attr)
            return Match(self, 5, (*found, text_pooler.attr), [])
        eos = ctx.choose(
            cls,
            text_proj.attr,
            "eos_token_id",
            2,
            [],
            "the token whose state pools the text (2: the largest id)",
            accepts="index",
        )
        found = (
            text[0].attr,
            ctx.takes(text[0], "attention_mask"),
            vision[0].attr,
            pooled_norm.attr,
            text_proj.attr,
            image_proj.attr,
            params[0].attr,
            int(eos.value),
        )
        guessed = eos_guess(ctx, int(eos.value))
        if text_pooler is not None:  # a pooler the text may or may not pool through
            guessed = "; ".join(
                filter(None, [guessed, "that the text pools at a token, not through its pooler"])
            )
        return Match(self, 5, found, [eos], guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        text, takes_mask, vision, pooled_norm, text_proj, image_proj, scale, eos = match.found
        ids = g.input("input_ids")
        pixels = g.input("pixel_values")
        mask = g.input("attention_mask", optional=True) if takes_mask else None
        t = g.call_module((text,), ids, *((mask,) if takes_mask else ()), name="text")
        if isinstance(eos, str):  # the tower's pooler, by its name
            t = g.call_module((text, eos), t, name="text", comment="[texts, d_text]: pooled")
        else:
            t = g.call_function(
                "eos_tokens", t, ids, eos, name="text", comment="[texts, d_text]: end-of-text states"
            )
        v = g.call_module((vision,), pixels, name="image")
        first = g.call_function("getitem", v, (Slice(), 0), inline=True)
        v = g.call_module((vision, pooled_norm), first, name="image", comment="class token")
        text_embeds = g.call_module((text_proj,), t, name="text_embeds")
        image_embeds = g.call_module((image_proj,), v, name="image_embeds")
        g.output(
            g.call_function(
                "similarity_logits", image_embeds, text_embeds, g.getattr((scale,)), inline=True
            ),
            comment="[images, texts]: logits_per_image",
        )

    @staticmethod
    def examples():
        from codegen.patterns.blocks._encoder_examples import example

        return [example("clip"), example("blip")]
