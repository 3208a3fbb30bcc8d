// The senses page: the map (click a point to read its line) and the review loop.
// Keys: j/k next/previous line, x or space select, 1-9 give the line (or the selected lines)
// the label of that cluster, n name the line's cluster, u undo, ? help. Every change is a POST
// to /api/labels, stored at once (all or nothing) as a review label; its answer says what each
// line carried before, which is what undo writes back.
import { Cursor, indexName, keymap, moveBindings, postForm, postJSON, say } from "./common.js";

const page = new URLSearchParams(location.search);
const view = {
  index: indexName,
  word: page.get("word"),
  k: page.get("k") || "auto",
  min_size: page.get("min_size") || undefined,
  seed: page.get("seed") || undefined,
};
const readOnly = document.body.dataset.readOnly === "1";
const lines = [...document.querySelectorAll("li.line")];
const byId = new Map(lines.map((li) => [li.dataset.oid, li]));
const undoStack = [];
const undoButton = document.getElementById("undo");
const cursor = new Cursor(lines);

// --- the map -------------------------------------------------------------------------------
const plotLine = document.getElementById("plot-line");
for (const point of document.querySelectorAll("#plot circle.pt")) {
  point.addEventListener("click", () => showPoint(point));
}

function showPoint(point) {
  document.querySelector("#plot circle.pt.on")?.classList.remove("on");
  point.classList.add("on");
  const { left, word, right, oid, cluster } = point.dataset;
  const mark = document.createElement("mark");
  mark.textContent = word;
  const where = document.createElement("span");
  where.className = "where";
  where.textContent = ` cluster ${Number(cluster) + 1} · #${oid} `;
  plotLine.replaceChildren(document.createTextNode(left), mark, document.createTextNode(right), where);
  const li = byId.get(oid);
  if (li) {
    const go = document.createElement("a");
    go.href = `#cluster-${cluster}`;
    go.textContent = "go to line";
    go.addEventListener("click", (event) => {
      event.preventDefault();
      cursor.to(li);
    });
    plotLine.append(go);
  }
}

// --- lines, labels, names -------------------------------------------------------------------
function section(cluster) {
  return document.getElementById(`cluster-${cluster}`);
}

function clusterLabel(cluster) {
  const s = section(cluster);
  return s ? s.dataset.name || s.dataset.suggested : null;
}

function showLabel(li) {
  const chip = li.querySelector(".chip");
  const review = li.dataset.review;
  if (review) {
    chip.textContent = review;
    chip.className = "chip review";
    chip.title = "review label";
  } else {
    chip.textContent = li.dataset.base;
    chip.className = `chip ${li.dataset.baseSource}`;
    chip.title = li.dataset.base ? `${li.dataset.baseSource} label` : "no label";
  }
}

function setName(s, name) {
  s.dataset.name = name || "";
  const shown = name || s.dataset.suggested;
  s.querySelector("h2 .cname").textContent = shown;
  s.querySelector("h2 .hint").hidden = Boolean(name);
  const input = s.querySelector("form.name-cluster input[name=label]");
  if (input && document.activeElement !== input) input.value = name || "";
  const c = s.dataset.cluster;
  const row = document.querySelector(`table.clusters tr[data-cluster="${c}"]`);
  if (row) {
    row.querySelector(".cname-link").textContent = shown;
    row.querySelector(".hint").hidden = Boolean(name);
  }
  for (const option of document.querySelectorAll(`select.move option[value="${c}"]`)) {
    option.textContent = `${Number(c) + 1}: ${shown}`;
  }
}

// A cluster's name is the review label more than half of its lines carry (as the server computes it).
function renameClusters() {
  for (const s of document.querySelectorAll("section.cluster")) {
    const counts = new Map();
    for (const li of s.querySelectorAll("li.line")) {
      if (li.dataset.review) counts.set(li.dataset.review, (counts.get(li.dataset.review) || 0) + 1);
    }
    const best = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
    setName(s, best && 2 * best[1] > Number(s.dataset.size) ? best[0] : "");
    for (const li of s.querySelectorAll("li.line")) {
      const label = s.dataset.name || s.dataset.suggested;
      li.classList.toggle("moved", Boolean(li.dataset.review && li.dataset.review !== label));
    }
  }
}

function updateSummary(summary) {
  const body = document.querySelector("#label-summary tbody");
  if (!summary || !body) return;
  body.replaceChildren(
    ...summary.labels.map((r) => {
      const tr = document.createElement("tr");
      for (const [key, cls] of [["label", ""], ["review", "num"], ["gold", "num"], ["predicted", "num"], ["effective", "num"]]) {
        const td = document.createElement("td");
        td.textContent = String(r[key]);
        if (cls) td.className = cls;
        tr.append(td);
      }
      return tr;
    }),
  );
}

function applyLabels(labels) {
  for (const [oid, label] of Object.entries(labels)) {
    const li = byId.get(String(oid));
    if (!li) continue;
    li.dataset.review = label ?? "";
    showLabel(li);
  }
  renameClusters();
}

