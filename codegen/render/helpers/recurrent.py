"""Recurrences and scans that replace attention: selective and multi-head state-space
scans, a linear recurrence, RWKV's WKV, the gated delta rule, decayed linear attention, and the
gated group RMS norm and segment scales around them.
"""

from __future__ import annotations

# What these helpers' own text uses beyond torch (codegen/render/helpers/__init__.py).
HELPER_IMPORTS: dict[str, tuple[str, ...]] = {
    "gated_group_rms_norm": ("F",),  # patterns/blocks/multi_head_scan.py
    "gated_delta_rule": ("F",),  # lin11: patterns/blocks/gated_delta_net.py
}
HELPERS: dict[str, str] = {
    "selective_scan": '''
def selective_scan(
    x: torch.Tensor, dt: torch.Tensor, A: torch.Tensor, B: torch.Tensor, C: torch.Tensor
) -> torch.Tensor:
    """A selective state-space scan (Mamba), one step at a time: x and dt [batch, seq, inner],
    A [inner, state], B and C [batch, seq, state] -> y [batch, seq, inner], where
    state_t = exp(dt_t * A) * state_(t-1) + dt_t * B_t * x_t and y_t = state_t . C_t."""
    decay = torch.exp(dt.unsqueeze(-1) * A)  # [batch, seq, inner, state]
    drive = dt.unsqueeze(-1) * B.unsqueeze(2) * x.unsqueeze(-1)
    h = torch.zeros(x.size(0), x.size(2), A.size(1), dtype=x.dtype, device=x.device)
    ys: list[torch.Tensor] = []
    for t in range(x.size(1)):
        h = decay[:, t] * h + drive[:, t]
        ys.append(torch.matmul(h, C[:, t].unsqueeze(-1)).squeeze(-1))
    return torch.stack(ys, dim=1)
''',
    "multi_head_scan": '''
def multi_head_scan(
    x: torch.Tensor, dt: torch.Tensor, A: torch.Tensor, B: torch.Tensor, C: torch.Tensor
) -> torch.Tensor:
    """A multi-head state-space scan (Mamba-2), one step at a time: x [batch, seq, heads, p],
    dt [batch, seq, heads], A [heads], B and C [batch, seq, groups, state] (each group shared by
    heads / groups heads) -> y [batch, seq, heads, p], where per head
    state_t = exp(dt_t * A) * state_(t-1) + dt_t * x_t B_t^T and y_t = state_t C_t."""
    heads = x.size(2)
    B = B.repeat_interleave(heads // B.size(2), dim=2)  # [batch, seq, heads, state]
    C = C.repeat_interleave(heads // C.size(2), dim=2)
    decay = torch.exp(dt * A)[..., None, None]  # [batch, seq, heads, 1, 1]
    drive = (dt[..., None] * x)[..., None] * B[:, :, :, None, :]  # [batch, seq, heads, p, state]
    h = torch.zeros(x.size(0), heads, x.size(3), B.size(3), dtype=x.dtype, device=x.device)
    ys: list[torch.Tensor] = []
    for t in range(x.size(1)):
        h = decay[:, t] * h + drive[:, t]
        ys.append(torch.matmul(h, C[:, t, :, :, None]).squeeze(-1))
    return torch.stack(ys, dim=1)
''',
    "scale_segments": '''
def scale_segments(x: torch.Tensor, sizes: list[int], factors: list[float]) -> torch.Tensor:
    """x [..., sum(sizes)] with each consecutive slice of the last dim, sizes[i] wide, times
    factors[i] (Falcon-H1's muP factors on the parts of its mixer's projection)."""
    parts = x.split(sizes, dim=-1)
    return torch.cat([parts[i] * factors[i] for i in range(len(sizes))], dim=-1)
''',
    "linear_recurrence": '''
def linear_recurrence(a: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A diagonal linear recurrence over the sequence, one step at a time: a and x
    [batch, seq, width] -> h [batch, seq, width], where h_t = a_t * h_(t-1) + x_t, h_(-1) = 0."""
    h = torch.zeros_like(x[:, 0])
    hs: list[torch.Tensor] = []
    for t in range(x.size(1)):
        h = a[:, t] * h + x[:, t]
        hs.append(h)
    return torch.stack(hs, dim=1)
''',
    "gated_group_rms_norm": '''
def gated_group_rms_norm(
    x: torch.Tensor,
    gate: torch.Tensor,
    weight: torch.Tensor,
    groups: int,
    eps: float | None,
    norm_before_gate: bool,
) -> torch.Tensor:
    """Mamba-2's gated RMSNorm over [..., d]: x times silu(gate), normalised over each of `groups`
    equal slices of d, scaled by weight (normalised first, then gated, with norm_before_gate)."""
    if not norm_before_gate:
        x = x * F.silu(gate)
    h = x.unflatten(-1, [groups, -1])
    h = F.rms_norm(h, [h.size(-1)], eps=eps).flatten(-2) * weight
    return h * F.silu(gate) if norm_before_gate else h
''',
    "rwkv_wkv": '''
def rwkv_wkv(
    decay: torch.Tensor, first: torch.Tensor, k: torch.Tensor, v: torch.Tensor
) -> torch.Tensor:
    """RWKV-4's weighted key-value average over k and v [batch, seq, width]: at step t,
    (sum_(i<t) e^(k_i - (t - 1 - i) w) v_i + e^(first + k_t) v_t) / (the same without v), with
    w = exp(decay) per channel; kept in range by carrying the largest exponent separately."""
    w = -torch.exp(decay)
    num = torch.zeros_like(k[:, 0])
    den = torch.zeros_like(k[:, 0])
    top = torch.zeros_like(k[:, 0]) - 1e38
    out: list[torch.Tensor] = []
    for t in range(k.size(1)):
        kt, vt = k[:, t], v[:, t]
        m = torch.maximum(top, kt + first)
        a, b = torch.exp(top - m), torch.exp(kt + first - m)
        out.append((a * num + b * vt) / (a * den + b))
        m = torch.maximum(top + w, kt)
        a, b = torch.exp(top + w - m), torch.exp(kt - m)
        num, den, top = a * num + b * vt, a * den + b, m
    return torch.stack(out, dim=1)
''',
    "decayed_linear_attention": '''
def decayed_linear_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, slope: torch.Tensor
) -> torch.Tensor:
    """Causal linear attention whose past decays by exp(-slope) a step, one rate per head
    (MiniMax's lightning attention, summed whole rather than block by block):
    out[t] = sum over s <= t of exp(-slope * (t - s)) * (q[t] . k[s]) * v[s].

    q, k, v: [batch, heads, seq, head_dim]; slope: [heads, 1, 1]."""
    steps = torch.arange(q.size(-2), device=q.device)
    back = (steps[:, None] - steps[None, :]).to(q.dtype)  # [seq, seq]: how far back
    decay = torch.exp(-slope * back.clamp(min=0)) * (back >= 0).to(q.dtype)
    return (q @ k.transpose(-1, -2) * decay) @ v
''',
    "gated_delta_rule": '''
def gated_delta_rule(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, g: torch.Tensor, beta: torch.Tensor
) -> torch.Tensor:
    """The gated delta rule (Gated DeltaNet, arXiv 2412.06464; Kimi's KDA).

    q, k: [batch, seq, key_heads, dk]; v: [batch, seq, heads, dv] (each key head serves
    heads / key_heads value heads); g: [batch, seq, heads] (one log decay a head) or
    [batch, seq, heads, dk] (one a key feature); beta: [batch, seq, heads] -> [batch, seq, heads,
    dv]. With q and k L2-normalised and q scaled by dk ** -0.5, per head and step:
    S = exp(g_t) * S;  S = S + k_t (beta_t (v_t - k_t^T S))^T;  y_t = q_t^T S   (S: [dk, dv]).
    A decay per head runs in chunks of 64 steps (the same sums, in the library's order)."""
    heads = v.size(2)
    q = q.float().repeat_interleave(heads // q.size(2), dim=2).transpose(1, 2)
    k = k.float().repeat_interleave(heads // k.size(2), dim=2).transpose(1, 2)
    q = q * torch.rsqrt((q * q).sum(-1, keepdim=True) + 1e-6) * q.size(-1) ** -0.5
    k = k * torch.rsqrt((k * k).sum(-1, keepdim=True) + 1e-6)
    v, beta, g = v.float().transpose(1, 2), beta.float().transpose(1, 2), g.float().transpose(1, 2)
    state = torch.zeros(v.size(0), heads, k.size(-1), v.size(-1), dtype=v.dtype, device=v.device)
    ys: list[torch.Tensor] = []
    if g.dim() == 4:  # one decay a key feature: step by step
        decay = torch.exp(g).unsqueeze(-1)  # [batch, heads, seq, dk, 1]
        for t in range(v.size(2)):
            state = state * decay[:, :, t]
            key = k[:, :, t].unsqueeze(-1)  # [batch, heads, dk, 1]
            delta = (v[:, :, t] - (state * key).sum(-2)) * beta[:, :, t].unsqueeze(-1)
            state = state + key * delta.unsqueeze(-2)
            ys.append((state * q[:, :, t].unsqueeze(-1)).sum(-2))
        return torch.stack(ys, dim=1)
    chunk, seq = 64, v.size(2)
    pad = (chunk - seq % chunk) % chunk
    q, k, v = F.pad(q, (0, 0, 0, pad)), F.pad(k, (0, 0, 0, pad)), F.pad(v, (0, 0, 0, pad))
    beta, g = F.pad(beta, (0, pad)), F.pad(g, (0, pad))
    k_beta, v_beta = k * beta.unsqueeze(-1), v * beta.unsqueeze(-1)
    q, k, k_beta, v_beta = [x.unflatten(2, [-1, chunk]) for x in (q, k, k_beta, v_beta)]
    total = g.unflatten(2, [-1, chunk]).cumsum(-1)  # [batch, heads, chunks, chunk]
    later = torch.ones(chunk, chunk, dtype=torch.bool, device=v.device).triu(1)
    pair = (total.unsqueeze(-1) - total.unsqueeze(-2)).masked_fill(later, float("-inf")).exp()
    system = (k_beta @ k.transpose(-1, -2)) * pair  # solved below (its strict lower part)
    within = (q @ k.transpose(-1, -2)) * pair
    values = torch.linalg.solve_triangular(system, v_beta, upper=False, unitriangular=True)
    keys_read = torch.linalg.solve_triangular(
        system, k_beta * total.exp().unsqueeze(-1), upper=False, unitriangular=True
    )
    q = q * total.exp().unsqueeze(-1)
    k = k * (total[..., -1:] - total).exp().unsqueeze(-1)
    chunk_decay = total[..., -1].exp()[..., None, None]
    for i in range(q.size(2)):
        fresh = values[:, :, i] - keys_read[:, :, i] @ state
        ys.append(q[:, :, i] @ state + within[:, :, i] @ fresh)
        state = state * chunk_decay[:, :, i] + k[:, :, i].transpose(-1, -2) @ fresh
    return torch.cat(ys, dim=2)[:, :, :seq].transpose(1, 2)
''',
}
