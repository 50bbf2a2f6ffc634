"""Tiny reference blocks written the way the well-known vision zoos write them (torchvision's
MobileNetV2 InvertedResidual with Conv2dNormActivation, the official ConvNeXt Block), for the
vision patterns' examples. Reference code, not generated code: the generated file must match it."""

from __future__ import annotations


def modules():
    import torch
    import torch.nn as nn

    class Conv2dNormActivation(nn.Sequential):  # torchvision.ops.misc
        def __init__(self, c_in, c_out, k=3, stride=1, groups=1, act=nn.ReLU6) -> None:
            layers = [
                nn.Conv2d(c_in, c_out, k, stride, (k - 1) // 2, groups=groups, bias=False),
                nn.BatchNorm2d(c_out),
            ]
            if act is not None:
                layers.append(act(inplace=True))
            super().__init__(*layers)

    class InvertedResidual(nn.Module):  # torchvision.models.mobilenetv2
        def __init__(self, c_in: int, c_out: int, expand_ratio: int, stride: int = 1) -> None:
            super().__init__()
            hidden = c_in * expand_ratio
            self.use_res_connect = stride == 1 and c_in == c_out
            layers: list[nn.Module] = []
            if expand_ratio != 1:
                layers.append(Conv2dNormActivation(c_in, hidden, k=1))
            layers += [
                Conv2dNormActivation(hidden, hidden, stride=stride, groups=hidden),
                nn.Conv2d(hidden, c_out, 1, 1, 0, bias=False),
                nn.BatchNorm2d(c_out),
            ]
            self.conv = nn.Sequential(*layers)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + self.conv(x) if self.use_res_connect else self.conv(x)

    class ConvNeXtBlock(nn.Module):  # the official ConvNeXt (facebookresearch), channels-last MLP
        def __init__(self, dim: int, layer_scale: float = 0.5) -> None:
            super().__init__()
            self.dwconv = nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim)
            self.norm = nn.LayerNorm(dim, eps=1e-6)
            self.pwconv1 = nn.Linear(dim, 4 * dim)
            self.act = nn.GELU()
            self.pwconv2 = nn.Linear(4 * dim, dim)
            self.gamma = nn.Parameter(layer_scale * torch.randn(dim))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            shortcut = x
            x = self.dwconv(x).permute(0, 2, 3, 1)  # (N, C, H, W) -> (N, H, W, C)
            x = self.pwconv2(self.act(self.pwconv1(self.norm(x))))
            x = self.gamma * x
            return shortcut + x.permute(0, 3, 1, 2)

    class Holder(nn.Module):  # a generated class is a member of the top one
        def __init__(self, inner: nn.Module) -> None:
            super().__init__()
            self.block = inner

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.block(x)

    class ConvLayer(nn.Module):  # transformers' ResNetConvLayer
        def __init__(self, c_in: int, c_out: int, k: int = 3, stride: int = 1, act=True) -> None:
            super().__init__()
            self.convolution = nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False)
            self.normalization = nn.BatchNorm2d(c_out)
            self.activation = nn.ReLU() if act else nn.Identity()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.activation(self.normalization(self.convolution(x)))

    class ShortCut(nn.Module):  # transformers' ResNetShortCut
        def __init__(self, c_in: int, c_out: int, stride: int) -> None:
            super().__init__()
            self.convolution = nn.Conv2d(c_in, c_out, 1, stride, bias=False)
            self.normalization = nn.BatchNorm2d(c_out)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.normalization(self.convolution(x))

    class ResidualLayer(nn.Module):  # transformers' ResNetBasicLayer / ResNetBottleNeckLayer
        def __init__(self, kind: str, c_in: int, c_out: int, stride: int) -> None:
            super().__init__()
            project = c_in != c_out or stride != 1
            self.shortcut = ShortCut(c_in, c_out, stride) if project else nn.Identity()
            if kind == "basic":
                units = [ConvLayer(c_in, c_out, stride=stride), ConvLayer(c_out, c_out, act=False)]
            else:
                r = c_out // 4
                units = [
                    ConvLayer(c_in, r, k=1),
                    ConvLayer(r, r, stride=stride),
                    ConvLayer(r, c_out, k=1, act=False),
                ]
            self.layer = nn.Sequential(*units)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.relu(self.layer(x) + self.shortcut(x))

    class Layers(nn.Module):  # transformers' ResNetStage: a Sequential of layers
        def __init__(self, *layers: nn.Module) -> None:
            super().__init__()
            self.layers = nn.Sequential(*layers)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.layers(x)

    class Fire(nn.Module):  # torchvision.models.squeezenet
        def __init__(self, c_in: int, squeeze: int, e1: int, e3: int) -> None:
            super().__init__()
            self.squeeze = nn.Conv2d(c_in, squeeze, 1)
            self.expand1x1 = nn.Conv2d(squeeze, e1, 1)
            self.expand3x3 = nn.Conv2d(squeeze, e3, 3, padding=1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = torch.relu(self.squeeze(x))
            return torch.cat([torch.relu(self.expand1x1(x)), torch.relu(self.expand3x3(x))], 1)

    class BasicConv2d(nn.Module):  # torchvision.models.inception
        def __init__(self, c_in: int, c_out: int, k: int) -> None:
            super().__init__()
            self.conv = nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False)
            self.bn = nn.BatchNorm2d(c_out)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.relu(self.bn(self.conv(x)))

    class InceptionA(nn.Module):  # torchvision.models.inception.InceptionA, narrowed
        def __init__(self, c: int) -> None:
            super().__init__()
            self.branch1x1 = BasicConv2d(c, 4, 1)
            self.branch5x5_1 = BasicConv2d(c, 3, 1)
            self.branch5x5_2 = BasicConv2d(3, 4, 5)
            self.branch3x3dbl_1 = BasicConv2d(c, 4, 1)
            self.branch3x3dbl_2 = BasicConv2d(4, 6, 3)
            self.branch_pool = BasicConv2d(c, 2, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            b1 = self.branch1x1(x)
            b5 = self.branch5x5_2(self.branch5x5_1(x))
            b3 = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
            bp = self.branch_pool(torch.nn.functional.avg_pool2d(x, 3, stride=1, padding=1))
            return torch.cat([b1, b5, b3, bp], 1)

    def fire(c_in: int, squeeze: int, e1: int, e3: int):
        torch.manual_seed(0)
        return Fire(c_in, squeeze, e1, e3)

    def inception(c: int):
        torch.manual_seed(0)
        block = InceptionA(c)
        _randomise_norms(block)
        return block

    def hf_residual_stage(kind: str, c_in: int, c_out: int, stride: int):
        torch.manual_seed(0)
        stage = Layers(
            ResidualLayer(kind, c_in, c_out, stride), ResidualLayer(kind, c_out, c_out, 1)
        )
        _randomise_norms(stage)
        return stage

    def torchvision_inverted_residual(c_in: int, c_out: int, expand_ratio: int):
        torch.manual_seed(0)
        block = InvertedResidual(c_in, c_out, expand_ratio)
        _randomise_norms(block)
        return Holder(block)

    def convnext_block(dim: int):
        torch.manual_seed(0)
        return Holder(ConvNeXtBlock(dim))

    return dict(
        conv_norm_act=Conv2dNormActivation,
        inverted_residual=InvertedResidual,
        convnext=ConvNeXtBlock,
        torchvision_inverted_residual=torchvision_inverted_residual,
        convnext_block=convnext_block,
        hf_residual_stage=hf_residual_stage,
        fire=fire,
        inception=inception,
        holder=Holder,
    )


def _randomise_norms(module) -> None:
    """Running statistics away from 0/1, so a wrong use of a norm shows in the outputs."""
    import torch

    with torch.no_grad():
        for name, buf in module.named_buffers():
            if name.endswith("running_mean"):
                buf.normal_(0, 0.2)
            elif name.endswith("running_var"):
                buf.uniform_(0.5, 1.5)
