// The search form: the words of the sentence become buttons; clicking one marks it as the
// target ([brackets]) and searches. Words the index does not hold (stopwords, words absent from
// the corpus) are shown as plain text, never as a button that leads to an error page.
// A click on a concordance line shows its whole sentence with its neighbours.

import { getJSON, indexName } from "./common.js";

const input = document.getElementById("q");
const box = document.getElementById("targets");
const form = document.getElementById("search-form");
const WORD = /[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu;
const MARK = /\[([^[\]]+)\]/;
let asked = 0;
let timer = null;

function render(indexed) {
  box.replaceChildren();
  const text = input.value;
  const marked = MARK.exec(text);
  const plain = text.replace(/\[([^[\]]+)\]/g, "$1");
  const words = [...plain.matchAll(WORD)].map((m) => [m.index, m.index + m[0].length, m[0]]);
  if (!words.length) return;
  const hint = document.createElement("span");
  hint.className = "hint";
  hint.textContent = marked ? "target:" : "click the target word:";
  box.append(hint);
  for (const [start, end, word] of words) {
    const known = indexed ? indexed.get(`${start}:${end}`) : undefined;
    if (indexed && !known) {
      const span = document.createElement("span");
      span.className = "tok missing";
      span.textContent = word;
      span.title = "not in the index (a stopword, or a word the corpus lacks)";
      box.append(span);
      continue;
    }
    const button = document.createElement("button");
    button.type = "button";
    button.className = "tok";
    button.textContent = word;
    if (known) button.title = `${known.lemma}: ${known.occurrences.toLocaleString()} occurrence(s)`;
    button.setAttribute("aria-pressed", String(marked !== null && start === marked.index));
    button.addEventListener("click", () => {
      input.value = `${plain.slice(0, start)}[${word}]${plain.slice(end)}`;
      render(indexed);
      form.requestSubmit();
    });
    box.append(button);
  }
  box.dataset.checked = indexed ? "1" : "";
}

async function check() {
  const plain = input.value.replace(/\[([^[\]]+)\]/g, "$1");
  const mine = ++asked;
  if (!plain.trim()) return render(null);
  const { ok, data } = await getJSON(`/api/words?index=${encodeURIComponent(indexName)}&q=${encodeURIComponent(plain)}`);
  if (mine !== asked || !ok) return;
  const indexed = new Map(data.words.filter((w) => w.occurrences > 0).map((w) => [`${w.start}:${w.end}`, w]));
  render(indexed);
}

if (input && box && form) {
  input.addEventListener("input", () => {
    render(null);
    clearTimeout(timer);
    timer = setTimeout(check, 250);
  });
  render(null);
  check();
}

// --- the whole sentence of a line -----------------------------------------------------------------
const dialog = document.getElementById("sentence-view");
const context = document.getElementById("sentence-context");

async function showSentence(row) {
  const sid = row.dataset.sid;
  if (!sid || !dialog) return;
  const { ok, data } = await getJSON(`/api/context?index=${encodeURIComponent(indexName)}&sentence_id=${sid}&around=2`);
  if (!ok) return;
  context.replaceChildren();
  const where = document.createElement("p");
  where.className = "hint";
  where.textContent = data.doc;
  context.append(where);
  for (const s of data.sentences) {
    const p = document.createElement("p");
    p.className = s.current ? "current-sentence" : "neighbour";
    p.textContent = `${s.line}: ${s.text}`;
    context.append(p);
  }
  dialog.showModal();
}

for (const row of document.querySelectorAll("table.kwic tbody tr[data-sid]")) {
  row.addEventListener("click", (event) => {
    if (event.target.closest("a, button, select, input")) return;
    showSentence(row);
  });
  row.addEventListener("keydown", (event) => {
    if (event.key === "Enter") showSentence(row);
  });
}
