// The review page (active review): answer a batch of questions from the keyboard, store the
// answers (POST /api/review: review labels, and the k-NN vote for every other occurrence), then
// ask the next batch (GET /api/review) and show the word's status again.
// Keys: j/k next/previous line, 1-9 that sense, n a new sense, s skip, a the k-NN guess,
// 0 clear, Enter store and ask the next batch, ? help. Corpus text is written with textContent.
import { Cursor, getJSON, indexName, keymap, moveBindings, postJSON, say } from "./common.js";

const statusLine = document.getElementById("review-status");
const word = statusLine?.dataset.word ?? "";
const perBatch = statusLine?.dataset.n ?? "10";
const readOnly = document.body.dataset.readOnly === "1";
const body = document.querySelector("#questions tbody");
const choices = document.getElementById("choices");
const template = document.getElementById("question-template");
const newSense = document.getElementById("new-sense");
const newName = document.getElementById("new-sense-name");
const storeButton = document.getElementById("store-answers");
const done = document.getElementById("done");
const senses = [...document.querySelectorAll("#choices .sense")].map((el) => el.textContent);
const cursor = new Cursor(rows());
let busy = false;

function rows() {
  return body ? [...body.querySelectorAll("tr.q")] : [];
}

// --- senses and answers ----------------------------------------------------------------------
function option(name, text = name) {
  const o = document.createElement("option");
  o.value = name;
  o.textContent = text;
  return o;
}

function addSense(name) {
  if (senses.includes(name)) return;
  senses.push(name);
  const li = document.createElement("li");
  const key = document.createElement("kbd");
  key.textContent = String(senses.length);
  const sense = document.createElement("span");
  sense.className = "sense";
  sense.textContent = name;
  li.append(key, " ", sense);
  choices.append(li);
  document.getElementById("no-senses").hidden = true;
  for (const select of document.querySelectorAll("#questions select.answer")) {
    select.querySelector('option[value="skip"]').before(option(name));
  }
}

function answer(tr, value) {
  const select = tr?.querySelector("select.answer");
  if (!select) return;
  if (value && value !== "skip") addSense(value);
  select.value = value;
  mark(tr);
}

function mark(tr) {
  const value = tr.querySelector("select.answer")?.value ?? "";
  tr.classList.toggle("answered", value !== "" && value !== "skip");
  tr.classList.toggle("skipped", value === "skip");
}

function line() {
  return cursor.current ?? cursor.go(0);
}

function pick(i) {
  const tr = line();
  if (!tr) return;
  if (i >= senses.length) {
    say(senses.length ? `there are ${senses.length} sense(s): n names a new one` : "no senses yet: n names one", "error");
    return;
  }
  answer(tr, senses[i]);
  cursor.move(1);
}

function skip() {
  const tr = line();
  if (!tr) return;
  answer(tr, "skip");
  cursor.move(1);
}

function takeGuess() {
  const tr = line();
  if (!tr) return;
  if (!tr.dataset.predicted) {
    say("no k-NN guess for this line yet (it needs labels to vote)", "error");
    return;
  }
  answer(tr, tr.dataset.predicted);
  cursor.move(1);
}

function askNewSense() {
  if (!line() || !newName) return false;
  newName.focus();
  newName.select();
  return true;
}

newSense?.addEventListener("submit", (event) => {
  event.preventDefault();
  const name = newName.value.trim();
  if (!name) return;
  if (name.toLowerCase() === "skip") {
    say("“skip” is the answer that skips a line (s), not a sense name", "error");
    return;
  }
  newName.value = "";
  const tr = line();
  answer(tr, name);
  cursor.refocus();
  cursor.move(1);
});

// --- a batch -----------------------------------------------------------------------------------
function fmt(n) {
  return Number(n).toLocaleString("en-US");
}

function showStatus(st) {
  if (!st || !statusLine) return;
  const values = {
    ...st,
    accuracy: st.estimated_accuracy == null ? "–" : `${(100 * st.estimated_accuracy).toFixed(1)}%`,
    senses_text: Object.entries(st.senses || {}).map(([s, c]) => `${s} ${fmt(c)}`).join(", ") || "none yet",
  };
  showStop(st.stop);
  for (const el of statusLine.querySelectorAll("[data-stat]")) {
    const v = values[el.dataset.stat];
    el.textContent = typeof v === "number" ? fmt(v) : String(v ?? "");
  }
}

