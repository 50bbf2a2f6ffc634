"""Model types whose text embeddings number learned positions after the padding index, skipping
padding (fairseq's convention, RoBERTa): derived from the library's code by
benchmarks/survey_positions.py, not typed by hand. Regenerate with
`python benchmarks/survey_positions.py --python` and review the diff.

A type not here numbers positions 0, 1, 2... (BERT); a folder without config.json leaves it a
choice that calibration settles.
"""

from __future__ import annotations

# transformers 5.24.0: 43 types
SURVEYED = frozenset("""
    EvollaModel altclip altclip_text_model altclip_vision_model bridgetower
    bridgetower_text_model bridgetower_vision_model camembert clap clap_audio_model
    clap_text_model data2vec-audio data2vec-text data2vec-vision esm evolla ibert kosmos-2
    kosmos-2.5 kosmos_2_5_text_model kosmos_2_5_vision_model kosmos_2_text_model
    kosmos_2_vision_model layoutlmv3 lilt longformer luke m2m_100 markuplm mpnet nllb-moe
    pp_doclayout_v2 roberta roberta-prelayernorm seamless_m4t seamless_m4t_v2 speech_to_text
    speecht5 speecht5_hifigan trocr xlm-roberta xlm-roberta-xl xmod
    """.split())
