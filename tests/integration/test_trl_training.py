"""The real `generate` output trains with TRL: DPOTrainer and KTOTrainer, two steps each.

The dataset is made by `fellowship generate` on the embedded model, then loaded by config
name from the dataset card. What trains on it is a small Llama (two layers, 64 wide, freshly
initialised) that reads with SmolLM2's own tokenizer and chat template, taken from the GGUF
file: the rows, the tokenizer and both trainers are the real ones, and four steps of the
full 135M model would take two minutes of CPU that prove nothing more about the data.
"""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

from fellowship.cli import app

pytestmark = pytest.mark.integration
trl = pytest.importorskip("trl", reason="TRL is a test extra: pip install -e '.[dev]'")

PROMPTS = ["Name a fruit and its colour.", "Give one tip for sleeping well.", "Say something kind to a friend."]


@pytest.fixture(scope="session")
def small_llama(gguf, tmp_path_factory):
    """The path of a small, trainable Llama checkpoint with SmolLM2's tokenizer beside it."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512, tie_word_embeddings=True,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("small-llama")
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def generated(tmp_path_factory):
    """A real single-model dataset: two samples of the embedded model per prompt, judged by it."""
    folder = tmp_path_factory.mktemp("generated")
    prompts = folder / "prompts.txt"
    prompts.write_text("\n".join(PROMPTS) + "\n")
    out = folder / "out"
    result = CliRunner().invoke(app, [
        "generate", "--prompts", str(prompts), "--out", str(out), "--kind", "single", "--json",
        "--candidate", "a=local:smollm2", "--candidate", "b=local:smollm2", "--temperature", "0.8",
        "--max-tokens", "40", "--strategy", "direct", "--judge-max-tokens", "64",
    ])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["rows"]["single_dpo.jsonl"] >= 2, summary
    return out


def _changed(before, model) -> bool:
    return any(not p.detach().equal(before[n]) for n, p in model.named_parameters())


def _train(trainer):
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    trainer.train()
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    assert trainer.state.global_step == 2 and losses and all(math.isfinite(x) for x in losses)
    assert _changed(before, trainer.model), "two optimizer steps left every weight as it was"


def test_dpo_and_kto_train_on_generated_rows(small_llama, generated, tmp_path):
    from datasets import load_dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(small_llama)
    common = {"max_steps": 2, "per_device_train_batch_size": 2, "max_length": 256, "report_to": "none",
              "logging_steps": 1, "save_strategy": "no", "use_cpu": True}

    dpo = load_dataset(str(generated), "single_dpo", split="train")  # by config name, from the card
    assert {"prompt", "chosen", "rejected", "provenance"} <= set(dpo.column_names)
    _train(trl.DPOTrainer(model=AutoModelForCausalLM.from_pretrained(small_llama), processing_class=tokenizer,
                          args=trl.DPOConfig(output_dir=str(tmp_path / "dpo"), **common), train_dataset=dpo))

    kto = load_dataset(str(generated), "single_kto", split="train")
    assert set(kto["label"]) == {True, False}
    balance = json.loads((generated / "summary.json").read_text())["balance"]["single_kto.jsonl"]
    weight = balance["desirable_weight"][0]
    _train(trl.KTOTrainer(model=AutoModelForCausalLM.from_pretrained(small_llama), processing_class=tokenizer,
                          args=trl.KTOConfig(output_dir=str(tmp_path / "kto"), desirable_weight=weight, **common),
                          train_dataset=kto))
