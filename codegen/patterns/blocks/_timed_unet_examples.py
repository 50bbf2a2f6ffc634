"""Reference diffusion U-Net for the timed level patterns (blocks/timed_unet_level.py,
blocks/pixel_token_attention.py, families/timed_level_unet.py): dome272/Diffusion-Models-pytorch's
modules.py UNet at test sizes (two levels, base width 8, time width 16)."""

from __future__ import annotations

from codegen.patterns._kit import Example


def timed_unet_examples() -> list[Example]:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class SelfAttention(nn.Module):
        def __init__(self, channels: int, size: int) -> None:
            super().__init__()
            self.channels, self.size = channels, size
            self.mha = nn.MultiheadAttention(channels, 4, batch_first=True)
            self.ln = nn.LayerNorm([channels])
            self.ff_self = nn.Sequential(
                nn.LayerNorm([channels]),
                nn.Linear(channels, channels),
                nn.GELU(),
                nn.Linear(channels, channels),
            )

        def forward(self, x):
            x = x.view(-1, self.channels, self.size * self.size).swapaxes(1, 2)
            x_ln = self.ln(x)
            attention_value, _ = self.mha(x_ln, x_ln, x_ln)
            attention_value = attention_value + x
            attention_value = self.ff_self(attention_value) + attention_value
            return attention_value.swapaxes(2, 1).view(-1, self.channels, self.size, self.size)

    class DoubleConv(nn.Module):
        def __init__(self, c_in, c_out, mid=None, residual=False) -> None:
            super().__init__()
            self.residual = residual
            mid = mid or c_out
            self.double_conv = nn.Sequential(
                nn.Conv2d(c_in, mid, kernel_size=3, padding=1, bias=False),
                nn.GroupNorm(1, mid),
                nn.GELU(),
                nn.Conv2d(mid, c_out, kernel_size=3, padding=1, bias=False),
                nn.GroupNorm(1, c_out),
            )

        def forward(self, x):
            if self.residual:
                return F.gelu(x + self.double_conv(x))
            return self.double_conv(x)

    class Down(nn.Module):
        def __init__(self, c_in, c_out, emb_dim) -> None:
            super().__init__()
            self.maxpool_conv = nn.Sequential(
                nn.MaxPool2d(2), DoubleConv(c_in, c_in, residual=True), DoubleConv(c_in, c_out)
            )
            self.emb_layer = nn.Sequential(nn.SiLU(), nn.Linear(emb_dim, c_out))

        def forward(self, x, t):
            x = self.maxpool_conv(x)
            return x + self.emb_layer(t)[:, :, None, None].repeat(1, 1, x.shape[-2], x.shape[-1])

    class Up(nn.Module):
        def __init__(self, c_in, c_out, emb_dim) -> None:
            super().__init__()
            self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
            self.conv = nn.Sequential(
                DoubleConv(c_in, c_in, residual=True), DoubleConv(c_in, c_out, c_in // 2)
            )
            self.emb_layer = nn.Sequential(nn.SiLU(), nn.Linear(emb_dim, c_out))

        def forward(self, x, skip_x, t):
            x = self.conv(torch.cat([skip_x, self.up(x)], dim=1))
            return x + self.emb_layer(t)[:, :, None, None].repeat(1, 1, x.shape[-2], x.shape[-1])

    class UNet(nn.Module):
        def __init__(self, c_in=3, c_out=3, time_dim=16) -> None:
            super().__init__()
            self.time_dim = time_dim
            self.inc = DoubleConv(c_in, 8)
            self.down1 = Down(8, 16, time_dim)
            self.sa1 = SelfAttention(16, 4)
            self.down2 = Down(16, 16, time_dim)
            self.sa2 = SelfAttention(16, 2)
            self.bot1 = DoubleConv(16, 32)
            self.bot2 = DoubleConv(32, 32)
            self.bot3 = DoubleConv(32, 16)
            self.up1 = Up(32, 8, time_dim)
            self.sa3 = SelfAttention(8, 4)
            self.up2 = Up(16, 8, time_dim)
            self.sa4 = SelfAttention(8, 8)
            self.outc = nn.Conv2d(8, c_out, kernel_size=1)

        def pos_encoding(self, t, channels):
            inv_freq = 1.0 / (10000 ** (torch.arange(0, channels, 2).float() / channels))
            pos_enc_a = torch.sin(t.repeat(1, channels // 2) * inv_freq)
            pos_enc_b = torch.cos(t.repeat(1, channels // 2) * inv_freq)
            return torch.cat([pos_enc_a, pos_enc_b], dim=-1)

        def forward(self, x, t):
            t = self.pos_encoding(t.unsqueeze(-1).type(torch.float), self.time_dim)
            x1 = self.inc(x)
            x2 = self.sa1(self.down1(x1, t))
            x3 = self.sa2(self.down2(x2, t))
            x3 = self.bot3(self.bot2(self.bot1(x3)))
            x = self.sa3(self.up1(x3, x2, t))
            x = self.sa4(self.up2(x, x1, t))
            return self.outc(x)

    torch.manual_seed(0)
    model = UNet().eval()
    for p in model.parameters():  # unit scale, so a wrong step shows
        nn.init.normal_(p, std=0.5)
    inputs = (torch.randn(2, 3, 8, 8), torch.tensor([3, 700]))
    return [Example(model, inputs)]
