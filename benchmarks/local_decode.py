"""Decode speed of the embedded model: raw llama-cpp-python vs the LangChain `local:` backend.

Same prompts, greedy, same max tokens; tokens/s = completion tokens / wall seconds.
Prints both speeds and their ratio (target >= 0.9).
"""

from __future__ import annotations

import time

import _common  # noqa: F401
from langchain_core.messages import HumanMessage

from fellowship.models import ModelSettings, load_chat_model
from fellowship.models.llamacpp import LlamaCppChat

PROMPTS = [
    "Explain why the sky is blue in a short paragraph.",
    "Write a short story about a lighthouse keeper.",
    "List five tips for learning a new language, with one sentence each.",
    "Describe how a bicycle works.",
]
MAX_TOKENS = 128
REPEATS = 3


def main() -> None:
    model = load_chat_model("local:smollm2", ModelSettings(max_tokens=MAX_TOKENS))
    assert isinstance(model, LlamaCppChat)
    llama = model._engine().llama
    model.invoke([HumanMessage("warm up")])

    raw_tokens = raw_seconds = chain_tokens = chain_seconds = 0.0
    for _ in range(REPEATS):
        for prompt in PROMPTS:
            llama.reset()  # no prefix-cache advantage for either side
            started = time.perf_counter()
            out = llama.create_chat_completion(
                messages=[{"role": "user", "content": prompt}], temperature=0.0, max_tokens=MAX_TOKENS, seed=0
            )
            raw_seconds += time.perf_counter() - started
            raw_tokens += out["usage"]["completion_tokens"]

            llama.reset()
            started = time.perf_counter()
            reply = model.invoke([HumanMessage(prompt)])
            chain_seconds += time.perf_counter() - started
            chain_tokens += reply.usage_metadata["output_tokens"]

    raw = raw_tokens / raw_seconds
    chain = chain_tokens / chain_seconds
    print(f"raw llama-cpp-python : {raw:6.1f} tokens/s ({int(raw_tokens)} tokens)")
    print(f"local: via LangChain : {chain:6.1f} tokens/s ({int(chain_tokens)} tokens)")
    print(_common.ratio_line("ratio LangChain / raw", chain / raw, ">= 0.90"))


if __name__ == "__main__":
    main()
