"""Which config.json keys a choice reads: the spellings the pattern making it declares."""

from codegen.choices import ChoiceResolver

UNION = {"nhead": ("num_attention_heads", "encoder_attention_heads")}  # two patterns' spellings


def _resolver() -> ChoiceResolver:
    return ChoiceResolver(metadata={"encoder_attention_heads": 8}, synonyms=UNION)


def test_a_pattern_reads_only_the_spellings_it_declares():
    """Self-attention's head count is not the encoder's cross-attention head count, although a
    cross-attention pattern spells its own `nhead` that way."""
    resolver = _resolver()
    with resolver.within({"nhead": ("num_attention_heads",)}):
        choice = resolver.choose("layers.0.attn", "nhead", 4, [8])
    assert (choice.value, choice.source) == (4, "default")
    assert "encoder_attention_heads" not in resolver.consumed


def test_the_innermost_declaring_pattern_decides():
    resolver = _resolver()
    with resolver.within({"nhead": ("encoder_attention_heads",)}):
        with resolver.within({"eps": ("layer_norm_eps",)}):  # an inner pattern silent on nhead
            choice = resolver.choose("layers.0.cross", "nhead", 4, [8])
    assert (choice.value, choice.source) == (8, "metadata")
    assert "encoder_attention_heads" in resolver.consumed


def test_outside_any_declaring_pattern_every_declared_spelling_counts():
    choice = _resolver().choose("layers.0.attn", "nhead", 4, [8])
    assert choice.value == 8
