"""Datasets by name: human-labelled pairs and prompt sets built from the upstream files.

Upstream files are found through `data.store` (a mirror named by FELLOWSHIP_DATA, or the
cache that `fellowship data fetch` fills). Files the upstream layout lacks are built here:
FairEval's pairs (from its questions, two answer files and the human label lines), the
item lists the paper's recorded outputs refer to, and prompt lists.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fellowship.data.store import root_of
from fellowship.fileio.errors import InputError
from fellowship.fileio.jsonl import read_json, read_records, read_text
from fellowship.fileio.prompts import PromptItem
from fellowship.readers.labelled import FORMATS, Human, LabelledPair, rows_of

FAIREVAL = "human-labels/faireval_vicuna80/raw"
_FAIREVAL_LABELS: dict[str, Human] = {"CHATGPT": "A", "VICUNA13B": "B", "TIE": "tie"}


def _faireval(authors: bool) -> list[LabelledPair]:
    """FairEval's 80 pairs: upstream order ChatGPT (A) vs Vicuna-13B (B); the paper's authors showed Vicuna first."""
    root = root_of("faireval") / FAIREVAL
    questions = {r["question_id"]: r for _, r in read_records(root / "question.jsonl")}
    gpt = {r["question_id"]: r["text"] for _, r in read_records(root / "answer_gpt35.jsonl")}
    vicuna = {r["question_id"]: r["text"] for _, r in read_records(root / "answer_vicuna-13b.jsonl")}
    labels_path = root / "review_gpt35_vicuna-13b_human.txt"
    labels = read_text(labels_path).split()
    pairs = []
    for number, raw in enumerate(labels, start=1):
        if raw not in _FAIREVAL_LABELS:
            raise InputError(f"unknown label {raw!r}", labels_path, number)
        human = _FAIREVAL_LABELS[raw]
        question = questions[number]
        if authors:  # Vicuna as A, ChatGPT as B, ids from 0 as in their files
            flipped: Human = "B" if human == "A" else "A" if human == "B" else "tie"
            pairs.append(LabelledPair(id=str(number - 1), question=question["text"], response_a=vicuna[number],
                                      response_b=gpt[number], human=flipped,
                                      extra={"category": question.get("category"), "model_a": "vicuna-13b", "model_b": "gpt-3.5-turbo"}))
        else:
            pairs.append(LabelledPair(id=f"faireval-{number}", question=question["text"], response_a=gpt[number],
                                      response_b=vicuna[number], human=human,
                                      extra={"category": question.get("category"), "model_a": "gpt-3.5-turbo", "model_b": "vicuna-13b"}))
    return pairs


def _file(dataset: str, local: str, fmt: str) -> Callable[[], list[LabelledPair]]:
    def read() -> list[LabelledPair]:
        path = root_of(dataset) / local
        return list(FORMATS[fmt][0](rows_of(path), path))
    return read


def _llmbar(sub: str) -> Callable[[], list[LabelledPair]]:
    return _file(f"llmbar-{sub.split('/')[-1].lower()}", f"human-labels/llmbar/Dataset/{sub}/dataset.json", "llmbar")


PANDALM = _file("pandalm", "human-labels/pandalm_testset/testset-v1.json", "pandalm")

LABELLED: dict[str, tuple[str, Callable[[], list[LabelledPair]]]] = {
    # name: (the catalogue dataset it needs, reader)
    "pandalm": ("pandalm", PANDALM),
    "faireval": ("faireval", lambda: _faireval(authors=False)),
    "llmbar-natural": ("llmbar-natural", _llmbar("LLMBar/Natural")),
    "llmbar-neighbor": ("llmbar-neighbor", _llmbar("LLMBar/Adversarial/Neighbor")),
    "llmbar-gptinst": ("llmbar-gptinst", _llmbar("LLMBar/Adversarial/GPTInst")),
    "llmbar-gptout": ("llmbar-gptout", _llmbar("LLMBar/Adversarial/GPTOut")),
    "llmbar-manual": ("llmbar-manual", _llmbar("LLMBar/Adversarial/Manual")),
    "llmbar-mt-bench": ("llmbar-mt-bench", _llmbar("Processed/MT-Bench")),
    "autoj": ("autoj", _file("autoj", "human-labels/autoj_pairwise_test/testdata_pairwise.jsonl", "autoj")),
    "llmeval2": ("llmeval2", _file("llmeval2", "human-labels/llmeval2/LLMEval2_benchmark.jsonl", "llmeval2")),
    # The items the paper's recorded outputs refer to, in the authors' order and orientation.
    "paper-outputs/pandalm-eval": ("paper-outputs", PANDALM),
    "paper-outputs/fair-eval": ("paper-outputs", lambda: _faireval(authors=True)),
}


def read_named(name: str) -> list[LabelledPair]:
    """The pairs of a named human-labelled dataset (DataMissing when it is not here)."""
    dataset, read = LABELLED[name]
    root_of(dataset)  # says how to fetch it when missing
    return read()


def recorded_path(value: str | Path) -> Path:
    """A recorded-outputs file: a local path, or `paper-outputs/...` inside the dataset."""
    path = Path(value)
    if path.exists() or not str(value).startswith("paper-outputs/"):
        return path
    return root_of("paper-outputs") / path


def _mt_bench(dataset: str, local: str) -> list[PromptItem]:
    path = root_of(dataset) / local
    return [PromptItem(str(r["question_id"]), r["turns"][0], i) for i, (_, r) in enumerate(read_records(path))]


def _alpaca_eval() -> list[PromptItem]:
    path = root_of("alpaca-eval") / "prompts/alpaca_eval_instructions/raw/gpt4_1106_preview_model_outputs.json"
    return [PromptItem(str(i), r["instruction"], i) for i, r in enumerate(read_json(path))]


PROMPTS: dict[str, Callable[[], list[PromptItem]]] = {
    "mt-bench": lambda: _mt_bench("mt-bench", "prompts/mt_bench_questions/question.jsonl"),  # first turns
    "vicuna-bench": lambda: _mt_bench("vicuna-bench", "prompts/vicuna_bench_questions/question.jsonl"),
    "alpaca-eval": _alpaca_eval,
}


def read_dataset(source: str | Path, fmt: str | None = None, split: str = "test") -> list[LabelledPair]:
    """A local file, a dataset name (see LABELLED), or a Hugging Face Hub id."""
    from fellowship.readers.labelled import read_labelled

    if not Path(source).exists() and str(source) in LABELLED:
        return read_named(str(source))
    return read_labelled(source, fmt, split)
