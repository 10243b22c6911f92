"""opencode configuration that points it at the fake model."""

from __future__ import annotations

from typing import Any

PROVIDER_ID = "fake"
MODEL_ID = "echo-1"
MODEL_NAME = "Demo model (offline)"
# A small context window, so that the context gauge moves and compaction is worth showing.
CONTEXT_LIMIT = 32_000


def opencode_config(base_url: str, *, ask_bash: bool = False) -> dict[str, Any]:
    """Return opencode config JSON using the fake model at ``base_url`` (ending in ``/v1``)."""
    model = f"{PROVIDER_ID}/{MODEL_ID}"
    return {
        "$schema": "https://opencode.ai/config.json",
        "provider": {
            PROVIDER_ID: {
                "npm": "@ai-sdk/openai-compatible",
                "name": "Fake (offline)",
                "options": {"baseURL": base_url, "apiKey": "fake"},
                # Images in: the notebook tools return plots, and the fake model echoes them.
                "models": {
                    MODEL_ID: {
                        "name": MODEL_NAME,
                        "attachment": True,
                        "modalities": {"input": ["text", "image"], "output": ["text"]},
                        "limit": {"context": CONTEXT_LIMIT, "output": 4_096},
                    }
                },
            }
        },
        "model": model,
        "small_model": model,
        "enabled_providers": [PROVIDER_ID],
        "autoupdate": False,
        "share": "disabled",
        # The fake model edits nothing worth undoing; git snapshots of the working directory
        # would only add ~0.3 s to the first answer of every worker.
        "snapshot": False,
        "permission": {"bash": "ask" if ask_bash else "allow"},
    }
