// The client's copy of an event's Q&A: questions, panel queue, settings, my questions and
// votes. Pushes are applied idempotently: per question, panel and settings the state with the
// highest "v" wins (docs/protocol.md, "Versions").

export const PUBLIC = new Set(["approved", "on_air", "answered"]);
export const GONE = new Set(["rejected", "merged"]);
const MAX_LOG = 200;

export class QaState {
  constructor() {
    this.v = 0;
    this.questions = new Map();
    this.panel = { v: 0, queue: [], now: null };
    this.settings = null;
    this.mine = new Map();
    this.voted = new Set();
    this.you = null;
    this.log = [];  // moderators: who did what, oldest first (each entry with its own time)
  }

  /** Apply a snapshot or an update push. */
  apply(push) {
    if (push.type === "snapshot") {
      this.questions.clear();
      this.mine.clear();
      this.panel = { v: 0, queue: [], now: null };
      this.settings = null;
      this.voted = new Set(push.voted || []);
      if (push.you) this.you = push.you;
      for (const q of push.mine || []) this.mine.set(q.id, q);
      this.log = [...(push.log || [])];
      this.v = push.v;
    } else {
      this.v = Math.max(this.v, push.v);
      this.addLog(push.log || []);
    }
    for (const q of push.questions || []) this.put(q);
    for (const c of push.votes || []) this.count(c);
    if (push.panel && push.panel.v >= this.panel.v) {
      this.panel = { v: push.panel.v, queue: push.panel.queue || [], now: push.panel.now ?? null };
    }
    if (push.settings && (!this.settings || push.settings.v >= this.settings.v)) {
      this.settings = push.settings;
    }
  }

  /** Add log entries not seen yet (a replayed update may repeat some), keeping the newest. */
  addLog(entries) {
    const key = (e) => `${e.v}:${e.action}:${e.question ?? ""}`;
    const known = new Set(this.log.map(key));
    for (const entry of entries) if (!known.has(key(entry))) this.log.push(entry);
    this.log.sort((a, b) => a.v - b.v);
    if (this.log.length > MAX_LOG) this.log.splice(0, this.log.length - MAX_LOG);
  }

  /** Keep the newer of the question we have and `q`. */
  put(q) {
    const known = this.questions.get(q.id);
    // Fields at their default are left out of the wire format, so a newer view replaces the
    // old one whole; only a tombstone (id, v, status) keeps the text we had.
    if (!known || known.v <= q.v) this.questions.set(q.id, GONE.has(q.status) ? { ...known, ...q } : q);
    const own = this.mine.get(q.id);
    if (own && own.v <= q.v) this.mine.set(q.id, GONE.has(q.status) ? { ...own, ...q } : q);
  }

  /** A newer vote count of a question we have (a count alone never adds a question). */
  count(c) {
    const known = this.questions.get(c.id);
    if (known && known.v < c.v) this.questions.set(c.id, { ...known, v: c.v, votes: c.votes });
    const own = this.mine.get(c.id);
    if (own && own.v < c.v) this.mine.set(c.id, { ...own, v: c.v, votes: c.votes });
  }

  /** Remember a question of mine from the reply to qa.ask. */
  asked(q) {
    this.mine.set(q.id, q);
    if (PUBLIC.has(q.status) || !this.you || (this.you.roles || []).includes("moderator")) {
      this.put(q);
    }
  }

  get(id) {
    return this.questions.get(id) || null;
  }

  /** Questions whose status is in `statuses`, in a stable order (by id). */
  withStatus(statuses) {
    return [...this.questions.values()]
      .filter((q) => statuses.has(q.status))
      .sort((a, b) => a.id - b.id);
  }

  /** The queued questions in panel order. */
  queue() {
    return this.panel.queue.map((id) => this.get(id)).filter(Boolean);
  }

  onAir() {
    return this.panel.now ? this.get(this.panel.now) : null;
  }
}

/** Sort for viewers: most votes first (then oldest first), or newest first. */
export function sortQuestions(questions, order) {
  const list = [...questions];
  if (order === "newest") return list.sort((a, b) => b.id - a.id);
  return list.sort((a, b) => (b.votes || 0) - (a.votes || 0) || a.id - b.id);
}

/** A small DOM helper: an element with a class and text (always text, never HTML). */
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

/**
 * The asker as nodes for a line of text: each name the user typed in a <bdi> of its own,
 * so a right-to-left name, or an override inside it, cannot reorder the rest of the line.
 */
export function askedByNodes(q, texts) {
  const parts = [q.name, q.organisation].filter(Boolean);
  if (!parts.length) return [q.floor ? texts.floor : texts.anonymous];
  return parts.flatMap((part, i) => (i ? [", "] : []).concat([el("bdi", { text: part })]));
}


/** A count in words: `texts[key + "_one"]` or `texts[key + "_other"]` (Babel's ngettext for
 * n = 1 and n = 2; bokmål and English share the one/other rule) with "{n}" filled in. */
export function plural(texts, key, n) {
  const count = Number(n) || 0;
  return texts[`${key}_${count === 1 ? "one" : "other"}`].replace("{n}", String(count));
}

function parseIso(iso) {
  return new Date(iso.endsWith("Z") || /[+-]\d\d:\d\d$/.test(iso) ? iso : iso + "Z");
}

/** "3 minutes ago" in the page's language, for an ISO timestamp. */
export function relative(iso) {
  if (!iso) return "";
  const seconds = Math.round((parseIso(iso).getTime() - Date.now()) / 1000);
  const format = new Intl.RelativeTimeFormat(document.documentElement.lang || undefined,
                                             { numeric: "auto" });
  const abs = Math.abs(seconds);
  if (abs < 60) return format.format(0, "second");
  if (abs < 3600) return format.format(Math.round(seconds / 60), "minute");
  if (abs < 86400) return format.format(Math.round(seconds / 3600), "hour");
  return format.format(Math.round(seconds / 86400), "day");
}

/** The full local date and time of an ISO timestamp (for a title beside a relative time). */
export function absolute(iso) {
  if (!iso) return "";
  return parseIso(iso).toLocaleString(document.documentElement.lang || undefined,
                                      { dateStyle: "long", timeStyle: "medium" });
}

/** A <time> showing "3 minutes ago", the full time in its title; `data-relative` keeps it
 * current (see `refreshTimes`). */
export function timeAgo(iso, cls = "qa-time") {
  return el("time", { cls, text: relative(iso),
                      attrs: { datetime: iso, title: absolute(iso), "data-relative": iso } });
}

/** Bring every relative time on the page up to date. */
export function refreshTimes(root = document) {
  for (const node of root.querySelectorAll("[data-relative]")) {
    node.textContent = relative(node.dataset.relative);
  }
}
