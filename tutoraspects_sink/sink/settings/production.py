"""Production settings: values from the YAML environment tokens, as edx-platform reads them."""

from __future__ import annotations

from typing import Any

from .common import defaults


def plugin_settings(settings: Any) -> None:
    """Let ``lms.env.yml``/``cms.env.yml`` override any sink setting (ENV_TOKENS)."""
    tokens = getattr(settings, "ENV_TOKENS", {}) or {}
    for name in defaults():
        if name in tokens:
            setattr(settings, name, tokens[name])
