"""example_inputs() at an image size the forward runs on: where the default 32-pixel maps do not
run (strides that shrink them below a pool, a Linear after a flatten), generate tries the usual
sizes on the meta device and writes the first that runs, saying so; never a size that hides a
forward missing a stride (codegen/harness/example_size.py)."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from codegen.cli.main import main
from codegen.harness.example_size import fitting_examples
from codegen.ir import ExampleInput
from tests.generated_module import generate_from_folder, load_module
from tests.vision_zoo_8_models import build


class LeNet(nn.Module):
    """Takes 28-pixel digits only: its Linear reads the flattened 16 x 12 x 12 map."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 16, 5)
        self.fc = nn.Linear(16 * 12 * 12, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(nn.functional.max_pool2d(self.conv(x), 2), 1))


def on_meta(module: nn.Module) -> nn.Module:
    return module.to("meta")


def test_the_first_usual_size_that_runs_is_taken():
    (image,) = fitting_examples(on_meta(LeNet()), [ExampleInput((2, 1, 32, 32))])
    assert image.shape == (2, 1, 28, 28) and "28-pixel maps" in image.why


def test_no_size_is_claimed_where_none_runs_or_nothing_is_an_image():
    tiny = nn.Sequential(nn.Conv2d(1, 4, 3, stride=2), nn.Flatten(), nn.Linear(36, 2))  # 8 px
    assert fitting_examples(on_meta(tiny), [ExampleInput((2, 1, 32, 32))]) is None
    ids = [ExampleInput((2, 16), vocab=50)]
    assert fitting_examples(on_meta(nn.Embedding(50, 4)), ids) is None


def test_generate_writes_a_size_alexnet_runs_on(tmp_path, capsys):
    reference, x = build("tv_alexnet")  # its pools leave nothing of a 32-pixel map
    torch.save(reference.state_dict(), tmp_path / "alexnet.pt")
    out = tmp_path / "model.py"
    assert main(["generate", str(tmp_path / "alexnet.pt"), "-o", str(out)]) == 0
    assert "forward runs on example_inputs()" in capsys.readouterr().out
    source = out.read_text()
    assert "64-pixel maps, not 32" in " ".join(source.split())
    model = load_module(out).RecoveredModel().eval()
    model.load_state_dict(reference.state_dict())
    (example,) = model.example_inputs()
    assert example.shape[-2:] == x.shape[-2:]
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference.eval()(x))


def test_a_vision_transformer_at_224_pixels_gets_its_own_size(tmp_path):
    """Its position table fixes the patch count (197 rows: 14 x 14 patches and the class token),
    so only 224-pixel images run; the file's smoke inputs are those, and they compute what the
    library does."""
    transformers = pytest.importorskip("transformers")
    config = transformers.ViTConfig(
        image_size=224,
        patch_size=16,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=37,
    )
    library = transformers.ViTModel(config, add_pooling_layer=False).eval()
    source, ours = generate_from_folder(tmp_path, library)
    assert "224-pixel maps, not 32" in " ".join(source.split())
    (pixels,) = ours.example_inputs()
    assert pixels.shape == (2, 3, 224, 224)
    with torch.no_grad():
        want = library(pixel_values=pixels).last_hidden_state
        torch.testing.assert_close(ours(pixels), want, atol=1e-5, rtol=1e-5)
