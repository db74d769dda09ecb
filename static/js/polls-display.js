// The big screen's poll: the poll most recently launched or revealed, its question, how many
// answered, and once revealed its result (bars, rating distribution, ranks or a word cloud
// whose words keep their places as counts grow). Read-only: it connects with the display key.

import { pageSocket } from "./qa-socket.js";
import { PollsState, Cloud, el, fmt, pollTexts, resultsNode } from "./polls-core.js";

const root = document.querySelector("[data-polls=display]");
const texts = pollTexts();
const state = new PollsState();
const cloud = new Cloud();

// The join box's line below its QR code asks for questions; while a poll is open it asks
// for answers to the poll instead (the same address leads to both).
const joinLead = document.querySelector(".qa-display-join .join-lead");
const askLead = joinLead ? joinLead.textContent : "";

pageSocket(root.dataset.event, {
  params: { key: root.dataset.key },
  pushes: new Set(["polls", "polls.update"]),
  onPush: (push) => {
    performance.mark("salen:polls-push"); // where bench.wordcloud starts its render clock
    if (state.apply(push)) render();
  },
});

function render() {
  const poll = state.active();
  root.hidden = !poll;
  document.body.classList.toggle("poll-on-screen", Boolean(poll));
  if (joinLead) joinLead.textContent = poll && poll.status === "open" ? texts.join_poll : askLead;
  if (!poll) return;
  const total = poll.answers || 0;
  const parts = [
    el("h2", { cls: "poll-display-question", text: poll.question, attrs: { dir: "auto" } }),
    el("p", { cls: "poll-display-count", attrs: { "aria-live": "off" },
      text: fmt(total === 1 ? texts.answer_one : texts.answers, { n: total }) }),
  ];
  if (poll.revealed && poll.results) parts.push(resultsNode(poll, texts, cloud.for(poll.id)));
  else if (poll.status === "open") parts.push(el("p", { cls: "poll-display-hint", text: texts.answer_now }));
  root.querySelector("[data-poll-active]").replaceChildren(...parts);
}

window.salenPolls = { state };
