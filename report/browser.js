// The row browser: filters, search and paging over the comparisons embedded as JSON above.
// Every text goes into the page through textContent, so a response holding HTML or a script is shown, never run.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("data").textContent);
  const rows = data.rows || [];
  const prompts = data.prompts || [];
  const list = document.getElementById("rows");
  if (!list) return;
  const PAGE = 20;
  const byId = (id) => document.getElementById(id);
  const facets = Object.fromEntries((data.filters || []).map((tag) => [tag, (r) => r.tags[tag] || []]));
  const noun = list.dataset.noun || "rows";
  let shown = rows;
  let page = 0;
  let haystacks = null;  // built on the first search: lower-cased texts of each row

  for (const [name, values] of Object.entries(facets)) {
    const select = byId("filter-" + name);
    if (!select) continue;
    const counts = new Map();
    for (const r of rows) for (const v of new Set(values(r))) counts.set(v, (counts.get(v) || 0) + 1);
    for (const [value, count] of [...counts.entries()].sort((x, y) => y[1] - x[1])) {
      const option = document.createElement("option");
      option.value = value;
      option.textContent = `${value} (${count})`;
      select.appendChild(option);
    }
    select.addEventListener("change", apply);
  }

  function haystack(i) {
    if (haystacks === null) {
      haystacks = rows.map((r) => [prompts[r.prompt].text, r.text_a, r.text_b, r.explanation, r.a, r.b].join("\n").toLowerCase());
    }
    return haystacks[i];
  }

  function apply() {
    const chosen = {};
    for (const name of Object.keys(facets)) {
      const select = byId("filter-" + name);
      if (select && select.value) chosen[name] = select.value;
    }
    const marginInput = byId("filter-margin");
    const least = marginInput && marginInput.value !== "" ? Number(marginInput.value) : null;
    const words = byId("filter-search").value.trim().toLowerCase();
    shown = [];
    rows.forEach((r, i) => {
      for (const [name, value] of Object.entries(chosen)) if (!facets[name](r).includes(value)) return;
      if (least !== null && (r.margin === null || r.margin < least)) return;
      if (words && !haystack(i).includes(words)) return;
      shown.push(r);
    });
    page = 0;
    render();
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function number(value) {
    return value === null || value === undefined ? "–" : Number(value).toFixed(value % 1 ? 2 : 0);
  }

  function side(r, which) {
    const from = which === "a" ? r.from_a : r.from_b;
    const role = r.chosen === null ? "" : r.chosen === which ? "chosen" : "rejected";
    const [picked, passed] = data.sides || ["chosen", "rejected"];
    const box = element("div", "side " + role);
    const title = `${which.toUpperCase()}: ${which === "a" ? r.a : r.b}` + (role ? ` (${role === "chosen" ? picked : passed})` : "");
    box.appendChild(element("h3", null, title));
    box.appendChild(element("pre", "text", which === "a" ? r.text_a : r.text_b));
    const flags = which === "a" ? r.flags_a : r.flags_b;
    const facts = (from.models.length ? `models ${from.models.join(", ")} · seed ${from.seed ?? "–"} · response ${from.iteration}` : "") +
      (flags.length ? ` · flagged: ${flags.join(", ")}` : "");
    if (facts) box.appendChild(element("div", "provenance", facts));
    return box;
  }

  function card(r) {
    const item = element("li", "row");
    const head = element("div", "head");
    const good = r.outcome === "kept" || r.outcome === "agrees" || r.outcome === "the loop wins";
    const said = r.outcome === "kept" ? "kept as a row" : r.tags.kind ? "dropped: " + r.outcome : r.outcome;
    head.appendChild(element("span", "outcome " + (good ? "kept" : "dropped"), said));
    head.appendChild(element("span", null, (r.tags.kind ? r.tags.kind[0] + " · " : "") + `${data.item || "item"} ${r.id}`));
    if (r.human) head.appendChild(element("span", null, `human label ${r.human}`));
    head.appendChild(element("span", null, `verdict ${r.verdict} · scores ${number(r.score_a)} / ${number(r.score_b)} · margin ${number(r.margin)}`));
    if (r.confidence !== null) head.appendChild(element("span", null, `confidence ${number(r.confidence)}`));
    if (r.flipped !== null) head.appendChild(element("span", null, r.flipped ? "B shown first" : "A shown first"));
    item.appendChild(head);
    item.appendChild(element("div", "prompt", prompts[r.prompt].text));
    const pair = element("div", "pair");
    pair.appendChild(side(r, "a"));
    pair.appendChild(side(r, "b"));
    item.appendChild(pair);
    const why = element("details");
    why.appendChild(element("summary", null, `the evaluator's explanation (${r.evaluator || "no evaluator"})`));
    why.appendChild(element("pre", null, r.explanation));
    item.appendChild(why);
    if (r.trace_id) item.appendChild(element("div", "provenance", "trace " + r.trace_id));
    return item;
  }

  function render() {
    const pages = Math.max(1, Math.ceil(shown.length / PAGE));
    page = Math.min(page, pages - 1);
    byId("count").textContent = `${shown.length} of ${rows.length} ${noun}`;
    byId("page").textContent = `page ${page + 1} of ${pages}`;
    byId("previous").disabled = page === 0;
    byId("next").disabled = page >= pages - 1;
    const fragment = document.createDocumentFragment();
    for (const r of shown.slice(page * PAGE, (page + 1) * PAGE)) fragment.appendChild(card(r));
    list.replaceChildren(fragment);
  }

  let typing = null;
  byId("filter-search").addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(apply, 150); });
  const marginInput = byId("filter-margin");
  if (marginInput) marginInput.addEventListener("input", apply);
  byId("previous").addEventListener("click", () => { page -= 1; render(); });
  byId("next").addEventListener("click", () => { page += 1; render(); });
  render();
  performance.mark("fellowship:rendered");  // the first page of rows is in the document (benchmarks/report_render.py)
})();
