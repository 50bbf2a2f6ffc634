"""Norms and activations torch.nn does not provide: RMS and layer norms with a unit offset,
ConvNeXt V2's global response norm, channel-wise norms of a feature map, xIELU, and adaptive layer
norm's modulation.
"""

from __future__ import annotations

# What these helpers' own text uses beyond torch (codegen/render/helpers/__init__.py).
HELPER_IMPORTS: dict[str, tuple[str, ...]] = {
    "layer_norm_unit_offset": ("F",),
    "xielu": ("F",),
    "channel_rms_norm": ("F",),  # diff13: patterns/blocks/channel_gain_norm.py
}
HELPERS: dict[str, str] = {
    "modulate": '''
def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Adaptive layer norm's conditioning of normalised features: x * (1 + scale) + shift."""
    return x * (1 + scale) + shift
''',
    "xielu": '''
def xielu(
    x: torch.Tensor,
    alpha_p: torch.Tensor,
    alpha_n: torch.Tensor,
    beta: torch.Tensor,
    eps: torch.Tensor,
) -> torch.Tensor:
    """xIELU (arXiv 2411.13010): a trained quadratic for positive inputs, a trained ELU-like
    curve for negative ones; alpha_p and alpha_n are stored before softplus."""
    a_p = F.softplus(alpha_p)
    a_n = beta + F.softplus(alpha_n)
    negative = (torch.expm1(torch.minimum(x, eps)) - x) * a_n + beta * x
    return torch.where(x > 0, a_p * x * x + beta * x, negative)
''',
    "rms_norm_unit_offset": '''
def rms_norm_unit_offset(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """RMSNorm that scales by 1 + weight (Gemma stores the weight as an offset from one)."""
    h = x.float()
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)
    return (h * (1.0 + weight.float())).type_as(x)
''',
    "global_response_norm": '''
def global_response_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """ConvNeXt V2's global response norm on channels-last [batch, height, width, channels]: each
    channel's L2 norm over the image, divided by that norm's mean over channels, rescales x."""
    gx = x.pow(2).sum(dim=(1, 2), keepdim=True).sqrt()
    nx = gx / (gx.mean(dim=-1, keepdim=True) + 1e-6)
    c = x.size(-1)
    return weight.reshape(c) * (x * nx) + bias.reshape(c) + x
''',
    "layer_norm_unit_offset": '''
def layer_norm_unit_offset(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, eps: float
) -> torch.Tensor:
    """LayerNorm that scales by 1 + weight (Nemotron stores the weight as an offset from one)."""
    return F.layer_norm(x, [weight.size(0)], weight + 1.0, bias, eps)
''',
    # diff13: lucidrains' norms and attention over a feature map's channels and pixels
    "channel_rms_norm": '''
def channel_rms_norm(x: torch.Tensor, gain: torch.Tensor) -> torch.Tensor:
    """RMS norm over the channels of a feature map [batch, channels, height, width]: each pixel's
    channel vector scaled to unit length, times sqrt(channels) and the gain [1, channels, 1, 1]
    (lucidrains' RMSNorm)."""
    return F.normalize(x, dim=1) * gain * (x.size(1) ** 0.5)
''',
    "channel_layer_norm": '''
def channel_layer_norm(x: torch.Tensor, gain: torch.Tensor, eps: float) -> torch.Tensor:
    """Layer norm over the channels of a feature map, times the gain [1, channels, 1, 1], no bias
    (lucidrains' gain-only LayerNorm)."""
    var = torch.var(x, dim=1, unbiased=False, keepdim=True)
    mean = torch.mean(x, dim=1, keepdim=True)
    return (x - mean) * torch.rsqrt(var + eps) * gain
''',
}
