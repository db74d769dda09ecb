// The moderators' desk: incoming questions live; approve, reject, edit (the original is
// kept), merge duplicates; questions from the floor; the panel queue, reordered by drag and
// drop or with the move buttons; "answer now" and "answered"; a filter by programme item;
// a log of who did what (each action with its own time, from the server, so it survives a
// reload). Every change arrives as a push, so two moderators see each other's work at once;
// a refused action (someone was first) shows a message and the fresh state.
// Each question shows ONE primary action for its state (pending → approve, approved → to the
// queue, queued → on air, on air → answered); the rest sit in a <details> menu, kept open
// across re-renders. Keyboard shortcuts (listed on the page) act on the focused question.

import { pageSocket, loadTexts, format, connectionStatus, errorText } from "./qa-socket.js";
import {
  QaState, el, askedByNodes, plural, timeAgo, refreshTimes,
} from "./qa-state.js";

const page = document.querySelector("[data-qa-page=moderator]");
const texts = loadTexts();
const items = new Map((loadTexts("qa-items") || []).map((i) => [i.id, i.title]));
const state = new QaState();
const editing = new Map();  // question id -> draft text of an open edit form
const merging = new Set();  // question ids whose "merge into" choice is open
const openMenus = new Set();  // question ids whose "more actions" menu is open
const MAX_LOG = 100;
let dragged = null;

const socket = pageSocket(page.dataset.event, {
  params: { p: page.dataset.p, token: page.dataset.token },
  onPush: receive,
  onStatus: connectionStatus(page.querySelector("[data-connection]"), texts),
});

function receive(push) {
  state.apply(push);
  render();
}

/** The actor as the log names them: their name, or "a moderator" / "an anonymous participant". */
function actorName(entry) {
  if (entry.by) return entry.by;
  return entry.action === "ask" ? texts.by_anonymous : texts.by_moderator;
}

function renderLog() {
  const list = page.querySelector("[data-log]");
  const entries = state.log.slice(-MAX_LOG).reverse();
  list.replaceChildren(...entries.map((entry) => {
    const action = (texts.actions || {})[entry.action] || entry.action;
    const q = entry.question ? state.get(entry.question) : null;
    const line = el("li", { attrs: { "data-log-entry": entry.v } }, [
      timeAgo(entry.at, "qa-log-time"), " ",
      el("span", { text: format(texts.last_action, { action, by: actorName(entry) }) }),
    ]);
    if (q && q.text) line.append(": ", el("q", { text: q.text, attrs: { dir: "auto" } }));
    return line;
  }));
  if (!entries.length) list.replaceChildren(el("li", { cls: "hint", text: texts.none_here }));
}

// --- actions ------------------------------------------------------------------------------

function say(message) {
  page.querySelector("[data-mod-status]").textContent = message || "";
}

async function act(type, fields, done) {
  const box = page.querySelector("[data-mod-error]");
  box.hidden = true;
  try {
    const reply = await socket.call(type, fields);
    if (done) done(reply);
    return reply;
  } catch (error) {
    box.textContent = errorText(error, texts);
    box.hidden = false;
    return null;
  }
}

function button(label, key, onClick, { variant = "secondary", describe } = {}) {
  const b = el("button", {
    cls: "ds-button" + (variant === "primary" ? "" : " secondary"),
    text: label, attrs: { type: "button", "data-key": key, "data-variant": variant,
                          "data-size": "sm" },
  });
  if (describe) b.setAttribute("aria-describedby", describe);
  b.addEventListener("click", onClick);
  return b;
}

/** A question as labels and announcements name it: its opening words in quotes, never its
 *  database id (moderators never see that number). */
function named(q, max = 50) {
  let text = q.text;
  if (text.length > max) {
    text = text.slice(0, max - 1);
    const space = text.lastIndexOf(" ");
    text = (space > max / 2 ? text.slice(0, space) : text).trimEnd() + "…";
  }
  return document.documentElement.lang === "nb" ? `«${text}»` : `“${text}”`;
}

