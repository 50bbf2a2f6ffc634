"""Relative positions in a sequence's attention scores: T5's bucketed bias, ALiBi,
DeBERTa's disentangled scores and log buckets, Transformer-XL / XLNet relative sinusoids and
scores, a local band's bias, and the table an encoder hands to each layer.
"""

from __future__ import annotations

# What these helpers' own text uses beyond torch (codegen/render/helpers/__init__.py).
HELPER_IMPORTS: dict[str, tuple[str, ...]] = {
    "relative_position_bias": ("math", "F"),
    "disentangled_scores": ("math", "helper:log_bucket_positions"),
    "relative_scores": ("math",),  # enc9: XLNet's relative attention
    "interleaved_relative_sinusoids": ("math",),  # audio11: a Conformer's relative positions
}
HELPERS: dict[str, str] = {
    "alibi_bias": '''
def alibi_bias(allowed: torch.Tensor, nhead: int) -> torch.Tensor:
    """ALiBi: each head adds slope * (key position) to its scores, slopes a geometric series
    (2 ** (-8 / n), its powers; heads beyond a power of two take the odd powers of the next
    series). -inf where `allowed` ([batch or 1, 1, seq, seq]) is False -> [.., nhead, seq, seq]."""
    closest = 1
    while closest * 2 <= nhead:
        closest *= 2
    powers = torch.arange(1, closest + 1, device=allowed.device).float()
    slopes = torch.pow(2.0 ** (-8.0 / closest), powers)
    if closest != nhead:
        odd = torch.arange(1, 2 * (nhead - closest) + 1, 2, device=allowed.device).float()
        slopes = torch.cat((slopes, torch.pow(2.0 ** (-4.0 / closest), odd)))
    keys = torch.arange(allowed.size(-1), device=allowed.device).float()
    bias = slopes[:, None, None] * keys  # softmax ignores a constant per query: no minus i
    return bias.masked_fill(~allowed, float("-inf"))
''',
    "relative_position_bias": '''
def relative_position_bias(
    table: torch.Tensor, length: int, bidirectional: bool, max_distance: int
) -> torch.Tensor:
    """T5's attention bias, [1, heads, length, length], from `table` [num_buckets, heads]: one row
    per bucket of the distance key - query. Half the buckets hold exact small distances, the rest
    log-spaced ones up to `max_distance` (farther shares the last); bidirectional (an encoder)
    gives keys after the query their own half of the buckets."""
    position = torch.arange(length, dtype=torch.long, device=table.device)
    distance = position[None, :] - position[:, None]
    num_buckets = table.size(0)
    buckets = torch.zeros_like(distance)
    if bidirectional:
        num_buckets = num_buckets // 2
        buckets = buckets + (distance > 0).to(torch.long) * num_buckets
        distance = torch.abs(distance)
    else:
        distance = -torch.min(distance, torch.zeros_like(distance))
    max_exact = num_buckets // 2
    far = max_exact + (
        torch.log(distance.float() / max_exact)
        / math.log(max_distance / max_exact)
        * (num_buckets - max_exact)
    ).to(torch.long)
    far = torch.min(far, torch.full_like(far, num_buckets - 1))
    buckets = buckets + torch.where(distance < max_exact, distance, far)
    return F.embedding(buckets, table).permute(2, 0, 1).unsqueeze(0)
''',
    "log_bucket_positions": '''
def log_bucket_positions(
    seq: int, buckets: int, max_position: int, device: torch.device
) -> torch.Tensor:
    """[seq, seq] relative positions query - key. With buckets > 0 (DeBERTa-v2/v3), distances
    from buckets // 2 on are log-spaced so that max_position - 1 lands on the last bucket."""
    position = torch.arange(seq, dtype=torch.long, device=device)
    relative = position[:, None] - position[None, :]
    if buckets <= 0 or max_position <= 0:
        return relative
    mid = buckets // 2
    near = (relative < mid) & (relative > -mid)
    distance = torch.where(near, torch.full_like(relative, mid - 1), torch.abs(relative))
    log_scale = torch.log(torch.tensor((max_position - 1) / mid, device=device))
    far = torch.ceil(torch.log(distance / mid) / log_scale * (mid - 1)) + mid
    bucketed = torch.where(distance <= mid, relative.to(far.dtype), far * torch.sign(relative))
    return bucketed.to(torch.long)
''',
    "disentangled_scores": '''
def disentangled_scores(
    q: torch.Tensor,
    k: torch.Tensor,
    pos_q: torch.Tensor | None,
    pos_k: torch.Tensor | None,
    factor: int,
    buckets: int,
    max_position: int,
) -> torch.Tensor:
    """DeBERTa's attention scores [batch, heads, seq, seq]: content to content (q . k), plus
    content to position (each query against pos_k at its key's relative position) and position
    to content (each key against pos_q at its query's), each divided by sqrt(head_dim * factor).
    pos_q, pos_k: [1, heads, 2 * span, head_dim], the relative table projected; positions
    further than span either way share its ends."""
    scale = math.sqrt(q.size(-1) * factor)
    scores = q @ k.transpose(-1, -2) / scale
    if pos_k is None and pos_q is None:
        return scores
    seq = q.size(-2)
    shape = [q.size(0), q.size(1), seq, seq]
    relative = log_bucket_positions(seq, buckets, max_position, q.device)
    if pos_k is not None:  # content to position
        span = pos_k.size(-2) // 2
        index = torch.clamp(relative + span, 0, 2 * span - 1).expand(shape)
        scores = scores + torch.gather(q @ pos_k.transpose(-1, -2), -1, index) / scale
    if pos_q is not None:  # position to content
        span = pos_q.size(-2) // 2
        index = torch.clamp(span - relative, 0, 2 * span - 1).expand(shape)
        p2c = torch.gather(k @ pos_q.transpose(-1, -2), -1, index).transpose(-1, -2)
        scores = scores + p2c / scale
    return scores
''',
    "relative_table": '''
def relative_table(table: torch.Tensor | None) -> torch.Tensor:
    """The relative position embeddings the encoder passes to each layer: required here."""
    if table is None:
        raise ValueError("this attention needs the encoder's relative position embeddings")
    return table
''',
    # enc9: Transformer-XL-style relative attention (XLNet)
    "relative_sinusoids": '''
def relative_sinusoids(seq: int, d_model: int, clamp: int, device: torch.device) -> torch.Tensor:
    """[2 * seq, d_model]: the sines, then the cosines, of relative positions seq, seq - 1, ...,
    1 - seq (clamped to +-clamp where clamp > 0) at Transformer-XL's frequencies."""
    positions = torch.arange(seq, -seq, -1, device=device).float()
    if clamp > 0:
        positions = positions.clamp(-clamp, clamp)
    steps = torch.arange(0, d_model, 2, device=device).float()
    angles = positions[:, None] / torch.pow(10000.0, steps / d_model)[None, :]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)
''',
    "relative_scores": '''
def relative_scores(
    q: torch.Tensor,
    k: torch.Tensor,
    k_r: torch.Tensor,
    content_bias: torch.Tensor,
    position_bias: torch.Tensor,
    segment_bias: torch.Tensor | None,
    segment_embed: torch.Tensor | None,
    token_type_ids: torch.Tensor | None,
) -> torch.Tensor:
    """q, k [batch, seq, heads, head_dim], k_r [2 * seq, heads, head_dim] (relative positions
    seq .. 1 - seq) -> scores [batch, heads, seq, seq] over sqrt(head_dim): (q + content_bias).k,
    plus (q + position_bias) on the relative position i - j (shifted into place as Transformer-XL
    does), plus, where token types are given, (q + segment_bias) on segment_embed[0] for a key of
    the query's segment and [1] for another."""
    content = torch.einsum("bind,bjnd->bnij", q + content_bias, k)
    position = torch.einsum("bind,pnd->bnip", q + position_bias, k_r)
    batch, heads, seq, span = position.shape
    position = position.reshape(batch, heads, span, seq)[:, :, 1:]
    scores = content + position.reshape(batch, heads, seq, span - 1)[:, :, :, :seq]
    if segment_bias is not None and segment_embed is not None and token_type_ids is not None:
        other = (token_type_ids[:, :, None] != token_type_ids[:, None, :]).long()
        per_kind = torch.einsum("bind,snd->bnis", q + segment_bias, segment_embed)
        index = other[:, None].expand(-1, heads, -1, -1)
        scores = scores + torch.gather(per_kind, 3, index)
    return scores / math.sqrt(q.size(-1))
''',
    "local_band_bias": '''
def local_band_bias(bias: torch.Tensor, radius: int) -> torch.Tensor:
    """`bias` [.., seq, seq] with every key farther than `radius` positions from its query set to
    float32's lowest value: local attention (LongT5's blocks of radius + 1 tokens, each beside the
    blocks before and after it, hold exactly the keys within the radius)."""
    seq = bias.size(-1)
    i = torch.arange(seq, device=bias.device)
    far = (i[:, None] - i[None, :]).abs() > radius
    return bias.masked_fill(far, -3.4028234663852886e38)
''',
    "interleaved_relative_sinusoids": '''
def interleaved_relative_sinusoids(seq: int, dim: int, device: torch.device) -> torch.Tensor:
    """[1, 2 * seq - 1, dim]: the relative positions seq - 1 .. 1 - seq (Transformer-XL's order),
    each as sin and cos of position * 10000 ** (-2i / dim), interleaved (sines in the even
    features), as ESPnet's and Wav2Vec2-Conformer's relative positional encodings lay them out."""
    position = torch.arange(seq - 1, -seq, -1, device=device).float()[:, None]
    steps = torch.arange(0, dim, 2, device=device).float()
    angle = position * torch.exp(steps * -(math.log(10000.0) / dim))
    table = torch.stack([torch.sin(angle), torch.cos(angle)], dim=-1)
    return table.reshape(1, 2 * seq - 1, dim)
''',
}
