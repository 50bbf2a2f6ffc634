"""Reference models for the encoder patterns added for issue 15 (MPNet, RoFormer...): the
`transformers` library's own classes (a test dependency), built from tiny configs, returning the
last hidden state as the examples' harness compares. Imported only when the examples are asked for.
"""

from __future__ import annotations

import json

from codegen.patterns._kit import Example

TINY = dict(
    vocab_size=50,
    hidden_size=16,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=32,
    max_position_embeddings=32,
)


def example(name: str) -> Example:
    import torch
    import transformers as t

    torch.manual_seed(0)
    ids = torch.randint(2, 50, (2, 7))
    mask = torch.ones(2, 7, dtype=torch.long)
    mask[1, 5:] = 0
    if name == "mpnet":
        config, base = t.MPNetConfig(**TINY), t.MPNetModel
    elif name == "roformer":
        config, base = t.RoFormerConfig(**TINY, embedding_size=16), t.RoFormerModel
    elif name == "megatron_bert":
        config, base = t.MegatronBertConfig(**TINY), t.MegatronBertModel
    else:
        raise KeyError(name)

    class Reference(base):  # type: ignore[misc, valid-type]
        def forward(self, input_ids, attention_mask=None):  # type: ignore[override]
            out = super().forward(input_ids=input_ids, attention_mask=attention_mask)
            return out.last_hidden_state

    model = Reference(config).eval()
    with torch.no_grad():  # unit-scale weights: a wrong scale or order shows above the tolerance
        for n, p in model.named_parameters():
            if p.dim() >= 2:
                p.normal_(0, p[0].numel() ** -0.5)
            elif n.endswith("bias"):
                p.normal_(0, 0.1)
            else:
                p.normal_(1, 0.2)
    metadata = json.loads(config.to_json_string())
    return Example(
        model, (ids, mask), {k: v for k, v in metadata.items() if not isinstance(v, dict)}
    )
