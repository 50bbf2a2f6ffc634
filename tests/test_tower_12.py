"""tower12 (issue 15): the text path of multimodal models, built from tiny configs in code and
compared with the library's own forward (atol 1e-5), scripted too.

- families/text_path.py (mm12's pattern; tower12 wrote the same one, and these cases stay as a
  second layout): LLaVA's `...Model` and its causal LM run the language model alone given token
  ids, as the library does, and the file says which members it leaves out.
"""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("transformers")

from tests.library_compare import assert_exact, assert_trusted, generate_for  # noqa: E402
from tests.tiny_configs import DENSE, IMAGE  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")

LLAMA = dict(DENSE, model_type="llama", num_key_value_heads=2)
# the text's activation and eps in the vision tower too: config.json's evidence is read by key
# name, so towers that differ there leave the file flagged (conflicting_config_keys), not exact
VISION = dict(
    IMAGE,
    model_type="clip_vision_model",
    intermediate_size=64,
    hidden_act="silu",
    layer_norm_eps=1e-6,
)
TEXT_PATH_CASES = {
    "llava-lm": (
        "LlavaForConditionalGeneration",
        "LlavaConfig",
        dict(
            vision_config=VISION,
            text_config=LLAMA,
            image_token_index=99,
        ),
    ),
    "llava-base": (
        "LlavaModel",
        "LlavaConfig",
        dict(
            vision_config=VISION,
            text_config=dict(LLAMA, num_hidden_layers=3),
            image_token_index=99,
        ),
    ),
}


@pytest.mark.parametrize("case", sorted(TEXT_PATH_CASES))
def test_text_path_of_a_multimodal_model_is_exact(tmp_path, case):
    model_cls, config_cls, config = TEXT_PATH_CASES[case]
    reference, ours, source = generate_for(tmp_path, model_cls, config_cls, config)
    assert any(line.endswith(": not run") for line in source.splitlines())
    torch.manual_seed(1)
    ids = torch.randint(2, 99, (2, 11))  # no image token (99): the text path
    mask = torch.ones(2, 11, dtype=torch.long)
    mask[1, 7:] = 0
    with torch.no_grad():
        out = reference(input_ids=ids, attention_mask=mask)
    want = out.logits if hasattr(out, "logits") else out.last_hidden_state
    assert_exact(ours, want, ids, mask)


# Swin V2 (blocks/swin_block.py): the library fixes each stage's window and shift at config.json's
# image_size (32: patch grids 8, 4, 2 against a window of 4); at 64 the maps are 16, 8, 4, so the
# second stage would shift and the third would take a window of 4 if read from the map.
SWINV2_AT_CONFIG = dict(
    image_size=32,
    patch_size=4,
    embed_dim=16,
    depths=[2, 2, 2],
    num_heads=[2, 2, 4],
    window_size=4,
)


@pytest.mark.parametrize("size", [32, 64, 40])
def test_swinv2_keeps_the_windows_it_was_built_with(tmp_path, size):
    reference, ours, source = generate_for(
        tmp_path, "Swinv2Model", "Swinv2Config", SWINV2_AT_CONFIG
    )
    assert_trusted(source)
    assert "[8, 4, 2][stage]" in source
    torch.manual_seed(1)
    pixels = torch.randn(2, 3, size, size)
    with torch.no_grad():
        want = reference(pixel_values=pixels).last_hidden_state
    assert_exact(ours, want, pixels)
