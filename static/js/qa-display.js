// The big screen and stream overlay: the question the panel answers now and the next few,
// in large type. Read-only: it connects with the display key and never sends a question.

import { pageSocket, loadTexts, connectionStatus } from "./qa-socket.js";
import { QaState, el, askedByNodes } from "./qa-state.js";

const page = document.querySelector("[data-qa-page=display]");
const texts = loadTexts();
const state = new QaState();
const count = Number(page.dataset.count || 3);

pageSocket(page.dataset.event, {
  params: { key: page.dataset.key },
  onPush: (push) => { state.apply(push); render(); },
  onStatus: connectionStatus(page.querySelector("[data-connection]"), texts),
});

function render() {
  const now = state.onAir();
  page.querySelector("[data-now]").replaceChildren(now
    ? el("blockquote", { cls: "qa-display-question", attrs: { "data-question": now.id } }, [
        el("p", { text: now.text, attrs: { dir: "auto" } }), el("footer", {}, askedByNodes(now, texts)),
      ])
    : el("p", { cls: "qa-display-empty", text: texts.nothing_on_air }));
  const next = state.queue().slice(0, count);
  page.querySelector("[data-next-section]").hidden = next.length === 0;
  page.querySelector("[data-next]").replaceChildren(...next.map((q) =>
    el("li", { attrs: { "data-question": q.id } }, [
      el("p", { text: q.text, attrs: { dir: "auto" } }), el("p", { cls: "qa-display-by" }, askedByNodes(q, texts)),
    ])));
}

window.salenQa = { state };
