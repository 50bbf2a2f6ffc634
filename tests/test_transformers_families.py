"""Transformer families from the `transformers` library, built from tiny configs in code: the file
generated from the Hugging Face folder (config.json + model.safetensors) strict-loads, computes the
library's own output (logits or last hidden state) to 1e-5, and scripts with TorchScript."""

from __future__ import annotations

import importlib.util
import logging

import pytest
import torch

transformers = pytest.importorskip("transformers")
from safetensors.torch import load_file  # noqa: E402

from codegen.cli.main import main  # noqa: E402
from tests.harness_support import run_json  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
logging.getLogger("transformers").setLevel(logging.ERROR)

SMALL = dict(vocab_size=100, num_hidden_layers=2, num_attention_heads=4)
FAMILIES = {
    "gpt2": lambda t: t.GPT2LMHeadModel(
        t.GPT2Config(vocab_size=100, n_positions=64, n_embd=32, n_layer=2, n_head=4)
    ),
    "gpt2_untied": lambda t: t.GPT2LMHeadModel(
        t.GPT2Config(
            vocab_size=100,
            n_positions=64,
            n_embd=48,
            n_layer=2,
            n_head=6,
            activation_function="relu",
            tie_word_embeddings=False,
        )
    ),
    "llama": lambda t: t.LlamaForCausalLM(
        t.LlamaConfig(**SMALL, hidden_size=32, intermediate_size=64, num_key_value_heads=2)
    ),
    "mistral": lambda t: t.MistralForCausalLM(
        t.MistralConfig(**SMALL, hidden_size=32, intermediate_size=64, num_key_value_heads=2)
    ),
    "qwen2": lambda t: t.Qwen2ForCausalLM(
        t.Qwen2Config(**SMALL, hidden_size=32, intermediate_size=64, num_key_value_heads=2)
    ),
    "llama_tied_theta": lambda t: t.LlamaForCausalLM(
        t.LlamaConfig(
            **SMALL,
            hidden_size=48,
            intermediate_size=40,
            tie_word_embeddings=True,
            rope_theta=500.0,
            hidden_act="gelu_pytorch_tanh",
        )
    ),
}


def build(name: str):
    torch.manual_seed(0)
    model = FAMILIES[name](transformers).eval()
    with torch.no_grad():  # biases start at zero: give them values so a wrong use shows
        for n, p in model.named_parameters():
            if n.endswith("bias"):
                p.normal_(0, 0.1)
    return model


def generate(tmp_path, model):
    folder = tmp_path / "hf"
    model.save_pretrained(folder)
    out = tmp_path / "model.py"
    assert main(["generate", str(folder), "-o", str(out)]) == 0
    spec = importlib.util.spec_from_file_location(f"gen_{id(out)}", out)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return folder, out, module


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_family_is_exact_from_the_folder(tmp_path, name):
    model = build(name)
    folder, out, module = generate(tmp_path, model)
    source = out.read_text()
    assert "NotImplementedError" not in source
    assert "config.json" in source  # the values taken from the config are cited
    ours = module.RecoveredModel().eval()
    ours.load_state_dict(load_file(folder / "model.safetensors"), strict=True)
    ids = torch.randint(0, 100, (2, 11))
    with torch.no_grad():
        theirs = model(input_ids=ids)
        want = theirs.logits if hasattr(theirs, "logits") else theirs.last_hidden_state
        torch.testing.assert_close(ours(ids), want, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(torch.jit.script(ours)(ids), want, atol=1e-5, rtol=1e-5)


def test_gpt2_conv1d_keeps_its_layout(tmp_path):
    """GPT-2's Conv1D stores weights [in, out]: never an nn.Linear, even where square."""
    _, out, _ = generate(tmp_path, build("gpt2"))
    source = out.read_text()
    assert "nn.Linear" not in source
    assert "x @ self.weight" in source and "weight is [in, out]" in source


def test_finetune_lm_head_on_generated_gpt2(capsys, tmp_path):
    torch.manual_seed(0)
    folder, out, _ = generate(tmp_path, FAMILIES["gpt2_untied"](transformers))
    capsys.readouterr()  # generate's own output
    ids = torch.randint(0, 100, (96, 8))
    torch.save({"input_ids": ids, "labels": ids}, tmp_path / "data.pt")
    code, summary, err = run_json(
        capsys,
        "finetune",
        folder,
        f"{out}:RecoveredModel",
        "--data",
        tmp_path / "data.pt",
        "--inputs",
        "input_ids",
        "--target",
        "labels",
        "--loss",
        "cross_entropy",
        "--train",
        "lm_head",
        "--epochs",
        "4",
        "--lr",
        "0.03",
        "--val-fraction",
        "0.25",
    )
    assert code == 0, err
    assert summary["final"] < summary["baseline"]