/** The one primary action, then the others in a "More actions" menu (a <details>). */
function actions(q, primary, others) {
  const row = [primary];
  if (!others.length) return row;
  const menu = el("details", { cls: "qa-menu", attrs: { "data-menu": q.id } });
  menu.open = openMenus.has(q.id);
  menu.addEventListener("toggle", () => {
    if (menu.open) openMenus.add(q.id); else openMenus.delete(q.id);
  });
  menu.append(el("summary", { cls: "ds-button", text: texts.more_actions,
                              attrs: { "data-variant": "tertiary", "data-size": "sm",
                                       "aria-describedby": `q-${q.id}-text`,
                                       "data-key": `menu-${q.id}` } }),
              el("div", { cls: "qa-menu-items" }, others));
  row.push(menu);
  return row;
}

// --- rendering ----------------------------------------------------------------------------

function passesFilter(q) {
  const select = page.querySelector("[data-filter]");
  if (!select || !select.value) return true;
  if (select.value === "none") return q.item === undefined || q.item === null;
  return String(q.item) === select.value;
}

function meta(q) {
  // Typed names and item titles are isolated (<bdi>); the line keeps the page's direction.
  const nodes = [...askedByNodes(q, texts), " · " + plural(texts, "votes", q.votes)];
  if (q.asked_at) nodes.push(" · ", timeAgo(q.asked_at));
  if (q.floor && (q.name || q.organisation)) nodes.push(" · " + texts.floor);
  if (q.item && items.has(q.item)) nodes.push(" · ", el("bdi", { text: items.get(q.item) }));
  return el("p", { cls: "qa-by" }, nodes);
}

function card(q, controls) {
  const textId = `q-${q.id}-text`;
  const li = el("li", { cls: `qa-question status-${q.status}`,
                       attrs: { "data-question": q.id, tabindex: "-1" } });
  if (q.status === "on_air") {
    li.append(el("span", { cls: "ds-tag qa-on-air", text: texts.on_air_label,
                           attrs: { "data-color": "danger", "data-on-air": "" } }));
  }
  li.append(el("p", { cls: "qa-text", text: q.text, attrs: { id: textId, dir: "auto" } }), meta(q));
  if (q.original_text) {
    li.append(el("p", { cls: "qa-original", text: format(texts.original, { text: q.original_text }), attrs: { dir: "auto" } }));
  }
  if (q.action) {
    const action = (texts.actions || {})[q.action] || q.action;
    li.append(el("p", { cls: "hint", text: format(texts.last_action, { action, by: actorName(q) }) }));
  }
  if (editing.has(q.id)) li.append(editForm(q));
  const row = el("div", { cls: "qa-actions" });
  for (const control of controls(q, textId)) row.append(control);
  li.append(row);
  return li;
}

function editForm(q) {
  const id = `edit-${q.id}`;
  const form = el("form", { cls: "qa-edit" });
  const area = el("textarea", { attrs: { id, rows: "3", "data-key": `edit-text-${q.id}`, dir: "auto" } });
  area.value = editing.get(q.id);
  area.addEventListener("input", () => editing.set(q.id, area.value));
  form.append(el("label", { text: format(texts.edit_label, { id: named(q) }), attrs: { for: id } }), area,
    el("button", { cls: "ds-button", text: texts.save,
                   attrs: { type: "submit", "data-key": `save-${q.id}`, "data-variant": "primary",
                            "data-size": "sm" } }),
    button(texts.cancel, `cancel-${q.id}`, () => { editing.delete(q.id); render(); }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act("qa.edit", { question: q.id, text: area.value }, () => { editing.delete(q.id); render(); });
  });
  return form;
}

function editButton(q, textId) {
  return button(texts.edit, `edit-${q.id}`, () => {
    editing.set(q.id, q.text);
    render();
    document.getElementById(`edit-${q.id}`)?.focus();
  }, { describe: textId });
}

