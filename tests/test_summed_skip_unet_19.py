"""U-Nets whose skips are sums, read from sizes and widths (issue 16, session 19: zoo 18's KAIR
DRUNet, and layouts of other repositories that share each reading):

- a chain of members whose map shrinks by strided convs and grows back by transposed convs, each
  growing map meeting a shrinking one of its width and size: summed skips (a concatenation would
  widen what the next member reads), placed before each up level (KAIR's `m_up3(x + x4)`) or after
  each lone upsampler (NAFNet's `decoder(up(x) + skip)`) (families/summed_skip_unet.py);
- a bias-free conv opening a Sequential whose next block reads the weight's second width: only a
  transposed conv gives that (an up level `Sequential(ConvTranspose2d(2c, c, 2, 2), ResBlock(c))`);
- a lone norm-free [conv, act, conv] body under any name: a residual body by default (KAIR's `res`),
  or a plain two-conv stack ending in its activation, which the choice `residual` reaches.

Each layout is generated once from its state dict alone (module-scoped): exact, or flagged and then
exact once a hint pins what calibration would (never silently wrong).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from codegen.patterns.families._summed_skip_examples import summed_skip_examples
from tests.generative_zoo_check import flagged_then_exact, generate, verdict
from tests.zoo_verdicts import shared_generate

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore::UserWarning", "ignore::FutureWarning"
)

LAYOUTS = ["drunet_named", "nafnet_flat", "signal_denoiser"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    found = {}
    for name, example in zip(LAYOUTS, summed_skip_examples()):
        folder = tmp_path_factory.mktemp(name)
        model, source = shared_generate(  # once per run, on whichever worker comes first
            f"summed_skip_unet_19-{name}",
            example.module,
            tmp_path_factory,
            lambda: generate(example.module, folder, "--quiet"),
        )
        found[name] = (verdict(example.module, example.inputs, model, source), source)
    return found


@pytest.mark.parametrize("name", LAYOUTS)
def test_summed_skip_unet_exact_from_keys(generated, name):
    (found, diff), source = generated[name]
    assert found == "exact", f"{name}: {found} {diff:.3g}"
    assert "# skip" in source  # the sums are in the forward, not a chain without them


def test_skip_placement_follows_the_upsamplers(generated):
    # DRUNet-style up levels hold blocks after their transposed conv: the skip enters before
    # each level, the deepest map's included; NAFNet's lone upsamplers: after each
    named, flat = generated["drunet_named"][1], generated["nafnet_flat"][1]
    assert named.count("# skip") == 3 and flat.count("# skip") == 2
    assert "nn.ConvTranspose2d" in named  # the up levels' bias-free openers, read transposed


class PlainStack(nn.Module):  # a no-norm double conv in a wrapper: no residual, ReLU after it
    def __init__(self, c: int) -> None:
        super().__init__()
        self.block = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1), nn.ReLU(), nn.Conv2d(c, c, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.block(x))


class PlainStackNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, 1, 1)
        self.stage = PlainStack(8)
        self.head = nn.Conv2d(8, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stage(self.stem(x)))


def test_lone_body_plain_stack_flagged_then_exact(tmp_path):
    torch.manual_seed(0)
    reference = PlainStackNet().eval()
    hint = (
        '["ResidualBlock.block"]\nresidual = "none"\nafter_sum = "relu"\n'
        '["stem"]\nstride = 1\n'  # (a stem's stride, another reading's default)
    )
    flagged_then_exact(reference, (torch.randn(2, 3, 8, 8),), tmp_path, hint)
