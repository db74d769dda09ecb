// The live socket of docs/protocol.md, shared by the Q&A pages (viewer, moderator, display).
// One envelope: requests carry a numbered "id" and get exactly one "ok" or "error" reply;
// pushes ("snapshot", "update") carry the version "v". After a drop the socket reconnects
// with a growing delay and ?since=<highest v seen>, so the server replays what was missed
// or sends a fresh snapshot. Creating actions (KEYED) carry an idempotency key; one whose
// reply was lost to a drop is sent again with the same key once reconnected, so the server
// answers with the first result instead of acting twice. Plain ES module, no build step.

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 15000;
const FLOOD_DELAY_MS = 30000;
const GIVE_UP = new Set([4004, 4401]);  // no such event; the captioner link was replaced
const FLOOD = 4029;
const KEYED = new Set(["qa.ask", "qa.vote", "qa.unvote"]);
const MAX_RESENDS = 5;

/** A random idempotency key for one action (docs/protocol.md, "Idempotency keys"). */
const QA_PUSHES = new Set(["snapshot", "update"]);
const SEEN_PUSHES = 200;
const pageSockets = new Map();

/**
 * The page's one socket to the event: the first feature script on a page opens it with its
 * params; the next (polls beside Q&A) listen on it instead of opening a second socket, which
 * would double every frame sent to every viewer.
 */
export function pageSocket(slug, options) {
  const open = pageSockets.get(slug);
  if (open) {
    open.listen(options);
    return open;
  }
  const socket = new LiveSocket(slug, options);
  pageSockets.set(slug, socket);
  return socket;
}

export function actionKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

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
   *   where state is "connecting", "open", "reconnecting" or "gone"; pushes: the push types
   *   handed to onPush (default the Q&A's). More features listen on the same socket through
   *   `listen` (see `pageSocket`).
   */
  constructor(slug, { params = {}, onPush = () => {}, onStatus = () => {}, pushes = QA_PUSHES } = {}) {
    this.slug = slug;
    this.params = { ...params };
    this.listeners = [];
    this.statusListeners = [];
    // Pushes so far, replayed to a feature that starts listening after they came.
    this.seen = [];
    this.listen({ onPush, onStatus, pushes });
    this.nextId = 0;
    this.waiting = new Map();
    this.resend = [];
    this.delay = FIRST_DELAY_MS;
    this.v = null;
    this.stopped = false;
    this.connect();
  }

  /** Hand pushes of the types `pushes` to onPush, and the connection state to onStatus. */
  listen({ onPush = () => {}, onStatus = null, pushes = QA_PUSHES } = {}) {
    this.listeners.push({ onPush, pushes });
    if (onStatus) {
      this.statusListeners.push(onStatus);
      if (this.state) onStatus(this.state);
    }
    for (const message of this.seen) if (pushes.has(message.type)) onPush(message);
  }

  onStatus(state) {
    this.state = state;
    for (const listener of this.statusListeners) listener(state);
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
    ws.onopen = () => {
      this.delay = FIRST_DELAY_MS;
      this.onStatus("open");
      for (const pending of this.resend.splice(0)) this.send(pending);
    };
    ws.onmessage = (event) => this.receive(JSON.parse(event.data));
    ws.onclose = (event) => this.closed(event.code);
  }

  closed(code) {
    this.closeCode = code;
    const ending = this.stopped || GIVE_UP.has(code);
    for (const pending of this.waiting.values()) {
      if (!ending && pending.fields.key && pending.tries < MAX_RESENDS) {
        pending.tries += 1;
        this.resend.push(pending);  // its reply was lost: sent again with its key
      } else {
        pending.reject(new SocketError({ code: "disconnected", message: "disconnected" }));
      }
    }
    this.waiting.clear();
    if (ending) {
      for (const pending of this.resend.splice(0)) {
        pending.reject(new SocketError({ code: "disconnected", message: "disconnected" }));
      }
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
    // The same socket carries every feature's pushes (rooms.*, polls.*, captions), each
    // versioned on its own or not at all: only the Q&A's "v" is resumed from.
    if (QA_PUSHES.has(message.type) && typeof message.v === "number") {
      // A snapshot may go back (another database after a restore); an update never does.
      this.v = message.type === "snapshot" ? message.v : Math.max(this.v ?? 0, message.v);
    }
    if (message.you && message.you.participant) this.params.p = message.you.participant;
    if (this.seen.length < SEEN_PUSHES) this.seen.push(message);
    for (const { onPush, pushes } of this.listeners) if (pushes.has(message.type)) onPush(message);
  }

  /** Send one request; resolves with the "ok" reply, rejects with a SocketError. */
  call(type, fields = {}) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new SocketError({ code: "disconnected", message: "disconnected" }));
    }
    const keyed = KEYED.has(type) && !fields.key ? { ...fields, key: actionKey() } : fields;
    return new Promise((resolve, reject) => {
      this.send({ type, fields: keyed, resolve, reject, tries: 0 });
    });
  }

  send(pending) {
    const id = ++this.nextId;
    this.waiting.set(id, pending);
    this.ws.send(JSON.stringify({ ...pending.fields, type: pending.type, id }));
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
