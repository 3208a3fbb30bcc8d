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
