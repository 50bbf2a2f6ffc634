"""The example the HRM patterns share (gate_fused_attention.py, hierarchical_recurrent.py): the
library's own HrmTextForCausalLM from a tiny config, its weights in the layout it saves (one
`gqkv_proj` per attention, one `gate_up_proj` per MLP), its logits the reference."""

from __future__ import annotations

from codegen.patterns._kit import Example


def hrm_example() -> Example:
    import json
    import tempfile
    from pathlib import Path

    import torch
    import torch.nn as nn
    import transformers as t
    from safetensors.torch import load_file

    sizes = dict(vocab_size=50, hidden_size=16, intermediate_size=32, num_hidden_layers=1)
    config = t.HrmTextConfig(
        **sizes,
        num_attention_heads=2,
        head_dim=8,
        H_cycles=2,
        L_cycles=2,
        max_position_embeddings=32,
        embedding_scale=3.0,
    )
    torch.manual_seed(0)
    library = t.HrmTextForCausalLM(config).eval()
    with torch.no_grad():  # unit-scale weights: a wrong step shows above the tolerance
        for p in library.parameters():
            p.normal_(0, p[0].numel() ** -0.5) if p.dim() >= 2 else p.normal_(0, 1)
    with tempfile.TemporaryDirectory() as folder:
        library.save_pretrained(folder)
        saved = load_file(next(Path(folder).glob("*.safetensors")))

    class Saved(nn.Module):
        """The saved keys, the library's forward."""

        def __init__(self) -> None:
            super().__init__()
            self._library = [library]  # not a submodule: its keys are not the saved ones
            for key, value in saved.items():
                *path, leaf = key.split(".")
                m: nn.Module = self
                for part in path:
                    if part not in m._modules:
                        m.add_module(part, nn.Module())
                    m = m._modules[part]
                m.register_parameter(leaf, nn.Parameter(value.clone()))

        def forward(self, ids):
            return self._library[0](input_ids=ids).logits

    metadata = json.loads(config.to_json_string())
    metadata["architectures"] = ["HrmTextForCausalLM"]
    return Example(
        Saved(),
        (torch.randint(0, 50, (2, 7)),),
        {k: v for k, v in metadata.items() if not isinstance(v, dict)},
    )
