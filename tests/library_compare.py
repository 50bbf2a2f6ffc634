"""What the encoder tests share: a padded batch of token ids, a library model at unit scale, and
the checks that a generated file is trusted and computes the library's output, scripted too."""

from __future__ import annotations

import logging
from typing import Any, Callable

import torch

from tests.redraw import unit_scale


def text_inputs(model: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Two sequences of 11 token ids, the second padded after 7, and their attention mask."""
    torch.manual_seed(1)
    ids = torch.randint(2, 100, (2, 11))
    mask = torch.ones(2, 11, dtype=torch.long)
    mask[1, 7:] = 0
    ids[1, 7:] = model.config.pad_token_id or 0
    return ids, mask


def build(factory: Callable[[Any], torch.nn.Module]) -> torch.nn.Module:
    """`factory(transformers)`, seeded, its weights redrawn at unit scale."""
    import transformers

    torch.manual_seed(0)
    return unit_scale(factory(transformers))


def assert_exact(ours: torch.nn.Module, want: torch.Tensor, *args: Any) -> None:
    with torch.no_grad():
        torch.testing.assert_close(ours(*args), want, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(torch.jit.script(ours)(*args), want, atol=1e-5, rtol=1e-5)


def assert_causal_lm_exact(reference: torch.nn.Module, ours: torch.nn.Module) -> None:
    """A causal LM's logits at the real tokens of text_inputs() (padding after them cannot change
    them) equal the library's, and the scripted file's equal its own."""
    ids, mask = text_inputs(reference)
    with torch.no_grad():
        want = reference(input_ids=ids, attention_mask=mask).logits
        got = ours(ids, mask)
    torch.testing.assert_close(got[mask.bool()], want[mask.bool()], atol=1e-5, rtol=1e-5)
    assert_exact(ours, got, ids, mask)  # scripted: the same numbers


def assert_trusted(source: str) -> None:
    """No class is missing, and none is guessed but one the model never runs (analyze/unrun.py:
    its own forward joins paths its parent reads otherwise, so nothing the model gives checks it).
    """
    assert "NotImplementedError" not in source
    assert "Forward trust: missing" not in source
    guessed = [c for c in source.split("\nclass ")[1:] if "Forward trust: guessed" in c]
    assert all("the model never runs this forward" in " ".join(c.split()) for c in guessed)


def generate_for(tmp_path: Any, model_cls: str, config_cls: str, config: dict) -> tuple:
    """The library's `model_cls(config_cls(**config))` at unit scale, and the model generated from
    its saved folder, strict-loaded: (reference, ours, source)."""
    import transformers

    from tests.generated_module import generate_from_folder

    torch.manual_seed(0)
    reference = getattr(transformers, model_cls)(getattr(transformers, config_cls)(**config))
    reference = unit_scale(reference.eval())
    logging.disable(logging.WARNING)
    try:
        source, ours = generate_from_folder(tmp_path, reference, "--quiet")
    finally:
        logging.disable(logging.NOTSET)
    return reference, ours, source


def generate_from_trainer_dict(tmp_path: Any, reference: torch.nn.Module, config: Any) -> tuple:
    """The model generated from a trainer's `{"state_dict", "config"}` file of `reference` (a
    library module with no folder of its own), strict-loaded: (ours, source)."""
    from codegen.generate import generate_source
    from codegen.load import open_checkpoint
    from tests.generated_module import load_module

    path = tmp_path / "weights.pt"
    torch.save({"state_dict": reference.state_dict(), "config": config.to_dict()}, path)
    logging.disable(logging.WARNING)
    try:
        source, _ = generate_source(open_checkpoint(path).table)
    finally:
        logging.disable(logging.NOTSET)
    (tmp_path / "model.py").write_text(source)
    ours = load_module(tmp_path / "model.py").RecoveredModel().eval()
    ours.load_state_dict(reference.state_dict(), strict=True)
    return ours, source
