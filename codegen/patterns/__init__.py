"""The pattern catalogue: one file per layer type (layers/) or block (blocks/), found by registry.py."""