// Clusters numbered from 1, as the Senses page numbers them (the API counts from 0).
const shownReason = (reason) => reason.replace(/\b(sub-)?cluster (\d+)/g, (_, sub, n) => `${sub ?? ""}cluster ${Number(n) + 1}`);

// The stopping rule (review_queue.status_of's `stop`), in the words of `senseindex review --status`.
function showStop(stop) {
  const el = document.getElementById("stop");
  if (!el || !stop) return;
  const est = stop.estimate == null ? "-" : `${(100 * stop.estimate).toFixed(1)}%`;
  const figures = `predictions for the rest unchanged over the last ${stop.stable_answers} of ${stop.window} answers, ` +
    `estimated accuracy ${est} (target ${Math.round(100 * stop.target)}%), ` +
    `${stop.clusters_unasked ?? 0} cluster(s) not asked yet`;
  el.textContent = (stop.can_stop ? "you can stop here: " : "keep going: ") + figures;
  el.dataset.canStop = stop.can_stop ? "1" : "0";
}

// --- answers already stored: undo the last batch, correct any -------------------------------------
const undoButton = document.getElementById("undo-answers");
const answeredBody = document.querySelector("#answered tbody");
const undoStack = []; // the `before` of each stored batch, newest last

async function refreshAnswered() {
  if (!answeredBody) return;
  const params = new URLSearchParams({ word, source: "review" });
  if (indexName) params.set("index", indexName);
  const { ok, data } = await getJSON(`/api/labels/export?${params}`);
  if (!ok) return;
  data.sort((a, b) => (b.updated || "").localeCompare(a.updated || "") || b.occurrence_id - a.occurrence_id);
  answeredBody.replaceChildren(...data.slice(0, 20).map(answeredRow));
}

function answeredRow(r) {
  const tr = document.createElement("tr");
  tr.dataset.oid = String(r.occurrence_id);
  const chars = Array.from(r.sentence);
  const cell = (cls, text) => {
    const td = document.createElement("td");
    td.className = cls;
    td.textContent = text;
    return td;
  };
  const left = cell("left", "");
  const span = document.createElement("span");
  span.textContent = chars.slice(0, r.start).join("");
  left.append(span);
  const kw = cell("kw", "");
  const markEl = document.createElement("mark");
  markEl.textContent = chars.slice(r.start, r.end).join("");
  kw.append(markEl);
  const answerCell = cell("answer", "");
  const select = document.createElement("select");
  select.className = "edit";
  select.setAttribute("aria-label", `your answer for occurrence ${r.occurrence_id}`);
  for (const s of senses.includes(r.label) ? senses : [...senses, r.label]) select.append(option(s));
  select.value = r.label;
  answerCell.append(select);
  tr.append(left, kw, cell("right", chars.slice(r.end).join("")), answerCell);
  return tr;
}

async function edit(select) {
  const tr = select.closest("tr");
  const { ok, data } = await postJSON("/api/review", { index: indexName, word, answers: { [tr.dataset.oid]: select.value } });
  if (!ok) {
    say(data.error || "not stored", "error");
    return;
  }
  undoStack.push(data.before);
  undoButton.hidden = false;
  showStatus(data.status);
  say(`answer changed to ${select.value}`, "ok");
}

async function undo() {
  if (busy || readOnly || !undoStack.length) return;
  busy = true;
  try {
    const before = undoStack.pop();
    const { ok, data } = await postJSON("/api/review", { index: indexName, word, undo: before });
    if (!ok) {
      undoStack.push(before);
      say(data.error || "not undone", "error");
      return;
    }
    showStatus(data.status);
    await refreshAnswered();
    const params = new URLSearchParams({ word, n: perBatch });
    if (indexName) params.set("index", indexName);
    const next = await getJSON(`/api/review?${params}`);
    if (next.ok) showBatch(next.data);
    say(`undone: ${Object.keys(before).length} answer(s) back as they were`, "ok");
  } finally {
    busy = false;
    undoButton.hidden = !undoStack.length;
  }
}

answeredBody?.addEventListener("change", (event) => {
  if (event.target instanceof HTMLSelectElement && event.target.classList.contains("edit")) edit(event.target);
});
undoButton?.addEventListener("click", undo);

