"""Reference models for the encoder-decoder patterns' examples: the `transformers` library's own
T5 / BART / Whisper (a test dependency), built from tiny configs, returning one tensor as the
examples' harness compares. Imported only when the examples are asked for."""

from __future__ import annotations

from codegen.patterns._kit import Example


def example(name: str) -> Example:
    import torch
    import transformers as t

    torch.manual_seed(0)
    ids = torch.randint(2, 50, (2, 7))
    mask = torch.ones(2, 7, dtype=torch.long)
    mask[1, 5:] = 0
    if name in ("t5", "t5_stack_embeds", "t5_gated"):
        config = t.T5Config(
            vocab_size=50,
            d_model=16,
            d_kv=4,
            d_ff=32,
            num_layers=2,
            num_heads=4,
            relative_attention_num_buckets=8,
            relative_attention_max_distance=16,
            feed_forward_proj="gated-gelu" if name == "t5_gated" else "relu",
        )

        class T5Encoder(t.T5EncoderModel):
            def forward(self, input_ids, attention_mask=None):  # type: ignore[override]
                out = super().forward(input_ids=input_ids, attention_mask=attention_mask)
                return out.last_hidden_state

        model = T5Encoder(config).eval()
        metadata = config.to_dict()
        return Example(model, (ids, mask), _json(metadata))
    if name in ("umt5", "t5_model", "t5_lm", "umt5_model"):
        umt5 = name.startswith("umt5")
        config = (t.UMT5Config if umt5 else t.T5Config)(**T5, feed_forward_proj="gated-gelu")
        if name == "umt5":
            base = t.UMT5EncoderModel
        elif name == "t5_lm":
            base = t.T5ForConditionalGeneration
        else:
            base = t.UMT5Model if umt5 else t.T5Model

        class T5Like(base):
            def forward(self, input_ids, attention_mask=None, decoder_input_ids=None):  # type: ignore[override]
                kw = {} if decoder_input_ids is None else {"decoder_input_ids": decoder_input_ids}
                out = super().forward(input_ids=input_ids, attention_mask=attention_mask, **kw)
                return out.logits if hasattr(out, "logits") else out.last_hidden_state

        model = T5Like(config).eval()
        args = (ids, mask) if name == "umt5" else (ids, mask, ids[:, :5])
        return Example(model, args, _json(config.to_dict()))
    if name == "bart":
        config = t.BartConfig(**BART, scale_embedding=True)

        class Bart(t.BartModel):
            def forward(self, input_ids, attention_mask=None, decoder_input_ids=None):  # type: ignore[override]
                out = super().forward(
                    input_ids=input_ids,
                    attention_mask=attention_mask,
                    decoder_input_ids=decoder_input_ids,
                )
                return out.last_hidden_state

        model = Bart(config).eval()
        return Example(model, (ids, mask, ids[:, :5]), _json(config.to_dict()))
    if name == "bart_lm":
        config = t.BartConfig(**BART)

        class BartLM(t.BartForConditionalGeneration):
            def forward(self, input_ids, attention_mask=None, decoder_input_ids=None):  # type: ignore[override]
                out = super().forward(
                    input_ids=input_ids,
                    attention_mask=attention_mask,
                    decoder_input_ids=decoder_input_ids,
                )
                return out.logits

        model = BartLM(config).eval()
        with torch.no_grad():
            model.final_logits_bias.normal_()  # zeros at first: move it so a wrong use shows
        return Example(model, (ids, mask, ids[:, :5]), _json(config.to_dict()))
    if name == "whisper":
        config = t.WhisperConfig(**WHISPER)

        class Whisper(t.WhisperModel):
            def forward(self, input_features, decoder_input_ids):  # type: ignore[override]
                out = super().forward(
                    input_features=input_features, decoder_input_ids=decoder_input_ids
                )
                return out.last_hidden_state

        model = Whisper(config).eval()
        features = torch.randn(2, config.num_mel_bins, 2 * config.max_source_positions)
        return Example(model, (features, ids[:, :5]), _json(config.to_dict()))
    raise KeyError(name)


BART = dict(
    vocab_size=50,
    d_model=16,
    encoder_layers=2,
    decoder_layers=2,
    encoder_attention_heads=4,
    decoder_attention_heads=4,
    encoder_ffn_dim=32,
    decoder_ffn_dim=32,
    max_position_embeddings=32,
)
T5 = dict(
    vocab_size=50,
    d_model=16,
    d_kv=4,
    d_ff=32,
    num_layers=2,
    num_heads=4,
    relative_attention_num_buckets=8,
    relative_attention_max_distance=16,
)
WHISPER = dict(
    BART,
    num_mel_bins=8,
    max_source_positions=8,
    max_target_positions=16,
    pad_token_id=0,
    bos_token_id=1,
    eos_token_id=2,
    decoder_start_token_id=1,
    suppress_tokens=None,
    begin_suppress_tokens=None,
)
WHISPER.pop("max_position_embeddings")


def reading_states_example(model_class, config, states_width: int):
    """An Example of `model_class` (reading_states()) from `config`: 7 token ids of a 50-token
    vocabulary, the second sequence padded after 5, reading 5 states `states_width` wide."""
    import torch

    from codegen.patterns._kit import Example

    ids = torch.randint(2, 50, (2, 7))
    mask = torch.ones(2, 7, dtype=torch.long)
    mask[1, 5:] = 0
    states = torch.randn(2, 5, states_width)
    model = reading_states(model_class)(config).eval()
    return Example(model, (ids, mask, states), _json(config.to_dict()))


def reading_states(model_class):
    """`model_class` (a library text model) called as (input_ids, attention_mask, encoder's
    states), returning its last hidden state: a decoder given cross-attention, as tests call it."""

    class ReadingStates(model_class):
        def forward(  # type: ignore[override]
            self, input_ids, attention_mask=None, encoder_hidden_states=None
        ):
            out = super().forward(
                input_ids=input_ids,
                attention_mask=attention_mask,
                encoder_hidden_states=encoder_hidden_states,
            )
            return out.last_hidden_state

    return ReadingStates


def _json(config: dict) -> dict:
    """The config as config.json holds it: plain values only."""
    return {k: v for k, v in config.items() if isinstance(v, (int, float, str, bool, list))}
