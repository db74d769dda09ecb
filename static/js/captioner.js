// The captioner's page (templates/captions/captioner.html): what is typed goes to viewers as
// a partial line ("captions.type", at most every THROTTLE_MS), and Enter commits it
// ("captions.line") with a key of its own. A line not yet acknowledged is kept and sent
// again with the same key after a reconnect, so it is stored once: nothing lost, nothing
// doubled, also when two captioners take turns. Without JavaScript the form posts lines.
import { pageSocket, loadTexts, format, connectionStatus } from "./qa-socket.js";

const THROTTLE_MS = 100;
const KEY_REPLACED = 4401;  // the organiser made a new captioner link: this one is over
const page = document.querySelector("[data-captioner]");
const texts = loadTexts("captioner-texts");
const form = page.querySelector("[data-line-form]");
const input = page.querySelector("#captioner-text");
const nameInput = page.querySelector("#captioner-name");
const list = page.querySelector("[data-lines]");
const typing = page.querySelector("[data-typing]");
const pending = [];  // lines sent but not acknowledged: [{key, text, name}]
let me = "";
let timer = null;
let lastSent = "";
let lastSentAt = 0;

nameInput.value = nameInput.value || localStorage.getItem("salen.captioner.name") || "";
nameInput.addEventListener("change", () => localStorage.setItem("salen.captioner.name", nameInput.value));

const socket = pageSocket(page.dataset.event, {
  pushes: new Set(["captions"]),
  onPush: show,
  onStatus: (state) => {
    connectionStatus(page.querySelector("[data-connection]"), texts)(state);
    if (state === "open") flush();
    if (state === "gone" && socket.closeCode === KEY_REPLACED) replaced();
  },
});

function replaced() {
  page.querySelector("[data-connection]").hidden = true;
  const rehearsal = page.querySelector("[data-rehearsal]");
  if (rehearsal) rehearsal.hidden = true;
  page.querySelector("[data-replaced]").hidden = false;
  form.hidden = true;  // nothing can be sent with this link any more
}

function show(push) {
  for (const line of push.lines || []) addLine(line);
  const partial = push.partial;
  typing.textContent = partial && partial.who !== me
    ? format(texts.typing, { name: partial.by || texts.someone }) : "";
}

function addLine(line) {
  if (list.querySelector(`[data-seq="${line.seq}"]`)) return;
  const item = document.createElement("li");
  item.dataset.seq = String(line.seq);
  const by = document.createElement("span");
  by.className = "captioner-by";
  by.textContent = line.by || "";
  const text = document.createElement("span");
  text.dir = "auto";
  text.textContent = line.text;
  item.append(by, " ", text);
  const later = [...list.children].find((li) => Number(li.dataset.seq) > line.seq);
  list.insertBefore(item, later || null);
  item.scrollIntoView({ block: "nearest" });
}

function sendPartial() {
  timer = null;
  const text = input.value;
  if (text === lastSent) return;
  lastSent = text;
  lastSentAt = performance.now();
  socket.call("captions.type", { text, name: nameInput.value.trim() })
    .then((reply) => { me = reply.who || me; })
    .catch(() => {});
}

input.addEventListener("input", () => {
  // The first keystroke after a pause goes out at once: the server takes its arrival as
  // the line's start, which becomes the cue's start in the recording.
  if (timer === null) {
    timer = setTimeout(sendPartial, Math.max(0, lastSentAt + THROTTLE_MS - performance.now()));
  }
});

input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.isComposing) {
    event.preventDefault();
    commit();
  }
});

form.addEventListener("submit", (event) => {
  event.preventDefault();
  commit();
});

function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function commit() {
  const text = input.value.trim();
  if (!text) return;
  clearTimeout(timer);
  timer = null;
  input.value = "";
  lastSent = "";
  pending.push({ key: newKey(), text, name: nameInput.value.trim() });
  flush();
}

let flushing = false;
async function flush() {
  if (flushing) return;
  flushing = true;
  try {
    while (pending.length) {
      const line = pending[0];
      try {
        const reply = await socket.call("captions.line", line);
        for (const stored of reply.lines || []) addLine(stored);
        pending.shift();
      } catch (error) {
        if (error.code === "disconnected") break;  // sent again with the same key on reconnect
        pending.shift();
        page.querySelector("[data-connection]").textContent = texts.error_generic;
        page.querySelector("[data-connection]").hidden = false;
      }
    }
  } finally {
    flushing = false;
  }
}

window.salenCaptioner = { socket, pending };
