// Live captions for viewers (docs/protocol.md, "captions"): the newest line over the player,
// the line being typed below it, and a scrolling transcript beside it. The pushes come over
// the page's one live socket (`pageSocket` in static/js/qa-socket.js). The CC button
// turns the overlay on and off, remembered in localStorage; the transcript stays.
// Caption text is always set as text, never as HTML.
import { pageSocket } from "./qa-socket.js";

const STORE = "salen.captions";
const SHOW_MS = 6000;  // a committed line stays over the player this long without a new one
const lines = new Map();
let partial = null;
let lastAt = 0;
let hideTimer = null;

const overlays = [...document.querySelectorAll("[data-captions-overlay]")];
const toggles = [...document.querySelectorAll("[data-captions-toggle]")];
const transcript = document.querySelector("[data-captions-transcript]");
const list = transcript ? transcript.querySelector("ol") : null;

function enabled() {
  return localStorage.getItem(STORE) !== "off";
}

function setEnabled(on) {
  localStorage.setItem(STORE, on ? "on" : "off");
  for (const button of toggles) button.setAttribute("aria-pressed", String(on));
  draw();
}

for (const button of toggles) {
  button.hidden = false;
  button.setAttribute("aria-pressed", String(enabled()));
  button.addEventListener("click", () => setEnabled(!enabled()));
}

// The page's socket, opened with the page's own params should captions come first.
const page = document.querySelector("[data-qa-page]");
if (page) {
  pageSocket(page.dataset.event, {
    params: { p: page.dataset.p, key: page.dataset.key },
    pushes: new Set(["captions"]),
    onPush: show,
  });
}

function show(push) {
  if (push.snapshot) partial = null;
  const fresh = [];
  for (const line of push.lines || []) {
    if (!lines.has(line.seq)) { lines.set(line.seq, line); fresh.push(line); }
  }
  if ("partial" in push) partial = push.partial;
  if (fresh.length && !push.snapshot) lastAt = Date.now();
  if (transcript) { transcript.hidden = false; addToTranscript(fresh); }
  draw();
}

function newest() {
  let best = null;
  for (const line of lines.values()) if (!best || line.seq > best.seq) best = line;
  return best;
}

function draw() {
  const on = enabled();
  const line = newest();
  const showLine = line && Date.now() - lastAt < SHOW_MS;
  for (const overlay of overlays) {
    overlay.replaceChildren();
    overlay.hidden = !on;
    if (!on) continue;
    if (showLine) overlay.append(row(line.text, "captions-line"));
    if (partial && partial.text) overlay.append(row(partial.text, "captions-partial"));
  }
  clearTimeout(hideTimer);
  if (showLine) hideTimer = setTimeout(draw, SHOW_MS);
}

function row(text, className) {
  const span = document.createElement("span");
  span.className = className;
  span.dir = "auto";
  span.textContent = text;
  const wrap = document.createElement("div");
  wrap.append(span);
  return wrap;
}

function addToTranscript(fresh) {
  if (!list) return;
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 24;
  for (const line of fresh.sort((a, b) => a.seq - b.seq)) {
    const item = document.createElement("li");
    item.dataset.seq = String(line.seq);
    const time = document.createElement("time");
    time.dateTime = line.at;
    time.textContent = new Date(line.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
    const text = document.createElement("span");
    text.dir = "auto";
    text.textContent = line.text;
    item.append(time, text);
    const later = [...list.children].find((li) => Number(li.dataset.seq) > line.seq);
    list.insertBefore(item, later || null);
  }
  if (atBottom) list.scrollTop = list.scrollHeight;
}

// The live HLS carries the same captions as a subtitle track (hls.js adds it to the video);
// where this overlay draws them, the track is kept hidden so they are not shown twice.
for (const video of overlays.length ? document.querySelectorAll("video") : []) {
  const hide = () => {
    for (const track of video.textTracks) {
      if (track.kind === "subtitles" || track.kind === "captions") track.mode = "hidden";
    }
  };
  video.textTracks.addEventListener("addtrack", hide);
  video.textTracks.addEventListener("change", hide);
}

window.salenCaptions = { lines, get partial() { return partial; } };
