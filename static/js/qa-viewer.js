// The viewer's live page: ask, upvote once (and take the vote back), follow which question
// the panel answers now, and see one's own questions (pending ones as "awaiting
// moderation"). Everything a person wrote is put on the page with textContent, never as HTML.
// The list never moves under a pointer or finger: while one is over it (and for PAUSE_MS
// after), new votes only change the counts in place and new questions wait; a pill ("2 new"
// or "Update order") applies the new order at once, and the pause applies it by itself.

import { pageSocket, loadTexts, format, connectionStatus, errorText } from "./qa-socket.js";
import { QaState, PUBLIC, sortQuestions, el, askedByNodes, plural } from "./qa-state.js";

const page = document.querySelector("[data-qa-page=viewer]");
const texts = loadTexts();
const state = new QaState();
const form = page.querySelector("[data-ask-form]");
const list = page.querySelector("[data-questions]");
const pill = page.querySelector("[data-reorder]");
const PAUSE_MS = 4000;
let order = "votes";
let applied = null;  // question ids in the order on screen (null: nothing drawn yet)
let pointerOver = false;
let lastPointer = 0;
let pauseTimer = null;

const socket = pageSocket(page.dataset.event, {
  params: { p: page.dataset.p },
  onPush: (push) => { state.apply(push); render(); },
  onStatus: connectionStatus(page.querySelector("[data-connection]"), texts),
});

function statusLabel(q) {
  return texts["status_" + q.status] || q.status;
}

function renderNow() {
  const box = page.querySelector("[data-now]");
  const q = state.onAir();
  box.replaceChildren(q
    ? el("blockquote", { cls: "qa-now-question" }, [
        el("p", { text: q.text, attrs: { dir: "auto" } }), el("footer", {}, askedByNodes(q, texts)),
      ])
    : el("p", { cls: "hint", text: texts.nothing_on_air }));
}

function voteButton(q) {
  const mine = state.voted.has(q.id);
  // The visible count is part of the accessible name; the question itself describes it.
  const button = el("button", {
    cls: "qa-vote" + (mine ? " voted" : ""),
    attrs: { type: "button", "aria-pressed": mine ? "true" : "false",
             "aria-describedby": `q-${q.id}-text`, "data-vote": q.id },
  }, [el("span", { text: "▲", attrs: { "aria-hidden": "true" } }),
      el("span", { text: String(q.votes || 0) }),
      el("span", { cls: "sr-only", text: " " + (mine ? texts.voted : texts.vote) })]);
  if (mine) button.title = texts.voted;
  button.addEventListener("click", () => vote(q.id, !state.voted.has(q.id)));
  return button;
}

function questionItem(q) {
  const li = el("li", { cls: `qa-question status-${q.status}`, attrs: { "data-question": q.id } });
  if (q.status === "answered") {
    li.append(el("span", { cls: "qa-votes", text: plural(texts, "votes", q.votes) }));
  } else {
    li.append(voteButton(q));
  }
  const body = el("div", { cls: "qa-body" }, [
    el("p", { cls: "qa-text", text: q.text, attrs: { id: `q-${q.id}-text`, dir: "auto" } }),
    el("p", { cls: "qa-by" }, askedByNodes(q, texts)),
  ]);
  if (q.status !== "approved") body.append(el("p", { cls: "qa-status", text: statusLabel(q) }));
  li.append(body);
  return li;
}

function busy() {
  return pointerOver || Date.now() - lastPointer < PAUSE_MS;
}

function applyLater() {
  clearTimeout(pauseTimer);
  if (pointerOver) return;  // applied after the pointer leaves and the pause passes
  pauseTimer = setTimeout(() => renderQuestions(), Math.max(0, lastPointer + PAUSE_MS - Date.now()) + 50);
}

/** What to draw: the wanted order, or (while busy) the order on screen with fresh counts. */
function layout(force) {
  const wanted = sortQuestions(state.withStatus(PUBLIC), order);
  if (force || applied === null || !busy()) return { shown: wanted, fresh: 0, moved: false };
  const onScreen = new Set(applied);
  const byId = new Map(wanted.map((q) => [q.id, q]));
  const shown = applied.filter((id) => byId.has(id)).map((id) => byId.get(id));
  const sameSet = wanted.filter((q) => onScreen.has(q.id));
  const moved = shown.some((q, i) => q.id !== sameSet[i].id);
  return { shown, fresh: wanted.length - shown.length, moved };
}