function question(q, i) {
  const tr = template.content.querySelector("tr").cloneNode(true);
  const chars = Array.from(q.sentence); // offsets count code points, as in Python
  tr.dataset.oid = String(q.occurrence_id);
  tr.dataset.predicted = q.predicted ?? "";
  const rank = tr.querySelector("td.rank");
  rank.textContent = String(i);
  rank.title = `asked because: ${shownReason(q.reason)}`;
  tr.querySelector("td.left").title = q.sentence;
  tr.querySelector("td.left > span").textContent = chars.slice(0, q.start).join("");
  tr.querySelector("td.kw > mark").textContent = chars.slice(q.start, q.end).join("");
  const right = tr.querySelector("td.right");
  right.textContent = chars.slice(q.end).join("");
  right.title = q.sentence;
  tr.querySelector(".guess .chip").textContent = q.predicted ?? "";
  tr.querySelector(".guess .conf").textContent = q.confidence == null ? "" : `${Math.round(100 * q.confidence)}%`;
  tr.querySelector(".guess .reason").textContent = shownReason(q.reason);
  const select = tr.querySelector("select.answer");
  select.setAttribute("aria-label", `sense of line ${i}`);
  const skipOption = select.querySelector('option[value="skip"]');
  for (const s of senses) skipOption.before(option(s));
  const where = tr.querySelector("td.where");
  where.title = q.doc;
  where.textContent = `${q.doc.split(/[\\/]/).pop()}:${q.line}`;
  wire(tr);
  return tr;
}

function showBatch(batch) {
  for (const s of batch.senses) addSense(s); // known numbers keep their keys; new senses go last
  body.replaceChildren(...batch.questions.map((q, i) => question(q, i + 1)));
  cursor.reset(rows());
  done.hidden = batch.questions.length > 0;
  showStatus(batch.status);
  cursor.go(0);
}

async function store() {
  if (busy || readOnly) return;
  const answers = {};
  for (const tr of rows()) {
    const value = tr.querySelector("select.answer")?.value;
    if (value) answers[tr.dataset.oid] = value;
  }
  if (!Object.keys(answers).length) {
    say("no answers yet: give a line a sense (1–9, n) or skip it (s) first", "error");
    return;
  }
  busy = true;
  storeButton.disabled = true;
  say("storing…");
  try {
    const { ok, data } = await postJSON("/api/review", { index: indexName, word, answers });
    if (!ok) {
      say(data.error || "not stored", "error");
      return;
    }
    showStatus(data.status);
    undoStack.push(data.before);
    undoButton.hidden = false;
    refreshAnswered();
    const stored = `stored ${data.labelled} answer(s) (${data.changed} changed), ${data.skipped} skipped`;
    say(`${stored}; asking the next batch…`);
    const params = new URLSearchParams({ word, n: perBatch });
    if (indexName) params.set("index", indexName);
    const next = await getJSON(`/api/review?${params}`);
    if (!next.ok) {
      say(`${stored}; the next batch failed: ${next.data.error || "error"}`, "error");
      return;
    }
    showBatch(next.data);
    const asked = next.data.questions.length;
    say(`${stored}. ${asked ? `Next batch: ${asked} line(s).` : "Nothing left to ask."}`, "ok");
  } catch (err) {
    say(`not stored: ${err}`, "error");
  } finally {
    busy = false;
    storeButton.disabled = false;
  }
}

// --- wiring ------------------------------------------------------------------------------------
function wire(tr) {
  tr.addEventListener("click", (event) => {
    if (!(event.target instanceof HTMLSelectElement)) cursor.to(tr);
  });
  tr.querySelector("select.answer")?.addEventListener("change", () => {
    mark(tr);
    cursor.to(tr);
  });
}

for (const tr of rows()) wire(tr);
storeButton?.addEventListener("click", store);

const bindings = moveBindings(cursor);
if (!readOnly && word) {
  for (let d = 1; d <= 9; d++) bindings[String(d)] = () => pick(d - 1);
  Object.assign(bindings, {
    s: skip,
    a: takeGuess,
    u: undo,
    0: () => answer(line(), ""),
    n: askNewSense,
    Enter: (event) => {
      if (event.target instanceof Element && event.target.closest("button, a")) return false; // its own action
      store();
    },
  });
}
keymap(bindings, () => cursor.refocus());
if (!readOnly && rows().length) cursor.go(0);
