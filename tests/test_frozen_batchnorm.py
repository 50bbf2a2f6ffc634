"""A batch norm frozen as four buffers (DETR's and torchvision's FrozenBatchNorm2d: no step counter
in the checkpoint) is generated as nn.BatchNorm2d, whose counter load_state_dict fills in: the file
is written (no internal error), strict-loads and computes the reference's output."""

import torch
import torch.nn as nn

from tests.redraw import reference_and_input
from tests.zoo_verdicts import generate_from_state_dict, verdict


class FrozenBatchNorm2d(nn.Module):
    def __init__(self, n: int) -> None:
        super().__init__()
        for name, fill in (("weight", 1.0), ("bias", 0.0), ("running_mean", 0.0)):
            self.register_buffer(name, torch.full((n,), fill))
        self.register_buffer("running_var", torch.ones(n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.weight * (self.running_var + 1e-5).rsqrt()
        shift = self.bias - self.running_mean * scale
        return x * scale[:, None, None] + shift[:, None, None]


class Stem(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn = FrozenBatchNorm2d(8)
        self.fc = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn(self.conv(x)))
        return self.fc(x.mean((2, 3)))


def test_frozen_batch_norm_generates_and_matches(tmp_path, capsys):
    reference, x = reference_and_input(Stem, (2, 3, 8, 8))
    with torch.no_grad():  # the buffers unit_scale leaves alone, drawn like a trained model's
        reference.bn.weight.normal_(1, 0.2)
        reference.bn.bias.normal_(0, 0.1)
        reference.bn.running_var.uniform_(0.5, 1.5)
    assert "num_batches_tracked" not in str(list(reference.state_dict()))
    model, source = generate_from_state_dict(reference, tmp_path, capsys)
    assert "nn.BatchNorm2d(" in source
    assert verdict(reference, model, source, x) in ("exact", "flagged")
