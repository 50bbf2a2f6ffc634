"""The tiny configuration sizes the library-comparison tests and the family zoo
(benchmarks/_families.py) share: one home, so a family measured in the zoo and tested in a test
file is built the same way."""

TEXT = dict(vocab_size=100, num_hidden_layers=2, num_attention_heads=4, hidden_size=32)
DENSE = dict(**TEXT, intermediate_size=64, max_position_embeddings=64)
IMAGE = dict(
    image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=2, num_attention_heads=4
)
T5 = dict(vocab_size=100, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4)
BART = dict(  # decoder FFN narrower than the encoder's, so a swapped width cannot load
    vocab_size=100,
    d_model=32,
    encoder_layers=2,
    decoder_layers=2,
    encoder_attention_heads=4,
    decoder_attention_heads=4,
    encoder_ffn_dim=64,
    decoder_ffn_dim=48,
    max_position_embeddings=64,
)
AUDIO = dict(  # three feature-extractor convs, 400 samples -> 19 frames
    vocab_size=32,
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=64,
    conv_dim=(16, 16, 16),
    conv_stride=(5, 2, 2),
    conv_kernel=(10, 3, 3),
    num_conv_pos_embeddings=16,
    num_conv_pos_embedding_groups=4,
)
