"""More decoder families from the `transformers` library (issue 15), built from tiny configs in
code: the file generated from the Hugging Face folder strict-loads and computes the library's
logits to 1e-5, eagerly and under TorchScript, with every weight redrawn at unit scale first (so
a wrong eps, norm offset or rotary layout shows above the tolerance).

What each adds: BioGPT (the eps its code fixes, not config.json's; scaled embeddings; position
offset), XGLM (sinusoidal positions), Persimmon (per-head qk LayerNorm on a fused projection,
squared ReLU), Nemotron (LayerNorm scaling by 1 + weight), Cohere (one shared norm, interleaved
rotary, logit_scale), Mixtral and OLMoE (sparse mixture of experts), Gemma 2, GPT-Neo and Qwen2
with sliding windows on some layers only."""

from __future__ import annotations

import json
import logging
import re

import pytest
import torch

transformers = pytest.importorskip("transformers")

from codegen.cli.main import main  # noqa: E402
from tests.generated_module import generate_from_folder as generate  # noqa: E402
from tests.tiny_configs import DENSE  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
logging.getLogger("transformers").setLevel(logging.ERROR)

FOUR_LAYERS = {**DENSE, "num_hidden_layers": 4}
FAMILIES = {
    "biogpt": lambda t: t.BioGptForCausalLM(t.BioGptConfig(**DENSE)),
    "xglm": lambda t: t.XGLMForCausalLM(
        t.XGLMConfig(
            vocab_size=100,
            max_position_embeddings=64,
            d_model=32,
            num_layers=2,
            attention_heads=4,
            ffn_dim=64,
        )
    ),
    "persimmon": lambda t: t.PersimmonForCausalLM(t.PersimmonConfig(**DENSE)),
    "nemotron": lambda t: t.NemotronForCausalLM(t.NemotronConfig(**DENSE, num_key_value_heads=2)),
    "cohere": lambda t: t.CohereForCausalLM(t.CohereConfig(**DENSE, num_key_value_heads=2)),
    "mixtral": lambda t: t.MixtralForCausalLM(
        t.MixtralConfig(**DENSE, num_key_value_heads=2, num_local_experts=4)
    ),
    "mixtral_top1": lambda t: t.MixtralForCausalLM(
        t.MixtralConfig(**DENSE, num_key_value_heads=2, num_local_experts=4, num_experts_per_tok=1)
    ),
    "olmoe": lambda t: t.OlmoeForCausalLM(  # experts' weights not renormalised; qk-norm
        t.OlmoeConfig(**DENSE, num_experts=4, num_experts_per_tok=2)
    ),
    "qwen2_moe": lambda t: t.Qwen2MoeForCausalLM(  # a shared expert beside the routed ones
        t.Qwen2MoeConfig(
            **DENSE,
            num_key_value_heads=2,
            num_experts=4,
            num_experts_per_tok=2,
            moe_intermediate_size=16,
            shared_expert_intermediate_size=32,
        )
    ),
    "smollm3": lambda t: t.SmolLM3ForCausalLM(  # a rope_theta (2e6) beyond the usual ones
        t.SmolLM3Config(**DENSE, num_key_value_heads=2, pad_token_id=0)
    ),
    "gemma2_window": lambda t: t.Gemma2ForCausalLM(  # windowed and full layers alternate
        t.Gemma2Config(**FOUR_LAYERS, num_key_value_heads=2, head_dim=8, sliding_window=4)
    ),
    "gpt_neo_local": lambda t: t.GPTNeoForCausalLM(  # global and local layers alternate
        t.GPTNeoConfig(
            vocab_size=100,
            max_position_embeddings=64,
            hidden_size=32,
            num_layers=4,
            num_heads=4,
            attention_types=[[["global", "local"], 2]],
            window_size=4,
        )
    ),
    "qwen2_window": lambda t: t.Qwen2ForCausalLM(  # full first layer, then windowed ones
        t.Qwen2Config(
            **FOUR_LAYERS,
            num_key_value_heads=2,
            use_sliding_window=True,
            sliding_window=4,
            max_window_layers=1,
        )
    ),
}
WINDOWED = ("gemma2_window", "gpt_neo_local", "qwen2_window")


