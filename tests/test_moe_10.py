"""Mixture-of-experts routers read by named conventions (patterns/_router_conventions.py), and
decoders that rotate only their windowed layers, decayed linear attention (MiniMax) and ImageGPT,
from a Hugging Face folder, compared with the library's forward (moe10).

Each config differs from its library default where the mechanism has a choice: the scaling factor
under each family's own key, renormalising on or off, the expert bias switched on or off, muP's
input scaling, and a sliding window shorter than the input beside full layers that do not rotate.
The generated file must match (atol 1e-5), script, and claim no 'guessed' block.
"""

from __future__ import annotations

import logging

import pytest
import torch
import transformers

from tests.generated_module import generate_from_folder
from tests.redraw import unit_scale
from tests.tiny_configs import DENSE

logging.getLogger("transformers").setLevel(logging.ERROR)

THREE = {**DENSE, "num_hidden_layers": 3, "num_key_value_heads": 2}
EXPERTS = dict(moe_intermediate_size=16, num_experts=4, num_experts_per_tok=2)


def _build(config: str, model: str, **kw):
    def build():
        return getattr(transformers, model)(getattr(transformers, config)(**{**THREE, **kw}))

    return build


FAMILIES = {
    # sigmoid scores steered by expert_bias on the mixture, always renormalised, route_scale;
    # muP's input scaling; rotary on the windowed layers only (window 4 < 9 tokens)
    "afmoe": _build(
        "AfmoeConfig",
        "AfmoeForCausalLM",
        **EXPERTS,
        head_dim=8,
        num_dense_layers=1,
        num_shared_experts=1,
        global_attn_every_n_layers=2,
        sliding_window=4,
        route_scale=2.5,
        mup_enabled=True,
    ),
    # sigmoid scores, the correction bias on the mixture, router_scaling_factor, a shared expert
    "hy_v3": _build(
        "HYV3Config",
        "HYV3ForCausalLM",
        **EXPERTS,
        head_dim=8,
        num_shared_experts=1,
        router_scaling_factor=1.7,
    ),
    # sigmoid scores and its expert bias, renormalised and scaled, conv and attention layers
    "lfm2_moe": _build(
        "Lfm2MoeConfig",
        "Lfm2MoeForCausalLM",
        **EXPERTS,
        num_dense_layers=1,
        layer_types=["conv", "full_attention", "conv"],
        routed_scaling_factor=1.5,
    ),
    # the same without the expert bias, its weights not renormalised
    "lfm2_moe_plain": _build(
        "Lfm2MoeConfig",
        "Lfm2MoeForCausalLM",
        **EXPERTS,
        num_dense_layers=0,
        layer_types=["full_attention", "conv", "conv"],
        use_expert_bias=False,
        norm_topk_prob=False,
    ),
    # Cohere 2: interleaved rotary on the windowed layers only, window 4 beside a full layer
    "cohere2_windowed": _build(
        "Cohere2Config",
        "Cohere2ForCausalLM",
        sliding_window=4,
        layer_types=["sliding_attention", "full_attention", "sliding_attention"],
    ),
    # EXAONE 4's hybrid stack: "global NoPE", full layers unrotated beside windowed ones
    "exaone4_hybrid": _build(
        "Exaone4Config",
        "Exaone4ForCausalLM",
        num_hidden_layers=4,
        sliding_window=4,
        sliding_window_pattern=2,
    ),
    # MiniMax: decayed linear ("lightning") attention beside softmax attention, each layer's
    # branches added to its normed input, a softmax router renormalised; blocks of 2 < 9 tokens
    "minimax": _build(
        "MiniMaxConfig",
        "MiniMaxForCausalLM",
        head_dim=8,
        num_local_experts=4,
        num_experts_per_tok=2,
        layer_types=["linear_attention", "full_attention", "linear_attention"],
        block_size=2,
    ),
    # JetMoE: mixture of attention heads (routed query and output projections, shared keys and
    # values) and a mixture of experts in banks with an output bias; 3 of 4 experts chosen
    "jetmoe": lambda: transformers.JetMoeForCausalLM(
        transformers.JetMoeConfig(
            vocab_size=100,
            hidden_size=32,
            num_hidden_layers=2,
            num_key_value_heads=2,
            kv_channels=8,
            intermediate_size=48,
            max_position_embeddings=64,
            num_local_experts=4,
            num_experts_per_tok=3,
        )
    ),
    # ImageGPT: GPT-2's blocks whose lone-weight norms are RMSNorms (no mean, no bias), its head
    # one row short of the vocabulary; and the bare model with a GELU MLP
    "imagegpt": lambda: transformers.ImageGPTForCausalImageModeling(
        transformers.ImageGPTConfig(vocab_size=101, n_positions=64, n_embd=32, n_layer=2, n_head=4)
    ),
    "imagegpt_bare": lambda: transformers.ImageGPTModel(
        transformers.ImageGPTConfig(
            vocab_size=101,
            n_positions=64,
            n_embd=32,
            n_layer=3,
            n_head=2,
            activation_function="gelu",
        )
    ),
}


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_moe_10_family_is_exact(tmp_path, name):
    torch.manual_seed(0)
    model = unit_scale(FAMILIES[name]().eval())
    source, ours = generate_from_folder(tmp_path, model)
    ids = torch.randint(0, DENSE["vocab_size"], (2, 9))
    with torch.no_grad():
        out = model(input_ids=ids)
        want = out.logits if hasattr(out, "logits") else out.last_hidden_state
        got = ours(ids)
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(torch.jit.script(ours)(ids), want, atol=1e-5, rtol=1e-4)
    trust = " ".join(source.split("Values the checkpoint")[0].split())
    assert "guessed" not in trust and "missing" not in trust, trust


def test_expert_bias_switch_must_agree_with_the_checkpoint(tmp_path):
    """use_expert_bias true while the checkpoint holds no bias: the key is left unused, and the
    file says it is guessed rather than route without it silently."""
    import json

    torch.manual_seed(0)
    model = unit_scale(FAMILIES["lfm2_moe_plain"]().eval())
    folder = tmp_path / "hf"
    model.save_pretrained(folder)
    config = json.loads((folder / "config.json").read_text())
    config["use_expert_bias"] = True
    (folder / "config.json").write_text(json.dumps(config))
    from codegen.cli.main import main

    out = tmp_path / "model.py"
    assert main(["generate", str(folder), "-o", str(out), "--quiet"]) == 0
    source = out.read_text()
    assert "use_expert_bias" in source and "Forward trust: guessed" in source