function renderQuestions(force = false) {
  const { shown, fresh, moved } = layout(force);
  applied = shown.map((q) => q.id);
  const focused = document.activeElement && document.activeElement.dataset.vote;
  list.replaceChildren(...(shown.length
    ? shown.map(questionItem) : [el("li", { cls: "hint", text: texts.no_questions })]));
  if (focused) list.querySelector(`[data-vote="${focused}"]`)?.focus();
  if (pill) {
    pill.hidden = !(fresh || moved);
    pill.textContent = fresh ? `${plural(texts, "new", fresh)} · ${texts.reorder}` : texts.reorder;
  }
  if (fresh || moved) applyLater();
}

function renderMine() {
  const mine = [...state.mine.values()].sort((a, b) => b.id - a.id);
  page.querySelector("[data-mine-section]").hidden = mine.length === 0;
  page.querySelector("[data-mine]").replaceChildren(...mine.map((q) =>
    el("li", { cls: `qa-question status-${q.status}`, attrs: { "data-mine-question": q.id } }, [
      el("p", { cls: "qa-text", text: q.text, attrs: { dir: "auto" } }),
      el("p", { cls: "qa-status", text: statusLabel(q) }),
    ])));
}

function renderSettings() {
  const s = state.settings;
  if (!s) return;
  const text = form.querySelector("[name=text]");
  text.maxLength = s.max_length;
  updateCount();
  const anonymousRow = form.querySelector("[data-anonymous-row]");
  anonymousRow.hidden = !s.anonymous;
  if (!s.anonymous) form.querySelector("[name=anonymous]").checked = false;
  form.querySelector("[name=name]").required = !s.anonymous;
  form.querySelector("[data-name-optional]").hidden = !s.anonymous;
  const closed = new Set(s.closed_items || []);
  for (const option of form.querySelectorAll("[data-item-select] option")) {
    option.disabled = option.value !== "" && closed.has(Number(option.value));
  }
  // Closed: said before anyone types, and the whole form is disabled (also server-rendered).
  form.querySelector("[data-ask-fields]").disabled = !s.open;
  form.querySelector("button[type=submit]").disabled = !s.open;
  page.querySelector("[data-closed-notice]").hidden = s.open;
}

function render() {
  renderNow();
  renderQuestions();
  renderMine();
  renderSettings();
}

function updateCount() {
  const text = form.querySelector("[name=text]");
  const max = state.settings ? state.settings.max_length : null;
  form.querySelector("[data-count]").textContent = max ? `${text.value.length} / ${max}` : "";
}

async function vote(id, up) {
  const box = page.querySelector("[data-vote-error]");
  const status = page.querySelector("[data-vote-status]");
  box.hidden = true;
  try {
    await socket.call(up ? "qa.vote" : "qa.unvote", { question: id });
    if (up) state.voted.add(id); else state.voted.delete(id);
    renderQuestions();
    const undo = up
      ? el("button", { cls: "ds-button", text: texts.undo,
                       attrs: { type: "button", "data-variant": "tertiary", "data-size": "sm",
                                "data-undo-vote": id } })
      : null;
    undo?.addEventListener("click", () => vote(id, false));
    status.replaceChildren(up ? texts.vote_done : texts.unvote_done, ...(undo ? [" ", undo] : []));
  } catch (error) {
    box.textContent = errorText(error, texts);
    box.hidden = false;
  }
}

async function ask(event) {
  event.preventDefault();
  const data = new FormData(form);
  const status = form.querySelector("[data-ask-status]");
  const errorBox = form.querySelector("[data-ask-error]");
  errorBox.hidden = true;
  status.textContent = "";
  const fields = {
    text: String(data.get("text") || ""),
    name: String(data.get("name") || "").trim(),
    organisation: String(data.get("organisation") || "").trim(),
    anonymous: data.get("anonymous") === "on",
  };
  if (data.get("item")) fields.item = Number(data.get("item"));
  try {
    const reply = await socket.call("qa.ask", fields);
    state.asked(reply.question);
    form.querySelector("[name=text]").value = "";
    updateCount();
    status.textContent = reply.question.status === "pending"
      ? texts.thanks_pending : texts.thanks_published;
    render();
  } catch (error) {
    errorBox.textContent = errorText(error, texts);
    errorBox.hidden = false;
  }
}

form.addEventListener("submit", ask);
form.querySelector("[name=text]").addEventListener("input", updateCount);
for (const radio of page.querySelectorAll("input[name=sort]")) {
  radio.addEventListener("change", () => { order = radio.value; renderQuestions(true); });
}
list.addEventListener("pointerenter", () => { pointerOver = true; lastPointer = Date.now(); });
list.addEventListener("pointermove", () => { lastPointer = Date.now(); });
list.addEventListener("pointerdown", () => { lastPointer = Date.now(); });
list.addEventListener("pointerleave", () => {
  pointerOver = false;
  lastPointer = Date.now();
  if (pill && !pill.hidden) applyLater();
});
pill?.addEventListener("click", () => renderQuestions(true));

window.salenQa = { state, socket };
