"""Ask a model for an answer in a fixed format, with one repair turn."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from fellowship.parsing.scores import ParseError
from fellowship.state.records import Answer, Usage


def _usage(message: AIMessage) -> Usage:
    meta = message.usage_metadata or {}
    return Usage(input_tokens=meta.get("input_tokens", 0), output_tokens=meta.get("output_tokens", 0))


async def ask(
    model: BaseChatModel,
    messages: Sequence[BaseMessage],
    parse: Callable[[str], object],
    repair: str,
    grammar: str | None = None,
) -> Answer:
    """Send `messages`, parse the reply; if that fails, ask once more in the same conversation.

    On backends that decode under a grammar (llama.cpp) the repair turn is held to
    `grammar`, the exact answer format; the model still chooses the values. A reply
    that still cannot be parsed gives an Answer with `error` set and every raw text
    kept. Model errors (after the backend's own retries) propagate.
    """
    constrained = bool(grammar) and getattr(model, "supports_grammar", False)
    started = time.perf_counter()
    conversation = list(messages)
    texts: list[str] = []
    usage = Usage()
    error = None
    for attempt in range(2):
        caller = model.bind(grammar=grammar) if attempt and constrained else model
        reply = await caller.ainvoke(conversation)
        text = reply.text if isinstance(reply, AIMessage) else str(reply.content)
        texts.append(text)
        usage = usage + _usage(reply)
        try:
            value = parse(text)
        except ParseError as exc:
            error = str(exc)
            conversation += [AIMessage(content=text), HumanMessage(content=repair)]
            continue
        return Answer(
            value=value, texts=texts, repaired=attempt > 0, constrained=attempt > 0 and constrained,
            usage=usage, seconds=time.perf_counter() - started,
        )
    return Answer(
        texts=texts,
        error=f"unparseable after a repair turn: {error}",
        repaired=True,
        constrained=constrained,
        usage=usage,
        seconds=time.perf_counter() - started,
    )
