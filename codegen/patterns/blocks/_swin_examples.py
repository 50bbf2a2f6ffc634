"""A tiny Swin Transformer written the way the official code and the timm zoo write it, for the
Swin patterns' examples and tests. Reference code, not generated code: the generated file must
match it. `late_merge=True` is the official layout (each stage's `downsample` after its blocks,
`head` a Linear); False is timm's current one (`downsample` before the blocks, `head.fc`)."""

from __future__ import annotations

GELU = {"hidden_act": "gelu"}  # the MLP's activation: not in the weights, a config says it


def transformers_layout(positions: int = 0, in_memory: bool = False):
    """Example: transformers' SwinForImageClassification as save_pretrained writes it, or (in_memory)
    as transformers 5 holds it (`attention.q_proj`, `attention.relative_position_bias.*`, `mlp`)."""
    import torch

    from codegen.patterns._kit import Example

    torch.manual_seed(0)
    hf = "memory" if in_memory else True
    model = modules()["SwinClassifier"](positions=positions, hf=hf).eval()
    return Example(model, (torch.randn(2, 3, 32, 32),), {"model_type": "swin", **GELU})


def official_layout(late_merge: bool):
    """Example: the official code's (late_merge) or timm's Swin, without the patch norm, on
    30 x 34 pixels (padded patches and windows)."""
    import torch

    from codegen.patterns._kit import Example

    torch.manual_seed(0)
    model = modules()["SwinTransformer"](late_merge=late_merge, patch_norm=False).eval()
    return Example(model, (torch.randn(2, 3, 30, 34),), GELU)


