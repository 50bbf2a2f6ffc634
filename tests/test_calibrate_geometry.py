"""What `--calibrate` reads from recorded outputs that no key records (issue 16: "exact after
--calibrate"), on nets as other repositories write them (tests/calibrate_geometry_models.py) and
two blind zoo 16 rows:

- the recorded output's SHAPE solves the geometry before any value is searched
  (codegen/calibrate_geometry.shape_moves): SRCNN run unpadded (33 -> 21), FSRCNN's x3
  deconvolution (stride 3, padding 4, output padding 2), a DCGAN generator whose 3x3 transposed
  conv gives 4 -> 7, the x-vector TDNN's unpadded, dilated 1-d frame layers (T -> T - 14), and
  zoo 16's waifu2x UpConv7 (valid convs, then a transposed conv padded 3);
- a dilation pattern over a chain of convs, one move per pattern (dilation_moves): the context
  aggregation module's 1, 1, 2, 4, 8, 1, hybrid dilated convolution's 1, 2, 5 saw-tooth, and zoo
  16's IRCNN (1, 2, 3, 4, 3, 2, 1, with the input subtracted: scored as a pair);
- an activation's kind and slope in a numbered slot: Keras' LeakyReLU slope 0.3, BEGAN's ELU, and
  SiLU applied in a forward.

Each is generated from its state dict, calibrated on four recorded samples within a candidate
count (the verdict does not depend on the machine's load), and compared on other inputs.
"""

from __future__ import annotations

import pytest

from codegen.cli.main import main
from tests import calibrate_geometry_models as layouts
from tests import generative_zoo_16_models as zoo16
from tests.generative_zoo_check import generate, recorded, verdict

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore::UserWarning", "ignore::FutureWarning"
)

CANDIDATES = "150"

# name -> text the calibrated file holds (what settled the choice)
EXACT_AFTER_CALIBRATE = {
    "srcnn_valid": "kernel_size=9)",  # padding 0: nothing written
    "fsrcnn_x3": "stride=3, padding=4, output_padding=2",
    "mnist_dcgan": "stride=2, padding=1, bias=False",
    "tdnn": "dilation=3",
    "context_module": "dilation=8, padding=8",
    "hybrid_dilated": "dilation=5, padding=5",
    "keras_leaky": "nn.LeakyReLU(0.3)",
    "elu_decoder": "nn.ELU()",
    "silu_stack": "F.silu",
}


def _calibrated(reference, inputs, tmp_path, capsys):
    keys_model, keys_source = generate(reference, tmp_path, "--quiet")
    before = verdict(reference, inputs, keys_model, keys_source)
    extra = recorded(reference, inputs, tmp_path / "data.pt") + ["--candidates", CANDIDATES]
    model, source = generate(reference, tmp_path, "--quiet", *extra)
    assert "internal error" not in capsys.readouterr().err
    return before, verdict(reference, inputs, model, source), source


@pytest.mark.parametrize("name", sorted(EXACT_AFTER_CALIBRATE))
def test_exact_after_calibrate(name, tmp_path, capsys):
    reference, inputs = layouts.build(name)
    (before, _), (found, diff), source = _calibrated(reference, inputs, tmp_path, capsys)
    assert before != "WRONG"
    assert found == "exact", f"{name}: max abs diff {diff:.3g}"
    assert EXACT_AFTER_CALIBRATE[name] in source
    assert "calibrated" in source


@pytest.mark.parametrize("name", ["waifu2x_upconv7", "kair_ircnn"])
def test_zoo_16_rows_exact_after_calibrate(name, tmp_path, capsys):
    reference, inputs = zoo16.build(name)
    (before, _), (found, diff), source = _calibrated(reference, inputs, tmp_path, capsys)
    assert before == "flagged"  # from the keys alone: the geometry is a guess, and says so
    assert found == "exact", f"{name}: max abs diff {diff:.3g}"


def test_a_pattern_outside_a_class_loop_stays_flagged(tmp_path, capsys):
    """A WaveNet-style stack whose convs one ModuleList loop calls: one class holds every conv's
    choices, so no per-conv dilation can be pinned; the file stays flagged, never wrong."""
    reference, inputs = layouts.build("dilated_stack_1d")
    _, (found, diff), source = _calibrated(reference, inputs, tmp_path, capsys)
    assert found == "flagged", f"{found}: {diff:.3g}"
    assert "does not reproduce" in source


def test_a_dilation_can_be_pinned_by_a_hint(tmp_path):
    """A conv's dilation is a choice wherever a hint (or calibration) gives one: the padding
    follows it, so the size stays."""
    reference, inputs = layouts.build("context_module")
    hints = tmp_path / "hints.toml"
    pins = {"context.4": 2, "context.6": 4, "context.8": 8}
    hints.write_text("".join(f'["{p}"]\ndilation = {d}\n' for p, d in pins.items()))
    model, source = generate(reference, tmp_path, "--quiet", "--hints", str(hints))
    assert verdict(reference, inputs, model, source)[0] == "exact"
    assert "dilation=4, padding=4" in source


def test_a_transposed_geometry_hint_outside_the_list_is_checked(tmp_path, capsys):
    reference, inputs = layouts.build("fsrcnn_x3")
    hints = tmp_path / "hints.toml"
    hints.write_text('["last_part"]\ngeometry = [3, 4, 2]\n')
    model, source = generate(reference, tmp_path, "--quiet", "--hints", str(hints))
    assert verdict(reference, inputs, model, source)[0] == "exact"
    hints.write_text('["last_part"]\ngeometry = [2, 4, 2]\n')  # output padding not below stride
    torch_ckpt = tmp_path / "weights.pt"
    code = main(
        ["generate", str(torch_ckpt), "-o", str(tmp_path / "bad.py"), "--hints", str(hints)]
    )
    assert code == 2
    assert "output padding below the stride" in capsys.readouterr().err
