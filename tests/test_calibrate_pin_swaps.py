"""A layer's exception moved to another layer (codegen/calibrate._pin_swaps).

A convention every layer keeps but one (PyTorch-GAN's generators: `BatchNorm2d(c, 0.8)` after
the first batch norm at torch's eps) can be fitted onto the wrong layer while another convention
is still wrong, where it keeps a small gain; taking it back and setting it elsewhere each score
worse alone. The descent offers the trade as one move, like a halving traded between stages.
Here on a VGG-style classifier (other nesting, other family than the DCGAN generator that showed
it: tests/test_generative_zoo_12.py::test_pytorch_gan_dcgan_exact_after_calibrate).
"""

from __future__ import annotations

import torch
import torch.nn as nn

from codegen.analyze import analyze
from codegen.calibrate import TO_DEFAULT, _pin_swaps, singly
from codegen.load import open_checkpoint


class VggBn(nn.Module):
    """torchvision's vgg11_bn at toy width: conv, BN, ReLU, pool, numbered in one Sequential."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 4, 3, padding=1),
            nn.BatchNorm2d(4),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(4, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(inplace=True),
            nn.Conv2d(8, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(inplace=True),
        )
        self.classifier = nn.Linear(8, 3)

    def forward(self, x):
        return self.classifier(self.features(x).mean((2, 3)))


def test_a_pinned_value_is_offered_on_each_other_layer_of_its_name(tmp_path):
    """Here a stride 2 pinned on the first conv: the halving may belong to a later one."""
    torch.manual_seed(0)
    ckpt = tmp_path / "w.pt"
    torch.save(VggBn().state_dict(), ckpt)
    ir = analyze(open_checkpoint(str(ckpt)).table, class_name="RecoveredModel")
    strides = [c for c in singly(ir) if c.name == "stride"]
    assert len(strides) == 3, [(c.path, c.name) for c in singly(ir)]
    pinned, *others = strides
    swaps = _pin_swaps((0.1, {(pinned.path, "stride"): 2}, ir))
    expected = [{(pinned.path, "stride"): TO_DEFAULT, (o.path, "stride"): 2} for o in others]
    assert expected and all(s in swaps for s in expected)
    # nothing pinned: nothing to trade
    assert _pin_swaps((0.1, {}, ir)) == []
