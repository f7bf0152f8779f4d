"""Config text shared by the pricing tests: the hosted providers, each with its key in the environment."""

from __future__ import annotations

HOSTED_PROVIDERS = """
    [providers.openai]
    type = "openai"
    api_key_env = "OPENAI_API_KEY"

    [providers.claude]
    type = "anthropic"
    api_key_env = "ANTHROPIC_API_KEY"

    [providers.gemini]
    type = "gemini"
    api_key_env = "GEMINI_API_KEY"
"""
"""Providers `openai`, `claude` and `gemini` (indented like the tests' configs, which are dedented)."""
