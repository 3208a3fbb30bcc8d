// Shared by every page: the CSRF token, JSON and form POSTs, the status line, the index picker.
// Corpus text is only ever written with textContent: nothing from the index becomes markup.

export const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
export const indexName = document.querySelector('meta[name="senseindex-index"]')?.content ?? "";

async function answer(res) {
  let data;
  try {
    data = await res.json();
  } catch {
    data = { error: `HTTP ${res.status}` };
  }
  return { ok: res.ok, status: res.status, data };
}

export async function postJSON(url, body) {
  const res = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(body),
  });
  return answer(res);
}

export async function getJSON(url) {
  const res = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  return answer(res);
}

export async function postForm(url, formData) {
  const res = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "X-CSRF-Token": csrf },
    body: formData,
  });
  return answer(res);
}

export function say(text, kind = "info") {
  const el = document.getElementById("status");
  if (!el) return;
  el.textContent = text;
  el.dataset.kind = kind;
}

export function isTyping(target) {
  return target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

for (const select of document.querySelectorAll("select.autosubmit")) {
  select.addEventListener("change", () => select.form.submit());
}

// "/" jumps to the page's main text field, as in most search tools.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || isTyping(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
  const field = document.querySelector("main form.search input[type=text], main form.search textarea");
  if (field) {
    event.preventDefault();
    field.focus();
    field.select?.();
  }
});

// --- keyboard review (senses.js, review.js) ----------------------------------------------------
// A cursor over the page's lines: one carries the class "current" and the focus.
export class Cursor {
  constructor(items = []) {
    this.items = items;
    this.index = -1;
  }

  get current() {
    return this.items[this.index] ?? null;
  }

  reset(items) {
    this.current?.classList.remove("current");
    this.items = items;
    this.index = -1;
  }

  go(i) {
    if (!this.items.length) return null;
    this.current?.classList.remove("current");
    this.index = Math.max(0, Math.min(this.items.length - 1, i));
    const el = this.items[this.index];
    el.classList.add("current");
    el.focus({ preventScroll: true });
    el.scrollIntoView({ block: "nearest" });
    return el;
  }

  move(delta) {
    return this.go(this.index + delta);
  }

  to(el) {
    return this.go(this.items.indexOf(el));
  }

  refocus() {
    this.current?.focus({ preventScroll: true });
  }
}

// Single-key commands: bindings maps event.key to a function, called for keys pressed outside
// text fields and without Ctrl, Meta or Alt; it returns false when it did not use the key (the
// browser's default then happens). In a text field, Escape leaves it and calls back().
export function keymap(bindings, back) {
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target)) {
      if (event.key === "Escape") {
        event.target.blur();
        back?.();
      }
      return;
    }
    const fn = Object.hasOwn(bindings, event.key) ? bindings[event.key] : null;
    if (fn && fn(event) !== false) event.preventDefault();
  });
}

// The keys both review pages share: j/k and the arrows move the cursor, ? shows the help.
export function moveBindings(cursor) {
  return {
    j: () => cursor.move(1),
    ArrowDown: () => cursor.move(1),
    k: () => cursor.move(-1),
    ArrowUp: () => cursor.move(-1),
    "?": toggleHelp,
  };
}

export function toggleHelp() {
  const help = document.getElementById("help");
  if (help) help.hidden = !help.hidden;
}
