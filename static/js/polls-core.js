// Polls on the live socket (docs/protocol.md, "Polls"): the client's copy of an event's polls
// and the drawing of results (bars, rating distribution, ranks, word cloud) shared by the
// viewer, moderator and display pages. Everything a person wrote goes in with textContent or
// as SVG text nodes, never as HTML. Plain ES module, no build step.

const SVG = "http://www.w3.org/2000/svg";

/** The page's translated strings for polls. */
export function pollTexts() {
  const element = document.getElementById("polls-texts");
  return element ? JSON.parse(element.textContent) : {};
}

/** Fill %(name)s placeholders. */
export function fmt(template, values = {}) {
  return String(template || "").replace(/%\((\w+)\)s/g, (_, key) => String(values[key] ?? ""));
}

export function el(tag, { cls, text, attrs } = {}, children = []) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function svg(tag, attrs = {}, children = []) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  for (const child of children) node.append(child);
  return node;
}

// The server leaves fields at their defaults out of a poll's view (docs/protocol.md): an
// anonymous 1–5 poll arrives without "anonymous" and "scale". They are filled in here, once.
const POLL_DEFAULTS = { options: [], max_choices: null, scale: 5, anonymous: true, final: false,
  moderated: false, survey: false, revealed: false, answers: 0 };

/** Polls by id; per poll the view with the highest "v" wins, so pushes apply idempotently. */
export class PollsState {
  constructor() {
    this.pv = 0;
    this.polls = new Map();
    this.mine = new Map();
    this.blocked = [];
  }

  apply(push) {
    if (push.type === "polls") {
      this.polls.clear();
      this.mine = new Map((push.mine || []).map((m) => [m.poll, m]));
      this.blocked = push.blocked || [];
      this.pv = push.pv || 0;
    } else if (push.type === "polls.update") {
      this.pv = Math.max(this.pv, push.pv || 0);
      if (push.blocked) this.blocked = push.blocked;
    } else {
      return false;
    }
    for (const sent of push.polls || []) {
      const poll = { ...POLL_DEFAULTS, ...sent };
      if (poll.survey) continue; // answered through personal links, not on the live pages
      const known = this.polls.get(poll.id);
      if (!known || known.v <= poll.v) this.polls.set(poll.id, poll);
    }
    return true;
  }

  /** Every poll, newest first. */
  list() {
    return [...this.polls.values()].sort((a, b) => b.id - a.id);
  }

  /** What the big screen shows: the poll most recently launched or revealed. */
  active() {
    const shown = (p) => (p.status === "open" ? p.opened_at : p.revealed ? p.revealed_at : null);
    const candidates = this.list().filter(shown);
    candidates.sort((a, b) => String(shown(b)).localeCompare(String(shown(a))));
    return candidates[0] || null;
  }
}

/** The labels of a poll's result rows (options, or rating values). */
export function rowLabels(poll, texts) {
  if (poll.kind === "rating") {
    const low = (poll.scale || 5) === 5 ? 1 : 0;
    return Array.from({ length: (poll.scale || 5) - low + 1 }, (_, i) =>
      (poll.scale || 5) === 5 ? "★".repeat(low + i) : String(low + i));
  }
  return poll.options || [];
}

/** Horizontal bars as SVG, with the counts written beside them. */
function bars(labels, values, { max, suffix = (v) => String(v) } = {}) {
  const top = max ?? Math.max(1, ...values);
  const rowH = 44;
  const root = svg("svg", {
    viewBox: `0 0 1000 ${labels.length * rowH}`, class: "poll-bars", "aria-hidden": "true",
    focusable: "false",
  });
  labels.forEach((label, i) => {
    const y = i * rowH;
    const width = Math.round((values[i] / top) * 560);
    const name = svg("text", { x: 0, y: y + 28, class: "poll-bar-label" });
    name.textContent = label.length > 28 ? label.slice(0, 27) + "…" : label;
    const count = svg("text", { x: 380 + width + 10, y: y + 28, class: "poll-bar-count" });
    count.textContent = suffix(values[i]);
    root.append(name, svg("rect", { x: 380, y: y + 8, width: Math.max(width, 2), height: 28,
      rx: 4, class: "poll-bar" }), count);
  });
  return root;
}

