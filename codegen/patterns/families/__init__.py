"""Family patterns: top-level assemblies (decoder LM, encoder, ViT) and which inputs they take."""
