// Polls on the viewer's live page: answer open polls (phone-first forms), see one's own
// answer, and the results once the moderators reveal them. Each answer carries a fresh
// idempotency key, kept for retries of the same answer, so a retry never counts twice.

import { pageSocket, connectionStatus } from "./qa-socket.js";
import { PollsState, Cloud, el, fmt, pollTexts, resultsNode, rowLabels, statusText } from "./polls-core.js";

const root = document.querySelector("[data-polls=viewer]");
const texts = pollTexts();
const state = new PollsState();
const cloud = new Cloud(() => root.clientWidth < 600); // a phone: the squarer cloud
const editing = new Set();
const keys = new Map();

// Cards stay in the page between pushes: a push (another participant's answer raises the
// count every tick) redraws a card's heading and results but leaves its form alone while the
// form would come out the same, so what a person is typing, and their focus, survive it.
const cards = new Map();

// The polls sit below the stream and the panel: someone who scanned the big screen's code
// to answer lands above them. While an open poll they have not answered is out of sight, a
// link at the foot of the screen takes them to it.
const jumper = (() => {
  const link = root.querySelector("[data-poll-jump]");
  let target = null;
  let inView = false;
  const observer = new IntersectionObserver((seen) => {
    inView = seen.some((entry) => entry.isIntersecting);
    link.hidden = !target || inView;
  });
  return {
    update(poll) {
      const card = poll ? cards.get(poll.id).card : null;
      if (card !== target) {
        observer.disconnect();
        target = card;
        inView = false;
        if (card) observer.observe(card);
      }
      if (poll) {
        link.textContent = fmt(texts.jump, { question: poll.question });
        link.href = `#poll-${poll.id}-q`;
      }
      link.hidden = !target || inView;
    },
  };
})();

root.hidden = false;
const socket = pageSocket(root.dataset.event, {
  params: { p: root.dataset.p },
  pushes: new Set(["polls", "polls.update"]),
  onPush: (push) => { if (state.apply(push)) render(); },
  onStatus: connectionStatus(root.querySelector("[data-polls-connection]"), texts),
});

function newKey() {
  return (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2)).slice(0, 64);
}

function render() {
  const list = root.querySelector("[data-polls-list]");
  const polls = state.list().filter((p) => p.status === "open" || p.revealed).sort(byOpenThenNewest);
  root.querySelector("[data-polls-empty]").hidden = polls.length > 0;
  const wanted = polls.map(pollCard);
  for (const id of [...cards.keys()]) if (!polls.some((p) => p.id === id)) cards.delete(id);
  const shown = [...list.children];
  if (wanted.length !== shown.length || wanted.some((card, i) => shown[i] !== card)) list.replaceChildren(...wanted);
  const waiting = polls.find((p) => p.status === "open" && !state.mine.has(p.id));
  if (waiting) root.querySelector("[data-polls-status]").textContent = ""; // no "thanks" for a poll to answer
  jumper.update(waiting);
}

/** Open polls first (the one launched last on top: what the room was just asked), then
 * revealed results, the latest first. */
function byOpenThenNewest(a, b) {
  const open = (b.status === "open") - (a.status === "open");
  const when = (p) => String((p.status === "open" ? p.opened_at : p.revealed_at || p.opened_at) || "");
  return open || when(b).localeCompare(when(a)) || b.id - a.id;
}

function pollCard(poll) {
  let known = cards.get(poll.id);
  if (!known) {
    known = { head: el("div"), body: el("div"), foot: el("div"), key: null };
    known.card = el("section", { cls: "ds-card poll-card", attrs: { "aria-labelledby": `poll-${poll.id}-q`, "data-poll": poll.id } },
      [known.head, known.body, known.foot]);
    cards.set(poll.id, known);
  }
  known.head.replaceChildren(
    el("h3", { cls: "ds-heading", text: poll.question, attrs: { id: `poll-${poll.id}-q`, dir: "auto", "data-size": "xs" } }),
    el("p", { cls: "ds-tag", text: statusText(poll, texts), attrs: { "data-color": poll.status === "open" ? "success" : "neutral" } }));
  const mine = state.mine.get(poll.id);
  const form = poll.status === "open" && (!mine || editing.has(poll.id));
  const key = JSON.stringify([poll.question, poll.kind, poll.options, poll.max_choices, poll.scale,
    poll.anonymous, poll.final, form, form ? null : mine, poll.status]);
  if (key !== known.key) {
    known.key = key;
    if (form) known.body.replaceChildren(answerForm(poll, mine));
    else if (mine) known.body.replaceChildren(mineNode(poll, mine));
    else known.body.replaceChildren(el("p", { cls: "ds-paragraph", text: texts.not_answered }));
  }
  if (poll.revealed && poll.results) known.foot.replaceChildren(resultsNode(poll, texts, cloud.for(poll.id)));
  else if (poll.kind !== "text") known.foot.replaceChildren(el("p", { cls: "ds-paragraph poll-hidden", text: texts.results_hidden }));
  else known.foot.replaceChildren();
  return known.card;
}