/** A poll's results as nodes: a picture (aria-hidden) and a text alternative beside it. */
export function resultsNode(poll, texts, cloud) {
  const r = poll.results || {};
  const box = el("div", { cls: "poll-results", attrs: { "data-results": poll.id } });
  const total = poll.answers || 0;
  const summary = el("ul", { cls: "poll-summary" });
  const labels = rowLabels(poll, texts);
  if (poll.kind === "words") {
    const words = r.words || [];
    box.append(cloud ? cloud.draw(words) : wordCloud(new CloudLayout(), words));
    for (const [word, n] of words) summary.append(el("li", { text: `${word}: ${n}` }));
  } else if (poll.kind === "text") {
    const list = el("ul", { cls: "poll-entries" });
    for (const e of r.entries || []) {
      list.append(el("li", {}, [el("p", { text: e.text, attrs: { dir: "auto" } }),
        e.name ? el("p", { cls: "ds-paragraph poll-by" }, [el("bdi", { text: e.name })]) : null]));
    }
    box.append(list);
    return box;
  } else if (poll.kind === "ranking") {
    const ranks = r.ranks || [];
    const order = labels.map((label, i) => [label, ranks[i] || 0]).sort((a, b) => a[1] - b[1]);
    const worst = Math.max(1, labels.length);
    box.append(bars(order.map((o) => o[0]), order.map((o) => worst + 1 - o[1]),
      { max: worst, suffix: (v) => fmt(texts.avg_rank, { n: (worst + 1 - v).toFixed(1) }) }));
    for (const [label, rank] of order) {
      summary.append(el("li", { text: `${label}: ${fmt(texts.avg_rank, { n: rank.toFixed(1) })}` }));
    }
  } else {
    const counts = r.counts || [];
    const pct = (n) => (total ? Math.round((100 * n) / total) : 0);
    box.append(bars(labels, counts, { suffix: (n) => `${n} (${pct(n)} %)` }));
    labels.forEach((label, i) => summary.append(el("li", {
      text: `${label}: ${counts[i] || 0} (${pct(counts[i] || 0)} %)` })));
    if (poll.kind === "rating" && r.average != null) {
      box.append(el("p", { cls: "poll-average", text: fmt(texts.average, { n: r.average }) }));
    }
  }
  box.append(el("p", { cls: "poll-total", text: fmt(total === 1 ? texts.answer_one : texts.answers, { n: total }) }));
  box.append(el("div", { cls: "sr-only" }, [el("p", { text: texts.results_text }), summary]));
  return box;
}

// --- the word cloud -----------------------------------------------------------------------

const WIDTH = 1000;
const HEIGHT = 560;
const MIN_FONT = 22;
const MAX_FONT = 110;

/**
 * Places words on a spiral and remembers where: a word keeps its place when counts change
 * unless it would now overlap a bigger word placed before it, and then it moves out along
 * the spiral from where it was. Bigger words are placed first. Widths are estimated from the
 * characters (no DOM measuring), which keeps a layout of hundreds of words fast.
 */
export class CloudLayout {
  constructor() {
    this.places = new Map();
  }

  layout(words) {
    const top = Math.max(1, ...words.map((w) => w[1]));
    const placed = [];
    const result = [];
    for (const [text, n] of words) {
      const size = Math.round(MIN_FONT + (MAX_FONT - MIN_FONT) * Math.sqrt(n / top));
      const w = Math.max(1, text.length) * size * 0.56 + 8;
      const h = size * 1.05;
      const start = this.places.get(text) || { x: WIDTH / 2, y: HEIGHT / 2 };
      const spot = this.find(start, w, h, placed);
      if (!spot) continue;
      this.places.set(text, spot);
      placed.push({ x: spot.x, y: spot.y, w, h });
      result.push({ text, n, size, x: spot.x, y: spot.y });
    }
    return result;
  }

  find(start, w, h, placed) {
    for (let step = 0; step < 1500; step++) {
      const angle = step * 0.35;
      const radius = step * 1.6;
      const x = start.x + radius * Math.cos(angle);
      const y = start.y + radius * 0.6 * Math.sin(angle);
      if (x - w / 2 < 0 || x + w / 2 > WIDTH || y - h / 2 < 0 || y + h / 2 > HEIGHT) continue;
      const clash = placed.some((p) => Math.abs(p.x - x) * 2 < p.w + w && Math.abs(p.y - y) * 2 < p.h + h);
      if (!clash) return { x: Math.round(x), y: Math.round(y) };
    }
    return null;
  }
}

/** The word cloud as SVG (aria-hidden: the list beside it is its text). */
export function wordCloud(layout, words) {
  const root = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "poll-cloud",
    "aria-hidden": "true", focusable: "false" });
  layout.layout(words).forEach((word, i) => {
    const text = svg("text", { x: word.x, y: word.y, "font-size": word.size,
      "text-anchor": "middle", "dominant-baseline": "central", class: `poll-word poll-word-${i % 5}`,
      "data-word": word.text });
    text.textContent = word.text;
    root.append(text);
  });
  return root;
}

/** A word cloud that keeps its layout between draws (one per poll on a page). */
export class Cloud {
  constructor() {
    this.layouts = new Map();
  }

  for(pollId) {
    if (!this.layouts.has(pollId)) this.layouts.set(pollId, new CloudLayout());
    const layout = this.layouts.get(pollId);
    return { draw: (words) => wordCloud(layout, words) };
  }
}

/** Localised status of a poll for a badge. */
export function statusText(poll, texts) {
  if (poll.status === "open") return texts.status_open;
  if (poll.status === "closed") return texts.status_closed;
  return texts.status_draft;
}
