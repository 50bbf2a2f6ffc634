"""Two-level codebook autoencoders wired by widths, sizes and the quantizers' bottleneck (issue 16,
session 19: zoo 18's rosinality_vqvae2, and layouts of other repositories that share the reading,
families/codebook_hierarchy.py):

- a VQ-VAE-2 port naming its levels by words (`encoder_top`, `codebook_bottom`, ...), the bottom
  codebook reading the decoded top codes concatenated with the bottom encoding (proved by the 1x1
  conv's in-width, the two widths' sum, at one size);
- levels quantized apart that meet only in the decoder (no top decoder);
- the first layout with both concatenations in the other order: no key shows the order, so it is
  flagged, and exact once `concat_order` is pinned as calibration would.

Each layout is generated once from its state dict alone; never silently wrong.
"""

from __future__ import annotations

import pytest
import torch

from codegen.patterns.blocks._vq_examples import HIERARCHY_NAMES, _hierarchy, hierarchy_examples
from tests.generative_zoo_check import flagged_then_exact, generate, verdict

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore::UserWarning", "ignore::FutureWarning"
)

LAYOUTS = ["named_levels", "separate_levels"]


@pytest.mark.parametrize("index", [0, 1], ids=LAYOUTS)
def test_codebook_hierarchy_exact_from_keys(index, tmp_path):
    example = hierarchy_examples()[index]
    model, source = generate(example.module, tmp_path, "--quiet")
    found, diff = verdict(example.module, example.inputs, model, source)
    assert found == "exact", f"{found} {diff:.3g}"
    assert "torch.cat(" in source  # the levels meet by concatenation, wired in the forward


def test_concatenation_order_flagged_then_exact(tmp_path):
    reference = _hierarchy(HIERARCHY_NAMES, True, False, widths=(14, 6))
    hint = '["RecoveredModel.encoder_bottom"]\nconcat_order = "upsampled_last"\n'
    flagged_then_exact(reference, (torch.randn(2, 3, 16, 16),), tmp_path, hint)
