"""Layer patterns: one torch.nn type (or family of near-identical types) that owns tensors, per file."""
