// The caption editor (templates/captions/editor.html): the WebVTT text in the form is read
// into cues shown with their times; edits, splits, merges and shifts are written back into
// the text at once, so the form always sends what the page shows and the server validates
// it (live/captions/editor.py). Keyboard: in a cue's text Ctrl+Enter plays from the cue,
// Alt+S splits at the cursor, Alt+M merges with the next cue, Alt+Down/Up move between cues.
// Caption text is set as text (input values), never as HTML.
import { loadTexts, format } from "./qa-socket.js";

const page = document.querySelector("[data-caption-editor]");
const texts = loadTexts("editor-texts");
const source = page.querySelector("#editor-vtt");
const section = page.querySelector("[data-cue-section]");
const list = page.querySelector("[data-cues]");
const video = page.querySelector("[data-editor-video]");
const status = page.querySelector("[data-editor-status]");
const TIMING = /^(?:(\d{1,3}):)?(\d{2}):(\d{2})[.,](\d{3})[ \t]+-->[ \t]+(?:(\d{1,3}):)?(\d{2}):(\d{2})[.,](\d{3})(.*)$/;
let header = "WEBVTT";
let cues = [];
let shown = source.value;  // the text the cues were last read from or written to

function seconds(h, m, s, ms) {
  return Number(h || 0) * 3600 + Number(m) * 60 + Number(s) + Number(ms) / 1000;
}

export function stamp(value) {
  let ms = Math.max(0, Math.round(value * 1000));
  const h = Math.floor(ms / 3600000); ms -= h * 3600000;
  const m = Math.floor(ms / 60000); ms -= m * 60000;
  const s = Math.floor(ms / 1000); ms -= s * 1000;
  const two = (n) => String(n).padStart(2, "0");
  return `${two(h)}:${two(m)}:${two(s)}.${String(ms).padStart(3, "0")}`;
}

function parseStamp(text) {
  const match = /^\s*(?:(\d{1,3}):)?(\d{1,2}):(\d{2})(?:[.,](\d{1,3}))?\s*$/.exec(text);
  if (!match) return null;
  return seconds(match[1], match[2], match[3], (match[4] || "0").padEnd(3, "0"));
}

/** The text's cues, or null when it is not WebVTT this page can edit (the server says why). */
function parse(text) {
  const blocks = text.replace(/\r\n?/g, "\n").split(/\n{2,}/).map((b) => b.trim()).filter(Boolean);
  if (!blocks.length || !blocks[0].startsWith("WEBVTT")) return null;
  const found = [];
  for (const block of blocks.slice(1)) {
    let lines = block.split("\n");
    if (/^(NOTE|STYLE|REGION)\b/.test(lines[0])) continue;
    if (!lines[0].includes("-->")) lines = lines.slice(1);  // a cue identifier
    const match = TIMING.exec(lines[0] || "");
    if (!match) return null;
    found.push({
      start: seconds(match[1], match[2], match[3], match[4]),
      end: seconds(match[5], match[6], match[7], match[8]),
      settings: match[9].trim(),
      text: lines.slice(1).join("\n"),
    });
  }
  header = blocks[0];
  return found;
}

function serialise() {
  const out = [header, ""];
  for (const cue of cues) {
    out.push(`${stamp(cue.start)} --> ${stamp(cue.end)}${cue.settings ? " " + cue.settings : ""}`);
    out.push(cue.text, "");
  }
  source.value = out.join("\n");
  shown = source.value;
}

function field(labelText, value, onChange, multiline) {
  const wrap = document.createElement("div");
  wrap.className = "ds-field";
  const label = document.createElement("label");
  label.className = "ds-label";
  label.textContent = labelText;
  const input = document.createElement(multiline ? "textarea" : "input");
  input.className = "ds-input";
  input.id = `cue-${Math.random().toString(36).slice(2)}`;
  label.htmlFor = input.id;
  if (multiline) input.rows = 2; else input.type = "text";
  input.value = value;
  input.addEventListener("change", () => onChange(input));
  wrap.append(label, input);
  return { wrap, input };
}

function button(label, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "ds-button";
  b.dataset.variant = "tertiary";
  b.dataset.size = "sm";
  b.textContent = label;
  b.addEventListener("click", onClick);
  return b;
}

