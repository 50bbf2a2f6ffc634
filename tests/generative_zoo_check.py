"""One verdict for a generative zoo model (tests/generative_zoo_*_models.py): generate its file from
the state dict alone (optionally with --calibrate on recorded outputs), load it strictly, and say
`exact`, `flagged` (differs or cannot run, and the file says a class is guessed or missing) or
`WRONG` (differs and nothing says so). Used by tests/test_generative_zoo_9.py and
benchmarks/bench_generative_zoo.py, so both judge the same way."""

from __future__ import annotations

from pathlib import Path

import torch

from codegen.cli.main import main
from tests.generated_module import load_module
from tests.zoo_verdicts import measured

# A candidate count alone, not generate's default clock: the verdict must not depend on the
# machine's load (a loaded machine stopped group_unet's and DCGAN's search short of exact).
BY_COUNT = ["--candidates", "600"]


def recorded(reference: torch.nn.Module, inputs: tuple, path: Path) -> list[str]:
    """Four fresh samples through the reference, saved as DATA; the --calibrate arguments."""
    torch.manual_seed(5)
    sample = torch.randn(4, *inputs[0].shape[1:])
    if inputs[0].is_floating_point() and 0 <= inputs[0].min() and inputs[0].max() <= 1:
        # the row feeds images in [0, 1] (zoo 23's UNIT_RANGE_INPUT): so do its samples
        sample = torch.sigmoid(sample)
    with torch.no_grad():
        if len(inputs) == 1:
            torch.save({"inputs": sample, "outputs": reference(sample)}, path)
            return ["--calibrate", str(path), *BY_COUNT]
        t = torch.tensor([1, 90, 400, 999])
        record = {"sample": sample, "timestep": t, "outputs": reference(sample, t)}
    torch.save(record, path)
    return [
        "--calibrate",
        str(path),
        "--inputs",
        "sample,timestep",
        "--target",
        "outputs",
        *BY_COUNT,
    ]


def generate(reference: torch.nn.Module, folder: Path, *extra: str) -> tuple[torch.nn.Module, str]:
    """The generated model (strict-loaded with the reference's weights) and its source."""
    ckpt, out = folder / "weights.pt", folder / "model.py"
    torch.save(reference.state_dict(), ckpt)
    code = main(["generate", str(ckpt), "-o", str(out), "--force", *extra])
    assert code in (0, 1), f"generate exited {code}"
    model = load_module(out).RecoveredModel().eval()
    model.load_state_dict(reference.state_dict(), strict=True)
    return model, out.read_text()


def keys_only(make, shape: tuple, folder: Path) -> tuple[str, float, str]:
    """A layout (`make()`, seeded, at unit scale) generated from its state dict alone: its
    verdict, max abs diff and generated source."""
    from tests.redraw import reference_and_input

    reference, x = reference_and_input(make, shape)
    model, source = generate(reference, folder, "--quiet")
    found, diff = verdict(reference, (x,), model, source)
    return found, diff, source


def verdict(reference, inputs, model, source) -> tuple[str, float]:
    """`exact` (and scripts), `flagged` or `WRONG`, with the largest difference."""
    return measured(reference, model, source, inputs)


def run(zoo, name: str, folder: Path, capsys, *extra: str) -> tuple[tuple[str, float], str]:
    """A zoo model generated from its state dict alone (never an internal error): its verdict
    and max abs diff, and the generated source."""
    reference, inputs = zoo.build(name)
    model, source = generate(reference, folder, *extra)
    assert "internal error" not in capsys.readouterr().err
    return verdict(reference, inputs, model, source), source


def check_listed(name: str, found: str, diff: float, exact: set[str]) -> None:
    """Exact where the zoo's test lists the model as exact, else flagged; never silently wrong."""
    assert found != "WRONG", f"{name}: differs by {diff:.3g} and nothing says so"
    if name in exact:
        assert found == "exact", f"{name}: max abs diff {diff:.3g}"
    else:
        assert found == "flagged", f"{name} is now exact: add it to EXACT"


def flagged_then_exact(reference, inputs: tuple, folder: Path, hint: str) -> None:
    """Flagged from the keys alone (never silently wrong), exact once `hint` (a hints.toml's
    text) pins what no key records, as calibration would."""
    model, source = generate(reference, folder, "--quiet")
    found, diff = verdict(reference, inputs, model, source)
    assert found == "flagged", f"{found}: {diff:.3g}"
    hints = folder / "hints.toml"
    hints.write_text(hint)
    model, source = generate(reference, folder, "--quiet", "--hints", str(hints))
    found, diff = verdict(reference, inputs, model, source)
    assert found == "exact", f"max abs diff {diff:.3g}"