def modules():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    def partition(x, w):  # [B, H, W, C] -> [B * windows, w * w, C]
        b, h, wd, c = x.shape
        x = x.view(b, h // w, w, wd // w, w, c).permute(0, 1, 3, 2, 4, 5)
        return x.reshape(-1, w * w, c)

    def reverse(windows, w, h, wd):
        c = windows.shape[-1]
        x = windows.view(-1, h // w, wd // w, w, w, c).permute(0, 1, 3, 2, 4, 5)
        return x.reshape(-1, h, wd, c)

    class WindowAttention(nn.Module):
        def __init__(self, dim: int, heads: int, window: int, persistent: bool = True) -> None:
            super().__init__()
            self.heads, self.window = heads, window
            self.scale = (dim // heads) ** -0.5
            self.relative_position_bias_table = nn.Parameter(
                torch.randn((2 * window - 1) ** 2, heads)
            )
            coords = torch.stack(
                torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")
            ).flatten(1)
            rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (window - 1)
            index = rel[:, :, 0] * (2 * window - 1) + rel[:, :, 1]
            self.register_buffer("relative_position_index", index, persistent=persistent)
            self.qkv = nn.Linear(dim, 3 * dim)
            self.proj = nn.Linear(dim, dim)

        def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
            b, n, c = x.shape
            qkv = self.qkv(x).reshape(b, n, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            attn = (q * self.scale) @ k.transpose(-2, -1)
            bias = self.relative_position_bias_table[self.relative_position_index.view(-1)]
            attn = attn + bias.view(n, n, -1).permute(2, 0, 1).unsqueeze(0)
            if mask is not None:
                nw = mask.shape[0]
                attn = attn.view(b // nw, nw, self.heads, n, n) + mask[None, :, None]
                attn = attn.view(-1, self.heads, n, n)
            y = (attn.softmax(dim=-1) @ v).transpose(1, 2).reshape(b, n, c)
            return self.proj(y)

    class SelfAttention(WindowAttention):  # transformers' layout: `attention.self`, no projection
        def __init__(self, dim: int, heads: int, window: int, persistent: bool = True) -> None:
            super().__init__(dim, heads, window, persistent)
            del self.qkv, self.proj
            self.query, self.key, self.value = (nn.Linear(dim, dim) for _ in range(3))
            self.qkv = lambda x: torch.cat([self.query(x), self.key(x), self.value(x)], -1)
            self.proj = nn.Identity()

    class PositionBias(nn.Module):  # transformers 5 in memory: the table in a class of its own
        pass

    class MemoryAttention(WindowAttention):  # ... and q_proj, k_proj, v_proj, o_proj
        def __init__(self, dim: int, heads: int, window: int) -> None:
            super().__init__(dim, heads, window, persistent=False)
            del self.qkv, self.proj
            self.q_proj, self.k_proj, self.v_proj = (nn.Linear(dim, dim) for _ in range(3))
            self.o_proj = nn.Linear(dim, dim)
            self.qkv = lambda x: torch.cat([self.q_proj(x), self.k_proj(x), self.v_proj(x)], -1)
            object.__setattr__(self, "proj", self.o_proj)
            table = self._parameters.pop("relative_position_bias_table")
            self.relative_position_bias = PositionBias()
            self.relative_position_bias.relative_position_bias_table = table
            object.__setattr__(self, "relative_position_bias_table", table)

    class Dense(nn.Module):  # transformers' `output` / `intermediate`: one Linear
        def __init__(self, d_in: int, d_out: int, act=None) -> None:
            super().__init__()
            self.dense, self.act = nn.Linear(d_in, d_out), act

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.dense(x) if self.act is None else self.act(self.dense(x))

    class Attention(nn.Module):  # transformers' `attention`: `self` and `output.dense`
        def __init__(self, dim: int, heads: int, window: int) -> None:
            super().__init__()
            self.self = SelfAttention(dim, heads, window, persistent=False)
            self.output = Dense(dim, dim)

        def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
            return self.output(self.self(x, mask))

    class Mlp(nn.Module):
        def __init__(self, dim: int) -> None:
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc2(F.gelu(self.fc1(x)))

    class SwinBlock(nn.Module):
        def __init__(self, dim, heads, window, shift, persistent=True, hf=False):
            super().__init__()
            self.window, self.shift = window, shift
            if hf == "memory":  # transformers 5's modules as they are in memory
                self.layernorm_before = nn.LayerNorm(dim)
                self.attention = MemoryAttention(dim, heads, window)
                self.layernorm_after = nn.LayerNorm(dim)
                self.mlp = Mlp(dim)
                object.__setattr__(self, "norm1", self.layernorm_before)
                object.__setattr__(self, "attn", self.attention)
                object.__setattr__(self, "norm2", self.layernorm_after)
                return
            if hf:  # transformers' names as saved, the feed-forward split in two classes
                self.layernorm_before = self.norm1 = nn.LayerNorm(dim)
                self.attention = self.attn = Attention(dim, heads, window)
                self.layernorm_after = self.norm2 = nn.LayerNorm(dim)
                self.intermediate = Dense(dim, 4 * dim, F.gelu)
                self.output = Dense(4 * dim, dim)
                self.mlp = nn.Sequential(self.intermediate, self.output)
                for alias in ("norm1", "attn", "norm2", "mlp"):  # the same modules, not saved
                    object.__setattr__(self, alias, self._modules.pop(alias))
                return
            self.norm1 = nn.LayerNorm(dim)
            self.attn = WindowAttention(dim, heads, window, persistent)
            self.norm2 = nn.LayerNorm(dim)
            self.mlp = Mlp(dim)

        def mask(self, h: int, w: int) -> torch.Tensor | None:
            if self.shift == 0:
                return None
            img = torch.zeros(1, h, w, 1)
            cuts = (
                slice(0, -self.window),
                slice(-self.window, -self.shift),
                slice(-self.shift, None),
            )
            region = 0
            for hs in cuts:
                for ws in cuts:
                    img[:, hs, ws, :] = region
                    region += 1
            windows = partition(img, self.window).squeeze(-1)
            diff = windows.unsqueeze(1) - windows.unsqueeze(2)
            return diff.masked_fill(diff != 0, -100.0)

        def forward(self, x: torch.Tensor, index: int = 0) -> torch.Tensor:  # [B, H, W, C]
            b, h, w, c = x.shape  # `index` (the place in the stage): the shift is fixed here
            window, shift = self.window, self.shift
            if min(h, w) <= window:
                window, shift = min(h, w), 0
            y = self.norm1(x)
            pad_h, pad_w = (window - h % window) % window, (window - w % window) % window
            y = F.pad(y, (0, 0, 0, pad_w, 0, pad_h))
            hp, wp = h + pad_h, w + pad_w
            if shift:
                y = torch.roll(y, (-shift, -shift), (1, 2))
            saved = self.window, self.shift
            self.window, self.shift = window, shift
            mask = self.mask(hp, wp)
            self.window, self.shift = saved
            y = reverse(self.attn(partition(y, window), mask), window, hp, wp)
            if shift:
                y = torch.roll(y, (shift, shift), (1, 2))
            x = x + y[:, :h, :w, :]
            return x + self.mlp(self.norm2(x))

    class PatchMerging(nn.Module):
        def __init__(self, dim: int) -> None:
            super().__init__()
            self.norm = nn.LayerNorm(4 * dim)
            self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, H, W, C]
            x = F.pad(x, (0, 0, 0, x.shape[2] % 2, 0, x.shape[1] % 2))
            x0, x1 = x[:, 0::2, 0::2], x[:, 1::2, 0::2]
            x2, x3 = x[:, 0::2, 1::2], x[:, 1::2, 1::2]
            return self.reduction(self.norm(torch.cat([x0, x1, x2, x3], -1)))

    class Stage(nn.Module):
        def __init__(
            self, dim, depth, heads, window, merge_in, late_merge, persistent=True, hf=False
        ):
            super().__init__()
            self.late_merge = late_merge
            if merge_in and not late_merge:
                self.downsample = PatchMerging(merge_in)
            self.blocks = nn.ModuleList(
                SwinBlock(dim, heads, window, 0 if i % 2 == 0 else window // 2, persistent, hf)
                for i in range(depth)
            )
            if merge_in and late_merge:
                self.downsample = PatchMerging(dim)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if hasattr(self, "downsample") and not self.late_merge:
                x = self.downsample(x)
            for block in self.blocks:
                x = block(x)
            if hasattr(self, "downsample") and self.late_merge:
                x = self.downsample(x)
            return x

    class PatchEmbed(nn.Module):
        def __init__(self, patch: int, dim: int, norm: bool = True) -> None:
            super().__init__()
            self.patch = patch
            self.proj = nn.Conv2d(3, dim, patch, patch)
            self.norm = nn.LayerNorm(dim) if norm else nn.Identity()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            pad_h, pad_w = -x.shape[2] % self.patch, -x.shape[3] % self.patch
            x = self.proj(F.pad(x, (0, pad_w, 0, pad_h)))
            return self.norm(x.permute(0, 2, 3, 1))

    class Head(nn.Module):
        def __init__(self, dim: int, classes: int) -> None:
            super().__init__()
            self.fc = nn.Linear(dim, classes)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc(x)

    class SwinTransformer(nn.Module):
        def __init__(
            self,
            dim: int = 16,
            depths=(2, 2),
            heads=(2, 4),
            window: int = 4,
            patch: int = 2,
            classes: int = 5,
            late_merge: bool = True,
            persistent: bool = True,
            patch_norm: bool = True,
        ) -> None:
            super().__init__()
            self.patch_embed = PatchEmbed(patch, dim, patch_norm)
            stages = []
            for i, (depth, h) in enumerate(zip(depths, heads)):
                width = dim * 2**i
                if late_merge:
                    merge = width if i < len(depths) - 1 else 0
                    stages.append(Stage(width, depth, h, window, merge, True, persistent))
                else:
                    merge = width // 2 if i > 0 else 0
                    stages.append(Stage(width, depth, h, window, merge, False, persistent))
            self.layers = nn.Sequential(*stages)
            self.norm = nn.LayerNorm(dim * 2 ** (len(depths) - 1))
            self.head = nn.Linear(self.norm.normalized_shape[0], classes)
            if not late_merge:
                self.head = Head(self.norm.normalized_shape[0], classes)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = self.norm(self.layers(self.patch_embed(x)))
            return self.head(x.mean(dim=(1, 2)))

    class PatchEmbeddings(nn.Module):  # transformers' `embeddings.patch_embeddings`
        def __init__(self, patch: int, dim: int) -> None:
            super().__init__()
            self.projection = nn.Conv2d(3, dim, patch, patch)

    class Embeddings(nn.Module):  # transformers' `embeddings`
        def __init__(self, patch: int, dim: int, positions: int = 0) -> None:
            super().__init__()
            self.patch = patch
            self.patch_embeddings = PatchEmbeddings(patch, dim)
            self.norm = nn.LayerNorm(dim)
            if positions:
                self.position_embeddings = nn.Parameter(torch.randn(1, positions, dim))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            pad_h, pad_w = -x.shape[2] % self.patch, -x.shape[3] % self.patch
            x = self.patch_embeddings.projection(F.pad(x, (0, pad_w, 0, pad_h)))
            x = self.norm(x.permute(0, 2, 3, 1))
            if hasattr(self, "position_embeddings"):
                x = x + self.position_embeddings.view(1, x.shape[1], x.shape[2], -1)
            return x

    class Encoder(nn.Module):  # transformers' `encoder`: the stages
        def __init__(self, stages) -> None:
            super().__init__()
            self.layers = nn.ModuleList(stages)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            for stage in self.layers:
                x = stage(x)
            return x

    class SwinModel(nn.Module):  # transformers' layout as save_pretrained writes it
        def __init__(
            self, dim=16, depths=(2, 2), heads=(2, 4), window=4, patch=2, positions=0, hf=True
        ):
            super().__init__()
            self.embeddings = Embeddings(patch, dim, positions)
            stages = [
                Stage(
                    dim * 2**i,
                    d,
                    h,
                    window,
                    dim * 2**i if i < len(depths) - 1 else 0,
                    True,
                    hf=hf,
                )
                for i, (d, h) in enumerate(zip(depths, heads))
            ]
            self.encoder = Encoder(stages)
            self.layernorm = nn.LayerNorm(dim * 2 ** (len(depths) - 1))

        def forward(self, x: torch.Tensor) -> torch.Tensor:  # [batch, tokens, channels]
            return self.layernorm(self.encoder(self.embeddings(x))).flatten(1, 2)

    class SwinClassifier(nn.Module):
        def __init__(self, classes: int = 5, **kw) -> None:
            super().__init__()
            self.swin = SwinModel(**kw)
            self.classifier = nn.Linear(self.swin.layernorm.normalized_shape[0], classes)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.classifier(self.swin(x).mean(1))

    return {
        "SwinModel": SwinModel,
        "SwinClassifier": SwinClassifier,
        "WindowAttention": WindowAttention,
        "SwinBlock": SwinBlock,
        "PatchMerging": PatchMerging,
        "SwinTransformer": SwinTransformer,
    }


def focalnet_layout():
    """Example: a tiny FocalNet as microsoft/FocalNet writes it (tokens between the stages, each
    stage's patch embedding after its blocks, padding a map whose size the patch does not divide),
    under other names and widths: two stages, two focal levels (kernels 3, 5)."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    from codegen.patterns._kit import Example

    class Modulation(nn.Module):
        def __init__(self, dim: int, levels: int = 2) -> None:
            super().__init__()
            self.levels = levels
            self.to_qcg = nn.Linear(dim, 2 * dim + levels + 1)
            self.mix = nn.Conv2d(dim, dim, 1)
            self.proj = nn.Linear(dim, dim)
            self.focal = nn.ModuleList(
                nn.Sequential(nn.Conv2d(dim, dim, 3 + 2 * k, 1, 1 + k, groups=dim), nn.GELU())
                for k in range(levels)
            )

        def forward(self, x):
            c = x.shape[-1]
            q, ctx, gates = torch.split(
                self.to_qcg(x).permute(0, 3, 1, 2), (c, c, self.levels + 1), 1
            )
            total = 0
            for level in range(self.levels):
                ctx = self.focal[level](ctx)
                total = total + ctx * gates[:, level : level + 1]
            glob = F.gelu(ctx.mean(2, keepdim=True).mean(3, keepdim=True))
            total = total + glob * gates[:, self.levels :]
            return self.proj((q * self.mix(total)).permute(0, 2, 3, 1))

    class Feed(nn.Module):
        def __init__(self, dim: int) -> None:
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(dim, 3 * dim), nn.Linear(3 * dim, dim)

        def forward(self, x):
            return self.fc2(F.gelu(self.fc1(x)))

    class Unit(nn.Module):  # FocalNetBlock: tokens [batch, h * w, C], the map's size set on it
        def __init__(self, dim: int) -> None:
            super().__init__()
            self.ln1, self.mixer = nn.LayerNorm(dim), Modulation(dim)
            self.ln2, self.ffn = nn.LayerNorm(dim), Feed(dim)
            self.size = (0, 0)

        def forward(self, x):
            b, n, c = x.shape
            x = x + self.mixer(self.ln1(x).view(b, *self.size, c)).view(b, n, c)
            return x + self.ffn(self.ln2(x))

    class Patches(nn.Module):  # PatchEmbed: pads to the patch, conv, tokens, LayerNorm
        def __init__(self, p: int, c_in: int, c_out: int) -> None:
            super().__init__()
            self.p = p
            self.proj, self.norm = nn.Conv2d(c_in, c_out, p, p), nn.LayerNorm(c_out)

        def forward(self, x):
            h, w = x.shape[2:]
            x = F.pad(x, (0, (-w) % self.p, 0, (-h) % self.p))
            x = self.proj(x)
            size = x.shape[2:]
            return self.norm(x.flatten(2).transpose(1, 2)), size

    class Level(nn.Module):  # BasicLayer
        def __init__(self, dim: int, depth: int, out: int | None) -> None:
            super().__init__()
            self.units = nn.ModuleList(Unit(dim) for _ in range(depth))
            self.shrink = Patches(2, dim, out) if out else None

        def forward(self, x, size):
            for unit in self.units:
                unit.size = tuple(size)
                x = unit(x)
            if self.shrink is not None:
                x, size = self.shrink(x.transpose(1, 2).reshape(x.shape[0], -1, *size))
            return x, size

    class FocalNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.patch_embed = Patches(4, 3, 8)
            self.layers = nn.ModuleList([Level(8, 1, 16), Level(16, 2, None)])
            self.norm = nn.LayerNorm(16)
            self.head = nn.Linear(16, 4)

        def forward(self, x):
            x, size = self.patch_embed(x)
            for layer in self.layers:
                x, size = layer(x, size)
            return self.head(self.norm(x).mean(1))

    torch.manual_seed(0)
    return Example(FocalNet().eval(), (torch.randn(2, 3, 28, 36),))
