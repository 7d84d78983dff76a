"""The dataset card (`README.md` with Hub YAML) written beside a run's dataset files."""

from __future__ import annotations

from typing import Any

FORMS = {"dpo": "DPO (TRL preference form: prompt, chosen, rejected)", "kto": "KTO (TRL unpaired form: prompt, completion, label)"}
RULES = {
    "single": "single-model improvement: every decisive comparison between two sources; chosen = the winner's answer. "
              "KTO: the chosen answers labelled true, the rejected false (an answer that got both labels is dropped).",
    "workflow": "workflow improvement, inside each feedback loop: every decisive knockout bout between two of its responses, "
                "the winner chosen. KTO: each review (prompt = the review request), desirable when the revision it led to won its bout.",
}


POLICIES = {
    "drop": "every comparison holding a flagged response was dropped, so no flagged response is chosen",
    "reject": "a flagged response against a clean one was made the rejected one, whatever the verdict; two flagged were dropped",
    "keep": "flagged responses were kept as the evaluator decided (their flags are in the provenance)",
}


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def label_lines(labels: dict[str, Any] | None) -> list[str]:
    """The label-quality diagnostics, one line each, then the warnings."""
    if not labels:
        return ["not computed (an older run: export it again)"]
    lines = []
    pos = labels["position"]
    if pos["n"]:
        low, high = pos["ci"]
        lines.append(f"position: {pos['count']} of {pos['n']} decisive verdicts went to the answer shown first ({_pct(pos['share'])}, "
                     f"95% CI {_pct(low)}-{_pct(high)}; p = {pos['p_value']:.2g} against 50%)")
    else:
        lines.append("position: no decisive verdict")
    if pos["swap_consistency"]:
        sc = pos["swap_consistency"]
        lines.append(f"swap consistency: {sc['count']} of {sc['n']} judged in both orders agreed ({_pct(sc['share'])})")
    size = labels["length"]
    if size["n"]:
        lines.append(f"length: chosen is the longer answer in {size['count']} of {size['n']} pairs ({_pct(size['share'])}); "
                     f"median length ratio chosen/rejected {size['median_ratio']:.2f}")
    if labels.get("sources"):
        lines.append("sources: " + " · ".join(f"{name} wins {w['wins']} of {w['n']} ({_pct(w['win_rate'])})"
                                              for name, w in labels["sources"].items()))
    for entry in labels.get("self_preference", []):
        lines.append(f"self-preference: {entry['source']} is written by {entry['model']}, which also evaluates: it wins "
                     f"{_pct(entry['win_rate'])}, the other sources {_pct(entry['others_win_rate'])}")
    if labels["margins"]:
        m = labels["margins"]
        lines.append(f"score margins: median {m['median']:g}, quartiles {m['q1']:g}-{m['q3']:g}, range {m['min']:g}-{m['max']:g}, "
                     f"{_pct(m['under_1'])} under one point ({m['n']} decisive verdicts with scores)")
    return lines + [f"warning: {w}" for w in labels["warnings"]]


def calibration_lines(cal: dict[str, Any]) -> list[str]:
    """The evaluator's agreement with humans on a labelled dataset, and its bias there, one line each, then the warnings."""
    low, high = cal["kappa_ci"]
    interval = f", 95% CI {low:.2f} to {high:.2f}" if low == low and high == high else ""  # NaN: undefined
    lines = [f"this evaluator agreed with humans at kappa {cal['kappa']:.3f}{interval} on {cal['pairs']} pairs of "
             f"{cal['dataset']} (accuracy {_pct(cal['accuracy'])}; {cal['invalid']} invalid verdicts)"]
    if cal["pairs"] < cal["asked"]:
        lines.append(f"{cal['asked'] - cal['pairs']} of the {cal['asked']} pairs failed and are left out")
    pos = cal["position"]
    if pos["n"]:
        low, high = pos["ci"]
        lines.append(f"there, position: {pos['count']} of {pos['n']} decisive verdicts went to the answer shown first "
                     f"({_pct(pos['share'])}, 95% CI {_pct(low)}-{_pct(high)}; p = {pos['p_value']:.2g} against 50%)")
    mine, human = cal["length"], cal["human_length"]
    if mine["n"]:
        lines.append(f"there, length: it picked the longer answer in {mine['count']} of {mine['n']} decisive verdicts "
                     f"({_pct(mine['share'])}); the humans in {human['count']} of {human['n']} ({_pct(human['share'])})")
    return lines + [f"warning: {w}" for w in cal["warnings"]]


