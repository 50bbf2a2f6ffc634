"""DeBERTa's disentangled attention (DeBERTa, DeBERTa-v2/v3, SEW-D), recognised so the file names
the gap precisely rather than guessing: its scores add content-to-position and
position-to-content terms over log-bucketed relative positions (the encoder's rel_embeddings,
shared or separate position projections), which no pattern computes yet. The class raises
NotImplementedError saying so; nothing downstream claims to be inferred.
"""

from __future__ import annotations

from codegen.patterns._kit import BlockContext, BlockPattern, Match, family, modules, one_named

PROJECTIONS = (r"query_proj", r"key_proj", r"value_proj")
POSITION_PROJECTIONS = r"pos_key_proj|pos_query_proj|pos_proj|pos_q_proj"
TYPES = ("deberta", "deberta-v2", "sew-d")
NOT_YET = (
    "DeBERTa's disentangled attention (content-to-position and position-to-content scores over "
    "log-bucketed relative positions from the encoder's rel_embeddings): not computed yet"
)


class DisentangledAttention(BlockPattern):
    role = "SelfAttention"
    priority = 20  # before the generic attention, which would miss the position terms

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        qkv = [one_named(members, p) for p in PROJECTIONS]
        if any(m is None or family(m) != "linear" for m in qkv):
            return None
        positions = [m for m in members if one_named([m], POSITION_PROJECTIONS) is not None]
        model_type = ctx.resolver.evidence("model_type")
        if not positions and not (model_type and model_type[1] in TYPES):
            return None
        return Match(self, len(members), missing=NOT_YET)

    @staticmethod
    def examples():
        from codegen.patterns.blocks._encoder_examples import example

        return [example("deberta_v2")]