function mineNode(poll, mine) {
  const labels = rowLabels(poll, texts);
  let said = "";
  if (poll.kind === "single" || poll.kind === "multiple") said = mine.choices.map((c) => labels[c]).join(", ");
  else if (poll.kind === "rating") said = String(mine.rating);
  else if (poll.kind === "words") said = (mine.words || []).join(", ") || texts.words_dropped;
  else if (poll.kind === "text") said = mine.text;
  else said = (mine.ranking || []).map((i, n) => `${n + 1}. ${labels[i]}`).join(", ");
  const box = el("div", { cls: "poll-mine" }, [
    el("p", { cls: "ds-paragraph" }, [el("strong", { text: texts.you_answered + " " }), el("bdi", { text: said })]),
  ]);
  if (poll.status === "open" && !poll.final) {
    const change = el("button", { cls: "ds-button", text: texts.change, attrs: { type: "button", "data-variant": "secondary" } });
    change.addEventListener("click", () => { editing.add(poll.id); render(); });
    box.append(change);
  }
  return box;
}

function field(id, label, input) {
  return el("div", { cls: "ds-field" }, [el("label", { cls: "ds-label", text: label, attrs: { for: id } }), input]);
}

function choiceInputs(poll, mine) {
  const type = poll.kind === "single" ? "radio" : "checkbox";
  const chosen = new Set(mine ? mine.choices : []);
  const legend = poll.kind === "multiple" && poll.max_choices
    ? fmt(texts.choose_up_to, { n: poll.max_choices }) : (type === "radio" ? texts.choose_one : texts.choose_any);
  return el("fieldset", { cls: "ds-fieldset" }, [el("legend", { cls: "ds-label", text: legend }),
    ...poll.options.map((option, i) => {
      const id = `poll-${poll.id}-o${i}`;
      return el("div", { cls: "ds-field poll-option" }, [
        el("input", { cls: "ds-input", attrs: { type, id, name: "choice", value: i, checked: chosen.has(i) } }),
        el("label", { cls: "ds-label", text: option, attrs: { for: id, dir: "auto" } }),
      ]);
    })]);
}

function ratingInputs(poll, mine) {
  const labels = rowLabels(poll, texts);
  const low = poll.scale === 5 ? 1 : 0;
  return el("fieldset", { cls: "ds-fieldset poll-rating" }, [el("legend", { cls: "ds-label", text: fmt(texts.rate, { low, high: poll.scale }) }),
    ...labels.map((label, i) => {
      const value = low + i;
      const id = `poll-${poll.id}-r${value}`;
      return el("span", { cls: "poll-rate" }, [
        el("input", { attrs: { type: "radio", id, name: "rating", value, checked: mine && mine.rating === value } }),
        el("label", { text: label, attrs: { for: id, "aria-label": String(value) } }),
      ]);
    })]);
}

