// The search form: the words of the sentence become buttons; clicking one marks it as the
// target ([brackets]) and searches.

const input = document.getElementById("q");
const box = document.getElementById("targets");
const form = document.getElementById("search-form");
const WORD = /[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu;
const MARK = /\[([^[\]]+)\]/;

function render() {
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
    const button = document.createElement("button");
    button.type = "button";
    button.className = "tok";
    button.textContent = word;
    button.setAttribute("aria-pressed", String(marked !== null && start === marked.index));
    button.addEventListener("click", () => {
      input.value = `${plain.slice(0, start)}[${word}]${plain.slice(end)}`;
      render();
      form.requestSubmit();
    });
    box.append(button);
  }
}

if (input && box && form) {
  input.addEventListener("input", render);
  render();
}