def build(name: str):
    torch.manual_seed(0)
    model = FAMILIES[name](transformers).eval()
    with torch.no_grad():  # libraries start norms at one and biases at zero: move them
        for n, p in model.named_parameters():
            if p.dim() >= 2:
                p.normal_(0, p[0].numel() ** -0.5)
            elif n.endswith("bias"):
                p.normal_(0, 0.1)
            else:
                p.normal_(1, 0.2)
    return model


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_decoder_family_is_exact_from_the_folder(tmp_path, name):
    model = build(name)
    source, ours = generate(tmp_path, model)
    # Nothing guessed or missing, and every forward-changing config.json value was used.
    assert "NotImplementedError" not in source
    assert "Forward trust: guessed" not in source and "does not use" not in source
    torch.manual_seed(1)
    ids = torch.randint(2, 100, (2, 11))
    with torch.no_grad():
        want = model(input_ids=ids).logits
        torch.testing.assert_close(ours(ids), want, atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(torch.jit.script(ours)(ids), want, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name", WINDOWED)
def test_per_layer_windows_with_padding(tmp_path, name):
    """Each layer's window comes from config.json's list, one class for all layers; a padded batch
    gives the library's logits on its real tokens, padded on either side (a query with nothing
    to attend to does not spread NaN)."""
    model = build(name)
    source, ours = generate(tmp_path, model)
    assert re.search(r"for layer, window in zip\(self\.\w+, \(\d", source)
    torch.manual_seed(1)
    ids = torch.randint(2, 100, (2, 11))
    scripted = torch.jit.script(ours)
    for real in (slice(0, 5), slice(4, 11)):  # padded on the right, then on the left
        mask = torch.zeros(2, 11, dtype=torch.long)
        mask[0], mask[1, real] = 1, 1
        with torch.no_grad():
            want = model(input_ids=ids, attention_mask=mask).logits
            for got in (ours(ids, mask), scripted(ids, mask)):
                assert not got.isnan().any()
                torch.testing.assert_close(got[0], want[0], atol=1e-5, rtol=1e-4)
                torch.testing.assert_close(got[1, real], want[1, real], atol=1e-5, rtol=1e-4)


def test_mixture_reads_its_routing_from_the_config(tmp_path):
    """top-k and renormalisation are config.json's (num_experts_per_tok, norm_topk_prob), cited."""
    source, _ = generate(tmp_path, build("olmoe"))
    flat = " ".join(source.split())
    assert "top_k (config.json num_experts_per_tok)" in flat
    assert "normalize_top_k (config.json norm_topk_prob)" in flat
    assert re.search(r"top_k_routing\( ?self\.gate\(x\), 2, False ?\)", flat)


def test_rotary_layout_of_an_unknown_family_is_flagged(tmp_path):
    """A rotary family the catalogue has not checked (LLaMA's config under another model_type):
    its feature pairing is a default, so the attention says 'guessed' and names the choice."""
    model = transformers.LlamaForCausalLM(transformers.LlamaConfig(**DENSE)).eval()
    folder = tmp_path / "hf"
    model.save_pretrained(folder)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "model_type": "llama_like"}))
    out = tmp_path / "model.py"
    assert main(["generate", str(folder), "-o", str(out)]) == 0
    flat = " ".join(out.read_text().split())
    assert "Forward trust: guessed: model_type 'llama_like' is not known" in flat
    assert "hint rotary_layout" in flat


def test_full_layers_without_rotary_are_written(tmp_path):
    """Cohere 2 rotates only its windowed layers' queries and keys: with a full-attention layer
    among them the file gives full layers no rotary (width 0; moe10) and computes the library's
    output, where it once said its attention was guessed."""
    config = transformers.Cohere2Config(**FOUR_LAYERS, num_key_value_heads=2, sliding_window=4)
    model = transformers.Cohere2ForCausalLM(config).eval()
    source, ours = generate(tmp_path, model)
    assert "none: these layers do not rotate" in source
    assert "skips rotary on its full-attention layers" not in " ".join(source.split())
    ids = torch.randint(0, DENSE["vocab_size"], (2, 9))
    with torch.no_grad():
        torch.testing.assert_close(ours(ids), model(input_ids=ids).logits, atol=1e-5, rtol=1e-4)


def test_squared_relu_is_one_activation_of_the_vocabulary():
    from codegen.patterns import _activations as act

    assert act.ALIASES["relu2"] == "relu_squared" and "relu_squared" in act.TRANSFORMER