function rankingInputs(poll, mine) {
  const order = mine && mine.ranking && mine.ranking.length ? [...mine.ranking] : poll.options.map((_, i) => i);
  const list = el("ol", { cls: "poll-ranking", attrs: { "data-ranking": "" } });
  const draw = () => list.replaceChildren(...order.map((option, pos) => {
    const up = el("button", { cls: "ds-button", text: "↑", attrs: { type: "button", "data-variant": "tertiary", "aria-label": fmt(texts.move_up, { option: poll.options[option] }), disabled: pos === 0 } });
    const down = el("button", { cls: "ds-button", text: "↓", attrs: { type: "button", "data-variant": "tertiary", "aria-label": fmt(texts.move_down, { option: poll.options[option] }), disabled: pos === order.length - 1 } });
    up.addEventListener("click", () => { [order[pos - 1], order[pos]] = [order[pos], order[pos - 1]]; draw(); list.querySelectorAll("button")[Math.max(0, (pos - 1) * 2)].focus(); });
    down.addEventListener("click", () => { [order[pos + 1], order[pos]] = [order[pos], order[pos + 1]]; draw(); list.querySelectorAll("button")[(pos + 1) * 2 + 1].focus(); });
    return el("li", { attrs: { "data-option": option } }, [el("span", { text: poll.options[option], attrs: { dir: "auto" } }), up, down]);
  }));
  draw();
  list.order = order;
  return el("div", {}, [el("p", { cls: "ds-paragraph", text: texts.rank_hint }), list]);
}

function answerForm(poll, mine) {
  const form = el("form", { cls: "poll-form", attrs: { novalidate: "" } });
  const id = `poll-${poll.id}`;
  if (poll.kind === "single" || poll.kind === "multiple") form.append(choiceInputs(poll, mine));
  else if (poll.kind === "rating") form.append(ratingInputs(poll, mine));
  else if (poll.kind === "words") {
    [0, 1, 2].forEach((i) => form.append(field(`${id}-w${i}`, fmt(texts.word_n, { n: i + 1 }),
      el("input", { cls: "ds-input", attrs: { type: "text", id: `${id}-w${i}`, name: "word", maxlength: 40, dir: "auto", value: mine && mine.words ? mine.words[i] : undefined } }))));
  } else if (poll.kind === "text") {
    const area = el("textarea", { cls: "ds-input", attrs: { id: `${id}-t`, name: "text", rows: 4, maxlength: 1000, dir: "auto" } });
    area.value = mine ? mine.text : "";
    form.append(field(`${id}-t`, texts.your_input, area));
  } else form.append(rankingInputs(poll, mine));
  if (!poll.anonymous) {
    form.append(field(`${id}-name`, texts.your_name, el("input", { cls: "ds-input", attrs: { type: "text", id: `${id}-name`, name: "name", maxlength: 200, autocomplete: "name" } })));
  }
  if (poll.final) form.append(el("p", { cls: "ds-paragraph poll-final", text: texts.final_hint }));
  const error = el("p", { cls: "ds-alert poll-error", attrs: { role: "alert", "data-color": "danger", hidden: "" } });
  form.append(el("button", { cls: "ds-button", text: texts.send, attrs: { type: "submit", "data-variant": "primary" } }), error);
  form.addEventListener("submit", (event) => { event.preventDefault(); send(poll, form, error); });
  return form;
}

function collect(poll, form) {
  const data = new FormData(form);
  const fields = { poll: poll.id };
  if (poll.kind === "single" || poll.kind === "multiple") fields.choices = data.getAll("choice").map(Number);
  else if (poll.kind === "rating") fields.rating = data.get("rating") === null ? null : Number(data.get("rating"));
  else if (poll.kind === "words") fields.words = data.getAll("word").map(String).filter((w) => w.trim());
  else if (poll.kind === "text") fields.text = String(data.get("text") || "");
  else fields.ranking = form.querySelector("[data-ranking]").order;
  if (data.get("name")) fields.name = String(data.get("name"));
  return fields;
}

async function send(poll, form, error) {
  const fields = collect(poll, form);
  const signature = JSON.stringify(fields);
  const known = keys.get(poll.id);
  const key = known && known.signature === signature ? known.key : newKey();
  keys.set(poll.id, { signature, key });
  error.hidden = true;
  try {
    const reply = await socket.call("poll.answer", { ...fields, key });
    state.mine.set(poll.id, reply.mine);
    editing.delete(poll.id);
    render();
    root.querySelector("[data-polls-status]").textContent = texts.thanks;
  } catch (failure) {
    error.textContent = (texts.errors || {})[failure.code] || texts.error_generic;
    error.hidden = false;
  }
}

window.salenPolls = { state };
