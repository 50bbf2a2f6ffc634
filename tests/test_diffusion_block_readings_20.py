"""Diffusion and VAE blocks read from roles and widths, whatever their names (issue 16, session
20, gen20a): the readings behind the small-repository U-Nets and VAEs of zoos 18 and 19.

- a resnet block whose time projection is a Linear as wide as its first conv's output (or twice),
  its two group norms and convs ordered by which reads the block's input, else by the numbers
  their names end in, a second conv behind a dropout slot, a 1x1 shortcut and an attention it
  holds (blocks/resnet_block.py): abarankab/DDPM's, hkproj's VAE_ResidualBlock, and a block with
  no number in any name whose widths prove the order;
- an attention whose queries, keys and values sit in one 1x1 conv after a group norm, its output
  added back (blocks/fused_qkv_map_attention.py): abarankab's (split), SR3's (per-head einsum),
  and one in a Sequential holder under other names;
- lucidrains-style wrappers: PreNorm over a built-in norm before a pixel attention is not a
  pre-norm residual (blocks/fn_wrapper.py), its norm a GroupNorm(1) as the attention's normed
  `to_out`'s (blocks/pixel_attention.py); a space-to-depth Sequential downsampler
  (families/skip_stack_unet.py) is covered end to end by the annotated U-Net of zoo 19.
Each layout is generated once from its state dict; the verdict is exact, or flagged where a
keyless value (a group count, a head count) is a default, and never silently wrong.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests import generative_zoo_check as check


class Holder(nn.Module):  # a generated class is a member of the top one
    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.block = inner

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.block(*inputs)


# ------------------------------------------------------------------ resnet blocks by roles


class AbAttention(nn.Module):  # abarankab/DDPM AttentionBlock: split into thirds, one head
    def __init__(self, c: int) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(c, c)
        self.to_qkv = nn.Conv2d(c, 3 * c, 1)
        self.to_out = nn.Conv2d(c, c, 1)

    def forward(self, x):
        b, c, h, w = x.shape
        q, k, v = torch.split(self.to_qkv(self.norm(x)), c, dim=1)
        q = q.permute(0, 2, 3, 1).reshape(b, h * w, c)
        k = k.reshape(b, c, h * w)
        v = v.permute(0, 2, 3, 1).reshape(b, h * w, c)
        attention = torch.softmax(torch.bmm(q, k) * c**-0.5, dim=-1)
        return self.to_out(torch.bmm(attention, v).view(b, h, w, c).permute(0, 3, 1, 2)) + x


class AbResidualBlock(nn.Module):  # abarankab/DDPM ResidualBlock (group counts = widths here)
    def __init__(self, c_in: int, c_out: int, time_dim: int, attention: bool) -> None:
        super().__init__()
        self.norm_1 = nn.GroupNorm(c_in, c_in)
        self.conv_1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.norm_2 = nn.GroupNorm(c_out, c_out)
        self.conv_2 = nn.Sequential(nn.Dropout(p=0.1), nn.Conv2d(c_out, c_out, 3, padding=1))
        self.time_bias = nn.Linear(time_dim, c_out)
        self.residual_connection = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()
        self.attention = AbAttention(c_out) if attention else nn.Identity()

    def forward(self, x, time_emb):
        out = self.conv_1(F.silu(self.norm_1(x)))
        out = out + self.time_bias(F.silu(time_emb))[:, :, None, None]
        out = self.conv_2(F.silu(self.norm_2(out))) + self.residual_connection(x)
        return self.attention(out)


class VaeResidualBlock(nn.Module):  # hkproj VAE_ResidualBlock, no time input
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.groupnorm_1 = nn.GroupNorm(c_in, c_in)
        self.conv_1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.groupnorm_2 = nn.GroupNorm(c_out, c_out)
        self.conv_2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.residual_layer = nn.Conv2d(c_in, c_out, 1)

    def forward(self, x):
        h = self.conv_1(F.silu(self.groupnorm_1(x)))
        return self.conv_2(F.silu(self.groupnorm_2(h))) + self.residual_layer(x)


class UnnumberedBlock(nn.Module):  # no number in any name: the widths prove the order
    def __init__(self, c_in: int, c_out: int, time_dim: int) -> None:
        super().__init__()
        self.skip = nn.Conv2d(c_in, c_out, 1)
        self.emb = nn.Linear(time_dim, c_out)
        self.gn_in = nn.GroupNorm(c_in, c_in)
        self.gn_out = nn.GroupNorm(c_out, c_out)
        self.conv_in = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.conv_out = nn.Conv2d(c_out, c_out, 3, padding=1)

    def forward(self, x, t):
        h = self.conv_in(F.silu(self.gn_in(x))) + self.emb(F.silu(t))[:, :, None, None]
        return self.skip(x) + self.conv_out(F.silu(self.gn_out(h)))


# ------------------------------------------------------------------ fused-qkv map attentions


class Sr3SelfAttention(nn.Module):  # Janspiry SR3 SelfAttention, one head, bias-free qkv
    def __init__(self, c: int) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(c, c)
        self.qkv = nn.Conv2d(c, c * 3, 1, bias=False)
        self.out = nn.Conv2d(c, c, 1)

    def forward(self, x):
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).view(b, 1, c * 3, h, w).chunk(3, dim=2)
        attn = torch.einsum("bnchw, bncyx -> bnhwyx", q, k) / math.sqrt(c)
        attn = torch.softmax(attn.view(b, 1, h, w, -1), -1).view(b, 1, h, w, h, w)
        out = torch.einsum("bnhwyx, bncyx -> bnchw", attn, v)
        return self.out(out.reshape(b, c, h, w)) + x


class RenamedAttention(nn.Module):  # other names, the output projection listed first
    def __init__(self, c: int) -> None:
        super().__init__()
        self.proj_out = nn.Conv2d(c, c, 1)
        self.gn = nn.GroupNorm(c, c)
        self.fused = nn.Conv2d(c, 3 * c, 1)

    def forward(self, x):
        b, c, h, w = x.shape
        q, k, v = self.fused(self.gn(x)).reshape(b, 3, c, h * w).unbind(1)
        weights = torch.softmax(torch.einsum("bci,bcj->bij", q, k) * c**-0.5, dim=-1)
        return x + self.proj_out(torch.einsum("bij,bcj->bci", weights, v).reshape(b, c, h, w))


# ------------------------------------------------------------------ lucidrains-style wrappers


class LinearAttention(nn.Module):  # the annotated DDPM's: to_out = [conv, GroupNorm(1, dim)]
    def __init__(self, dim: int, heads: int = 1, dim_head: int = 16) -> None:
        super().__init__()
        self.scale, self.heads = dim_head**-0.5, heads
        self.to_qkv = nn.Conv2d(dim, heads * dim_head * 3, 1, bias=False)
        self.to_out = nn.Sequential(nn.Conv2d(heads * dim_head, dim, 1), nn.GroupNorm(1, dim))

    def forward(self, x):
        b, c, h, w = x.shape
        q, k, v = (t.reshape(b, self.heads, -1, h * w) for t in self.to_qkv(x).chunk(3, dim=1))
        q, k = q.softmax(dim=-2) * self.scale, k.softmax(dim=-1)
        context = torch.einsum("bhdn,bhen->bhde", k, v)
        out = torch.einsum("bhde,bhdn->bhen", context, q)
        return self.to_out(out.reshape(b, -1, h, w))


class PreNorm(nn.Module):  # fn(norm(x)): no residual of its own
    def __init__(self, dim: int, fn: nn.Module) -> None:
        super().__init__()
        self.fn, self.norm = fn, nn.GroupNorm(1, dim)

    def forward(self, x):
        return self.fn(self.norm(x))


class Residual(nn.Module):
    def __init__(self, fn: nn.Module) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x) + x


def _image(c: int) -> torch.Tensor:
    torch.manual_seed(1)
    return torch.randn(2, c, 8, 8)


LAYOUTS = {  # name: (module, inputs, exact from the keys)
    "abarankab_block": (
        lambda: AbResidualBlock(8, 16, 12, attention=True),
        lambda: (_image(8), torch.randn(2, 12)),
        False,  # the attention's head count is a default (one head: the repository's)
    ),
    "vae_residual": (lambda: VaeResidualBlock(8, 16), lambda: (_image(8),), True),
    "unnumbered": (lambda: UnnumberedBlock(8, 16, 12), lambda: (_image(8), torch.randn(2, 12)), True),
    "abarankab_attention": (lambda: AbAttention(8), lambda: (_image(8),), False),
    "sr3_attention": (lambda: Sr3SelfAttention(8), lambda: (_image(8),), False),
    "renamed_attention": (lambda: RenamedAttention(8), lambda: (_image(8),), False),
    # a pre-norm wrapper inside a residual one: the sum once, the norm a GroupNorm(1)
    "prenorm_in_residual": (
        lambda: Residual(PreNorm(8, LinearAttention(8))),
        lambda: (_image(8),),
        False,
    ),
}


def _reference(make) -> nn.Module:
    torch.manual_seed(0)
    module = Holder(make()).eval()
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return module


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = {}
    for name, (make, inputs, _) in LAYOUTS.items():
        reference = _reference(make)
        model, source = check.generate(reference, tmp_path_factory.mktemp(name), "--quiet")
        out[name] = (reference, inputs(), model, source)
    return out


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_block_read_by_roles(generated, name):
    reference, inputs, model, source = generated[name]
    found, diff = check.verdict(reference, inputs, model, source)
    assert found != "WRONG", f"{name}: differs by {diff:.3g} and nothing says so"
    # every layout computes what the reference does at its defaults (one head, its group counts)
    assert diff < 1e-4, f"{name}: max abs diff {diff:.3g}"
    assert found == "exact", found
