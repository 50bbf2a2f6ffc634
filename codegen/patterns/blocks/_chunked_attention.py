"""Chunked attention (Llama 4): each position sees the earlier positions of its own chunk only,
chunks of config.json's attention_chunk_size (create_chunked_causal_mask: query and key in the same
chunk, key not later). Read here where config.json's layer_types lists every layer as
"chunked_attention"; a stack mixing chunked and full layers is not written (the keys stay unused,
so the file says it is guessed), nor are Llama 4's attention temperature and NoPE layers, which
only act where some layer does not rotate (no_rope_layers 0).
"""

from __future__ import annotations

from codegen.patterns._kit import BlockContext

CHUNKED_KINDS = frozenset({"chunked_attention"})


def chunk_plan(ctx: BlockContext) -> int | None:
    """The chunk length every layer uses, or None (no chunks, or not written here)."""
    said = ctx.resolver.metadata.get("attention_chunk_size")
    kinds = ctx.resolver.string_lists.get("layer_types")
    if said is None or type(said[1]) is not int or said[1] <= 0:
        return None
    if kinds is None or not set(kinds[1]) <= CHUNKED_KINDS:
        return None
    ctx.resolver.evidence("attention_chunk_size")
    ctx.resolver.evidence_list("layer_types")
    rotate = ctx.resolver.metadata.get("no_rope_layers")
    if rotate is None or (isinstance(rotate[1], list) and all(v == 1 for v in rotate[1])):
        # every layer rotates: the temperature of the layers that do not acts nowhere
        ctx.resolver.consumed.update(("attn_temperature_tuning", "attn_scale", "floor_scale"))
    return said[1]
