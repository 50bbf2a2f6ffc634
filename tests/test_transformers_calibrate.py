"""Without config.json: the folder's weights alone leave heads, norm eps, rotary, the activation
and the tied head unrecorded. Each is a named choice; `generate --calibrate DATA` on the original's
recorded outputs settles them, and the file then reproduces the library's forward (atol 1e-5).

GPT-2 is the family that does not get there yet: its square `attn.c_proj` is stored transposed
(Hugging Face Conv1D) and nothing in the weights says so; the search stops in a local minimum and
says the file does not reproduce DATA (exit 1), never that it does."""

from __future__ import annotations

import importlib.util
import logging

import pytest
import torch

transformers = pytest.importorskip("transformers")
from safetensors.torch import load_file  # noqa: E402

from codegen.cli.main import main  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
logging.getLogger("transformers").setLevel(logging.ERROR)

SMALL = dict(vocab_size=50, num_hidden_layers=2, num_attention_heads=4, hidden_size=16)
FAMILIES = {
    "bert": lambda t: t.BertModel(
        t.BertConfig(**SMALL, intermediate_size=32, max_position_embeddings=16)
    ),
    "llama": lambda t: t.LlamaForCausalLM(
        t.LlamaConfig(**SMALL, intermediate_size=32, num_key_value_heads=2)
    ),
    "gpt2": lambda t: t.GPT2LMHeadModel(
        t.GPT2Config(vocab_size=50, n_positions=16, n_embd=16, n_layer=2, n_head=4)
    ),
}
EXACT = ("bert", "llama")


def _recorded(tmp_path, name):
    torch.manual_seed(0)
    model = FAMILIES[name](transformers).eval()
    folder = tmp_path / "hf"
    model.save_pretrained(folder)
    (folder / "config.json").unlink()
    ids = torch.randint(0, 50, (8, 7))
    with torch.no_grad():
        out = model(input_ids=ids)
    want = out.logits if hasattr(out, "logits") else out.last_hidden_state
    torch.save({"inputs": ids, "outputs": want}, tmp_path / "data.pt")
    return model, folder, ids, want


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_calibration_settles_what_the_weights_do_not_record(tmp_path, capsys, name):
    model, folder, ids, want = _recorded(tmp_path, name)
    out = tmp_path / "model.py"
    code = main(["generate", str(folder), "-o", str(out), "--calibrate", str(tmp_path / "data.pt")])
    printed = capsys.readouterr()
    if name not in EXACT:
        assert code == 1 and "does not reproduce" in printed.out + printed.err
        return
    assert code == 0, printed.out + printed.err
    source = out.read_text()
    assert "calibrated" in source and "NotImplementedError" not in source
    spec = importlib.util.spec_from_file_location(f"cal_{name}", out)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    ours = module.RecoveredModel().eval()
    ours.load_state_dict(load_file(folder / "model.safetensors"), strict=True)
    torch.manual_seed(2)
    fresh = torch.randint(0, 50, (3, 9))  # not the recorded inputs
    with torch.no_grad():
        got, expected = ours(fresh), model(input_ids=fresh)
        expected = expected.logits if hasattr(expected, "logits") else expected.last_hidden_state
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(torch.jit.script(ours)(fresh), expected, atol=1e-5, rtol=1e-5)
