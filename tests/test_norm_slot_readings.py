"""Two readings of a norm slot's keys the width chain missed (issue 16, zoo 19's timm resnet50_gn
and XingangPan's IBN-Net ResNet-50-IBN-a).

1. A batch norm's name (`bn1`, `batch_norm`) on a scale and a shift with no running statistics,
   after a conv (layers/norms.py's affine_norm): a batch norm without its statistics would
   normalise by the batch at inference, so the name is the slot's and the norm the code plugged
   in is a group norm (timm's resnet50_gn, torchvision's `norm_layer`, detectron's GN configs).
   Its group count no key records: 32 where the width allows (Wu & He 2018's default), a choice;
   the class says guessed. Layouts: a torchvision-style BasicBlock ResNet with GroupNorm(32), a
   UNet-style double conv with GroupNorm(8) (its count differs: flagged, never WRONG), and a 1-d
   speech encoder whose `batch_norm` slots hold GroupNorm(4) (flagged).
2. A module holding nothing but a batch norm with running statistics beside a norm without them
   (blocks/channel_split_norm.py): two norms in a row would renormalise, so they split the
   channels, and the module's width is theirs together (what the conv before it gives). Which
   part comes first, and the statistic-free norm's kind, no key records: IBN-Net's convention (an
   instance norm over the first channels), choices, the class guessed. Layouts: fast-reid's
   BasicBlock with an `IBN` of halves (`IN`, `BN`), a VGG-style Sequential whose numbered slot
   holds an IBN of a quarter (`inorm`, `bnorm`), and an encoder whose split puts the batch norm
   first (flagged: the default order is IBN-Net's, never WRONG).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from tests.zoo_verdicts import class_trust, generated_layout, measured

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


# ------------------------------------------------------------ group norms under batch norm names


class GnBasicBlock(nn.Module):  # torchvision.models.resnet.BasicBlock(norm_layer=GroupNorm(32))
    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.GroupNorm(32, c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.GroupNorm(32, c_out)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.GroupNorm(32, c_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return torch.relu(out + identity)


class GnResNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, 1, 1, bias=False)
        self.bn1 = nn.GroupNorm(32, 32)
        self.layer1 = nn.Sequential(GnBasicBlock(32, 32))
        self.layer2 = nn.Sequential(GnBasicBlock(32, 64, 2))
        self.fc = nn.Linear(64, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layer2(self.layer1(torch.relu(self.bn1(self.conv1(x)))))
        return self.fc(x.mean((2, 3)))


class DoubleConv(nn.Module):  # a UNet encoder's (conv => GN => ReLU) * 2, kept `bn` names
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.bn1 = nn.GroupNorm(8, c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.bn2 = nn.GroupNorm(8, c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))))


class GnEncoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inc = DoubleConv(3, 16)
        self.down1 = DoubleConv(16, 16)
        self.outc = nn.Conv2d(16, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.outc(self.down1(self.inc(x)))


class ConvUnit1d(nn.Module):  # a speech encoder's conv unit, GroupNorm in the `batch_norm` slot
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(c_in, c_out, 5, padding=2, bias=False)
        self.batch_norm = nn.GroupNorm(4, c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.batch_norm(self.conv(x)))


class SpeechEncoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.units = nn.Sequential(ConvUnit1d(12, 16), ConvUnit1d(16, 16))
        self.proj = nn.Linear(16, 6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(self.units(x).mean(-1))


# ------------------------------------------------------------ norms over parts of the channels


class IBN(nn.Module):  # IBN-Net / fast-reid IBN: an instance norm over the first channels
    def __init__(self, planes: int, ratio: float = 0.5, names=("IN", "BN")) -> None:
        super().__init__()
        self.half = int(planes * ratio)
        self.names = names
        self.add_module(names[0], nn.InstanceNorm2d(self.half, affine=True))
        self.add_module(names[1], nn.BatchNorm2d(planes - self.half))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        first, second = torch.split(x, [self.half, x.size(1) - self.half], 1)
        inorm, bnorm = (getattr(self, n) for n in self.names)
        return torch.cat((inorm(first.contiguous()), bnorm(second.contiguous())), 1)


class IbnBasicBlock(nn.Module):  # fast-reid resnet.BasicBlock(with_ibn=True)
    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = IBN(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return torch.relu(out + identity)


class IbnResNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.layer1 = nn.Sequential(IbnBasicBlock(8, 8))
        self.layer2 = nn.Sequential(IbnBasicBlock(8, 16, 2))
        self.fc = nn.Linear(16, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layer2(self.layer1(torch.relu(self.bn1(self.conv1(x)))))
        return self.fc(x.mean((2, 3)))


class IbnVgg(nn.Module):  # a VGG-style `features` Sequential, an IBN of a quarter in its slots
    def __init__(self) -> None:
        super().__init__()
        quarter = dict(ratio=0.25, names=("inorm", "bnorm"))
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1),
            IBN(8, **quarter),
            nn.ReLU(inplace=True),
            nn.Conv2d(8, 16, 3, padding=1),
            IBN(16, **quarter),
        )
        self.classifier = nn.Linear(16, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).mean((2, 3)))


class BatchFirstSplit(nn.Module):  # a split whose batch norm reads the first channels
    def __init__(self, planes: int) -> None:
        super().__init__()
        self.kept = planes // 2
        self.batch = nn.BatchNorm2d(self.kept)
        self.instance = nn.InstanceNorm2d(planes - self.kept, affine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        first, second = torch.split(x, [self.kept, x.size(1) - self.kept], 1)
        return torch.cat((self.batch(first), self.instance(second)), 1)


class SplitEncoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv_in = nn.Conv2d(3, 12, 3, padding=1)
        self.norm_in = BatchFirstSplit(12)
        self.conv_out = nn.Conv2d(12, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_out(torch.relu(self.norm_in(self.conv_in(x))))


LAYOUTS = {
    "gn_resnet": (GnResNet, (2, 3, 16, 16)),
    "gn_double_conv": (GnEncoder, (2, 3, 16, 16)),
    "gn_speech_1d": (SpeechEncoder, (2, 12, 20)),
    "ibn_resnet": (IbnResNet, (2, 3, 16, 16)),
    "ibn_vgg": (IbnVgg, (2, 3, 16, 16)),
    "ibn_batch_first": (SplitEncoder, (2, 3, 16, 16)),
}
# exact from the keys: the group count is the convention's; the split is IBN-Net's order
EXACT = {"gn_resnet", "ibn_resnet", "ibn_vgg"}


@pytest.fixture(scope="module", params=sorted(LAYOUTS))
def generated(request, tmp_path_factory):
    """(name, reference, generated model, source, input): one generate per layout."""
    return generated_layout(LAYOUTS, request.param, tmp_path_factory)


def test_exact_where_the_convention_holds_else_flagged(generated):
    name, reference, model, source, x = generated
    verdict = measured(reference, model, source, (x,))[0]
    assert verdict == ("exact" if name in EXACT else "flagged"), name


def test_the_reading_is_written_and_marked_guessed(generated):
    name, _, _, source, _ = generated
    trust = class_trust(source)
    if name.startswith("gn_"):
        assert "nn.GroupNorm(" in source and "track_running_stats=False" not in source
        assert "a batch norm's name, no running statistics" in source
        assert "guessed" in trust.values()
    else:
        assert trust["SplitNorm"] == "guessed"
        assert ".split([" in source and "torch.cat(" in source
        assert "split_order" in source.split('"""')[1]
