"""Tiny reference blocks written the way diffusers writes its U-Nets and autoencoders
(ResnetBlock2D, the spatial Attention with to_q/to_k/to_v/to_out, Downsample2D, Upsample2D,
TimestepEmbedding), for the generative patterns' examples. Plain torch, so the catalogue's own
tests need no diffusers; tests/test_generative_families.py compares with diffusers itself.
Reference code, not generated code: the generated file must match it."""

from __future__ import annotations


def modules():
    import math

    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class ResnetBlock2D(nn.Module):
        def __init__(
            self,
            c_in: int,
            c_out: int,
            temb: int | None,
            groups: int = 4,
            scale_shift=False,
            resample: str = "",
        ) -> None:
            super().__init__()
            self.scale_shift = scale_shift  # diffusers' time_embedding_norm="scale_shift"
            self.resample = resample  # "down" / "up": diffusers' down=True / up=True
            self.norm1 = nn.GroupNorm(groups, c_in, eps=1e-6)
            self.conv1 = nn.Conv2d(c_in, c_out, 3, 1, 1)
            self.time_emb_proj = nn.Linear(temb, c_out * (1 + scale_shift)) if temb else None
            self.norm2 = nn.GroupNorm(groups, c_out, eps=1e-6)
            self.dropout = nn.Dropout(0.0)
            self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1)
            self.conv_shortcut = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else None

        def forward(self, x: torch.Tensor, temb: torch.Tensor | None = None) -> torch.Tensor:
            h = F.silu(self.norm1(x))
            if self.resample == "down":
                h, x = F.avg_pool2d(h, kernel_size=2, stride=2), F.avg_pool2d(x, 2, 2)
            elif self.resample == "up":
                h = F.interpolate(h, scale_factor=2.0, mode="nearest")
                x = F.interpolate(x, scale_factor=2.0, mode="nearest")
            h = self.conv1(h)
            if self.scale_shift and self.time_emb_proj is not None and temb is not None:
                scale, shift = self.time_emb_proj(F.silu(temb))[:, :, None, None].chunk(2, dim=1)
                h = self.norm2(h) * (1 + scale) + shift
                return (x if self.conv_shortcut is None else self.conv_shortcut(x)) + self.conv2(
                    F.silu(h)
                )
            if self.time_emb_proj is not None and temb is not None:
                h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None]
            h = self.conv2(self.dropout(F.silu(self.norm2(h))))
            if self.conv_shortcut is not None:
                x = self.conv_shortcut(x)
            return x + h

    class Attention(nn.Module):  # diffusers' Attention with a group norm, over pixels
        def __init__(self, c: int, head_dim: int, groups: int | None = 4) -> None:
            super().__init__()
            self.heads = c // head_dim
            self.group_norm = nn.GroupNorm(groups, c, eps=1e-6) if groups else nn.Identity()
            self.to_q, self.to_k, self.to_v = nn.Linear(c, c), nn.Linear(c, c), nn.Linear(c, c)
            self.to_out = nn.ModuleList([nn.Linear(c, c), nn.Dropout(0.0)])

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            b, c, h, w = x.shape
            s = self.group_norm(x.view(b, c, h * w)).transpose(1, 2)
            q, k, v = (
                f(s).view(b, -1, self.heads, c // self.heads).transpose(1, 2)
                for f in (self.to_q, self.to_k, self.to_v)
            )
            weights = (q @ k.transpose(-1, -2) * (c // self.heads) ** -0.5).softmax(-1)
            out = (weights @ v).transpose(1, 2).reshape(b, -1, c)
            out = self.to_out[1](self.to_out[0](out))
            return out.transpose(-1, -2).reshape(b, c, h, w) + x

    class Downsample2D(nn.Module):
        def __init__(self, c: int, padding: int = 1) -> None:
            super().__init__()
            self.padding = padding
            self.conv = nn.Conv2d(c, c, 3, stride=2, padding=padding)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if self.padding == 0:
                x = F.pad(x, (0, 1, 0, 1), mode="constant", value=0.0)
            return self.conv(x)

    class Upsample2D(nn.Module):
        def __init__(self, c: int) -> None:
            super().__init__()
            self.conv = nn.Conv2d(c, c, 3, padding=1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))

    class TimestepEmbedding(nn.Module):
        def __init__(self, c: int, dim: int) -> None:
            super().__init__()
            self.linear_1, self.act, self.linear_2 = (
                nn.Linear(c, dim),
                nn.SiLU(),
                nn.Linear(dim, dim),
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.linear_2(self.act(self.linear_1(x)))

    class Holder(nn.Module):  # a generated class is a member of the top one
        def __init__(self, inner: nn.Module, listed_as: str = "") -> None:
            super().__init__()
            self.listed_as = listed_as  # held as the one item of a list of that name
            if listed_as:
                setattr(self, listed_as, nn.ModuleList([inner]))
            else:
                self.block = inner

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            block = getattr(self, self.listed_as)[0] if self.listed_as else self.block
            return block(*inputs)

    class Samplers(nn.Module):  # a diffusers block holds its samplers in a list
        def __init__(self, down: bool, c: int, padding: int = 1) -> None:
            super().__init__()
            sampler = Downsample2D(c, padding) if down else Upsample2D(c)
            if down:
                self.downsamplers = nn.ModuleList([sampler])
            else:
                self.upsamplers = nn.ModuleList([sampler])

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            for m in self.children():
                x = m[0](x)
            return x

    class DownBlock2D(nn.Module):  # AttnDownBlock2D when attentions are given
        def __init__(self) -> None:
            super().__init__()
            self.resnets = nn.ModuleList([ResnetBlock2D(8, 8, 12), ResnetBlock2D(8, 8, 12)])
            self.attentions = nn.ModuleList([Attention(8, 8), Attention(8, 8)])
            self.downsamplers = nn.ModuleList([Downsample2D(8)])

        def forward(self, x: torch.Tensor, temb: torch.Tensor) -> list[torch.Tensor]:
            states = []
            for resnet, attention in zip(self.resnets, self.attentions):
                x = attention(resnet(x, temb))
                states.append(x)
            states.append(self.downsamplers[0](x))
            return states

    class UpBlock2D(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.resnets = nn.ModuleList([ResnetBlock2D(16, 8, 12), ResnetBlock2D(12, 8, 12)])
            self.upsamplers = nn.ModuleList([Upsample2D(8)])

        def forward(self, x: torch.Tensor, temb: torch.Tensor, skips: list[torch.Tensor]):
            for resnet in self.resnets:
                x = resnet(torch.cat([x, skips[-1]], dim=1), temb)
                skips = skips[:-1]
            return self.upsamplers[0](x)

    class UNetMidBlock2D(nn.Module):
        def __init__(self, temb: int | None) -> None:
            super().__init__()
            self.attentions = nn.ModuleList([Attention(8, 8)])
            self.resnets = nn.ModuleList([ResnetBlock2D(8, 8, temb), ResnetBlock2D(8, 8, temb)])

        def forward(self, x: torch.Tensor, temb: torch.Tensor | None = None) -> torch.Tensor:
            x = self.resnets[0](x, temb)
            for attention, resnet in zip(self.attentions, self.resnets[1:]):
                x = resnet(attention(x), temb)
            return x

    class DownEncoderBlock2D(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.resnets = nn.ModuleList([ResnetBlock2D(8, 16, None), ResnetBlock2D(16, 16, None)])
            self.downsamplers = nn.ModuleList([Downsample2D(16)])

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            for resnet in self.resnets:
                x = resnet(x)
            return self.downsamplers[0](x)

    def sinusoids(t: torch.Tensor, dim: int) -> torch.Tensor:  # diffusers' get_timestep_embedding
        half = dim // 2
        exponent = -math.log(10000) * torch.arange(0, half, dtype=torch.float32) / half
        emb = t[:, None].float() * torch.exp(exponent)[None, :]
        emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=-1)
        return torch.cat([emb[:, half:], emb[:, :half]], dim=-1)  # flip_sin_to_cos

    class Stage(nn.Module):  # Down/UpBlock2D, AttnDown/UpBlock2D: lists of what they hold
        def __init__(self, resnets, attentions=(), down=None, up=None) -> None:
            super().__init__()
            self.resnets = nn.ModuleList(resnets)
            if attentions:
                self.attentions = nn.ModuleList(attentions)
            if down is not None:
                self.downsamplers = nn.ModuleList([down])
            if up is not None:
                self.upsamplers = nn.ModuleList([up])

    class UNet2D(nn.Module):  # UNet2DModel, block_out_channels (8, 16), one layer per block
        def __init__(self) -> None:
            super().__init__()
            t = 32
            self.conv_in = nn.Conv2d(3, 8, 3, padding=1)
            self.time_embedding = TimestepEmbedding(8, t)
            self.down_blocks = nn.ModuleList(
                [
                    Stage([ResnetBlock2D(8, 8, t)], down=Downsample2D(8)),
                    Stage([ResnetBlock2D(8, 16, t)], [Attention(16, 16)]),
                ]
            )
            self.mid_block = UNetMidBlock2D(None)
            self.mid_block.resnets = nn.ModuleList([ResnetBlock2D(16, 16, t) for _ in range(2)])
            self.mid_block.attentions = nn.ModuleList([Attention(16, 16)])
            self.up_blocks = nn.ModuleList(
                [
                    Stage(
                        [ResnetBlock2D(32, 16, t), ResnetBlock2D(24, 16, t)],
                        [Attention(16, 16), Attention(16, 16)],
                        up=Upsample2D(16),
                    ),
                    Stage([ResnetBlock2D(24, 8, t), ResnetBlock2D(16, 8, t)]),
                ]
            )
            self.conv_norm_out = nn.GroupNorm(4, 8, eps=1e-6)
            self.conv_out = nn.Conv2d(8, 3, 3, padding=1)

        def forward(self, sample: torch.Tensor, timestep: torch.Tensor) -> torch.Tensor:
            temb = self.time_embedding(sinusoids(timestep, 8))
            x = self.conv_in(sample)
            kept = [x]
            for block in self.down_blocks:
                for i, resnet in enumerate(block.resnets):
                    x = resnet(x, temb)
                    if hasattr(block, "attentions"):
                        x = block.attentions[i](x)
                    kept.append(x)
                if hasattr(block, "downsamplers"):
                    x = block.downsamplers[0](x)
                    kept.append(x)
            x = self.mid_block(x, temb)
            for block in self.up_blocks:
                for i, resnet in enumerate(block.resnets):
                    x = resnet(torch.cat([x, kept.pop()], dim=1), temb)
                    if hasattr(block, "attentions"):
                        x = block.attentions[i](x)
                if hasattr(block, "upsamplers"):
                    x = block.upsamplers[0](x)
            return self.conv_out(F.silu(self.conv_norm_out(x)))

    class Coder(nn.Module):  # diffusers' Encoder (down stages) or Decoder (up stages)
        def __init__(self, c_in: int, c_out: int, down: bool) -> None:
            super().__init__()
            self.conv_in = nn.Conv2d(c_in, 8, 3, padding=1)
            if down:
                self.down_blocks = nn.ModuleList(
                    [
                        Stage([ResnetBlock2D(8, 8, None)], down=Downsample2D(8, 0)),
                        Stage([ResnetBlock2D(8, 16, None)]),
                    ]
                )
                self.mid_block = UNetMidBlock2D(None)
                self.mid_block.resnets = nn.ModuleList([ResnetBlock2D(16, 16, None)] * 2)
                self.mid_block.attentions = nn.ModuleList([Attention(16, 16)])
                self.conv_norm_out = nn.GroupNorm(4, 16, eps=1e-6)
                self.conv_out = nn.Conv2d(16, c_out, 3, padding=1)
            else:
                self.conv_in = nn.Conv2d(c_in, 16, 3, padding=1)
                self.mid_block = UNetMidBlock2D(None)
                self.mid_block.resnets = nn.ModuleList([ResnetBlock2D(16, 16, None)] * 2)
                self.mid_block.attentions = nn.ModuleList([Attention(16, 16)])
                self.up_blocks = nn.ModuleList(
                    [
                        Stage([ResnetBlock2D(16, 16, None)], up=Upsample2D(16)),
                        Stage([ResnetBlock2D(16, 8, None)]),
                    ]
                )
                self.conv_norm_out = nn.GroupNorm(4, 8, eps=1e-6)
                self.conv_out = nn.Conv2d(8, c_out, 3, padding=1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = self.conv_in(x)
            if hasattr(self, "down_blocks"):
                for block in self.down_blocks:
                    x = block.resnets[0](x)
                    if hasattr(block, "downsamplers"):
                        x = block.downsamplers[0](x)
                x = self.mid_block(x)
            else:
                x = self.mid_block(x)
                for block in self.up_blocks:
                    x = block.resnets[0](x)
                    if hasattr(block, "upsamplers"):
                        x = block.upsamplers[0](x)
            return self.conv_out(F.silu(self.conv_norm_out(x)))

    class AutoencoderKL(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder, self.decoder = Coder(3, 4, True), Coder(2, 3, False)
            self.quant_conv, self.post_quant_conv = nn.Conv2d(4, 4, 1), nn.Conv2d(2, 2, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            mean = self.quant_conv(self.encoder(x)).chunk(2, dim=1)[0]
            return self.decoder(self.post_quant_conv(mean))

    def up_inputs():
        torch.manual_seed(1)
        x, temb = torch.randn(2, 8, 8, 8), torch.randn(2, 12)
        return x, temb, [torch.randn(2, 4, 8, 8), torch.randn(2, 8, 8, 8)]

    def built(module):
        torch.manual_seed(0)
        with torch.no_grad():
            for name, p in module.named_parameters():
                if "norm" in name:  # norms away from their initial 1/0
                    p.add_(0.1 * torch.randn_like(p))
        return module.eval()

    class AttentionPooling(nn.Module):  # diffusers' pooling of a text encoder's states
        def __init__(self, d: int, heads: int) -> None:
            super().__init__()
            self.heads = heads
            self.positional_embedding = nn.Parameter(torch.randn(1, d) / d**0.5)
            self.k_proj, self.q_proj, self.v_proj = (nn.Linear(d, d) for _ in range(3))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            b, n, d = x.shape
            token = x.mean(dim=1, keepdim=True) + self.positional_embedding
            seq = torch.cat([token, x], dim=1)

            def split(t):  # [b*heads, head size, length], scaled half on each side
                t = t.view(b, -1, self.heads, d // self.heads).transpose(1, 2)
                return t.reshape(b * self.heads, -1, d // self.heads).transpose(1, 2)

            scale = 1 / math.sqrt(math.sqrt(d // self.heads))
            q, k, v = split(self.q_proj(token)), split(self.k_proj(seq)), split(self.v_proj(seq))
            weight = torch.einsum("bct,bcs->bts", q * scale, k * scale).softmax(dim=-1)
            out = torch.einsum("bts,bcs->bct", weight, v)
            return out.reshape(b, -1, 1).transpose(1, 2)[:, 0, :]

    class OpenaiResBlock(nn.Module):  # improved-/guided-diffusion's ResBlock, in brief
        def __init__(self, c: int, c_out: int, t: int, scale_shift: bool) -> None:
            super().__init__()
            self.scale_shift = scale_shift
            self.in_layers = nn.Sequential(
                nn.GroupNorm(4, c, eps=1e-6), nn.SiLU(), nn.Conv2d(c, c_out, 3, padding=1)
            )
            self.emb_layers = nn.Sequential(nn.SiLU(), nn.Linear(t, c_out * (1 + scale_shift)))
            self.out_layers = nn.Sequential(
                nn.GroupNorm(4, c_out, eps=1e-6),
                nn.SiLU(),
                nn.Dropout(0.0),
                nn.Conv2d(c_out, c_out, 3, padding=1),
            )
            self.skip_connection = nn.Identity() if c == c_out else nn.Conv2d(c, c_out, 1)

        def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
            h = self.in_layers(x)
            e = self.emb_layers(emb)[..., None, None]
            if self.scale_shift:
                scale, shift = e.chunk(2, dim=1)
                h = self.out_layers[1:](self.out_layers[0](h) * (1 + scale) + shift)
            else:
                h = self.out_layers(h + e)
            return self.skip_connection(x) + h

    class QKVAttentionBlock(nn.Module):  # improved-/guided-diffusion's AttentionBlock
        def __init__(self, c: int, heads: int, new_order: bool) -> None:
            super().__init__()
            self.heads, self.new_order = heads, new_order
            self.norm = nn.GroupNorm(4, c, eps=1e-6)
            self.qkv = nn.Conv1d(c, 3 * c, 1)
            self.proj_out = nn.Conv1d(c, c, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            b, c, hh, ww = x.shape
            flat = x.reshape(b, c, -1)
            qkv = self.qkv(self.norm(flat))
            ch = c // self.heads
            if self.new_order:  # q, k, v first, then heads
                q, k, v = (t.reshape(b * self.heads, ch, -1) for t in qkv.chunk(3, dim=1))
            else:  # heads first, then q, k, v
                q, k, v = qkv.reshape(b * self.heads, 3 * ch, -1).split(ch, dim=1)
            scale = 1 / math.sqrt(math.sqrt(ch))
            w = torch.einsum("bct,bcs->bts", q * scale, k * scale).softmax(dim=-1)
            a = torch.einsum("bts,bcs->bct", w, v).reshape(b, c, -1)
            return (flat + self.proj_out(a)).reshape(b, c, hh, ww)

    class TimestepSequential(nn.Sequential):  # openai's TimestepEmbedSequential
        def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
            for layer in self:
                x = layer(x, emb) if isinstance(layer, OpenaiResBlock) else layer(x)
            return x

    class OpDownsample(nn.Module):
        def __init__(self, c: int) -> None:
            super().__init__()
            self.op = nn.Conv2d(c, c, 3, stride=2, padding=1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.op(x)

    class ConvUpsample(nn.Module):
        def __init__(self, c: int) -> None:
            super().__init__()
            self.conv = nn.Conv2d(c, c, 3, padding=1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))

    class OpenaiUNetModel(nn.Module):  # improved-diffusion's UNetModel: 2 levels, 1 resnet each
        def __init__(self, c: int = 8) -> None:
            super().__init__()
            self.c, t = c, 4 * c
            self.time_embed = nn.Sequential(nn.Linear(c, t), nn.SiLU(), nn.Linear(t, t))
            res = lambda a, b: OpenaiResBlock(a, b, t, False)  # noqa: E731
            self.input_blocks = nn.ModuleList(
                [
                    TimestepSequential(nn.Conv2d(3, c, 3, padding=1)),
                    TimestepSequential(res(c, c)),
                    TimestepSequential(OpDownsample(c)),
                    TimestepSequential(res(c, 2 * c), QKVAttentionBlock(2 * c, 1, False)),
                ]
            )
            self.middle_block = TimestepSequential(res(2 * c, 2 * c), res(2 * c, 2 * c))
            self.output_blocks = nn.ModuleList(
                [
                    TimestepSequential(res(4 * c, 2 * c), QKVAttentionBlock(2 * c, 1, False)),
                    TimestepSequential(
                        res(3 * c, 2 * c), QKVAttentionBlock(2 * c, 1, False), ConvUpsample(2 * c)
                    ),
                    TimestepSequential(res(3 * c, c)),
                    TimestepSequential(res(2 * c, c)),
                ]
            )
            self.out = nn.Sequential(
                nn.GroupNorm(4, c, eps=1e-6), nn.SiLU(), nn.Conv2d(c, 3, 3, padding=1)
            )

        def forward(self, x: torch.Tensor, timesteps: torch.Tensor) -> torch.Tensor:
            half = self.c // 2
            freqs = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32) / half)
            args = timesteps[:, None].float() * freqs[None]
            emb = self.time_embed(torch.cat([torch.cos(args), torch.sin(args)], dim=-1))
            hs = []
            for block in self.input_blocks:
                x = block(x, emb)
                hs.append(x)
            x = self.middle_block(x, emb)
            for block in self.output_blocks:
                x = block(torch.cat([x, hs.pop()], dim=1), emb)
            return self.out(x)

    def with_temb(c: int, t: int):
        torch.manual_seed(1)
        return torch.randn(2, c, 8, 8), torch.randn(2, t)

    def image(c: int, size: int = 8):
        torch.manual_seed(1)
        return (torch.randn(2, c, size, size),)

    return dict(
        resnet=lambda *a, **kw: built(ResnetBlock2D(*a, **kw)),
        attention=lambda *a: built(Attention(*a)),
        samplers=lambda *a: built(Samplers(*a)),
        time_embedding=lambda *a: built(TimestepEmbedding(*a)),
        attention_pooling=lambda *a: built(AttentionPooling(*a)),
        holder=Holder,
        unet_down=lambda: Holder(built(DownBlock2D()), "down_blocks"),
        unet_up=lambda: Holder(built(UpBlock2D()), "up_blocks"),
        mid=lambda temb: Holder(built(UNetMidBlock2D(temb))),
        stage=lambda: Holder(built(DownEncoderBlock2D())),
        up_inputs=up_inputs,
        unet=lambda: built(UNet2D()),
        vae=lambda: built(AutoencoderKL()),
        openai_resblock=lambda *a: built(OpenaiResBlock(*a)),
        qkv_attention=lambda *a: built(QKVAttentionBlock(*a)),
        openai_unet=lambda: built(OpenaiUNetModel()),
        with_temb=with_temb,
        image=image,
    )


# What diffusers' config.json says of the blocks above (group count and eps of every norm).
META = {"norm_num_groups": 4, "norm_eps": 1e-6}
# AutoencoderKL's config.json: no eps (its code fixes 1e-6), and the class name that says so.
VAE_META = {"norm_num_groups": 4, "_class_name": "AutoencoderKL"}
