"""Funnel Transformer's relative attention (its `r_w_bias`, `r_r_bias`, `r_s_bias`, `r_kernel`
and `seg_embed` beside q/k/v heads), recognised so the file names the gap precisely: its scores
add position and segment terms from relative sinusoids, and the blocks pool the sequence between
them; no pattern computes either yet. The class raises NotImplementedError saying so.
"""

from __future__ import annotations

from codegen.patterns._kit import BlockContext, BlockPattern, Match, modules, tensors

FUNNEL_TENSORS = {"r_w_bias", "r_r_bias", "r_kernel"}
NOT_YET = (
    "Funnel Transformer's relative attention (r_w/r_r/r_s biases, a relative-position kernel, "
    "segment embeddings) and the pooling between its blocks: not computed yet"
)


class FunnelAttention(BlockPattern):
    role = "Attention"
    priority = 20

    def match(self, cls, ctx: BlockContext) -> Match | None:
        if not FUNNEL_TENSORS <= {t.attr for t in tensors(cls)}:
            return None
        return Match(self, len(modules(cls)) + len(tensors(cls)), missing=NOT_YET)

    @staticmethod
    def examples():
        from codegen.patterns.blocks._encoder_examples import example

        return [example("funnel")]
