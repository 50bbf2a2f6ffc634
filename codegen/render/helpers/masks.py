"""Attention masks: padding and causal masks in their boolean and additive forms, sliding
windows, bands and chunks, top-k keys, dynamic masks, masked softmax, and zeroing what padding
tokens hold before or after a layer.
"""

from __future__ import annotations

# What these helpers' own text uses beyond torch (codegen/render/helpers/__init__.py).
HELPER_IMPORTS: dict[str, tuple[str, ...]] = {
    "causal_token_mask": (),
    "window_band_mask": ("helper:band_mask", "helper:band_padding_mask"),  # dec11
    "band_mask": ("helper:band_padding_mask",),
}
HELPERS: dict[str, str] = {
    "dynamic_mask": '''
def dynamic_mask(dt: torch.Tensor, allowed: torch.Tensor, keep: int) -> torch.Tensor:
    """Dynamic mask attention's additive bias (Doge): dt [batch, kv_heads, seq], one bias per key,
    for every query where `allowed` ([batch or 1, 1, seq, seq], True where attended) is, the
    dtype's lowest value elsewhere; past `keep` keys only each query's `keep` largest stay open.
    -> [batch, kv_heads, seq, seq]."""
    lowest = -3.4028234663852886e38  # torch.finfo(dtype).min, which TorchScript cannot call
    if dt.dtype == torch.float16:
        lowest = -65504.0
    elif dt.dtype == torch.bfloat16:
        lowest = -3.3895313892515355e38
    bias = dt[:, :, None, :].expand(-1, -1, allowed.size(-2), -1)
    bias = bias.masked_fill(~allowed, lowest)
    if bias.size(-1) > keep:
        top = torch.topk(bias, keep, dim=-1, largest=True, sorted=False).indices
        active = torch.zeros_like(bias).scatter(-1, top, 1.0)
        bias = bias.masked_fill(active == 0.0, lowest)
    return bias
''',
    "causal_token_mask": '''
def causal_token_mask(input_ids: torch.Tensor, padding_idx: int) -> torch.Tensor:
    """[batch, 1, seq, seq], True where a query may attend: itself and the earlier positions that
    are not padding (a fairseq decoder masks the padding in its own input)."""
    seq = input_ids.size(1)
    allowed = torch.ones(seq, seq, dtype=torch.bool, device=input_ids.device).tril()
    return allowed[None, None] & input_ids.ne(padding_idx)[:, None, None, :]
''',
    "padding_mask": '''
def padding_mask(attention_mask: torch.Tensor | None) -> torch.Tensor | None:
    """[batch, seq], 1 for tokens to attend to and 0 for padding -> the boolean [batch, 1, 1, seq]
    mask scaled_dot_product_attention takes; None attends to every token."""
    if attention_mask is None:
        return None
    return attention_mask[:, None, None, :] != 0
''',
    "chunked_mask": '''
def chunked_mask(allowed: torch.Tensor, chunk: int) -> torch.Tensor:
    """`allowed` ([batch or 1, 1, seq, seq]) narrowed to keys in the query's own chunk of `chunk`
    positions (0 to chunk - 1, chunk to 2 chunk - 1, ...)."""
    blocks = torch.arange(allowed.size(-1), device=allowed.device) // chunk
    return allowed & (blocks[:, None] == blocks[None, :])
''',
    "top_k_keys": '''
def top_k_keys(scores: torch.Tensor, allowed: torch.Tensor, top_k: int) -> torch.Tensor:
    """`allowed` ([batch or 1, 1, seq, seq], True where a query may look) narrowed to the top_k
    keys of each query by `scores` [batch, seq, seq]; every allowed key where seq <= top_k."""
    scores = scores.masked_fill(~allowed[:, 0], float("-inf"))
    index = scores.topk(min(top_k, scores.size(-1)), dim=-1)[1]
    kept = torch.zeros_like(scores).scatter(-1, index, 1.0) > 0
    return allowed & kept[:, None]
''',
    "causal_padding_mask": '''
def causal_padding_mask(mask: torch.Tensor | None, seq: int, device: torch.device) -> torch.Tensor:
    """True where a query may attend: itself and earlier positions, and with a padding mask
    ([batch, 1, 1, seq] from padding_mask()) only real tokens -> [batch or 1, 1, seq, seq]."""
    allowed = torch.ones(seq, seq, dtype=torch.bool, device=device).tril()[None, None]
    if mask is None:
        return allowed
    return allowed & mask
''',
    "mask_from_lengths": '''
def mask_from_lengths(
    input_ids: torch.Tensor, attention_mask: torch.Tensor | None, pad_index: int
) -> torch.Tensor:
    """The attention_mask given, else 1 for the first n positions of each sequence, n its count of
    tokens other than pad_index (XLM's lengths: sequences padded at the end)."""
    if attention_mask is not None:
        return attention_mask
    lengths = (input_ids != pad_index).sum(dim=1)
    positions = torch.arange(input_ids.size(1), device=input_ids.device)
    return (positions[None, :] < lengths[:, None]).long()
''',
    "zero_padding": '''
def zero_padding(x: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
    """[batch, seq, d] with the vectors of padding tokens (attention_mask 0) set to zero."""
    if attention_mask is None:
        return x
    return x * attention_mask[:, :, None].to(x.dtype)
''',
    "sliding_window_mask": '''
def sliding_window_mask(allowed: torch.Tensor, window: int) -> torch.Tensor:
    """`allowed` ([.., seq, seq], True where a query may attend) narrowed to the last `window`
    positions up to and including each query (a causal mask with a sliding window); 0: as is."""
    if window <= 0:
        return allowed
    i = torch.arange(allowed.size(-1), device=allowed.device)
    back = i[:, None] - i[None, :]
    narrowed = allowed & (back >= 0) & (back < window)
    # A padding query whose window holds only padding would attend to nothing (NaN that spreads
    # to later layers): it attends everywhere instead; its own output is never read.
    return narrowed | ~narrowed.any(dim=-1, keepdim=True)
''',
    "window_band_mask": '''
def window_band_mask(
    mask: torch.Tensor | None, seq: int, window: int, device: torch.device
) -> torch.Tensor | None:
    """A bidirectional sliding window: True where a key is at most `window` positions either side
    of the query, and with a padding mask ([batch, 1, 1, seq] from padding_mask()) a real token ->
    [batch or 1, 1, seq, seq]; 0: every key (the padding mask as it is)."""
    if window <= 0:
        return mask
    return band_mask(mask, seq, window, device)
''',
    "band_mask": '''
def band_mask(mask: torch.Tensor | None, seq: int, half: int, device: torch.device) -> torch.Tensor:
    """band_padding_mask(), where a padding query whose window holds only padding attends
    everywhere instead (no NaN)."""
    allowed = band_padding_mask(mask, seq, half, device)
    return allowed | ~allowed.any(dim=-1, keepdim=True)
''',
    "band_padding_mask": '''
def band_padding_mask(
    mask: torch.Tensor | None, seq: int, half: int, device: torch.device
) -> torch.Tensor:
    """True where a query may attend: keys at most `half` positions either side (a sliding window,
    Longformer's), and with a padding mask ([batch, 1, 1, seq] from padding_mask()) real tokens
    only -> [batch or 1, 1, seq, seq]."""
    i = torch.arange(seq, device=device)
    allowed = ((i[:, None] - i[None, :]).abs() <= half)[None, None]
    return allowed if mask is None else allowed & mask
''',
    "zero_padding_queries": '''
def zero_padding_queries(y: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """[batch, seq, d] with the outputs of padding queries (False in the [batch, 1, 1, seq] mask
    from padding_mask()) set to zero: they attend to nothing (Longformer)."""
    if mask is None:
        return y
    return y.masked_fill(~mask[:, 0, 0, :, None], 0.0)
''',
    "zero_padding_heads": '''
def zero_padding_heads(v: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Heads [batch, heads, seq, head_dim] with the padding positions (False in the [batch, 1, 1,
    seq] mask from padding_mask()) set to zero."""
    if mask is None:
        return v
    return v * mask.transpose(-1, -2).to(v.dtype)
''',
    "additive_padding_mask": '''
def additive_padding_mask(bias: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
    """`bias` [1 or batch, heads, seq, seq] with the keys where attention_mask is 0 (padding) set
    to float32's lowest value, so softmax gives them no weight; None attends to every token."""
    if attention_mask is None:
        return bias
    padding = attention_mask[:, None, None, :] == 0
    return bias.masked_fill(padding, -3.4028234663852886e38)
''',
    "additive_causal_mask": '''
def additive_causal_mask(bias: torch.Tensor) -> torch.Tensor:
    """`bias` [1 or batch, heads, seq, seq] with every key after its query set to float32's
    lowest value: each position attends to itself and the positions before it."""
    seq = bias.size(-1)
    future = torch.ones(seq, seq, dtype=torch.bool, device=bias.device).triu(1)
    return bias.masked_fill(future, -3.4028234663852886e38)
''',
    "masked_bias": '''
def masked_bias(bias: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """`bias` [1 or batch, heads, seq, seq] with the keys where `mask` ([batch, 1, 1, seq] from
    padding_mask()) is False set to float32's lowest value; None attends to every token."""
    if mask is None:
        return bias
    return bias.masked_fill(~mask, -3.4028234663852886e38)
''',
    "causal_mask": '''
def causal_mask(x: torch.Tensor) -> torch.Tensor:
    """[seq, seq], True where a position may attend: itself and the positions before it."""
    seq = x.size(1)
    return torch.ones(seq, seq, dtype=torch.bool, device=x.device).tril()
''',
    "masked_softmax": '''
def masked_softmax(scores: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Softmax over the keys, scores where `mask` is False set to float32's lowest value first: a
    query with no key allowed (padding, under a query-and-key mask) spreads evenly over all."""
    if mask is not None:
        scores = scores.masked_fill(~mask, -3.4028234663852886e38)
    return torch.softmax(scores, dim=-1)
''',
    "query_key_mask": '''
def query_key_mask(mask: torch.Tensor | None) -> torch.Tensor | None:
    """[batch, 1, 1, seq] padding mask -> [batch, 1, seq, seq], True where both the query and the
    key are tokens (DeBERTa masks padding queries as well as padding keys)."""
    if mask is None:
        return None
    return mask & mask.transpose(-1, -2)
''',
    "zero_masked": '''
def zero_masked(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """[batch, seq, d] with padding tokens' vectors (False in the [batch, 1, 1, seq] padding
    mask) set to zero."""
    if mask is None:
        return x
    return x * mask[:, 0, 0, :, None].to(x.dtype)
''',
    "padding_or_self_mask": '''
def padding_or_self_mask(attention_mask: torch.Tensor | None) -> torch.Tensor | None:
    """[batch, 1, seq, seq], True where a query may attend: real tokens, and always itself
    (XLNet's non-target mask); None attends to every token."""
    if attention_mask is None:
        return None
    seq = attention_mask.size(1)
    itself = torch.eye(seq, dtype=torch.bool, device=attention_mask.device)
    return (attention_mask[:, None, None, :] != 0) | itself
''',
    "text_and_region_mask": '''
def text_and_region_mask(
    attention_mask: torch.Tensor | None,
    input_ids: torch.Tensor,
    visual_embeds: torch.Tensor | None,
    visual_attention_mask: torch.Tensor | None,
) -> torch.Tensor | None:
    """[batch, seq (+ regions)]: the text's attention mask, then the regions' (all ones unless
    given); None where neither a mask nor regions are given."""
    if visual_embeds is None:
        return attention_mask
    if attention_mask is None:
        attention_mask = torch.ones_like(input_ids)
    if visual_attention_mask is None:
        visual_attention_mask = torch.ones(
            visual_embeds.shape[:-1], dtype=attention_mask.dtype, device=visual_embeds.device
        )
    return torch.cat([attention_mask, visual_attention_mask.to(attention_mask.dtype)], dim=-1)
''',
}
