"""Tiny super-resolution and restoration nets written the way the common repositories write them
(ESRGAN's RRDBNet with ResidualDenseBlock_5C, an EDSR/ESPCN pixel-shuffle upsampler, DnCNN's
global residual, RDN's dense layers, blocks and network, CARN's residual and fusion blocks, IMDN's
distillation block), for the patterns' examples and tests. Reference code, not generated code.
"""

from __future__ import annotations


def modules():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class ResidualDenseBlock_5C(nn.Module):  # ESRGAN (xinntao), RRDBNet_arch.py
        def __init__(self, nf: int = 64, gc: int = 32) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(nf, gc, 3, 1, 1)
            self.conv2 = nn.Conv2d(nf + gc, gc, 3, 1, 1)
            self.conv3 = nn.Conv2d(nf + 2 * gc, gc, 3, 1, 1)
            self.conv4 = nn.Conv2d(nf + 3 * gc, gc, 3, 1, 1)
            self.conv5 = nn.Conv2d(nf + 4 * gc, nf, 3, 1, 1)
            self.lrelu = nn.LeakyReLU(negative_slope=0.2, inplace=True)

        def forward(self, x):
            x1 = self.lrelu(self.conv1(x))
            x2 = self.lrelu(self.conv2(torch.cat((x, x1), 1)))
            x3 = self.lrelu(self.conv3(torch.cat((x, x1, x2), 1)))
            x4 = self.lrelu(self.conv4(torch.cat((x, x1, x2, x3), 1)))
            x5 = self.conv5(torch.cat((x, x1, x2, x3, x4), 1))
            return x5 * 0.2 + x

    class RRDB(nn.Module):
        def __init__(self, nf: int, gc: int = 32) -> None:
            super().__init__()
            self.RDB1 = ResidualDenseBlock_5C(nf, gc)
            self.RDB2 = ResidualDenseBlock_5C(nf, gc)
            self.RDB3 = ResidualDenseBlock_5C(nf, gc)

        def forward(self, x):
            out = self.RDB3(self.RDB2(self.RDB1(x)))
            return out * 0.2 + x

    class RRDBNet(nn.Module):
        def __init__(self, in_nc: int = 3, out_nc: int = 3, nf: int = 8, nb: int = 2, gc: int = 4):
            super().__init__()
            self.conv_first = nn.Conv2d(in_nc, nf, 3, 1, 1, bias=True)
            self.RRDB_trunk = nn.Sequential(*[RRDB(nf, gc) for _ in range(nb)])
            self.trunk_conv = nn.Conv2d(nf, nf, 3, 1, 1, bias=True)
            self.upconv1 = nn.Conv2d(nf, nf, 3, 1, 1, bias=True)
            self.upconv2 = nn.Conv2d(nf, nf, 3, 1, 1, bias=True)
            self.HRconv = nn.Conv2d(nf, nf, 3, 1, 1, bias=True)
            self.conv_last = nn.Conv2d(nf, out_nc, 3, 1, 1, bias=True)
            self.lrelu = nn.LeakyReLU(negative_slope=0.2, inplace=True)

        def forward(self, x):
            fea = self.conv_first(x)
            trunk = self.trunk_conv(self.RRDB_trunk(fea))
            fea = fea + trunk
            fea = self.lrelu(self.upconv1(F.interpolate(fea, scale_factor=2, mode="nearest")))
            fea = self.lrelu(self.upconv2(F.interpolate(fea, scale_factor=2, mode="nearest")))
            return self.conv_last(self.lrelu(self.HRconv(fea)))

    class PixelShuffleSR(nn.Module):  # ESPCN / EDSR-style tail: conv to 4x channels, shuffle
        def __init__(self, c: int = 3, nf: int = 8) -> None:
            super().__init__()
            self.conv_first = nn.Conv2d(c, nf, 3, 1, 1)
            self.body = nn.Sequential(
                nn.Conv2d(nf, nf, 3, 1, 1), nn.ReLU(), nn.Conv2d(nf, nf, 3, 1, 1)
            )
            self.upconv = nn.Conv2d(nf, 4 * nf, 3, 1, 1)
            self.conv_last = nn.Conv2d(nf, c, 3, 1, 1)

        def forward(self, x):
            fea = self.conv_first(x)
            fea = fea + self.body(fea)
            fea = F.pixel_shuffle(self.upconv(fea), 2)
            return self.conv_last(fea)

    class DnCNN(nn.Module):  # KAIR's DnCNN: the net predicts the noise, the image is x - noise
        def __init__(self, c: int = 1, nf: int = 8, depth: int = 5) -> None:
            super().__init__()
            layers = [nn.Conv2d(c, nf, 3, padding=1), nn.ReLU(inplace=True)]
            for _ in range(depth - 2):
                layers += [nn.Conv2d(nf, nf, 3, padding=1, bias=False), nn.BatchNorm2d(nf)]
                layers += [nn.ReLU(inplace=True)]
            layers.append(nn.Conv2d(nf, c, 3, padding=1, bias=False))
            self.model = nn.Sequential(*layers)

        def forward(self, x):
            return x - self.model(x)

    class SRVGGNetCompact(nn.Module):  # Real-ESRGAN, srvgg_arch.py: PReLUs, residual added
        def __init__(self, c: int = 3, nf: int = 8, n: int = 2, r: int = 2) -> None:
            super().__init__()
            self.r = r
            self.body = nn.ModuleList([nn.Conv2d(c, nf, 3, 1, 1), nn.PReLU(num_parameters=nf)])
            for _ in range(n):
                self.body.extend([nn.Conv2d(nf, nf, 3, 1, 1), nn.PReLU(num_parameters=nf)])
            self.body.append(nn.Conv2d(nf, c * r * r, 3, 1, 1))

        def forward(self, x):
            out = x
            for layer in self.body:
                out = layer(out)
            out = F.pixel_shuffle(out, self.r)
            return out + F.interpolate(x, scale_factor=self.r, mode="nearest")

    class EspcnLike(nn.Module):  # yjn870's ESPCN layout: two Sequentials, the shuffle last
        def __init__(self, c: int = 1, r: int = 2) -> None:
            super().__init__()
            self.first_part = nn.Sequential(
                nn.Conv2d(c, 16, 5, padding=2), nn.ReLU(), nn.Conv2d(16, 8, 3, padding=1)
            )
            self.last_part = nn.Sequential(
                nn.Conv2d(8, c * r * r, 3, padding=1), nn.PixelShuffle(r)
            )

        def forward(self, x):
            return self.last_part(self.first_part(x))

    class DenseLayer(nn.Module):  # yjn870/RDN-pytorch: concatenates inside itself
        def __init__(self, c_in: int, growth: int) -> None:
            super().__init__()
            self.conv = nn.Conv2d(c_in, growth, 3, padding=1)

        def forward(self, x):
            return torch.cat([x, F.relu(self.conv(x))], 1)

    class RDB(nn.Module):  # RDN-pytorch's residual dense block
        def __init__(self, width: int, growth: int, depth: int) -> None:
            super().__init__()
            self.layers = nn.Sequential(
                *[DenseLayer(width + growth * i, growth) for i in range(depth)]
            )
            self.lff = nn.Conv2d(width + growth * depth, width, 1)

        def forward(self, x):
            return x + self.lff(self.layers(x))

    class RDN(nn.Module):  # RDN-pytorch's layout at x3, three blocks, a grayscale image
        def __init__(self, width: int = 6, blocks: int = 3) -> None:
            super().__init__()
            self.sfe1 = nn.Conv2d(1, width, 3, padding=1)
            self.sfe2 = nn.Conv2d(width, width, 3, padding=1)
            self.rdbs = nn.ModuleList([RDB(width, 4, 2) for _ in range(blocks)])
            self.gff = nn.Sequential(
                nn.Conv2d(width * blocks, width, 1), nn.Conv2d(width, width, 3, padding=1)
            )
            self.upscale = nn.Sequential(
                nn.Conv2d(width, width * 9, 3, padding=1), nn.PixelShuffle(3)
            )
            self.output = nn.Conv2d(width, 1, 3, padding=1)

        def forward(self, x):
            shallow = self.sfe1(x)
            x = self.sfe2(shallow)
            features = []
            for block in self.rdbs:
                x = block(x)
                features.append(x)
            x = self.gff(torch.cat(features, 1)) + shallow
            return self.output(self.upscale(x))

    class Holder(nn.Module):
        def __init__(self, inner: nn.Module) -> None:
            super().__init__()
            self.block = inner

        def forward(self, x):
            return self.block(x)

    class CarnResidual(nn.Module):  # CARN ops.ResidualBlock
        def __init__(self, c: int) -> None:
            super().__init__()
            self.body = nn.Sequential(
                nn.Conv2d(c, c, 3, 1, 1), nn.ReLU(inplace=True), nn.Conv2d(c, c, 3, 1, 1)
            )

        def forward(self, x):
            return F.relu(self.body(x) + x)

    class CarnFuse(nn.Module):  # CARN ops.BasicBlock, 1x1
        def __init__(self, c_in: int, c_out: int) -> None:
            super().__init__()
            self.body = nn.Sequential(nn.Conv2d(c_in, c_out, 1), nn.ReLU(inplace=True))

        def forward(self, x):
            return self.body(x)

    class Distill(nn.Module):  # IMDN's IMDModule: two refining steps, no attention
        def __init__(self, c: int = 8, d: int = 2, prefix: str = "c") -> None:
            super().__init__()
            self.d, self.r, self.names = d, c - d, [f"{prefix}{i}" for i in range(1, 5)]
            self.add_module(self.names[0], nn.Conv2d(c, c, 3, padding=1))
            self.add_module(self.names[1], nn.Conv2d(c - d, c, 3, padding=1))
            self.add_module(self.names[2], nn.Conv2d(c - d, d, 3, padding=1))
            self.add_module(self.names[3], nn.Conv2d(3 * d, c, 1))

        def forward(self, x):
            c1, c2, c3, c4 = (getattr(self, n) for n in self.names)
            d1, r1 = torch.split(F.leaky_relu(c1(x), 0.05), (self.d, self.r), dim=1)
            d2, r2 = torch.split(F.leaky_relu(c2(r1), 0.05), (self.d, self.r), dim=1)
            return c4(torch.cat([d1, d2, c3(r2)], dim=1)) + x

    def built(module):
        torch.manual_seed(0)
        with torch.no_grad():
            for name, buf in module.named_buffers():
                if name.endswith("running_mean"):
                    buf.normal_(0, 0.2)
                elif name.endswith("running_var"):
                    buf.uniform_(0.5, 1.5)
        return module.eval()

    def image(c: int, size: int = 8):
        torch.manual_seed(1)
        return (torch.randn(2, c, size, size),)

    return dict(
        rdb=lambda nf, gc: built(ResidualDenseBlock_5C(nf, gc)),
        rrdb=lambda nf, gc: built(RRDB(nf, gc)),
        rrdbnet=lambda: built(RRDBNet()),
        pixel_shuffle=lambda: built(PixelShuffleSR()),
        dncnn=lambda: built(DnCNN()),
        compact=lambda: built(SRVGGNetCompact()),
        espcn=lambda: built(EspcnLike()),
        dense_layers=lambda c, g, n: built(
            nn.Sequential(*[DenseLayer(c + g * i, g) for i in range(n)])
        ),
        rdbs=lambda c, g, n, blocks: built(nn.Sequential(*[RDB(c, g, n) for _ in range(blocks)])),
        rdn=lambda: built(RDN()),
        holder=Holder,
        carn_residual=CarnResidual,
        carn_fuse=CarnFuse,
        distill=Distill,
        image=image,
    )
