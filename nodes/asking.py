"""Ask a model for an answer in a fixed format, with one repair turn."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from fellowship.models.constraints import constrained, rejected, warn_once
from fellowship.models.usage import call
from fellowship.parsing.confidence import Distribution, Tokens, tokens_of
from fellowship.parsing.formats import AnswerFormat
from fellowship.parsing.scores import ParseError
from fellowship.state.records import Answer, AnswerValue, Usage

Parser = Callable[..., AnswerValue]
"""Reads a reply's text; takes `quoted=` (texts the model was shown, whose lines are never its answer)."""


Reader = Callable[[Tokens, Sequence[str]], "dict[str, Distribution] | None"]
"""Reads the answer's value distributions from a reply's tokens (see `parsing.confidence`); takes the quoted texts."""


def _distributions(model: BaseChatModel, reply: BaseMessage, read: Reader, quoted: Sequence[str]) -> dict[str, Distribution] | None:
    tokens = tokens_of(reply.response_metadata)
    if tokens is None:
        name = getattr(model, "model_name", None) or getattr(model, "model_path", None) or type(model).__name__
        warn_once(f"logprobs:{name}", f"{name} returned no token log-probabilities: confidence is recorded as null")
        return None
    return read(tokens, quoted)


async def _reply(model: BaseChatModel, conversation: list[BaseMessage], fmt: AnswerFormat | None,
                 explained: bool) -> tuple[BaseMessage, str, bool]:
    """One reply, held to `fmt` where the backend can be; (message, text to parse, was it held)."""
    held = constrained(model, fmt, explained) if fmt is not None else None
    if held is not None:
        caller, read = held
        try:
            reply = await call(model, conversation, via=caller)
            return reply, read(reply.text), True
        except Exception as exc:
            if not rejected(model, exc):
                raise
    reply = await call(model, conversation)
    return reply, reply.text, False


async def ask(
    model: BaseChatModel,
    messages: Sequence[BaseMessage],
    parse: Parser,
    repair: str,
    fmt: AnswerFormat | None = None,
    constrain_first: bool = False,
    quoted: Sequence[str] = (),
    distributions: Reader | None = None,
) -> Answer:
    """Send `messages`, parse the reply; if that fails, ask once more in the same conversation.

    Where the backend can hold decoding to `fmt` (a grammar, a regex or a JSON schema,
    see `models.constraints`), the repair turn is held to the bare format, and with
    `constrain_first` the first reply too (a free explanation, then the format). The
    model still chooses the values. A free reply's line that stands in one of the `quoted`
    texts is a copy, never read as the answer (a held reply is the model's own by
    construction). A reply that still cannot be parsed gives an Answer with `error` set and
    every raw text kept. Model errors (after the backend's own retries) propagate. With
    `distributions`, the parsed reply's token log-probabilities are read into the answer's
    value distributions (None, said once per model, where the backend returned none).
    """
    started = time.perf_counter()
    conversation = list(messages)
    texts: list[str] = []
    usage = Usage()
    error = None
    held = False
    for attempt in range(2):
        use = fmt if attempt or constrain_first else None
        reply, text, held = await _reply(model, conversation, use, explained=attempt == 0)
        texts.append(text)
        usage = usage + Usage.of(reply)
        try:
            value = parse(text, quoted=() if held else quoted)
        except ParseError as exc:
            error = str(exc)
            conversation += [AIMessage(content=text), HumanMessage(content=repair)]
            continue
        read = _distributions(model, reply, distributions, () if held else quoted) if distributions else None
        return Answer(value=value, texts=texts, repaired=attempt > 0, constrained=held, distributions=read,
                      usage=usage, seconds=time.perf_counter() - started)
    return Answer(
        texts=texts,
        error=f"unparseable after a repair turn: {error}",
        repaired=True,
        constrained=held,
        usage=usage,
        seconds=time.perf_counter() - started,
    )