function mergeControl(q) {
  // The list of targets is built only when asked for: one <select> of every question on
  // every card would grow with the square of the number of questions.
  if (!merging.has(q.id)) {
    return button(texts.merge, `merge-${q.id}`, () => {
      merging.add(q.id);
      render();
      document.getElementById(`merge-select-${q.id}`)?.focus();
    }, { describe: `q-${q.id}-text` });
  }
  const id = `merge-select-${q.id}`;
  const select = el("select", { attrs: { id, "data-key": id } }, [
    el("option", { text: texts.merge_choose, attrs: { value: "" } }),
  ]);
  for (const other of state.withStatus(new Set(["pending", "approved", "on_air", "answered"]))) {
    if (other.id === q.id) continue;
    const label = named(other, 60);
    select.append(el("option", { text: label, attrs: { value: other.id, dir: "auto" } }));
  }
  const wrap = el("span", { cls: "qa-merge" }, [
    el("label", { cls: "sr-only", text: format(texts.merge_into, { id: named(q) }), attrs: { for: id } }),
    select,
  ]);
  wrap.append(button(texts.merge, `merge-go-${q.id}`, () => {
    if (select.value) {
      act("qa.merge", { question: q.id, into: Number(select.value) }, () => merging.delete(q.id));
    }
  }, { describe: `q-${q.id}-text` }), button(texts.cancel, `merge-cancel-${q.id}`, () => {
    merging.delete(q.id);
    render();
  }));
  return wrap;
}

function reject(q, textId) {
  return button(texts.reject, `reject-${q.id}`, () => act("qa.reject", { question: q.id }),
                { describe: textId });
}

function pendingControls(q, textId) {
  return actions(q,
    button(texts.approve, `approve-${q.id}`, () => act("qa.approve", { question: q.id }),
           { variant: "primary", describe: textId }),
    [button(texts.enqueue, `enqueue-${q.id}`, () => act("panel.enqueue", { question: q.id }),
            { describe: textId }),
     reject(q, textId), editButton(q, textId), mergeControl(q)]);
}

function approvedControls(q, textId) {
  return actions(q,
    button(texts.enqueue, `enqueue-${q.id}`, () => act("panel.enqueue", { question: q.id }),
           { variant: "primary", describe: textId }),
    [button(texts.now, `now-${q.id}`, () => act("panel.now", { question: q.id }),
            { describe: textId }),
     reject(q, textId), editButton(q, textId), mergeControl(q)]);
}

function move(q, position) {
  act("panel.move", { question: q.id, position }, () => {
    say(format(texts.moved, { id: named(q), n: position + 1 }));
  });
}

function queueControls(q, textId) {
  const index = state.panel.queue.indexOf(q.id);
  const last = state.panel.queue.length - 1;
  const others = [];
  if (index > 0) {
    others.push(button(texts.move_up, `up-${q.id}`, () => move(q, index - 1), { describe: textId }));
  }
  if (index < last) {
    others.push(button(texts.move_down, `down-${q.id}`, () => move(q, index + 1), { describe: textId }));
  }
  others.push(button(texts.dequeue, `dequeue-${q.id}`,
                     () => act("panel.dequeue", { question: q.id }), { describe: textId }),
              editButton(q, textId));
  return actions(q,
    button(texts.now, `now-${q.id}`, () => act("panel.now", { question: q.id }),
           { variant: "primary", describe: textId }),
    others);
}

function queueCard(q) {
  const li = card(q, queueControls);
  li.draggable = true;
  li.classList.add("qa-draggable");
  li.addEventListener("dragstart", (event) => {
    dragged = q.id;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", String(q.id));
    li.classList.add("dragging");
  });
  li.addEventListener("dragend", () => { dragged = null; li.classList.remove("dragging"); });
  li.addEventListener("dragover", (event) => { if (dragged !== null) event.preventDefault(); });
  li.addEventListener("drop", (event) => {
    event.preventDefault();
    const id = dragged ?? Number(event.dataTransfer.getData("text/plain"));
    dragged = null;
    if (!id || id === q.id) return;
    const target = state.panel.queue.indexOf(q.id);
    if (target >= 0) move(state.get(id), target);
  });
  return li;
}

function fill(list, questions, make) {
  list.replaceChildren(...(questions.length
    ? questions.map(make) : [el("li", { cls: "hint", text: texts.none_here })]));
}

