"""Text models that attend both ways, by model_type: MEASURED by benchmarks/survey_masks.py, not
typed by hand. Regenerate with `python benchmarks/survey_masks.py --python` and review the diff.

A type is here where its modeling file builds masks only with the library's bidirectional makers
(never a causal one, no other directory's model inside), and its base model, built from a tiny
config, changes its first position's output when only the last token changes. Decoder-shaped
encoders (OpenAI's privacy filter: GPT-OSS layers under a bidirectional mask) are recognised by
it where their config.json names nothing else that tells.
"""

from __future__ import annotations

BIDIRECTIONAL_TYPES = frozenset(
    [
        "albert",
        "canine",
        "convbert",
        "distilbert",
        "eurobert",
        "gte",
        "ibert",
        "jina_embeddings_v3",
        "longformer",
        "luke",
        "mobilebert",
        "modernbert",
        "mpnet",
        "nomic_bert",
        "nystromformer",
        "openai_privacy_filter",
        "splinter",
        "squeezebert",
        "tapas",
        "ultrabert",
        "visual_bert",
        "vits",
    ]
)
