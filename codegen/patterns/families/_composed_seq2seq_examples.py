"""Reference models for families/composed_seq2seq.py: the `transformers` library's
EncoderDecoderModel (a BERT encoder and a BERT decoder with cross-attention, built from tiny
configs), returning its logits. Imported only when the examples are asked for."""

from __future__ import annotations

from codegen.patterns._kit import Example


def examples() -> list[Example]:
    import torch
    import transformers as t

    from codegen.patterns.blocks._encoder_examples import TINY

    encoder = t.BertConfig(**TINY)
    decoder = t.BertConfig(**TINY, is_decoder=True, add_cross_attention=True)
    config = t.EncoderDecoderConfig.from_encoder_decoder_configs(encoder, decoder)

    class Bert2Bert(t.EncoderDecoderModel):
        def forward(self, input_ids, decoder_input_ids, attention_mask=None):  # type: ignore[override]
            out = super().forward(
                input_ids=input_ids,
                attention_mask=attention_mask,
                decoder_input_ids=decoder_input_ids,
            )
            return out.logits

    torch.manual_seed(0)
    model = Bert2Bert(config).eval()
    ids = torch.randint(2, 50, (2, 7))
    mask = torch.ones(2, 7, dtype=torch.long)
    mask[1, 5:] = 0
    return [Example(model, (ids, ids[:, :5], mask), config.to_dict())]