function render(focusIndex = null) {
  list.replaceChildren();
  cues.forEach((cue, index) => {
    const item = document.createElement("li");
    item.className = "caption-editor-cue";
    item.dataset.index = String(index);
    const name = format(texts.cue, { n: index + 1 });
    const time = (key, labelText) => field(`${labelText} (${name})`, stamp(cue[key]), (input) => {
      const value = parseStamp(input.value);
      if (value === null) { input.setAttribute("aria-invalid", "true"); say(texts.bad_time); return; }
      input.removeAttribute("aria-invalid");
      cue[key] = value;
      serialise();
    });
    const start = time("start", texts.start);
    const end = time("end", texts.end);
    const text = field(`${texts.text} (${name})`, cue.text, (input) => { cue.text = input.value; serialise(); }, true);
    text.input.dataset.cueText = String(index);
    text.input.addEventListener("keydown", (event) => keys(event, index, text.input));
    const actions = document.createElement("p");
    actions.append(
      button(`${texts.play} (${name})`, () => play(index)),
      button(`${texts.split} (${name})`, () => split(index, text.input.selectionStart)),
      button(`${texts.merge} (${name})`, () => merge(index)),
      button(`${texts.delete} (${name})`, () => { cues.splice(index, 1); serialise(); render(Math.min(index, cues.length - 1)); }),
    );
    item.append(start.wrap, end.wrap, text.wrap, actions);
    list.append(item);
  });
  if (focusIndex !== null && focusIndex >= 0) {
    const target = list.querySelector(`[data-cue-text="${focusIndex}"]`);
    if (target) target.focus();
  }
}

function keys(event, index, input) {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); play(index); }
  else if (event.altKey && (event.key === "s" || event.key === "S" || event.code === "KeyS")) { event.preventDefault(); cues[index].text = input.value; split(index, input.selectionStart); }
  else if (event.altKey && (event.key === "m" || event.key === "M" || event.code === "KeyM")) { event.preventDefault(); cues[index].text = input.value; merge(index); }
  else if (event.altKey && event.key === "ArrowDown") { event.preventDefault(); render(Math.min(index + 1, cues.length - 1)); }
  else if (event.altKey && event.key === "ArrowUp") { event.preventDefault(); render(Math.max(index - 1, 0)); }
}

function play(index) {
  if (!video) return;
  video.currentTime = cues[index].start;
  video.play().catch(() => {});
}

/** Split cue `index` at character `at`: the time is divided in proportion to the text. */
function split(index, at) {
  const cue = cues[index];
  const cut = Math.max(1, Math.min(at ?? Math.floor(cue.text.length / 2), cue.text.length - 1));
  if (cue.text.length < 2) return;
  const middle = cue.start + (cue.end - cue.start) * (cut / cue.text.length);
  const second = { ...cue, start: middle, text: cue.text.slice(cut).trim() };
  cues.splice(index, 1, { ...cue, end: middle, text: cue.text.slice(0, cut).trim() }, second);
  serialise();
  render(index + 1);
}

function merge(index) {
  if (index + 1 >= cues.length) return;
  const [a, b] = [cues[index], cues[index + 1]];
  cues.splice(index, 2, { ...a, end: Math.max(a.end, b.end), text: `${a.text} ${b.text}`.trim() });
  serialise();
  render(index);
}

function say(message) {
  status.textContent = message;
}

page.querySelector("[data-shift-all]").addEventListener("click", () => {
  const by = Number(page.querySelector("[data-shift]").value.replace(",", "."));
  if (!Number.isFinite(by)) { say(texts.bad_time); return; }
  for (const cue of cues) { cue.start = Math.max(0, cue.start + by); cue.end = Math.max(cue.start + 0.001, cue.end + by); }
  serialise();
  render();
  say(format(texts.shifted, { s: by }));
});

source.addEventListener("change", () => {
  if (source.value === shown) return;  // a second change event for the same text
  shown = source.value;
  const found = parse(source.value);
  if (found) { cues = found; section.hidden = false; render(); }
});

const first = parse(source.value);
if (first && !page.querySelector("[data-error-line]")) {
  cues = first;
  section.hidden = false;
  render();
} else if (!first) {
  say(texts.unreadable);
}

window.salenCaptionEditor = { get cues() { return cues; } };
