// The live socket of docs/protocol.md, shared by the Q&A pages (viewer, moderator, display).
// One envelope: requests carry a numbered "id" and get exactly one "ok" or "error" reply;
// pushes ("snapshot", "update") carry the version "v". After a drop the socket reconnects
// with a growing delay and ?since=<highest v seen>, so the server replays what was missed
// or sends a fresh snapshot. Plain ES module, no build step.

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 15000;
const FLOOD_DELAY_MS = 30000;
const GIVE_UP = new Set([4004]);
const FLOOD = 4029;

/** The page's translated strings, from a <script type="application/json"> element. */
export function loadTexts(id = "qa-texts") {
  const element = document.getElementById(id);
  return element ? JSON.parse(element.textContent) : {};
}

/** Fill %(name)s placeholders of a translated string. */
export function format(template, values = {}) {
  return String(template || "").replace(/%\((\w+)\)s/g, (_, key) => String(values[key] ?? ""));
}

/** A reply of type "error", as a rejected promise carries it. */
export class SocketError extends Error {
  constructor(reply) {
    super(reply.message || reply.code);
    this.code = reply.code;
    this.fields = reply.fields || {};
  }
}

export class LiveSocket {
  /**
   * @param {string} slug  the event
   * @param {object} options  params (query: p, token, key), onPush(push), onStatus(state)
   *   where state is "connecting", "open", "reconnecting" or "gone".
   */
  constructor(slug, { params = {}, onPush = () => {}, onStatus = () => {} } = {}) {
    this.slug = slug;
    this.params = { ...params };
    this.onPush = onPush;
    this.onStatus = onStatus;
    this.nextId = 0;
    this.waiting = new Map();
    this.delay = FIRST_DELAY_MS;
    this.v = null;
    this.stopped = false;
    this.connect();
  }

  url() {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(this.params)) if (value) query.set(key, value);
    if (this.v !== null) query.set("since", String(this.v));
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}/ws/events/${encodeURIComponent(this.slug)}?${query}`;
  }

  connect() {
    clearTimeout(this.timer);
    this.onStatus(this.v === null ? "connecting" : "reconnecting");
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onopen = () => { this.delay = FIRST_DELAY_MS; this.onStatus("open"); };
    ws.onmessage = (event) => this.receive(JSON.parse(event.data));
    ws.onclose = (event) => this.closed(event.code);
  }

  closed(code) {
    for (const pending of this.waiting.values()) {
      pending.reject(new SocketError({ code: "disconnected", message: "disconnected" }));
    }
    this.waiting.clear();
    if (this.stopped || GIVE_UP.has(code)) {
      this.onStatus("gone");
      return;
    }
    this.onStatus("reconnecting");
    const wait = code === FLOOD ? FLOOD_DELAY_MS : this.delay * (0.75 + Math.random() / 2);
    this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
    this.timer = setTimeout(() => this.connect(), wait);
  }

  receive(message) {
    if (message.type === "ok" || message.type === "error") {
      const pending = this.waiting.get(message.id);
      if (!pending) return;
      this.waiting.delete(message.id);
      if (message.type === "ok") pending.resolve(message);
      else pending.reject(new SocketError(message));
      return;
    }
    if (typeof message.v === "number") {
      // A snapshot may go back (another database after a restore); an update never does.
      this.v = message.type === "snapshot" ? message.v : Math.max(this.v ?? 0, message.v);
    }
    if (message.you && message.you.participant) this.params.p = message.you.participant;
    // Every push is also a "salen:push" event on the document, for parts of the page that
    // draw one feature (captions: static/js/captions-view.js); the Q&A never sees captions.
    document.dispatchEvent(new CustomEvent("salen:push", { detail: message }));
    if (message.type === "captions") return;
    this.onPush(message);
  }

  /** Send one request; resolves with the "ok" reply, rejects with a SocketError. */
  call(type, fields = {}) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new SocketError({ code: "disconnected", message: "disconnected" }));
    }
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ ...fields, type, id }));
    });
  }

  close() {
    this.stopped = true;
    if (this.ws) this.ws.close(1000);
  }
}

/** Show the connection state in `element` with the page's texts. */
export function connectionStatus(element, texts) {
  return (state) => {
    if (!element) return;
    const labels = {
      connecting: texts.connecting, open: "", reconnecting: texts.reconnecting, gone: texts.gone,
    };
    element.textContent = labels[state] || "";
    element.hidden = !element.textContent;
  };
}

/** The translated message for an error reply (the server's English text as a fall-back). */
export function errorText(error, texts) {
  const known = (texts.errors || {})[error.code];
  return known || texts.error_generic || error.message;
}
