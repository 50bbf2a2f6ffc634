"""A conv trunk, a pre-logits MLP written as convs, and a Linear head (families/
features_classifier.py's conv head): the first conv covers the trunk's last map (a fully
connected layer as a conv, VGG's fc6: stride 1, no padding), each conv is a hidden layer
(activated), then a global pool and the Linear. Layouts other than zoo 17's timm VGG:

- `caffe_vgg_fc_convs`: a Caffe-converted VGG (`features`, `fc67` = Sequential(Conv2d 4x4,
  ReLU, Dropout, Conv2d 1x1, ReLU, Dropout), `classifier` = Sequential(Dropout, Linear)), the
  convs in a Sequential rather than a class;
- `alexnet_conv_head`: torchvision's AlexNet trunk (11x11 first conv) with a timm-style
  `pre_logits` ConvMlp of kernel 2 and a `head.fc` (another family of trunk);
- `small_map_guard`: timm's VGG layout on an input whose last map is smaller than the kernel:
  the map is pooled up to it first (timm's ConvMlp guard).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.zoo_verdicts import generate_from_state_dict, layout_reference, measured

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def vgg_features(cfg) -> nn.Sequential:
    layers, c = [], 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(c, v, 3, padding=1), nn.BatchNorm2d(v), nn.ReLU(True)]
            c = v
    return nn.Sequential(*layers)


class CaffeVGG(nn.Module):
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.features = vgg_features((4, "M", 8, "M", 8, 8, "M"))
        self.fc67 = nn.Sequential(
            nn.Conv2d(8, 16, 4), nn.ReLU(True), nn.Dropout(),
            nn.Conv2d(16, 16, 1), nn.ReLU(True), nn.Dropout(),
        )
        self.classifier = nn.Sequential(nn.Dropout(), nn.Linear(16, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.fc67(self.features(x)).mean((2, 3))
        return self.classifier(x)


class ConvMlp(nn.Module):  # timm.models.vgg.ConvMlp
    def __init__(self, c_in, hidden, kernel) -> None:
        super().__init__()
        self.input_size = kernel
        self.fc1 = nn.Conv2d(c_in, hidden, kernel)
        self.act1 = nn.ReLU(True)
        self.drop = nn.Dropout(0.2)
        self.fc2 = nn.Conv2d(hidden, hidden, 1)
        self.act2 = nn.ReLU(True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2] < self.input_size or x.shape[-1] < self.input_size:
            size = (max(self.input_size, x.shape[-2]), max(self.input_size, x.shape[-1]))
            x = F.adaptive_avg_pool2d(x, size)
        return self.act2(self.fc2(self.drop(self.act1(self.fc1(x)))))


class AlexNetConvHead(nn.Module):
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(  # torchvision's AlexNet trunk, narrowed
            nn.Conv2d(3, 8, 11, 4, 2), nn.ReLU(True), nn.MaxPool2d(3, 2),
            nn.Conv2d(8, 12, 5, padding=2), nn.ReLU(True), nn.MaxPool2d(3, 2),
            nn.Conv2d(12, 16, 3, padding=1), nn.ReLU(True),
            nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(True), nn.MaxPool2d(3, 2),
        )
        self.pre_logits = ConvMlp(16, 24, 2)
        self.head = nn.Module()
        self.head.fc = nn.Linear(24, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head.fc(self.pre_logits(self.features(x)).mean((2, 3)))


class SmallMapVGG(nn.Module):  # timm VGG: a 7x7 pre-logits conv over a 2x2 map
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.features = vgg_features((4, "M", 8, "M", 8, 8, "M"))
        self.pre_logits = ConvMlp(8, 16, 7)
        self.head = nn.Module()
        self.head.fc = nn.Linear(16, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head.fc(self.pre_logits(self.features(x)).mean((2, 3)))


LAYOUTS = {  # name: (model, input shape)
    "caffe_vgg_fc_convs": (CaffeVGG, (2, 3, 32, 32)),
    "alexnet_conv_head": (AlexNetConvHead, (2, 3, 96, 96)),
    "small_map_guard": (SmallMapVGG, (2, 3, 16, 16)),
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_a_conv_pre_logits_head_is_read(name, tmp_path, capsys):
    make, shape = LAYOUTS[name]
    reference = layout_reference(make)
    model, source = generate_from_state_dict(reference, tmp_path, capsys, "--force")
    found, diff = measured(reference, model, source, (torch.randn(*shape),))
    assert found == "exact", f"{name}: {found} by {diff}"
