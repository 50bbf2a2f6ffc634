"""What a vision tower's `post_layernorm` normalises, per model type: the whole sequence (BLIP, GIT:
the last hidden state comes out normed) or only the pooled class token (CLIP, OWL-ViT). Derived
from the library's code by benchmarks/survey_post_norm.py, not typed by hand. Regenerate with
`python benchmarks/survey_post_norm.py --python` and review the diff.

A type in neither set leaves it a choice (default: the pooled token only) that calibration or
--hints settle, and the file says so.
"""

from __future__ import annotations

# transformers 5.24.0: 88 types
SEQUENCE = frozenset("""
    blip blip-2 blip_2_qformer blip_2_vision_model blip_text_model blip_vision_model
    cosmos3_edge cosmos3_edge_text cosmos3_edge_vision git git_vision_model glm4v glm4v_moe
    glm4v_moe_text glm4v_moe_vision glm4v_text glm4v_vision glm5_next glm5_next_text
    glm5_next_vision glm_ocr glm_ocr_text glm_ocr_vision idefics2 idefics2_perceiver
    idefics2_vision idefics3 idefics3_vision instructblip instructblip_qformer
    instructblip_vision_model instructblipvideo instructblipvideo_qformer
    instructblipvideo_vision_model janus janus_vision_model janus_vqgan minicpm_ocr
    minicpm_ocr_vision minicpmv4_6 minicpmv4_6_vision minicpmv4_7 minicpmv4_7_vision
    paddleocr_vl paddleocr_vl_text paddleocr_vl_vision phi4_multimodal phi4_multimodal_audio
    phi4_multimodal_vision siglip siglip2 siglip2_text_model siglip2_vision_model
    siglip_text_model siglip_vision_model smolvlm smolvlm_vision video_llama_3
    video_llama_3_vision
    """.split())
POOLED = frozenset("""
    altclip altclip_text_model altclip_vision_model chinese_clip chinese_clip_text_model
    chinese_clip_vision_model clip clip_text_model clip_vision_model clipseg clipseg_text_model
    clipseg_vision_model kosmos-2 kosmos_2_text_model kosmos_2_vision_model metaclip_2
    metaclip_2_text_model metaclip_2_vision_model mlcd mlcd_vision_model owlv2 owlv2_text_model
    owlv2_vision_model owlvit owlvit_text_model owlvit_vision_model xclip xclip_text_model
    xclip_vision_model
    """.split())
