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

/** Horizontal bars in HTML, so labels wrap instead of being cut and the text takes the page's
 * size (a phone's, or the big screen's); each bar's length is set through CSSOM, which the
 * CSP allows (a style attribute in markup it would not). */
function bars(labels, values, { max, suffix = (v) => String(v) } = {}) {
  const top = max ?? Math.max(1, ...values);
  return el("ol", { cls: "poll-bars", attrs: { "aria-hidden": "true" } }, labels.map((label, i) => {
    const bar = el("span", { cls: "poll-bar" });
    bar.style.width = `${(100 * (values[i] || 0)) / top}%`;
    return el("li", {}, [
      el("span", { cls: "poll-bar-label", text: label, attrs: { dir: "auto" } }),
      el("span", { cls: "poll-bar-row" }, [el("span", { cls: "poll-bar-track" }, [bar]),
        el("span", { cls: "poll-bar-count", text: suffix(values[i] || 0) })]),
    ]);
  }));
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

/** The clouds' boxes (viewBox units) and font sizes: the big screen's and desks' wide one,
 * and a squarer one with bigger type for phones, where the wide one's small words would be
 * a few pixels high. */
export const WIDE = { width: 1000, height: 560, minFont: 22, maxFont: 110 };
export const NARROW = { width: 500, height: 600, minFont: 26, maxFont: 90 };
const SMALLEST = 0.55; // the least a cloud's font sizes are scaled down to make words fit
const SHRINK = 0.9;
const FILL = 0.55; // the share of the box the words' boxes may cover, leaving room to grow
const GAP = 6; // room around each word
const CELL = 8; // the occupancy grid's cells: a point whose box touches a covered cell clashes

const emWidths = new Map();
let measurer;

/** How wide `text` is in bold type, in em: measured once per text on a canvas in the page's
 * font (no DOM layout), so long Norwegian compounds and wide letters neither overlap nor
 * waste room. Without a canvas, an estimate. */
function emWidth(text) {
  let width = emWidths.get(text);
  if (width !== undefined) return width;
  if (measurer === undefined) {
    measurer = typeof document !== "undefined" ? document.createElement("canvas").getContext("2d") : null;
    if (measurer) measurer.font = `700 100px ${getComputedStyle(document.body).fontFamily || "sans-serif"}`;
  }
  width = measurer ? measurer.measureText(text).width / 100 : Math.max(1, text.length) * 0.62;
  emWidths.set(text, width);
  return width;
}

/**
 * Places words on a spiral and remembers where: a word keeps its place when counts change
 * unless it would now overlap a bigger word placed before it, and then it moves out along
 * the spiral from where it was. Bigger words are placed first. When a word does not fit, the
 * cloud's sizes shrink (down to `SMALLEST`, and they stay shrunk, so later draws do not jump
 * back and forth); only past that are the least given words left out of the picture (the
 * text list beside it has them all).
 */
export class CloudLayout {
  constructor(box = WIDE) {
    this.box = box;
    this.columns = Math.ceil(box.width / CELL);
    this.places = new Map();
    this.scale = 1;
  }

  layout(given) {
    const top = Math.max(1, ...given.map((w) => w[1]));
    const { scale, words } = fitting(given, top, this.box);
    this.scale = Math.min(this.scale, scale);
    for (;;) {
      const last = this.scale <= SMALLEST;
      const result = this.attempt(words, top, last);
      if (result) {
        for (const word of result) this.places.set(word.text, { x: word.x, y: word.y });
        return result;
      }
      this.scale = Math.max(SMALLEST, this.scale * SHRINK);
    }
  }

  /** The words placed at this scale, or null as soon as one does not fit (unless `last`). */
  attempt(words, top, last) {
    const placed = [];
    const result = [];
    const { width, height } = this.box;
    const grid = new Uint8Array(this.columns * Math.ceil(height / CELL));
    for (const [text, n] of words) {
      const size = Math.round(fontSize(n, top, this.box) * this.scale);
      const w = emWidth(text) * size + GAP;
      const h = size * 1.15 + GAP;
      const spot = this.find(this.places.get(text) || { x: width / 2, y: height / 2 }, w, h, placed, grid);
      if (!spot) {
        if (last) continue;
        return null;
      }
      placed.push({ x: spot.x, y: spot.y, hw: w / 2, hh: h / 2 });
      cover(grid, this.columns, spot.x - w / 2, spot.y - h / 2, spot.x + w / 2, spot.y + h / 2);
      result.push({ text, n, size, x: spot.x, y: spot.y });
    }
    return result;
  }

  /** The first free spot along an Archimedean spiral (flattened to the box) from `start`,
   * with turns and steps as fine as the word is small. Plain loops: this is the hot part. */
  find(start, w, h, placed, grid) {
    const { width, height } = this.box;
    const columns = this.columns;
    const flat = height / width;
    const dx = Math.max(start.x, width - start.x);
    const dy = Math.max(start.y, height - start.y) / flat;
    const reach = Math.hypot(dx, dy); // past it, every point lies outside the box
    const turn = Math.max(6, h / 3) / (2 * Math.PI);
    const step = Math.max(3, h / 4);
    const hw = w / 2;
    const hh = h / 2;
    const count = placed.length;
    let hit = null; // the word in the way is often still in the way at the next point
    for (let angle = 0, radius = 0; radius <= reach; angle += step / Math.max(radius, step), radius = turn * angle) {
      const x = start.x + radius * Math.cos(angle);
      const y = start.y + radius * flat * Math.sin(angle);
      if (x < hw || x > width - hw || y < hh || y > height - hh) continue;
      if (grid[((y / CELL) | 0) * columns + ((x / CELL) | 0)]
        || grid[(((y - hh + 1) / CELL) | 0) * columns + (((x - hw + 1) / CELL) | 0)]
        || grid[(((y - hh + 1) / CELL) | 0) * columns + (((x + hw - 1) / CELL) | 0)]
        || grid[(((y + hh - 1) / CELL) | 0) * columns + (((x - hw + 1) / CELL) | 0)]
        || grid[(((y + hh - 1) / CELL) | 0) * columns + (((x + hw - 1) / CELL) | 0)]) continue;
      if (hit !== null && Math.abs(hit.x - x) < hit.hw + hw && Math.abs(hit.y - y) < hit.hh + hh) continue;
      hit = null;
      for (let i = 0; i < count; i++) {
        const p = placed[i];
        if (Math.abs(p.x - x) < p.hw + hw && Math.abs(p.y - y) < p.hh + hh) {
          hit = p;
          break;
        }
      }
      if (hit === null) return { x: Math.round(x), y: Math.round(y) };
    }
    return null;
  }
}

/** Mark the grid's cells that lie wholly inside the box (a point in one is inside the box). */
function cover(grid, columns, left, top, right, bottom) {
  const rows = grid.length / columns;
  for (let row = Math.max(0, Math.ceil(top / CELL)); row < Math.min(rows, Math.floor(bottom / CELL)); row++) {
    grid.fill(1, row * columns + Math.max(0, Math.ceil(left / CELL)), row * columns + Math.min(columns, Math.floor(right / CELL)));
  }
}

function fontSize(n, top, box) {
  return box.minFont + (box.maxFont - box.minFont) * Math.sqrt(n / top);
}

/** The scale at which the words' boxes cover `FILL` of the box (at most 1); when that would
 * be under `SMALLEST`, the most given words that cover `FILL` at `SMALLEST`. */
function fitting(words, top, box) {
  const areas = words.map(([text, n]) => {
    const size = fontSize(n, top, box);
    return (emWidth(text) * size + GAP / SMALLEST) * (size * 1.15 + GAP / SMALLEST);
  });
  const room = FILL * box.width * box.height;
  const total = areas.reduce((a, b) => a + b, 0);
  const scale = Math.min(1, Math.sqrt(room / Math.max(total, 1)));
  if (scale >= SMALLEST) return { scale, words };
  let used = 0;
  let count = 0;
  while (count < words.length && used + areas[count] * SMALLEST * SMALLEST <= room) used += areas[count++] * SMALLEST * SMALLEST;
  return { scale: SMALLEST, words: words.slice(0, Math.max(1, count)) };
}

/** The word cloud as SVG (aria-hidden: the list beside it is its text). */
export function wordCloud(layout, words) {
  const root = svg("svg", { viewBox: `0 0 ${layout.box.width} ${layout.box.height}`, class: "poll-cloud",
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

/** A word cloud that keeps its layout between draws (one per poll on a page); `narrow()`
 * says whether a poll's first draw should use the phones' box. */
export class Cloud {
  constructor(narrow = () => false) {
    this.layouts = new Map();
    this.narrow = narrow;
  }

  for(pollId) {
    if (!this.layouts.has(pollId)) this.layouts.set(pollId, new CloudLayout(this.narrow() ? NARROW : WIDE));
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
