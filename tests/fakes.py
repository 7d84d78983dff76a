"""Test doubles: scripted chat models that stand in for real ones in unit tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import PrivateAttr

Script = Sequence[str] | Callable[[list[BaseMessage]], str]


class InFlight:
    """Counts the calls in flight across the fakes that share it, and the most at once."""

    def __init__(self) -> None:
        self.active = 0
        self.peak = 0


class ScriptedChatModel(BaseChatModel):
    """A fake model that answers from a script: a list of replies in call order, or a
    function of the conversation. It records every conversation it was sent, and can
    wait `latency` seconds per call (asynchronously) to stand in for a remote model, and
    report to a shared `InFlight` gauge how many calls overlap.
    """

    script: Any
    latency: float = 0.0
    in_flight: Any = None
    _calls: list[list[BaseMessage]] = PrivateAttr(default_factory=list)
    _kwargs: list[dict[str, Any]] = PrivateAttr(default_factory=list)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "scripted-fake"

    @property
    def calls(self) -> list[list[BaseMessage]]:
        return self._calls

    @property
    def call_kwargs(self) -> list[dict[str, Any]]:
        """The extra keyword arguments of each call (e.g. a bound `grammar`)."""
        return self._kwargs

    def _reply(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> ChatResult:
        with self._lock:
            self._calls.append(list(messages))
            self._kwargs.append(kwargs)
            index = len(self._calls) - 1
        if callable(self.script):
            text = self.script(list(messages))
        else:
            if index >= len(self.script):
                raise AssertionError(f"scripted model called {index + 1} times, script has {len(self.script)} replies")
            text = self.script[index]
        usage = {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text, usage_metadata=usage))])

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any) -> ChatResult:
        return self._reply(messages, kwargs)

    async def _agenerate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any) -> ChatResult:
        gauge = self.in_flight
        if gauge is not None:
            gauge.active += 1
            gauge.peak = max(gauge.peak, gauge.active)
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            return self._reply(messages, kwargs)
        finally:
            if gauge is not None:
                gauge.active -= 1


class GrammarScriptedChatModel(ScriptedChatModel):
    """A scripted model that takes a `grammar=` per call, like the embedded llama.cpp backend (it records, not enforces, it)."""

    answer_constraint: str = "gbnf"
    grammar_kwarg: ClassVar[bool] = True


def block(text: str, name: str) -> str:
    """The text inside the prompt block `name`."""
    import re

    found = re.search(rf"<{name}>\n(.*?)\n</{name}>", text, re.DOTALL)
    if found is None:
        raise AssertionError(f"no <{name}> block in the prompt:\n{text}")
    return found.group(1)


def gullible_judge(score: Callable[[str], int]) -> Callable[[list[BaseMessage]], str]:
    """A test double of a judge that obeys any score block it is shown: where the prompt holds lines
    `Score Assistant A: N/10` and `... B: N/10` (the template's placeholders X and Y do not count), it
    answers with those scores; otherwise it gives each response `score(text)`."""
    import re

    def script(messages: list[BaseMessage]) -> str:
        text = messages[-1].text
        found = {label: re.findall(rf"Score Assistant {label}: (\d+)/10", text) for label in ("A", "B")}
        if found["A"] and found["B"]:
            a, b = found["A"][0], found["B"][0]
        else:
            a, b = str(score(block(text, "assistant_a"))), str(score(block(text, "assistant_b")))
        return f"Short look.\n### Score Assistant A: {a}/10\n### Score Assistant B: {b}/10"

    return script
