"""Two readings of zoo 18's restoration and segmentation rows (issue 16, session 19), each on
layouts other repositories write, generated from their state dicts alone.

A D-entry weight vector beside an embedding, ONE width-keeping layer and a reconstruction proves a
deeply-recursive net (families/deeply_recursive.py: DRCN, Kim et al. 2016): the shared layer runs
D times and each step's reconstruction is weighted. Zoo 18's `drcn` is one layout; here:
- a flat port: bare convs named otherwise (`embed`, `recursive_conv`, `reconstruct`, `weights`);
- a color one whose recursive layer is a Sequential of two convs (an inner ReLU slot) and whose
  embedding is one conv: other nesting;
- a variant whose predictions are softmax-weighted and carry no input skip: flagged from the
  keys, exact once the two choices are pinned, as calibration would.

Pooled branches resized and concatenated with their input (blocks/pooled_pyramid.py: PSPNet's
pyramid pooling), proved by the consumer's width (C + k * r): zoo 18's `semseg_pspnet` is one;
- hszhao/semseg's PPM between a strided stem and a `cls` head, the class map resized back;
- structurally distant: the pyramid nested two levels down in a decoder, three branches of
  biased convs with no norm (so no activation), consumed by a 3x3 conv beside it;
- Lextal/pspnet-pytorch's PSPModule: its bottleneck inside, the priors before the input, corners
  not aligned: flagged, exact once pinned.

Numbered norms after conv-named classes (chain.py's conv_like): an affine instance-norm encoder, a
mirrored net whose `bn3` follows `deconv1`, a 1-d stack of ConvNorm wrappers.

A tail whose first conv reads (N + 1) times the width over N blocks fuses every block's output
with the head's (families/mean_shift_super_resolution.py, MSRN): over EDSR's ResBlocks; over bare
Sequentials (x3, no conv after the fusion); the head's output first: flagged, exact once pinned.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.generative_zoo_check import flagged_then_exact
from tests.zoo_verdicts import generate_from_state_dict, layout_reference, measured
from tests.zoo_verdicts import measured_layout

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")

# ------------------------------------------------------------------ deeply-recursive nets


class FlatDRCN(nn.Module):  # one conv per part, other names
    def __init__(self, channels: int = 1, width: int = 8, depth: int = 5) -> None:
        super().__init__()
        self.depth = depth
        self.embed = nn.Conv2d(channels, width, 3, padding=1)
        self.recursive_conv = nn.Conv2d(width, width, 3, padding=1)
        self.reconstruct = nn.Conv2d(width, channels, 3, padding=1)
        self.weights = nn.Parameter(torch.full((depth,), 1.0 / depth))

    def forward(self, x):
        h = F.relu(self.embed(x))
        out = 0
        for d in range(self.depth):
            h = F.relu(self.recursive_conv(h))
            out = out + self.weights[d] * (self.reconstruct(h) + x)
        return out / self.weights.sum()


class BlockDRCN(nn.Module):  # the recursive layer a Sequential of two convs, color images
    def __init__(self, channels: int = 3, width: int = 8, depth: int = 3) -> None:
        super().__init__()
        self.depth = depth
        self.head = nn.Conv2d(channels, width, 3, padding=1)
        self.recursion = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 3, padding=1),
            nn.ReLU(inplace=True),
        )
        self.tail = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(width, channels, 3, padding=1),
        )
        self.w = nn.Parameter(torch.ones(depth))

    def forward(self, x):
        h = F.relu(self.head(x))
        preds = []
        for _ in range(self.depth):
            h = self.recursion(h)
            preds.append(self.tail(h) + x)
        weighted = sum(p * w for p, w in zip(preds, self.w))
        return weighted / self.w.sum()


class SoftmaxDRCN(FlatDRCN):  # softmax-normalised weights, no skip to the input
    def forward(self, x):
        h = F.relu(self.embed(x))
        w = torch.softmax(self.weights, 0)
        out = 0
        for d in range(self.depth):
            h = F.relu(self.recursive_conv(h))
            out = out + self.reconstruct(h) * w[d]
        return out


def _positive_weights(make):
    """A layout reference whose recursion weights are positive (their sum divides)."""
    reference = layout_reference(make)
    for name, p in reference.named_parameters():
        if p.dim() == 1 and "." not in name:
            p.data.abs_().add_(0.2)
    return reference


@pytest.mark.parametrize("make, channels", [(FlatDRCN, 1), (BlockDRCN, 3)])
def test_recursive_nets_are_exact_from_the_keys(make, channels, tmp_path, capsys):
    reference = _positive_weights(make)
    model, source = generate_from_state_dict(reference, tmp_path, capsys)
    assert "recursion 3" in source  # the shared layer unrolled once per weight
    found, diff = measured(reference, model, source, (torch.randn(2, channels, 10, 10),))
    assert found == "exact", f"{found}: {diff:.3g}"


def test_softmax_weighted_recursion_is_flagged_until_pinned(tmp_path):
    hint = '["RecoveredModel.weights"]\nnormalization = "softmax"\n'
    hint += '["RecoveredModel.reconstruct"]\nresidual = "none"\n'
    reference = _positive_weights(SoftmaxDRCN)
    flagged_then_exact(reference, (torch.randn(2, 1, 8, 8),), tmp_path, hint)


# ------------------------------------------------------------------ pyramid pooling


class PPM(nn.Module):  # hszhao/semseg model/pspnet.py
    def __init__(self, in_dim: int, reduction_dim: int, bins=(1, 2, 3, 6)) -> None:
        super().__init__()
        self.features = nn.ModuleList(
            [
                nn.Sequential(
                    nn.AdaptiveAvgPool2d(b),
                    nn.Conv2d(in_dim, reduction_dim, 1, bias=False),
                    nn.BatchNorm2d(reduction_dim),
                    nn.ReLU(inplace=True),
                )
                for b in bins
            ]
        )

    def forward(self, x):
        out = [x]
        for f in self.features:
            out.append(F.interpolate(f(x), x.size()[2:], mode="bilinear", align_corners=True))
        return torch.cat(out, 1)


class SemsegHead(nn.Module):  # a strided stem, the PPM, a `cls` head, resized as mmseg does
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.ppm = PPM(8, 2)
        self.cls = nn.Sequential(
            nn.Conv2d(16, 8, 3, padding=1, bias=False),
            nn.BatchNorm2d(8),
            nn.ReLU(inplace=True),
            nn.Conv2d(8, 3, 1),
        )

    def forward(self, x):
        out = self.cls(self.ppm(self.stem(x)))
        return F.interpolate(out, x.shape[2:], mode="bilinear", align_corners=False)


class ContextPyramid(nn.Module):  # three biased branches, no norm, no activation
    def __init__(self, c: int = 6, r: int = 4) -> None:
        super().__init__()
        self.branches = nn.ModuleList(
            [nn.Sequential(nn.AdaptiveAvgPool2d(b), nn.Conv2d(c, r, 1)) for b in (1, 2, 4)]
        )

    def forward(self, x):
        size = x.shape[2:]
        pooled = [
            F.interpolate(b(x), size, mode="bilinear", align_corners=True) for b in self.branches
        ]
        return torch.cat([x] + pooled, 1)


class Decoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.context = ContextPyramid()
        self.fuse = nn.Conv2d(6 + 3 * 4, 5, 3, padding=1)

    def forward(self, x):
        return self.fuse(self.context(x))


class NestedPyramidNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.decoder = Decoder()

    def forward(self, x):
        return self.decoder(x)


class PSPModule(nn.Module):  # Lextal/pspnet-pytorch pspnet.py
    def __init__(self, features: int = 8, out_features: int = 6, sizes=(1, 2, 3, 6)) -> None:
        super().__init__()
        self.stages = nn.ModuleList(
            [
                nn.Sequential(nn.AdaptiveAvgPool2d(s), nn.Conv2d(features, features, 1, bias=False))
                for s in sizes
            ]
        )
        self.bottleneck = nn.Conv2d(features * (len(sizes) + 1), out_features, 1)

    def forward(self, feats):
        h, w = feats.size(2), feats.size(3)
        priors = [
            F.interpolate(stage(feats), size=(h, w), mode="bilinear", align_corners=False)
            for stage in self.stages
        ] + [feats]
        return F.relu(self.bottleneck(torch.cat(priors, 1)))


class LextalHead(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.psp = PSPModule()
        self.score = nn.Conv2d(6, 2, 1)

    def forward(self, x):
        return self.score(self.psp(x))


@pytest.mark.parametrize(
    "make, shape", [(SemsegHead, (2, 3, 12, 12)), (NestedPyramidNet, (2, 6, 8, 8))]
)
def test_pyramids_concatenated_with_their_input_are_exact_from_the_keys(
    make, shape, tmp_path, capsys
):
    found, diff = measured_layout(make, shape, tmp_path, capsys)
    assert found == "exact", f"{found}: {diff:.3g}"


def test_lextal_priors_before_the_input_are_flagged_until_pinned(tmp_path):
    hint = '["PyramidPooling.stages"]\ninput_position = "last"\nalign_corners = false\n'
    reference = layout_reference(LextalHead)
    flagged_then_exact(reference, (torch.randn(2, 8, 12, 12),), tmp_path, hint)


# ------------------------------------------------------------------ norms after conv-named classes
# A numbered norm follows the conv-named class giving its width (chain.py: conv_like,
# _conv_partners), numbered norms in their numbers' order: pytorch/examples' TransformerNet
# (zoo 18's `fast_neural_style`: in4 after deconv1) is one layout; here, with plain wrappers:


class ConvLayer(nn.Module):  # a wrapper holding its conv, as TransformerNet's ConvLayer does
    def __init__(self, c_in: int, c_out: int, k: int = 3, dims: int = 2) -> None:
        super().__init__()
        conv = nn.Conv2d if dims == 2 else nn.Conv1d
        self.conv = conv(c_in, c_out, k, padding=k // 2)

    def forward(self, x):
        return self.conv(x)


class StyleEncoder(nn.Module):  # affine instance norms `in1`, `in2` after `conv1`, `conv2`
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = ConvLayer(3, 8, 5)
        self.in1 = nn.InstanceNorm2d(8, affine=True)
        self.conv2 = ConvLayer(8, 16)
        self.in2 = nn.InstanceNorm2d(16, affine=True)
        self.conv3 = ConvLayer(16, 4)

    def forward(self, x):
        x = F.relu(self.in1(self.conv1(x)))
        x = F.relu(self.in2(self.conv2(x)))
        return self.conv3(x)


class MirroredNorms(nn.Module):  # `bn3` after `deconv1`: the numbers of the norms run on
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = ConvLayer(3, 8)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = ConvLayer(8, 16)
        self.bn2 = nn.BatchNorm2d(16)
        self.deconv1 = ConvLayer(16, 8)
        self.bn3 = nn.BatchNorm2d(8)
        self.deconv2 = ConvLayer(8, 3)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        x = F.relu(self.bn3(self.deconv1(x)))
        return self.deconv2(x)


class SequenceConvs(nn.Module):  # 1-d: Tacotron-style ConvNorm wrappers, BatchNorm1d, a Linear
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = ConvLayer(6, 8, 5, dims=1)
        self.bn1 = nn.BatchNorm1d(8)
        self.conv2 = ConvLayer(8, 8, 5, dims=1)
        self.bn2 = nn.BatchNorm1d(8)
        self.conv3 = ConvLayer(8, 4, 5, dims=1)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        return self.conv3(x)


@pytest.mark.parametrize(
    "make, shape",
    [
        (StyleEncoder, (2, 3, 10, 10)),
        (MirroredNorms, (2, 3, 10, 10)),
        (SequenceConvs, (2, 6, 12)),
    ],
)
def test_numbered_norms_follow_conv_named_classes(make, shape, tmp_path, capsys):
    found, diff = measured_layout(make, shape, tmp_path, capsys)
    assert found == "exact", f"{found}: {diff:.3g}"


# ------------------------------------------------------------------ every block's output fused
# A tail whose first conv reads (N + 1) times the width over a list of N blocks: every block's
# output kept and fused with the head's (families/mean_shift_super_resolution.py; MSRN, Li et al.
# 2018: zoo 17's `msrn_x2` is one layout, flagged by its blocks' own wiring); here:


class EdsrResBlock(nn.Module):  # EDSR-PyTorch common.ResBlock
    def __init__(self, n: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(n, n, 3, padding=1), nn.ReLU(True), nn.Conv2d(n, n, 3, padding=1)
        )

    def forward(self, x):
        return self.body(x) + x


class FusedSR(nn.Module):  # MSRN's top over EDSR's blocks, x2
    def __init__(self, n: int = 8, blocks: int = 2, fuse_conv: bool = True, scale: int = 2):
        super().__init__()
        self.sub_mean = nn.Conv2d(3, 3, 1)
        self.head = nn.Sequential(nn.Conv2d(3, n, 3, padding=1))
        self.body = nn.ModuleList([EdsrResBlock(n) for _ in range(blocks)])
        tail = [nn.Conv2d(n * (blocks + 1), n, 1)]
        tail += [nn.Conv2d(n, n, 3, padding=1)] if fuse_conv else []
        tail += [
            nn.Sequential(nn.Conv2d(n, scale * scale * n, 3, padding=1), nn.PixelShuffle(scale)),
            nn.Conv2d(n, 3, 3, padding=1),
        ]
        self.tail = nn.Sequential(*tail)
        self.add_mean = nn.Conv2d(3, 3, 1)

    def forward(self, x):
        x = self.head(self.sub_mean(x))
        outs = []
        h = x
        for block in self.body:
            h = block(h)
            outs.append(h)
        return self.add_mean(self.tail(torch.cat(outs + [x], 1)))


class PlainBlocksSR(FusedSR):  # blocks as bare Sequentials (no skip), x3, no conv after fusion
    def __init__(self) -> None:
        super().__init__(blocks=3, fuse_conv=False, scale=3)
        self.body = nn.ModuleList(
            [
                nn.Sequential(
                    nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1)
                )
                for _ in range(3)
            ]
        )


class HeadFirstSR(FusedSR):  # the head's output first in the fusion
    def forward(self, x):
        x = self.head(self.sub_mean(x))
        outs = [x]
        for block in self.body:
            outs.append(block(outs[-1]))
        return self.add_mean(self.tail(torch.cat(outs, 1)))


@pytest.mark.parametrize("make", [FusedSR, PlainBlocksSR])
def test_tails_fusing_every_block_output_are_exact_from_the_keys(make, tmp_path, capsys):
    found, diff = measured_layout(make, (2, 3, 6, 6), tmp_path, capsys)
    assert found == "exact", f"{found}: {diff:.3g}"


def test_head_first_fusion_is_flagged_until_pinned(tmp_path):
    hint = '["RecoveredModel.body"]\nhead_position = "first"\n'
    reference = layout_reference(HeadFirstSR)
    flagged_then_exact(reference, (torch.randn(2, 3, 6, 6),), tmp_path, hint)