def suspect_line(suspect: dict[str, Any] | None) -> str:
    """What screening found in the responses and what the dataset did about it, in one sentence."""
    if not suspect:
        return "Responses were not screened for text aimed at the evaluator (an older run: export it again)."
    kinds = ", ".join(f"{kind} {count}" for kind, count in suspect["by_kind"].items())
    found = f"{suspect['flagged']} of {suspect['screened']} responses" + (f" ({kinds})" if kinds else "")
    return (f"Screening for text aimed at the evaluator (imitated answers, template markers, notes to the grader) and "
            f"degenerate answers flagged {found}; policy `{suspect['policy']}`: {POLICIES[suspect['policy']]}.")


def size_category(rows: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if rows < limit:
            return name
    return "1M<n<10M"


def dollars(value: float | None) -> str:
    """A dollar figure, or '$?' where some model has no price."""
    return "$?" if value is None else f"${value:,.4f}"


def spend_lines(spend: dict[str, Any] | None) -> list[str]:
    """What the run's calls cost, in all and per role and per source ('$?' where a model has no price)."""
    if not spend:
        return []
    unpriced = f" (no price for {', '.join(spend['unpriced_models'])}: give one with --price)" if spend["unpriced_models"] else ""
    lines = [f"{dollars(spend['dollars'])}{unpriced} for {spend['input_tokens']:,} input and {spend['output_tokens']:,} "
             "output tokens"]
    for kind in ("role", "source"):
        parts = [f"{name} {dollars(v['dollars'])} ({v['input_tokens'] + v['output_tokens']:,} tokens)"
                 for name, v in spend[f"by_{kind}"].items()]
        lines.append(f"by {kind}: " + " · ".join(parts))
    return lines


def dataset_card(summary: dict[str, Any], base: dict[str, Any], meta: dict[str, Any],
                 charts: list[tuple[str, str]] | None = None) -> str:
    """The card's text. `meta`: prompts (source), license, license_note, fmt, kinds, min_margin, conversational;
    `charts`: (title, relative path) of the pictures beside it."""
    from huggingface_hub import DatasetCard, DatasetCardData

    files = {name: count for name, count in summary["rows"].items() if count}
    configs = [{"config_name": name.rsplit(".", 1)[0], "data_files": name} for name in files]
    data = DatasetCardData(
        license=meta["license"], task_categories=["text-generation"], tags=["dpo", "kto", "preference", "synthetic", "fellowship"],
        size_categories=[size_category(sum(files.values()))], configs=configs,
        pretty_name=f"Preference data from {meta['prompts']}",
    )
    lines = [f"# Preference data from {meta['prompts']}", "",
             "Made by fellowship (multi-model workflows after *The Fellowship of the LLMs*, "
             "arXiv 2408.08688): each source answered every prompt, an evaluator compared the answers, and decisive "
             "comparisons became rows. Every row has its `provenance`: the sources, models and seeds of its texts, "
             "the verdict, scores and margin, the evaluator's orders, votes or final scores, the prompt templates' hashes, "
             "the generation parameters, the trace id and the time.", "",
             "## Files", "", "| config | rows | form |", "|---|---|---|"]
    for name, count in summary["rows"].items():
        form = FORMS[name.rsplit(".", 1)[0].rsplit("_", 1)[1]]
        lines.append(f"| `{name.rsplit('.', 1)[0]}` | {count} | {form} |")
    lines += ["", "Load one with `datasets.load_dataset(\"DIR\", \"single_dpo\")`, or all files of a form together with "
              "`load_dataset(\"json\", data_files=\"DIR/*_dpo.jsonl\")`.", "", "## How the rows were made", ""]
    sources = ", ".join(f"`{s['name']}` ({s['kind']}: {', '.join(s['models'])})" for s in base["sources"])
    params = base["params"]
    stopped = summary.get("budget") or {}
    held = (f" ({stopped['not_started']} not started: the run stopped at its budget, {stopped['limits']})"
            if stopped.get("not_started") else "")
    lines += [f"- Prompts: `{meta['prompts']}`, {summary['done']} of {summary['prompts']} answered{held}.",
              f"- Sources: {sources}; loops ran {base['iterations']} iterations; pairing: {base['pairing']}.",
              f"- Evaluator: {base['evaluator']}.",
              f"- Generation: temperature {params['candidates']['temperature']}, at most {params['candidates']['max_tokens']} tokens, "
              f"seed {params['candidates']['seed']} (each source its own, derived from it); the evaluator: temperature "
              f"{params['evaluator']['temperature']}, at most {params['evaluator']['max_tokens']} tokens.",
              f"- Kinds: {', '.join(meta['kinds'])}; minimum score margin {meta['min_margin']:g}; "
              f"minimum confidence {meta.get('min_confidence', 0.0):g}; "
              f"{'conversational (message lists)' if meta['conversational'] else 'plain strings'}; {meta['fmt']}.", ""]
    lines += [f"- **{kind}**: {RULES[kind]}" for kind in meta["kinds"]]
    if spend := spend_lines(summary.get("spend")):
        lines += ["", "Cost of the model calls: " + spend[0] + ";", *[f"{line};" for line in spend[1:-1]], spend[-1] + "."]
    lines += ["", "## How good the labels are", ""]
    lines += [f"- {line}" for line in label_lines(summary.get("labels"))]
    lines += ["", "Position counts every decisive verdict of the run (comparisons between sources and the loops' bouts); "
              "length counts the kept DPO pairs. Which answer was shown first is in each row's `provenance.comparison.flipped`."]
    if summary.get("calibration"):
        lines += ["", "### Agreement with humans", ""]
        lines += [f"- {line}" for line in calibration_lines(summary["calibration"])]
        lines += ["", "The same evaluator configuration judged human-labelled pairs, shown in the dataset's order "
                  "(`fellowship agreement` with the same options gives the same numbers; the verdicts are in `calibration.jsonl`)."]
    lines += ["", suspect_line(summary.get("suspect"))]
    if summary["dropped"]:
        lines += ["", "Pairs dropped: " + ", ".join(f"{reason} {count}" for reason, count in summary["dropped"].items()) + "."]
    lines += [f"Invalid verdicts (replies that could not be read, kept out of the rows): {summary['invalid_verdicts']}."]
    for name, balance in summary.get("balance", {}).items():
        lines += ["", f"**{name}**: {balance['desirable']} desirable, {balance['undesirable']} undesirable."]
        if balance["warning"]:
            lines.append(f"Warning: {balance['warning']}.")
        elif balance["desirable_weight"]:
            lines.append(f"For TRL's KTOTrainer: either `desirable_weight` "
                         f"{balance['desirable_weight'][0]}–{balance['desirable_weight'][1]} "
                         f"or `undesirable_weight` {balance['undesirable_weight'][0]}–{balance['undesirable_weight'][1]}, not both.")
    if charts:
        lines += ["", "## Charts", "", *(f"![{title}]({path})" for title, path in charts), "",
                  "`fellowship report DIR` writes `report.html`: these charts and a browser of every comparison, offline."]
    lines += ["", "## Training with TRL", "", "```python", "from datasets import load_dataset",
              "from trl import DPOConfig, DPOTrainer", "",
              "train = load_dataset(\"DIR\", \"single_dpo\", split=\"train\")",
              "trainer = DPOTrainer(model=model, args=DPOConfig(output_dir=\"dpo\"), train_dataset=train, processing_class=tokenizer)",
              "trainer.train()", "```", "",
              "`KTOTrainer` takes the `*_kto` configs the same way (with the weights above); the `provenance` column is ignored by both.",
              "", "## Licence", "", meta["license_note"], ""]
    return str(DatasetCard(f"---\n{data.to_yaml()}\n---\n\n" + "\n".join(lines)))
