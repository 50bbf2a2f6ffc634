"""Types of the library sweep's open half (issue 15, session 15) whose library code follows a
convention no key records, each compared with the library's own forward."""

from __future__ import annotations

import torch

from tests.library_compare import assert_exact, generate_for
from tests.tiny_configs import IMAGE


def test_phi4_multimodal_vision_attends_causally_as_the_library_runs_it(tmp_path):
    """Phi-4 multimodal's vision attention sets is_causal; the library's default (SDPA) applies it
    where every patch is real (no padding mask), so each patch sees only the ones before it."""
    config = dict(IMAGE, intermediate_size=64)
    reference, ours, source = generate_for(
        tmp_path, "Phi4MultimodalVisionModel", "Phi4MultimodalVisionConfig", config
    )
    torch.manual_seed(1)
    pixels = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        want = reference(pixel_values=pixels).last_hidden_state
    assert_exact(ours, want, pixels)
