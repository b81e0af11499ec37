"""Ask an OpenAI-compatible ``/chat/completions`` endpoint, with the database context as system prompt."""

from __future__ import annotations

import json
from typing import Any

import httpx

from core.errors import RetryableJobError
from core.settings import Settings
from core.urls import mask_url

__all__ = ["LlmError", "ask_llm", "build_messages"]

SYSTEM_PROMPT = (
    "You are the IntegraMon assistant for SAP Cloud Integration operations. Answer from the monitoring "
    "facts below only; say so when they do not cover the question. Facts (JSON):\n"
)
TIMEOUT_S = 60.0


class LlmError(RetryableJobError):
    """The language model endpoint did not give a usable answer."""


def build_messages(context: dict[str, Any], history: list[tuple[str, str]], question: str) -> list[dict[str, str]]:
    """System prompt with the facts, the conversation so far, then the question."""
    messages = [{"role": "system", "content": SYSTEM_PROMPT + json.dumps(context, default=str)}]
    messages += [{"role": role, "content": content} for role, content in history]
    messages.append({"role": "user", "content": question})
    return messages


async def ask_llm(settings: Settings, messages: list[dict[str, str]]) -> str:
    """The first choice's content; any transport, HTTP or shape problem raises LlmError."""
    url = settings.llm_base_url.rstrip("/") + "/chat/completions"
    headers = {"Authorization": f"Bearer {settings.llm_api_key}"} if settings.llm_api_key else {}
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
            reply = await client.post(url, json={"model": settings.llm_model, "messages": messages}, headers=headers)
    except httpx.HTTPError as exc:
        raise LlmError(f"LLM endpoint {mask_url(url)} unreachable: {type(exc).__name__}") from exc
    if not reply.is_success:
        raise LlmError(f"LLM endpoint {mask_url(url)} answered HTTP {reply.status_code}")
    try:
        content = reply.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise LlmError(f"LLM endpoint {url} gave no choices[0].message.content") from exc
    if not isinstance(content, str) or not content.strip():
        raise LlmError(f"LLM endpoint {url} gave an empty answer")
    return content.strip()
