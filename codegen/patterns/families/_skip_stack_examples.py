"""Examples for families/skip_stack_unet.py (filled in below)."""


def examples() -> list:
    return []
