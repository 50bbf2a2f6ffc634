"""Attention variants printed as one function each: differential heads, Nystrom
landmarks, expectations, sinks, soft-capped scores, attention over pixels or from a head-
interleaved fused projection, span-based dynamic convolution, Fourier mixing, and what an
attention reads its keys and values from.
"""

from __future__ import annotations

# What these helpers' own text uses beyond torch (codegen/render/helpers/__init__.py).
HELPER_IMPORTS: dict[str, tuple[str, ...]] = {
    "differential_heads": ("math", "F"),
    "nystrom_attention": ("math", "F"),  # lin9: patterns/blocks/landmark_attention.py
    "expectation_attention": ("math", "F"),  # lin9: patterns/blocks/expectation_attention.py
    "span_dynamic_conv": ("F",),  # enc9: ConvBERT's span-based dynamic convolution
    "global_filter": ("math",),  # vis28: GFNet's filter (patterns/blocks/global_filter.py)
}
HELPERS: dict[str, str] = {
    "differential_heads": '''
def differential_heads(
    y: torch.Tensor,
    lambda_q1: torch.Tensor,
    lambda_k1: torch.Tensor,
    lambda_q2: torch.Tensor,
    lambda_k2: torch.Tensor,
    layer: int,
    eps: float,
) -> torch.Tensor:
    """Differential attention's combination (arXiv 2410.05258, heads as DiffLlama arranges them):
    y [batch, heads, seq, 2 * head_dim]; head p minus lambda times head p + heads / 2, normed
    (RMS, no weight) and scaled by 1 - lambda_init -> [batch, heads / 2, seq, 2 * head_dim]."""
    init = 0.8 - 0.6 * math.exp(-0.3 * layer)
    lam = torch.exp(torch.sum(lambda_q1 * lambda_k1)) - torch.exp(torch.sum(lambda_q2 * lambda_k2))
    first, second = y.chunk(2, dim=1)
    y = first - (lam + init) * second
    return F.rms_norm(y, [y.size(-1)], eps=eps) * (1.0 - init)
''',
    "fourier_mix": '''
def fourier_mix(x: torch.Tensor) -> torch.Tensor:
    """FNet's token mixing: the real part of the 2-D discrete Fourier transform of x [batch, seq,
    d_model] over the sequence and feature dimensions."""
    return torch.fft.fftn(x, dim=(1, 2)).real
''',
    "global_filter": '''
def global_filter(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """GFNet's token mixing: x [batch, tokens, channels] read as a square map, its 2-D real FFT
    over the map multiplied by the learned filter weight [height, height // 2 + 1, channels, 2]
    (real and imaginary parts), transformed back (float32, as GFNet computes it)."""
    batch, tokens, channels = x.shape
    side = int(math.sqrt(tokens))
    y = x.reshape(batch, side, side, channels).to(torch.float32)
    y = torch.fft.rfft2(y, dim=(1, 2), norm="ortho") * torch.view_as_complex(weight)
    y = torch.fft.irfft2(y, s=(side, side), dim=(1, 2), norm="ortho")
    return y.reshape(batch, tokens, channels)
''',
    "nystrom_attention": '''
def nystrom_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None,
    landmarks: int,
    segment: int,
) -> torch.Tensor:
    """Nystrom attention over heads q, k, v [batch, heads, seq, head_dim]: softmax(q k~^T)
    pinv(softmax(q~ k~^T)) softmax(q~ k^T) v, with q~, k~ the means of q, k over `segment //
    landmarks` consecutive positions (the sequence read as `segment` long, as Nystromformer
    does). The padding mask ([batch, 1, 1, seq], True where attended) masks the last factor only;
    pinv is six steps of the iterative Moore-Penrose inverse, started from 1 / the largest column
    sum over the whole batch (the library's 'original' start)."""
    scale = math.sqrt(math.sqrt(q.size(-1)))
    q, k = q / scale, k / scale
    shape = [-1, q.size(1), landmarks, segment // landmarks, q.size(-1)]
    q_landmarks = q.reshape(shape).mean(dim=-2)
    k_landmarks = k.reshape(shape).mean(dim=-2)
    kernel_1 = F.softmax(q @ k_landmarks.transpose(-1, -2), dim=-1)
    kernel_2 = F.softmax(q_landmarks @ k_landmarks.transpose(-1, -2), dim=-1)
    scores = q_landmarks @ k.transpose(-1, -2)
    if mask is not None:
        scores = scores.masked_fill(~mask, -3.4028234663852886e38)  # torch.finfo(float32).min
    kernel_3 = F.softmax(scores, dim=-1)
    identity = torch.eye(kernel_2.size(-1), device=q.device)
    inverse = 1 / torch.max(torch.sum(kernel_2, dim=-2)) * kernel_2.transpose(-1, -2)
    for _ in range(6):
        product = kernel_2 @ inverse
        inverse = (0.25 * inverse) @ (
            13 * identity - product @ (15 * identity - product @ (7 * identity - product))
        )
    return (kernel_1 @ inverse) @ (kernel_3 @ v)
''',
    "expectation_attention": '''
def expectation_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, hash_code_len: int
) -> torch.Tensor:
    """YOSO's attention in expectation over heads [batch, heads, seq, head_dim]: key j weighs
    (1 - angle(q_i, k_j) / pi) ** hash_code_len for query i (the chance that many random
    hyperplanes put both on one side), no softmax; each output L2-normalised."""
    q, k = F.normalize(q, p=2.0, dim=-1), F.normalize(k, p=2.0, dim=-1)
    weights = (1 - torch.acos(q @ k.transpose(-1, -2)) / math.pi) ** hash_code_len
    return F.normalize(weights @ v, p=2.0, dim=-1)
''',
    "sink_attention": '''
def sink_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    allowed: torch.Tensor,
    scale: float,
    sinks: torch.Tensor,
) -> torch.Tensor:
    """Attention beside one learned logit per head (`sinks` [heads], GPT-OSS): each softmax runs
    over the scores and the sink together, and the sink's share, which reads no value, is dropped;
    -inf where `allowed` ([.., seq, seq]) is False."""
    scores = q @ k.transpose(-2, -1) * scale
    scores = scores.masked_fill(~allowed, float("-inf"))
    sink = sinks.reshape(1, -1, 1, 1).expand(scores.size(0), -1, scores.size(2), 1)
    probs = torch.softmax(torch.cat([scores, sink.to(scores.dtype)], dim=-1).float(), dim=-1)
    return probs[..., :-1].to(q.dtype) @ v
''',
    "softcapped_attention": '''
def softcapped_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    allowed: torch.Tensor,
    scale: float,
    cap: float,
) -> torch.Tensor:
    """Attention whose scores are soft-capped to (-cap, cap) by cap * tanh(scores / cap) before
    the softmax (Gemma 2); -inf where `allowed` ([.., seq, seq]) is False."""
    scores = q @ k.transpose(-2, -1) * scale
    scores = cap * torch.tanh(scores / cap)
    # a query with nothing to attend to (left padding) attends everywhere, not to NaN
    scores = scores.masked_fill(~(allowed | ~allowed.any(dim=-1, keepdim=True)), float("-inf"))
    return torch.softmax(scores.float(), dim=-1).to(q.dtype) @ v
''',
    "memory_or": '''
def memory_or(memory: torch.Tensor | None, x: torch.Tensor) -> torch.Tensor:
    """What keys and values are read from: the encoder's output for cross-attention, else x."""
    if memory is None:
        return x
    return memory
''',
    "keys_source": '''
def keys_source(key_weight: torch.Tensor, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
    """What an attention reads keys from: the context where its key projection takes another
    width than x's (a block that only cross-attends, diffusers' only_cross_attention), else x."""
    if key_weight.size(1) != x.size(-1):
        return context
    return x
''',
    "span_dynamic_conv": '''
def span_dynamic_conv(
    values: torch.Tensor, kernel_logits: torch.Tensor, heads: int, kernel_size: int
) -> torch.Tensor:
    """Each position's values mixed over a window centred on it (zeros past the ends) by a kernel
    of its own per head: values [batch, seq, width], kernel_logits [batch, seq, heads *
    kernel_size], softmaxed over the window -> [batch, seq, heads, width / heads]."""
    batch, seq, width = values.shape
    pad = (kernel_size - 1) // 2
    windows = F.pad(values.transpose(1, 2), [pad, pad]).unfold(2, kernel_size, 1)
    windows = windows.permute(0, 2, 1, 3).reshape(batch, seq, heads, width // heads, kernel_size)
    kernel = kernel_logits.reshape(batch, seq, heads, kernel_size, 1).softmax(dim=3)
    return torch.matmul(windows, kernel).squeeze(-1)
''',
    "pixel_attention": '''
def pixel_attention(qkv: torch.Tensor, heads: int, kind: str) -> torch.Tensor:
    """Attention among the pixels of a map from its fused projection qkv [batch, 3 * heads *
    head_dim, height, width] (lucidrains' U-Nets), back as [batch, heads * head_dim, height,
    width]. kind "softmax": scaled dot-product attention; "linear": linear attention, queries
    softmaxed over their features and scaled, keys over the pixels; "linear_keys": the same with
    only the keys softmaxed (the 2020 version)."""
    batch, height, width = qkv.size(0), qkv.size(2), qkv.size(3)
    q, k, v = qkv.reshape(batch, 3, heads, -1, height * width).unbind(1)
    scale = q.size(2) ** -0.5
    if kind == "softmax":
        scores = torch.einsum("bhdi,bhdj->bhij", q * scale, k)
        out = torch.einsum("bhij,bhdj->bhdi", scores.softmax(dim=-1), v)
    else:
        if kind == "linear":
            q = q.softmax(dim=-2) * scale
        context = torch.einsum("bhdn,bhen->bhde", k.softmax(dim=-1), v)
        out = torch.einsum("bhde,bhdn->bhen", context, q)
    return out.reshape(batch, -1, height, width)
''',
    "head_interleaved_attention": '''
def head_interleaved_attention(qkv: torch.Tensor, heads: int) -> torch.Tensor:
    """Scaled dot-product attention from a fused projection qkv [batch, tokens, heads * 3 *
    head_dim] laid out head by head, each head's query, key and value side by side (labml.ai's
    DDPM AttentionBlock), back as [batch, tokens, heads * head_dim]."""
    batch, tokens = qkv.size(0), qkv.size(1)
    q, k, v = qkv.reshape(batch, tokens, heads, -1).chunk(3, dim=-1)
    scores = torch.einsum("bihd,bjhd->bijh", q, k) * q.size(-1) ** -0.5
    out = torch.einsum("bijh,bjhd->bihd", scores.softmax(dim=2), v)
    return out.reshape(batch, tokens, -1)
''',
}
