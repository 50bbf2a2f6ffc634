"""Real architectures from a widely used library, built from tiny configs in code (no downloads)."""

from __future__ import annotations

import re

import pytest
import torch

from codegen.generate import generate_source
from codegen.load import open_checkpoint

transformers = pytest.importorskip("transformers")

CONFIGS = {
    "bert": lambda T: T.BertModel(
        T.BertConfig(
            vocab_size=99,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=64,
            max_position_embeddings=40,
        )
    ),
    "gpt2": lambda T: T.GPT2LMHeadModel(
        T.GPT2Config(
            vocab_size=99,
            n_embd=32,
            n_layer=2,
            n_head=4,
            n_positions=40,
            bos_token_id=0,
            eos_token_id=0,
        )
    ),
    "llama": lambda T: T.LlamaForCausalLM(
        T.LlamaConfig(
            vocab_size=99,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            intermediate_size=64,
        )
    ),
    "t5": lambda T: T.T5ForConditionalGeneration(
        T.T5Config(vocab_size=99, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4)
    ),
    "vit": lambda T: T.ViTModel(
        T.ViTConfig(
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=64,
            image_size=16,
            patch_size=4,
        )
    ),
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_library_model_strict_loads(name, tmp_path):
    torch.manual_seed(0)
    model = CONFIGS[name](transformers).eval()
    state = model.state_dict()
    torch.save(state, tmp_path / "w.pt")
    source, ir = generate_source(open_checkpoint(tmp_path / "w.pt").table)
    namespace: dict = {"__name__": "generated"}
    exec(compile(source, "model.py", "exec"), namespace)
    namespace["RecoveredModel"]().load_state_dict(state, strict=True)
    if name == "t5":
        # Recognised whole (its relative position table has one column per head); what the
        # weights cannot say (norm kind, score scale, activation, eps) is listed as defaults.
        defaults = source.split("left at defaults", 1)[1].split('"""', 1)[0]
        assert all(v in defaults for v in ("activation", "eps", "layer types", "scale"))
        return
    # Attention is never passed off as a chain of projections: the gap is named instead.
    assert "raise NotImplementedError" in source and ir.warnings
    # GPT-2 packs q, k, v into one Conv1D-style parameter pair instead.
    if name != "gpt2":
        said = re.sub(r'"\s*\n\s*"', "", source)  # a long message wraps as adjacent literals
        assert (
            "an attention whose heads, scaling and masking the checkpoint does not record" in said
        )
