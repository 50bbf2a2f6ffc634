"""The attribute names of an attention that reads another stack's states (a decoder layer's
encoder attention, a BERT-style layer's `crossattention`): one leaf module, so the layer patterns
and the attention patterns can both read it without importing each other."""

CROSS = (
    r"encoder_attn|cross_attn|crossattention|cross_attention|encdec_attn|src_attn|EncDecAttention"
)