async function write(body, describe) {
  if (readOnly) return null;
  say("saving…");
  const { ok, data } = await postJSON("/api/labels", { ...view, ...body });
  if (!ok) {
    say(data.error || "not saved", "error");
    return null;
  }
  undoStack.push(data.before);
  undoButton.disabled = false;
  updateSummary(data.summary);
  say(`${describe}: ${data.changed} changed, ${data.unchanged} unchanged (u to undo)`, "ok");
  return data;
}

async function labelLines(ids, label) {
  if (!ids.length || !label) return;
  const data = await write({ occurrence_ids: ids.map(Number), label }, `${ids.length} line(s) labelled “${label}”`);
  if (data) applyLabels(Object.fromEntries(Object.keys(data.before).map((oid) => [oid, label])));
}

async function labelCluster(cluster, label) {
  if (!label) return;
  const data = await write({ cluster: Number(cluster), label }, `cluster ${Number(cluster) + 1} labelled “${label}”`);
  if (data) applyLabels(Object.fromEntries(Object.keys(data.before).map((oid) => [oid, label])));
}

async function undo() {
  const before = undoStack.pop();
  if (!before) {
    say("nothing to undo");
    return;
  }
  const { ok, data } = await postJSON("/api/labels", { ...view, restore: before });
  if (!ok) {
    undoStack.push(before);
    say(data.error || "not undone", "error");
    return;
  }
  undoButton.disabled = undoStack.length === 0;
  updateSummary(data.summary);
  applyLabels(before);
  say(`undone: ${Object.keys(before).length} line(s) back as they were`, "ok");
}

function selected() {
  return lines.filter((li) => li.querySelector("input.sel")?.checked);
}

function countSelected() {
  const n = selected().length;
  const el = document.getElementById("selected-count");
  if (el) el.textContent = String(n);
  for (const li of lines) li.classList.toggle("selected", Boolean(li.querySelector("input.sel")?.checked));
}

function toggleCurrent() {
  const box = cursor.current?.querySelector("input.sel");
  if (box) box.checked = !box.checked;
  countSelected();
}

function targets() {
  const chosen = selected();
  return chosen.length ? chosen : cursor.current ? [cursor.current] : [];
}

function clearSelection() {
  for (const li of lines) {
    const box = li.querySelector("input.sel");
    if (box) box.checked = false;
  }
  countSelected();
}

// --- wiring ------------------------------------------------------------------------------------
for (const form of document.querySelectorAll("form.name-cluster")) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const input = form.querySelector("input[name=label]");
    labelCluster(form.dataset.cluster, input.value.trim()).then(() => cursor.refocus());
  });
}

document.getElementById("label-selected")?.addEventListener("submit", (event) => {
  event.preventDefault();
  const label = document.getElementById("selected-label").value.trim();
  const ids = selected().map((li) => li.dataset.oid);
  if (!ids.length) {
    say("select lines first (x, or their boxes)", "error");
    return;
  }
  labelLines(ids, label).then(clearSelection);
});

undoButton?.addEventListener("click", undo);

for (const li of lines) {
  li.querySelector("select.move")?.addEventListener("change", (event) => {
    const cluster = event.target.value;
    event.target.value = "";
    if (cluster !== "") labelLines([li.dataset.oid], clusterLabel(cluster));
  });
  li.querySelector("input.sel")?.addEventListener("change", countSelected);
  li.addEventListener("click", (event) => {
    if (!(event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement)) cursor.to(li);
  });
}

document.getElementById("import-form")?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  if (!form.file.files.length) {
    say("choose a reviewed .csv or .jsonl file first", "error");
    return;
  }
  say("importing…");
  const { ok, data } = await postForm(`/api/labels/import?index=${encodeURIComponent(indexName)}`, new FormData(form));
  if (!ok) {
    say(data.error || "not imported", "error");
    return;
  }
  say(`${data.labelled} occurrence(s) labelled from ${data.file}: ${data.changed} changed; reloading…`, "ok");
  setTimeout(() => location.reload(), 600);
});

const bindings = moveBindings(cursor);
if (!readOnly) {
  const toggle = () => toggleCurrent();
  Object.assign(bindings, { x: toggle, " ": toggle, u: () => undo() });
  for (let key = 1; key <= 9; key++) {
    bindings[String(key)] = () => {
      const label = clusterLabel(key - 1);
      const chosen = targets();
      if (!label || !chosen.length) return false;
      labelLines(chosen.map((li) => li.dataset.oid), label).then(clearSelection);
    };
  }
  bindings.n = () => {
    const cluster = cursor.current ? cursor.current.dataset.cluster : "0";
    const input = section(cluster)?.querySelector("form.name-cluster input[name=label]");
    if (!input) return false;
    input.focus();
    input.select();
  };
}
keymap(bindings, () => cursor.refocus());