function render() {
  const active = document.activeElement;
  const focusKey = active && active.dataset.key;
  const focusQuestion = active && active.matches && active.matches("li[data-question]")
    ? active.dataset.question : null;
  const queued = new Set(state.panel.queue);
  const lists = {
    pending: state.withStatus(new Set(["pending"])),
    approved: state.withStatus(new Set(["approved"])).filter((q) => !queued.has(q.id)),
    answered: state.withStatus(new Set(["answered"])),
    rejected: state.withStatus(new Set(["rejected"])),
  };
  const controls = { pending: pendingControls, approved: approvedControls,
                     answered: (q, t) => [editButton(q, t)],
                     rejected: (q, t) => [button(texts.approve, `approve-${q.id}`,
                       () => act("qa.approve", { question: q.id }), { describe: t })] };
  for (const [name, questions] of Object.entries(lists)) {
    const shown = questions.filter(passesFilter);
    fill(page.querySelector(`[data-list=${name}]`), shown, (q) => card(q, controls[name]));
    page.querySelector(`[data-count=${name}]`).textContent = `(${shown.length})`;
  }
  const queue = page.querySelector("[data-queue]");
  const inQueue = state.queue();
  if (inQueue.length) queue.replaceChildren(...inQueue.map(queueCard));
  else queue.replaceChildren(el("li", { cls: "hint", text: texts.queue_empty }));
  const onAir = state.onAir();
  page.querySelector("[data-now]").replaceChildren(onAir
    ? el("ul", { cls: "qa-list" }, [card(onAir, (q, t) => actions(q,
        button(texts.done, `done-${q.id}`, () => act("panel.done", { question: q.id }),
               { variant: "primary", describe: t }),
        [editButton(q, t)]))])
    : el("p", { cls: "hint", text: texts.nothing_on_air }));
  renderLog();
  if (focusKey) page.querySelector(`[data-key="${focusKey}"]`)?.focus();
  else if (focusQuestion) page.querySelector(`li[data-question="${focusQuestion}"]`)?.focus();
}

// --- the floor form and the filter --------------------------------------------------------

const floor = page.querySelector("[data-floor-form]");
floor.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(floor);
  const fields = {
    text: String(data.get("text") || ""),
    name: String(data.get("name") || "").trim(),
    organisation: String(data.get("organisation") || "").trim(),
  };
  if (data.get("item")) fields.item = Number(data.get("item"));
  // Without a name the server would name the moderator who typed it in.
  if (!fields.name && !fields.organisation) fields.anonymous = true;
  const reply = await act("qa.ask", fields);
  if (!reply) return;
  state.asked(reply.question);
  if (data.get("queue") === "on") await act("panel.enqueue", { question: reply.question.id });
  floor.reset();
  say(texts.floor_added);
  render();
});
page.querySelector("[data-filter]")?.addEventListener("change", render);
setInterval(() => refreshTimes(page), 30000);

// --- keyboard shortcuts (listed on the page, templates/qa/moderate.html) -------------------

const SHORTCUTS = {
  a: (q) => q.status === "pending" || q.status === "rejected" ? ["qa.approve"] : null,
  q: (q) => q.status === "approved" && !state.panel.queue.includes(q.id) ? ["panel.enqueue"] : null,
  n: (q) => q.status === "approved" ? ["panel.now"] : null,
  d: (q) => q.status === "on_air" ? ["panel.done"] : null,
  r: (q) => q.status === "pending" || q.status === "approved" ? ["qa.reject"] : null,
};

function focusCard(step) {
  const cards = [...page.querySelectorAll("li[data-question]")];
  if (!cards.length) return;
  const here = document.activeElement && document.activeElement.closest("li[data-question]");
  const index = cards.indexOf(here);
  const next = cards[index < 0 ? 0 : Math.max(0, Math.min(cards.length - 1, index + step))];
  next.focus();
}

document.addEventListener("keydown", (event) => {
  if (event.altKey || event.ctrlKey || event.metaKey || event.defaultPrevented) return;
  const target = event.target;
  if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
  const key = event.key.toLowerCase();
  if (key === "j" || key === "k") {
    event.preventDefault();
    focusCard(key === "j" ? 1 : -1);
    return;
  }
  if (key === "d" && !(target.closest && target.closest("li[data-question]"))) {
    const onAir = state.onAir();
    if (onAir) { event.preventDefault(); act("panel.done", { question: onAir.id }); }
    return;
  }
  const card = target.closest && target.closest("li[data-question]");
  const q = card ? state.get(Number(card.dataset.question)) : null;
  if (!q) return;
  if (key === "e") {
    event.preventDefault();
    editing.set(q.id, q.text);
    render();
    document.getElementById(`edit-${q.id}`)?.focus();
    return;
  }
  const found = SHORTCUTS[key] && SHORTCUTS[key](q);
  if (found) {
    event.preventDefault();
    act(found[0], { question: q.id });
  }
});

window.salenQa = { state, socket };
