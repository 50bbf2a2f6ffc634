"""modelgen: recover a standalone PyTorch model.py from a checkpoint; verify, fine-tune, export."""

__version__ = "0.1.0"  # the one place the version lives (pyproject reads it)
