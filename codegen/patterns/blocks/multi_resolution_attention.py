"""Multi-resolution attention (MRA, arXiv 2207.10284), recognised to be named, not computed: an
attention whose config.json gives `block_per_row` and `approx_mode` approximates softmax attention
from block averages, then recomputes the highest-scoring blocks at full resolution, with custom
CUDA kernels. The library computes it only through those kernels (without them its attention
returns zeros), so no reference defines the result here: the forward raises, naming it.
"""

from __future__ import annotations

import dataclasses

from codegen.patterns._kit import Accepts, BlockContext, Example, Match
from codegen.patterns.blocks.attention import SYNONYMS, Attention

KEYS = ("block_per_row", "approx_mode")
MISSING = (
    "multi-resolution (MRA) attention: block averages, then the top blocks at full resolution, "
    "computed by the library's CUDA kernels only (config.json block_per_row, approx_mode)"
)


class MultiResolutionAttention(Attention):
    role = "Attention"
    priority = 11
    synonyms = {**SYNONYMS}
    accepts = Attention.accepts

    def match(self, cls, ctx: BlockContext) -> Match | None:
        if not all(k in ctx.resolver.metadata for k in KEYS):
            return None
        found = super().match(cls, ctx)
        if found is None or found.missing:
            return found
        if found.found.causal:
            return None
        for key in KEYS + ("initial_prior_first_n_blocks", "initial_prior_diagonal_n_blocks"):
            ctx.resolver.evidence(key)  # read: the gap is named after them
        return dataclasses.replace(found, pattern=self, found=None, missing=MISSING)

    @staticmethod
    def examples():
        return [_example()]


class MultiResolutionSelfAttention(MultiResolutionAttention):
    role = "SelfAttention"
    projects = False

    @staticmethod
    def examples():
        return [_example(project=False)]


def _example(project: bool = True) -> Example:
    import torch.nn as nn

    class Mra(nn.Module):  # its projections only: the forward is named missing
        def __init__(self, d: int = 16) -> None:
            super().__init__()
            self.query, self.key, self.value = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
            self.dense = nn.Linear(d, d) if project else None

    config = {"num_attention_heads": 2, "block_per_row": 4, "approx_mode": "full"}
    return Example(Mra(), None, config)
