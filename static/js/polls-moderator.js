// Polls on the moderators' desk: make a poll on the fly, launch, close, reveal and hide it,
// watch the counts as they come (moderators get each change at once), and moderate open
// text and word cloud answers: approve, hide, star, or send an "innspill" on to the panel.

import { pageSocket, connectionStatus } from "./qa-socket.js";
import { PollsState, Cloud, el, fmt, pollTexts, resultsNode, statusText } from "./polls-core.js";

const root = document.querySelector("[data-polls=moderator]");
const texts = pollTexts();
const state = new PollsState();
const cloud = new Cloud();
const status = root.querySelector("[data-polls-status]");
const error = root.querySelector("[data-polls-error]");

// Cards stay in the page between pushes, and a card's buttons are redrawn only when what they
// do changes (launched, revealed...): with answers coming in, a moderator's click would
// otherwise land on a button that a count push replaced between press and release.
const cards = new Map();

root.hidden = false;
const socket = pageSocket(root.dataset.event, {
  params: { p: root.dataset.p, token: root.dataset.token },
  pushes: new Set(["polls", "polls.update"]),
  onPush: (push) => { if (state.apply(push)) render(); },
  onStatus: connectionStatus(root.querySelector("[data-polls-connection]"), texts),
});

async function call(type, fields, done) {
  error.hidden = true;
  try {
    await socket.call(type, fields);
    if (done) status.textContent = done;
  } catch (failure) {
    error.textContent = (texts.errors || {})[failure.code] || failure.message || texts.error_generic;
    error.hidden = false;
  }
}

function button(label, onClick, variant = "secondary", extra = {}) {
  const node = el("button", { cls: "ds-button", text: label, attrs: { type: "button", "data-variant": variant, "data-size": "sm", ...extra } });
  node.addEventListener("click", onClick);
  return node;
}

function controls(poll) {
  const box = el("div", { cls: "poll-controls" });
  if (poll.status !== "open") box.append(button(texts.launch, () => call("poll.launch", { poll: poll.id }, texts.launched), "primary", { "data-action": "launch" }));
  else box.append(button(texts.close, () => call("poll.close", { poll: poll.id }, texts.closed), "secondary", { "data-action": "close" }));
  if (poll.revealed) box.append(button(texts.hide, () => call("poll.hide", { poll: poll.id }), "tertiary", { "data-action": "hide" }));
  else box.append(button(texts.reveal, () => call("poll.reveal", { poll: poll.id }, texts.revealed), "secondary", { "data-action": "reveal" }));
  return box;
}

function entries(poll) {
  const list = el("ul", { cls: "poll-entries" });
  for (const entry of (poll.results && poll.results.entries) || []) {
    const li = el("li", { cls: `poll-entry status-${entry.status}` }, [
      el("p", { text: entry.text, attrs: { dir: "auto" } }),
      el("p", { cls: "ds-paragraph poll-by", text: `${entry.name ? entry.name + " · " : ""}${texts["entry_" + (entry.status || "approved")]}${entry.starred ? " · ★" : ""}` }),
    ]);
    const act = (action) => () => call("poll.moderate", { poll: poll.id, answer: entry.id, action });
    if ((entry.status || "approved") !== "approved") li.append(button(texts.approve, act("approve")));
    if (entry.status !== "hidden") li.append(button(texts.hide_entry, act("hide"), "tertiary"));
    li.append(button(entry.starred ? texts.unstar : texts.star, act(entry.starred ? "unstar" : "star"), "tertiary"));
    if (poll.kind === "text") li.append(button(texts.to_panel, () => call("poll.forward", { poll: poll.id, answer: entry.id }, texts.forwarded), "tertiary"));
    list.append(li);
  }
  return list;
}

function render() {
  const list = root.querySelector("[data-polls-list]");
  // The open polls first: what the room is answering now; then the rest, newest first.
  const polls = state.list().sort((a, b) => (b.status === "open") - (a.status === "open"));
  const wanted = polls.map(pollCard);
  for (const id of [...cards.keys()]) if (!polls.some((p) => p.id === id)) cards.delete(id);
  const shown = [...list.children];
  if (wanted.length !== shown.length || wanted.some((card, i) => shown[i] !== card)) list.replaceChildren(...wanted);
  root.querySelector("[data-blocked]").textContent = state.blocked.join(", ") || texts.none;
}

function pollCard(poll) {
  let known = cards.get(poll.id);
  if (!known) {
    known = { head: el("div"), controls: el("div"), results: el("div"), key: null, entries: null };
    known.card = el("section", { cls: "ds-card poll-card", attrs: { "data-poll": poll.id } },
      [known.head, known.controls, known.results]);
    cards.set(poll.id, known);
  }
  known.head.replaceChildren(
    el("h3", { cls: "ds-heading", text: poll.question, attrs: { dir: "auto", "data-size": "xs" } }),
    el("p", { cls: "ds-tag", text: `${statusText(poll, texts)} · ${texts["kind_" + poll.kind]} · ${fmt(poll.answers === 1 ? texts.answer_one : texts.answers, { n: poll.answers || 0 })}` }));
  const key = `${poll.status} ${poll.revealed}`;
  if (key !== known.key) {
    known.key = key;
    known.controls.replaceChildren(controls(poll));
  }
  if (poll.kind === "text") {
    const said = JSON.stringify((poll.results && poll.results.entries) || []);
    if (said !== known.entries) {
      known.entries = said;
      known.results.replaceChildren(entries(poll));
    }
  } else known.results.replaceChildren(...(poll.results ? [resultsNode(poll, texts, cloud.for(poll.id))] : []));
  return known.card;
}

const form = root.querySelector("[data-poll-form]");
form.addEventListener("submit", (event) => {
  event.preventDefault();
  const data = new FormData(form);
  const kind = String(data.get("kind"));
  const fields = {
    kind, question: String(data.get("question") || ""),
    options: String(data.get("options") || "").split("\n").map((o) => o.trim()).filter(Boolean),
    scale: Number(data.get("scale") || 5), anonymous: data.get("anonymous") !== null,
    final: data.get("final") !== null, moderated: data.get("moderated") !== null,
    launch: data.get("launch") !== null,
  };
  if (data.get("max_choices")) fields.max_choices = Number(data.get("max_choices"));
  if (data.get("duration")) fields.duration = Number(data.get("duration"));
  call("poll.create", fields, texts.created).then(() => { if (error.hidden) form.reset(); });
});

const block = root.querySelector("[data-block-form]");
block.addEventListener("submit", (event) => {
  event.preventDefault();
  const words = String(new FormData(block).get("words") || "").split(/[,\n]/).map((w) => w.trim()).filter(Boolean);
  if (words.length) call("poll.block", { words }, texts.blocked_saved).then(() => block.reset());
});

window.salenPolls = { state };
