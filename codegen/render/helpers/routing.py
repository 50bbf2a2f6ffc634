"""Mixture of experts: router logits to expert weights (top-k, with or without
normalisation, sparsemixer), the clamped SwiGLU some experts use, and gathering experts' outputs.
"""

from __future__ import annotations

# What these helpers' own text uses beyond torch (codegen/render/helpers/__init__.py).
HELPER_IMPORTS: dict[str, tuple[str, ...]] = {
    "top_k_routing": ("F",),
    "expert_routing": ("F",),
}
HELPERS: dict[str, str] = {
    "top_k_routing": '''
def top_k_routing(logits: torch.Tensor, top_k: int, normalize: bool) -> torch.Tensor:
    """Router logits [..., experts] -> each expert's weight per token: the softmax of the top_k
    experts' probabilities (renormalised to sum to one when `normalize`), zero for the rest."""
    probs = F.softmax(logits.float(), dim=-1)
    top, index = torch.topk(probs, top_k, dim=-1)
    if normalize:
        top = top / top.sum(dim=-1, keepdim=True)
    return torch.zeros_like(probs).scatter(-1, index, top).type_as(logits)
''',
    "expert_routing": '''
def expert_routing(
    logits: torch.Tensor,
    correction: torch.Tensor | None,
    top_k: int,
    sigmoid: bool,
    normalize: bool,
    scale: float,
    groups: int,
    top_groups: int,
) -> torch.Tensor:
    """Router logits [..., experts] -> each expert's weight per token, zero for the rest.

    Scores are the logits' softmax (or each one's sigmoid). The top_k experts are chosen by score
    plus `correction` (a per-expert bias that steers the choice, not the weights), only among the
    `top_groups` of `groups` equal groups of experts whose two best scores sum highest. Their scores
    are renormalised to sum to one when `normalize`, then multiplied by `scale`."""
    scores = torch.sigmoid(logits.float()) if sigmoid else F.softmax(logits.float(), dim=-1)
    choice = scores if correction is None else scores + correction.reshape(-1)
    if groups > 1:
        shape = choice.shape
        grouped = choice.reshape(-1, groups, shape[-1] // groups)
        best = grouped.topk(2, dim=-1)[0].sum(dim=-1)  # [tokens, groups]
        kept = torch.zeros_like(best).scatter(-1, best.topk(top_groups, dim=-1)[1], 1.0)
        choice = grouped.masked_fill(kept.unsqueeze(-1) == 0, float("-inf")).reshape(shape)
    index = torch.topk(choice, top_k, dim=-1)[1]
    top = scores.gather(-1, index)
    if normalize:
        top = top / top.sum(dim=-1, keepdim=True)
    return torch.zeros_like(scores).scatter(-1, index, top * scale).type_as(logits)
''',
    "clamped_swiglu": '''
def clamped_swiglu(h: torch.Tensor, alpha: float, limit: float, interleaved: bool) -> torch.Tensor:
    """GPT-OSS's expert activation of a fused gate/up output h [..., 2 * inner]: gate and up
    interleaved (gate at even features) or as halves, clamped to `limit` (the gate from above
    only), then (up + 1) * gate * sigmoid(alpha * gate)."""
    if interleaved:
        gate, up = h[..., ::2], h[..., 1::2]
    else:
        gate, up = h.chunk(2, dim=-1)
    gate = gate.clamp(max=limit)
    up = up.clamp(min=-limit, max=limit)
    return (up + 1) * gate * torch.sigmoid(gate * alpha)
''',
    "sparsemixer_routing": '''
def sparsemixer_routing(logits: torch.Tensor, jitter_eps: float) -> torch.Tensor:
    """Router logits [..., experts] -> each expert's weight per token, as PhiMoE's sparsemixer
    routes in eval: the best expert, then the best of the rest; each weighted by its softmax
    among the experts whose logit is within 2 * jitter_eps (relative) of its own."""
    out = torch.zeros_like(logits)
    masked = logits
    for _ in range(2):
        top, index = masked.max(dim=-1, keepdim=True)
        far = (top - logits) / logits.abs().clamp(min=top) > 2 * jitter_eps
        gates = torch.softmax(masked.masked_fill(far, float("-inf")), dim=-1)
        out = out.scatter(-1, index, gates.gather(-1, index))
        masked = masked.scatter(-1, index, float("-inf"))
    return out
''',
    "top_k_softmax": '''
def top_k_softmax(logits: torch.Tensor, top_k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Router logits [..., experts] -> (the top_k experts [..., top_k], best first, and their
    weights: a softmax over their logits)."""
    top, index = logits.float().topk(top_k, dim=-1)
    return index, torch.softmax(top, dim=-1).type_as(logits)
''',
    "gather_experts": '''
def gather_experts(every: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """The chosen experts' rows: every [..., experts, features] and index [..., k] (the same
    leading sizes) -> [..., k, features]."""
    rows = index.unsqueeze(-1).expand(list(index.shape) + [every.size(-1)])
    return every.gather(-2, rows)
''',
}
