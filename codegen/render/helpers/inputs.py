"""What a model builds from its inputs before the first layer and picks from its outputs
after the last: position ids counted past padding, token types, layout boxes and table cells,
decoder inputs shifted right, the last or end-of-sequence token, appended region features, and
CLIP's image-text similarity logits.
"""

from __future__ import annotations

# What these helpers' own text uses beyond torch (codegen/render/helpers/__init__.py).
HELPER_IMPORTS: dict[str, tuple[str, ...]] = {
    "fairseq_padded_positions": ("F", "helper:fairseq_positions", "helper:padded_positions"),
    "fairseq_decoder_inputs": (),
    "append_regions": ("F",),  # enc9: VisualBERT's visual tokens
}
HELPERS: dict[str, str] = {
    "fairseq_padded_positions": '''
def fairseq_padded_positions(input_ids: torch.Tensor, padding_idx: int, dim: int) -> torch.Tensor:
    """[batch, seq, dim] fairseq's fixed sinusoidal positions (computed, not stored), numbered
    from padding_idx + 1 over the real tokens; padding gets the row of zeros at padding_idx."""
    positions = padded_positions(input_ids, padding_idx)
    table = fairseq_positions(padding_idx + 1 + input_ids.size(1), dim, 0, input_ids.device)
    table[padding_idx] = 0.0
    return F.embedding(positions, table)
''',
    "fairseq_decoder_inputs": '''
def fairseq_decoder_inputs(
    decoder_input_ids: torch.Tensor | None, input_ids: torch.Tensor, pad_token_id: int
) -> torch.Tensor:
    """The decoder's ids as given, or else fairseq's: the input ids shifted one to the right, each
    row's last real token (its end of sentence) wrapped round to the front."""
    if decoder_input_ids is not None:
        return decoder_input_ids
    input_ids = input_ids.masked_fill(input_ids == -100, pad_token_id)
    last = input_ids.ne(pad_token_id).sum(dim=1) - 1
    shifted = input_ids.clone()
    shifted[:, 0] = input_ids.gather(1, last[:, None]).squeeze(1)
    shifted[:, 1:] = input_ids[:, :-1]
    return shifted
''',
    "last_tokens": '''
def last_tokens(x: torch.Tensor, input_ids: torch.Tensor, pad_token_id: int) -> torch.Tensor:
    """[batch, seq, d] -> [batch, d]: each sequence's last token that is not padding (its final
    token when none is), as Hugging Face's *ForSequenceClassification picks it."""
    real = (input_ids != pad_token_id).int()
    last = (torch.arange(input_ids.size(1), device=input_ids.device) * real).argmax(-1)
    return x[torch.arange(x.size(0), device=x.device), last]
''',
    "token_type_columns": '''
def token_type_columns(
    token_type_ids: torch.Tensor | None, input_ids: torch.Tensor, tables: int
) -> torch.Tensor:
    """[batch, seq, tables] token types, one column per type table: all zeros unless given."""
    if token_type_ids is None:
        return input_ids.new_zeros(input_ids.shape + (tables,))
    return token_type_ids
''',
    "cell_positions": '''
def cell_positions(token_type_ids: torch.Tensor, max_positions: int) -> torch.Tensor:
    """TAPAS's positions, restarted in each table cell: a token's index minus that of the first
    token with its column id (type column 1) and row id (column 2), at most max_positions - 1."""
    seq = token_type_ids.size(1)
    cell = token_type_ids[:, :, 1:3]
    same = (cell[:, :, None, :] == cell[:, None, :, :]).all(-1)  # [batch, seq, seq]
    index = torch.arange(seq, device=token_type_ids.device)
    first = torch.where(same, index, seq).amin(-1)
    return torch.clamp(index - first, max=max_positions - 1)
''',
    "token_types": '''
def token_types(token_type_ids: torch.Tensor | None, input_ids: torch.Tensor) -> torch.Tensor:
    """The segment of each token: all in segment 0 unless given."""
    if token_type_ids is None:
        return torch.zeros_like(input_ids)
    return token_type_ids
''',
    "token_boxes": '''
def token_boxes(bbox: torch.Tensor | None, input_ids: torch.Tensor) -> torch.Tensor:
    """Each token's box (left, top, right, bottom): all zeros unless given."""
    if bbox is None:
        batch, seq = input_ids.size(0), input_ids.size(1)
        return torch.zeros(batch, seq, 4, dtype=torch.long, device=input_ids.device)
    return bbox
''',
    "eos_tokens": '''
def eos_tokens(x: torch.Tensor, input_ids: torch.Tensor, eos_token_id: int) -> torch.Tensor:
    """Each sequence's state at its first `eos_token_id` ([batch, seq, d] -> [batch, d]); an id of
    2 takes the largest token id instead (CLIP configs written before the id was fixed)."""
    if eos_token_id == 2:
        index = input_ids.to(torch.int).argmax(dim=-1)
    else:
        index = (input_ids.to(torch.int) == eos_token_id).int().argmax(dim=-1)
    return x[torch.arange(x.size(0), device=x.device), index]
''',
    "similarity_logits": '''
def similarity_logits(
    image_embeds: torch.Tensor, text_embeds: torch.Tensor, logit_scale: torch.Tensor
) -> torch.Tensor:
    """CLIP's scores: the cosine similarity of every image with every text, times
    exp(logit_scale) -> [images, texts]."""
    image_embeds = image_embeds / torch.pow(torch.sum(torch.pow(image_embeds, 2), -1, True), 0.5)
    text_embeds = text_embeds / torch.pow(torch.sum(torch.pow(text_embeds, 2), -1, True), 0.5)
    return (torch.matmul(text_embeds, image_embeds.t()) * logit_scale.exp()).t()
''',
    "decoder_inputs": '''
def decoder_inputs(
    decoder_input_ids: torch.Tensor | None,
    input_ids: torch.Tensor,
    pad_token_id: int,
    decoder_start_token_id: int,
) -> torch.Tensor:
    """The decoder's ids as given, or else the input ids shifted one to the right behind the
    start token (what the model is trained to predict next), -100 read as padding."""
    if decoder_input_ids is not None:
        return decoder_input_ids
    shifted = torch.full_like(input_ids, decoder_start_token_id)
    shifted[:, 1:] = input_ids[:, :-1]
    return shifted.masked_fill(shifted == -100, pad_token_id)
''',
    "padded_positions": '''
def padded_positions(input_ids: torch.Tensor, padding_idx: int) -> torch.Tensor:
    """Position ids counted from padding_idx + 1 over the real tokens; padding gets padding_idx."""
    real = input_ids.ne(padding_idx).long()
    return torch.cumsum(real, dim=1) * real + padding_idx
''',
    # enc9: visual tokens after the text (VisualBERT)
    "append_regions": '''
def append_regions(
    x: torch.Tensor,
    visual_embeds: torch.Tensor | None,
    visual_token_type_ids: torch.Tensor | None,
    weight: torch.Tensor,
    bias: torch.Tensor,
    position_table: torch.Tensor,
    type_table: torch.Tensor,
) -> torch.Tensor:
    """x [batch, seq, d] with, where visual_embeds [batch, regions, visual_dim] are given, one
    token per region after the text: projected, plus the first row of its position table and its
    token type's row (type 1 unless given)."""
    if visual_embeds is None:
        return x
    regions = F.linear(visual_embeds, weight, bias)
    if visual_token_type_ids is None:
        visual_token_type_ids = torch.ones(
            visual_embeds.shape[:-1], dtype=torch.long, device=visual_embeds.device
        )
    regions = regions + position_table[0] + F.embedding(visual_token_type_ids, type_table)
    return torch.cat([x, regions], dim=1)
''',
}
