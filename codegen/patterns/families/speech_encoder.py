"""A speech encoder over raw audio (wav2vec2, HuBERT, Data2VecAudio, UniSpeech...): the waveform
[batch, samples] through the conv feature encoder, its frames through the feature projection, then
the encoder (blocks/speech_encoder.py); the last hidden state, or a CTC head's logits (the head
beside the encoder's parts, or beside a whole encoder model, as wav2vec2's ForCTC holds it).

The feature encoder and projection are told apart by name (`feature_extractor` /
`feature_encoder`, `feature_projection`), as both are plain stacks of layers; the encoder by its
pattern. A 1-D parameter of the model's width named as a mask embedding (SpecAugment's
`masked_spec_embed`) only replaces masked frames in training: the forward leaves it alone.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    BlockContext,
    BlockPattern,
    Match,
    family,
    modules,
    one_named,
    tensors,
)
from codegen.patterns.blocks.speech_encoder import speech_example

FEATURES = r"feature_?(extractor|encoder)"
PROJECTION = r"feature_?projection"
MASK_EMBEDDING = r"masked_spec_embed|mask_emb(edding)?"
HEAD = r"lm_head|ctc_head|head"
FEATURE_NORM = r"layer_norm|feature_norm|layernorm"


class SpeechEncoderModel(BlockPattern):
    role = "SpeechEncoderModel"
    priority = 5

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        own = tensors(cls)
        if len(own) > 1 or (own and not re.fullmatch(MASK_EMBEDDING, own[0].attr)):
            return None
        head = one_named([m for m in members if family(m) == "linear"], HEAD)
        inner = [m for m in members if ctx.role(m) == self.role]
        if len(inner) == 1 and not own and head is not None and len(members) == 2:
            # a task model around the encoder (wav2vec2's ForCTC): its head reads every frame
            return Match(self, 2, (None, None, inner[0].attr, head.attr, None))
        features = one_named(members, FEATURES)
        encoder = [m for m in members if ctx.role(m) == "ConvPositionEncoder"]
        if features is None or features.kind != "class" or len(encoder) != 1:
            return None
        projection = one_named(members, PROJECTION)
        # SEW's: a LayerNorm over the conv features, then a bare Linear projection where the
        # widths differ (mix9)
        norm = one_named([m for m in members if family(m) == "norm"], FEATURE_NORM)
        if norm is not None and projection is not None and family(projection) != "linear":
            norm = None
        extra = (projection is not None) + (head is not None) + (norm is not None)
        if len(members) != 2 + extra:
            return None
        found = (
            features.attr,
            projection.attr if projection else None,
            encoder[0].attr,
            head.attr if head else None,
            norm.attr if norm else None,
        )
        return Match(self, len(members) + len(own), found)

    def forward(self, match: Match, g: Graph) -> None:
        features, projection, encoder, head, norm = match.found
        x = g.input("input_values")  # [batch, samples]
        if features is not None:
            x = g.call_method("unsqueeze", x, 1, inline=True)
            x = g.call_module((features,), x, comment="[batch, channels, frames]")
            x = g.call_method("transpose", x, 1, 2)
        if norm is not None:
            x = g.call_module((norm,), x)
        if projection is not None:
            x = g.call_module((projection,), x, comment="[batch, frames, d_model]")
        x = g.call_module((encoder,), x)
        if head is not None:
            x = g.call_module((head,), x, comment="[batch, frames, vocab_size]")
        g.output(x)

    @staticmethod
    def examples():
        return [speech_example("group"), speech_example("layer")]
