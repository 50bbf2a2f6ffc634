# Makes templates/ importable as `codegen.templates` (see pyproject.toml), so the wheel ships it.
