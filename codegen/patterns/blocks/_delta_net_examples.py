"""Examples of gated_delta_net.py: the library's own mixers where it has them (their chunked
torch fallback is the reference), and Kimi's KDA in the layout its checkpoints store."""

from __future__ import annotations

from codegen.patterns._kit import Example

TINY = dict(
    vocab_size=50,
    hidden_size=16,
    num_hidden_layers=2,
    num_attention_heads=2,
    layer_types=["linear_attention", "full_attention"],
)


class _Holder:
    """`mixer` held as a layer's `linear_attn` (no norm: the families' conventions for their
    own norms, Qwen3-Next's 1 + weight, would apply to it)."""

    @staticmethod
    def wrap(mixer, d: int):
        import torch.nn as nn

        class Layer(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.linear_attn = mixer

            def forward(self, x):
                return self.linear_attn(x)

        return Layer()


def _library(config_cls: str, mixer_path: str, mixer_cls: str, **config):
    import importlib

    import transformers

    cfg = getattr(transformers, config_cls)(**TINY, **config)
    mixer = getattr(importlib.import_module(mixer_path), mixer_cls)(cfg, 0)
    return mixer, cfg.to_dict()


def _redraw(module, seed: int = 0, scale: float = 0.5):
    import torch

    torch.manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn_like(p) * scale)
    return module


def _kda(bounded: bool = False):
    """Kimi's KDA as its checkpoints store it: the forget gate's f_a/f_b, dt_bias and A_log on
    the mixer itself, one causal conv each for q, k and v, the library's chunked rule. `bounded`:
    Bailing hybrid's as its checkpoints store it: one f_proj, A_log [heads], the decay
    lower_bound * sigmoid(exp(A_log) * f) (kda_safe_gate), the output Linear named dense."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from transformers.models.kimi_linear.modeling_kimi_linear import chunk_kimi_delta_attention

    class KDA(nn.Module):
        def __init__(self, d: int = 16, heads: int = 2, dk: int = 6, kernel: int = 3) -> None:
            super().__init__()
            width = heads * dk
            self.heads, self.dk = heads, dk
            self.q_proj = nn.Linear(d, width, bias=False)
            self.k_proj = nn.Linear(d, width, bias=False)
            self.v_proj = nn.Linear(d, width, bias=False)
            for n in "qkv":
                conv = nn.Conv1d(width, width, kernel, groups=width, padding=kernel - 1, bias=False)
                setattr(self, f"{n}_conv1d", conv)
            if bounded:
                self.f_proj = nn.Linear(d, width, bias=False)
                self.A_log = nn.Parameter(torch.zeros(heads))
                self.g_proj = nn.Linear(d, width, bias=False)
                self.dense = nn.Linear(width, d, bias=False)
            else:
                self.f_a_proj = nn.Linear(d, dk, bias=False)
                self.f_b_proj = nn.Linear(dk, width, bias=False)
                self.A_log = nn.Parameter(torch.zeros(1, 1, heads, 1))
                self.g_a_proj = nn.Linear(d, dk, bias=False)
                self.g_b_proj = nn.Linear(dk, width, bias=False)
                self.o_proj = nn.Linear(width, d, bias=False)
            self.dt_bias = nn.Parameter(torch.zeros(width))
            self.b_proj = nn.Linear(d, heads, bias=False)
            self.o_norm = nn.RMSNorm(dk, eps=1e-5)

        def forward(self, x):
            b, s, _ = x.shape
            parts = []
            for n in "qkv":
                h = getattr(self, f"{n}_proj")(x).transpose(1, 2)
                h = F.silu(getattr(self, f"{n}_conv1d")(h)[..., :s]).transpose(1, 2)
                parts.append(h.reshape(b, s, self.heads, self.dk))
            if bounded:
                f = (self.f_proj(x) + self.dt_bias).view(b, s, self.heads, -1)
                g = -5.0 * torch.sigmoid(self.A_log.exp().view(1, 1, -1, 1) * f)
                gate = self.g_proj(x)
            else:
                f = (self.f_b_proj(self.f_a_proj(x)) + self.dt_bias).view(b, s, self.heads, -1)
                g = -self.A_log.exp() * F.softplus(f)
                gate = self.g_b_proj(self.g_a_proj(x))
            beta = torch.sigmoid(self.b_proj(x))
            y, _ = chunk_kimi_delta_attention(
                *parts, g=g, beta=beta, chunk_size=4, use_qk_l2norm_in_kernel=True
            )
            y = self.o_norm(y) * torch.sigmoid(gate.view(b, s, self.heads, -1))
            out = self.dense if bounded else self.o_proj
            return out(y.reshape(b, s, -1))

    config = {"model_type": "kimi_linear", "hidden_act": "silu", "rms_norm_eps": 1e-5}
    if bounded:
        config = {**config, "model_type": "bailing_hybrid", "kda_safe_gate": True}
        config["kda_lower_bound"] = -5.0
    return _Holder.wrap(_redraw(KDA(), scale=0.3), 16), config


def examples() -> list[Example]:
    import torch

    qwen, qwen_config = _library(
        "Qwen3NextConfig",
        "transformers.models.qwen3_next.modeling_qwen3_next",
        "Qwen3NextGatedDeltaNet",
        linear_num_value_heads=4,
        linear_num_key_heads=2,
        linear_key_head_dim=4,
        linear_value_head_dim=3,
        linear_conv_kernel_dim=3,
        rms_norm_eps=1e-6,
    )
    olmo, olmo_config = _library(
        "OlmoHybridConfig",
        "transformers.models.olmo_hybrid.modeling_olmo_hybrid",
        "OlmoHybridGatedDeltaNet",
        linear_num_value_heads=2,
        linear_num_key_heads=2,
        linear_key_head_dim=4,
        linear_value_head_dim=6,
        linear_conv_kernel_dim=4,
    )
    kda, kda_config = _kda()
    bounded, bounded_config = _kda(bounded=True)
    out = []
    for seed, (mixer, config) in enumerate(
        ((qwen, qwen_config), (olmo, olmo_config), (kda, kda_config), (bounded, bounded_config))
    ):
        mine = config is kda_config or config is bounded_config
        module = mixer if mine else _Holder.wrap(_redraw(mixer, seed), 16)
        torch.manual_seed(seed)
        keep = {k: v for k, v in config.items() if isinstance(v, (int, float, str, bool, list))}
        out.append(Example(module.eval(), (torch.randn(2, 9, 16),), keep))
    return out


def library_kda() -> Example:
    """Kimi's KDA as the library's module holds it: the forget gate a module of its own, the
    fused conv one module (a state dict saved without the library's checkpoint conversion)."""
    import torch

    mixer, config = _library(
        "KimiLinearConfig",
        "transformers.models.kimi_linear.modeling_kimi_linear",
        "KimiLinearDeltaAttention",
        linear_num_heads=2,
        linear_head_dim=6,
        linear_conv_kernel_dim=3,
        rms_norm_eps=1e-5,
    )
    module = _Holder.wrap(_redraw(mixer, 3, scale=0.3), 16)
    torch.manual_seed(3)
    keep = {k: v for k, v in config.items() if isinstance(v, (int, float, str, bool, list))}
    return Example(module.eval(), (torch.randn(2, 9, 16),), keep)
