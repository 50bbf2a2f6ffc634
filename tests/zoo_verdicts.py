"""What the model-zoo tests share: generate a model.py from a reference's state dict alone, load it
strictly, and give the verdict the zoos count (exact / flagged / WRONG)."""

from __future__ import annotations

import re

import torch
import torch.nn as nn

from codegen.cli.main import main
from tests.generated_module import load_module


def generate_from_state_dict(
    reference: nn.Module, tmp_path, capsys, *extra: str
) -> tuple[nn.Module, str]:
    """(the generated model, strictly loaded with the reference's weights, in eval mode; its
    source). `extra` are more generate arguments (`--calibrate`, `--data`, ...)."""
    ckpt, out = tmp_path / "weights.pt", tmp_path / "model.py"
    torch.save(reference.state_dict(), ckpt)
    assert main(["generate", str(ckpt), "-o", str(out), "--quiet", *extra]) == 0
    assert "internal error" not in capsys.readouterr().err
    model = load_module(out).RecoveredModel().eval()
    model.load_state_dict(reference.state_dict(), strict=True)
    return model, out.read_text()


def flagged(source: str) -> bool:
    """The file itself marks a class guessed or missing."""
    return bool(set(re.findall(r"Forward trust: (\w+)", source)) & {"guessed", "missing"})


def verdict(
    reference: nn.Module, model: nn.Module, source: str, x: torch.Tensor, script: bool = True
) -> str:
    """exact (same output to 1e-5; scripts too where `script`), flagged (differs or raises, and
    the file says so) or WRONG (differs and nothing says so)."""
    with torch.no_grad():
        expected = reference(x)
        try:
            got = model(x)
        except (NotImplementedError, RuntimeError):
            return "flagged" if flagged(source) else "WRONG"
    if got.shape == expected.shape and torch.allclose(got, expected, atol=1e-5, rtol=1e-5):
        if script:
            torch.jit.script(model)
        return "exact"
    return "flagged" if flagged(source) else "WRONG"


def assert_convs_keep_groups(
    reference: nn.Module, model: nn.Module, grouped_only: bool = False
) -> int:
    """Each of the reference's Conv2d (each grouped one, where `grouped_only`) is a Conv2d at the
    same path of the generated model with the same groups, channels and kernel (a depthwise
    [C, 1, k, k] weight loads into `Conv2d(1, C, k)` too, and means something else). Returns how
    many convs were compared."""
    ours = dict(model.named_modules())
    convs = [
        (path, conv)
        for path, conv in reference.named_modules()
        if isinstance(conv, nn.Conv2d) and (conv.groups > 1 or not grouped_only)
    ]
    for path, conv in convs:
        got = ours[path]
        assert isinstance(got, nn.Conv2d), path
        expected = (conv.groups, conv.in_channels, conv.out_channels, conv.kernel_size)
        assert (got.groups, got.in_channels, got.out_channels, got.kernel_size) == expected, path
    return len(convs)
