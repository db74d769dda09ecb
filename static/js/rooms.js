// Group work in the browser: the lobby ("your room is ready"), the room (input, countdown,
// call a moderator, video) and the moderators' overview. One socket per page, speaking the
// envelope of docs/protocol.md: {"type", "id", ...} -> {"type": "ok"|"error", "id", ...};
// pushes carry "type" and "v". The socket reconnects and resynchronises with room.join.
"use strict";

(function () {
  const page = document.querySelector("[data-rooms-page]");
  if (!page) return;
  const kind = page.dataset.roomsPage;
  const text = (name, values) => {
    let value = page.dataset["text" + name] || "";
    for (const [k, v] of Object.entries(values || {})) value = value.replace(`%(${k})s`, v);
    return value;
  };

  // --- the socket ------------------------------------------------------------------------
  function actionKey() {  // a random idempotency key (docs/protocol.md)
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  class Socket {
    constructor(path, onPush, onOpen) {
      this.path = path;
      this.onPush = onPush;
      this.onOpen = onOpen;
      this.nextId = 0;
      this.waiting = new Map();
      this.resend = [];
      this.delay = 500;
      this.connect();
    }
    connect() {
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      this.ws = new WebSocket(`${scheme}//${location.host}${this.path}`);
      this.ws.onopen = () => {
        this.delay = 500;
        this.onOpen();
        for (const pending of this.resend.splice(0)) this.send(pending);
      };
      this.ws.onmessage = (event) => this.receive(JSON.parse(event.data));
      this.ws.onclose = () => {
        // A note whose reply was lost goes again with its idempotency key once reconnected.
        for (const [, pending] of this.waiting) {
          if (pending.fields.key && pending.tries++ < 5) this.resend.push(pending);
          else pending.reject({code: "disconnected"});
        }
        this.waiting.clear();
        status(text("Reconnecting"));
        setTimeout(() => this.connect(), this.delay);
        this.delay = Math.min(this.delay * 2, 10000);
      };
    }
    receive(message) {
      if ((message.type === "ok" || message.type === "error") && this.waiting.has(message.id)) {
        const pending = this.waiting.get(message.id);
        this.waiting.delete(message.id);
        if (message.type === "ok") pending.resolve(message); else pending.reject(message);
        return;
      }
      this.onPush(message);
    }
    call(type, fields) {
      fields = Object.assign({}, fields || {});
      if (type === "room.note.add" && !fields.key) fields.key = actionKey();
      return new Promise((resolve, reject) => {
        this.send({type, fields, resolve, reject, tries: 0});
      });
    }
    send(pending) {
      const id = ++this.nextId;
      this.waiting.set(id, pending);
      this.ws.send(JSON.stringify(Object.assign({}, pending.fields, {type: pending.type, id})));
    }
  }

  const statusBox = page.querySelector("[data-room-status]");
  function status(message) {
    if (statusBox) statusBox.textContent = message || "";
  }
  const errorTexts = JSON.parse(
    (document.querySelector("[data-rooms-errors]") || {}).textContent || "{}");
  function showError(error) {
    const box = page.querySelector("[data-rooms-error]");
    const said = error && error.code === "disconnected" ? text("Reconnecting")
      : (error && error.message) || String(error);
    const message = errorTexts[said] || said;  // the server's refusals come in English
    if (box) { box.hidden = false; box.textContent = message; } else status(message);
  }

  // --- countdown -------------------------------------------------------------------------
  let endsAt = null;
  let clockSkew = 0;  // server time minus our time, in ms
  function setTimer(ends, now) {
    endsAt = ends ? Date.parse(ends) : null;
    if (now) clockSkew = Date.parse(now) - Date.now();
    tick();
  }
  function tick() {
    const box = page.querySelector("[data-countdown]");
    if (!box || endsAt === null) return;
    const left = Math.max(0, Math.round((endsAt - (Date.now() + clockSkew)) / 1000));
    const minutes = Math.floor(left / 60), seconds = left % 60;
    box.textContent = left > 0 ? `${minutes}:${String(seconds).padStart(2, "0")}` : text("Timeup");
  }
  setInterval(tick, 1000);
  setTimer(page.dataset.endsAt || null, page.dataset.now || null);

  // --- notes -----------------------------------------------------------------------------
  function renderNote(list, note, editable) {
    let item = list.closest("[data-room-card], article").querySelector(`[data-note="${note.id}"]`);
    if (note.deleted) { if (item) item.remove(); return; }
    if (!item) {
      item = document.createElement("li");
      item.dataset.note = note.id;
      const span = document.createElement("span");
      span.dataset.noteText = "";
      span.dir = "auto";  // a right-to-left note stays inside its own item
      item.appendChild(span);
      list.appendChild(item);
    }
    if (Number(item.dataset.version || 0) > note.version) return;
    item.dataset.version = note.version;
    if (item.querySelector("textarea")) { item.dataset.pending = note.text; return; }
    item.querySelector("[data-note-text]").textContent = note.text;
    if (editable) addEditButton(item);
  }

  function addEditButton(item) {
    if (item.querySelector("[data-edit]")) return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.dataset.edit = "";
    button.textContent = text("Edit");
    button.setAttribute("aria-label", text("EditLabel"));
    button.addEventListener("click", () => startEdit(item));
    item.appendChild(document.createTextNode(" "));
    item.appendChild(button);
  }

  function startEdit(item) {
    const span = item.querySelector("[data-note-text]");
    const base = Number(item.dataset.version);
    const form = document.createElement("form");
    form.className = "note-edit";
    const label = document.createElement("label");
    const fieldId = `edit-${item.dataset.note}`;
    label.htmlFor = fieldId;
    label.textContent = text("EditLabel");
    label.className = "sr-only";
    const area = document.createElement("textarea");
    area.id = fieldId;
    area.rows = 2;
    area.dir = "auto";
    area.value = span.textContent;
    const save = document.createElement("button");
    save.type = "submit";
    save.textContent = text("Save");
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "secondary";
    cancel.textContent = text("Cancel");
    form.append(label, area, save, cancel);
    span.hidden = true;
    item.querySelector("[data-edit]").hidden = true;
    item.appendChild(form);
    area.focus();
    const finish = () => {
      form.remove();
      span.hidden = false;
      item.querySelector("[data-edit]").hidden = false;
      if (item.dataset.pending !== undefined) {
        span.textContent = item.dataset.pending;
        delete item.dataset.pending;
      }
    };
    cancel.addEventListener("click", finish);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const reply = await socket.call("room.note.edit", {
          room: Number(page.dataset.room), note: Number(item.dataset.note), base,
          text: area.value, keep_both: true,
        });
        finish();
        applyNotes([reply.note].concat(reply.kept_as ? [reply.kept_as] : []));
        if (reply.kept_as) status(text("Kept"));
      } catch (error) { showError(error); }
    });
  }

  function applyNotes(notes, root) {
    const scope = root || page;
    const editable = kind === "room";
    for (const note of notes) {
      const list = scope.querySelector(`[data-notes="${CSS.escape(note.section)}"]`);
      if (list) renderNote(list, note, editable);
    }
  }

  const memberNames = new Map();
  function renderMembers(root, members) {
    for (const m of members) memberNames.set(m.participant, m.name || m.participant);
    const list = root.querySelector("[data-members]");
    if (!list) return;
    list.replaceChildren(...members.map((m) => {
      const li = document.createElement("li");
      li.textContent = m.name || m.participant;
      li.dir = "auto";
      return li;
    }));
  }

  // --- the lobby -------------------------------------------------------------------------
  async function goToRoom(roomId, explicit) {
    try {
      const reply = await socket.call("room.join", roomId ? {room: roomId} : {});
      const ready = page.querySelector("#rooms-ready");
      ready.hidden = false;
      const link = ready.querySelector("[data-ready-link]");
      link.href = reply.room.url;
      setTimeout(() => { location.assign(reply.room.url); }, 800);
    } catch (error) {
      // An automatic attempt (on opening) may find no room yet; a click always says why.
      if (explicit || (error.code !== "rooms.not_open" && error.code !== "rooms.unplaced")) {
        showError(error);
      }
    }
  }

  // --- the room --------------------------------------------------------------------------
  let roomV = Number(page.dataset.v || 0);
  function joinRoom() {
    socket.call("room.join", {room: Number(page.dataset.room)}).then((reply) => {
      roomV = reply.room.v;
      for (const list of page.querySelectorAll("[data-notes]")) {
        const keep = new Set(reply.room.notes.map((n) => String(n.id)));
        for (const item of list.querySelectorAll("[data-note]")) {
          if (!keep.has(item.dataset.note)) item.remove();
        }
      }
      applyNotes(reply.room.notes);
      renderMembers(page, reply.room.members);
      if (reply.session) setTimer(reply.session.ends_at, reply.session.now);
      if (reply.room.closed) backToPlenary();
      status("");
      if (videoStarted) syncVideo(videoPublishers);
    }).catch((error) => {
      if (error.code === "rooms.not_open" || error.code === "rooms.closed") backToPlenary();
      else showError(error);
    });
  }

  function backToPlenary() {
    status(text("Closed"));
    for (const form of page.querySelectorAll("form")) form.hidden = true;
    stopVideo();
    setTimeout(() => { location.assign(page.dataset.plenary); }, 1500);
  }

  function onRoomPush(message) {
    if (message.type === "rooms.resync") {  // notices may have been missed: read it all again
      joinRoom();
    } else if (message.type === "room.update" && message.room === Number(page.dataset.room)) {
      if (message.v <= roomV) return;
      roomV = message.v;
      applyNotes(message.notes || []);
      if (message.members) renderMembers(page, message.members);
      if (message.closed) backToPlenary();
    } else if (message.type === "rooms.state") {
      setTimer(message.ends_at, message.now);
      if (message.state !== "open") backToPlenary();
    } else if (message.type === "rooms.broadcast") {
      const box = page.querySelector("[data-broadcast]");
      box.hidden = false;
      box.dir = "auto";
      box.textContent = message.text;
    } else if (message.type === "rooms.moved" && message.participant === page.dataset.participant) {
      socket.call("room.join", {}).then((reply) => location.assign(reply.room.url));
    } else if (message.type === "room.video") {
      takePublishers(message);
    }
  }

  function wireRoom() {
    for (const form of page.querySelectorAll("[data-add-note]")) {
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const area = form.querySelector("textarea");
        try {
          const reply = await socket.call("room.note.add", {
            room: Number(page.dataset.room), section: form.dataset.addNote, text: area.value,
          });
          area.value = "";
          applyNotes([reply.note]);
        } catch (error) { showError(error); }
      });
    }
    for (const item of page.querySelectorAll("[data-note]")) addEditButton(item);
    page.querySelector("[data-call-moderator]").addEventListener("click", async () => {
      try {
        await socket.call("room.call_moderator", {room: Number(page.dataset.room)});
        status(text("Called"));
      } catch (error) { showError(error); }
    });
    const start = page.querySelector("[data-start-video]");
    if (start) start.addEventListener("click", () => startVideo().catch(showError));
  }

  // --- video (an SFU: publish once, receive each other member) -------------------------
  let videoStarted = false;
  let videoPublishers = [];
  let videoV = 0;  // announcements and the publisher list may cross: the newest wins
  const peers = new Map();  // publisher id (or "self") -> RTCPeerConnection
  const videoBase = () => `/e/${page.dataset.event}/rooms/${page.dataset.room}/video`;

  async function negotiate(pc, url) {
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((resolve) => {
      if (pc.iceGatheringState === "complete") return resolve();
      pc.addEventListener("icegatheringstatechange", () => {
        if (pc.iceGatheringState === "complete") resolve();
      });
      setTimeout(resolve, 2000);
    });
    const response = await fetch(url, {
      method: "POST", body: pc.localDescription.sdp,
      headers: {"Content-Type": "application/sdp",
                "X-Salen-Participant": page.dataset.participantToken},
    });
    if (response.status !== 201) throw new Error(await response.text());
    await pc.setRemoteDescription({type: "answer", sdp: await response.text()});
  }

  function videoElement(id, label, stream) {
    const box = page.querySelector("[data-videos]");
    let figure = box.querySelector(`[data-video="${CSS.escape(id)}"]`);
    if (!figure) {
      figure = document.createElement("figure");
      figure.dataset.video = id;
      const video = document.createElement("video");
      video.autoplay = true;
      video.playsInline = true;
      video.muted = id === "self";
      const caption = document.createElement("figcaption");
      caption.textContent = label;
      caption.dir = "auto";
      video.setAttribute("aria-label", label);
      figure.append(video, caption);
      box.appendChild(figure);
    }
    figure.querySelector("video").srcObject = stream;
  }

  // Salen forwards H.264 and Opus as they are, so every peer must speak those.
  function prefer(transceiver, kind, side) {
    const capabilities = side.getCapabilities && side.getCapabilities(kind);
    if (!capabilities || !transceiver.setCodecPreferences) return;
    const wanted = kind === "video" ? "video/h264" : "audio/opus";
    const codecs = capabilities.codecs.filter((c) => c.mimeType.toLowerCase() === wanted);
    codecs.sort((a, b) => Number(/packetization-mode=1/.test(b.sdpFmtpLine || "")) -
                          Number(/packetization-mode=1/.test(a.sdpFmtpLine || "")));
    if (codecs.length) transceiver.setCodecPreferences(codecs);
  }

  async function startVideo() {
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({video: true, audio: true});
    } catch (error) {
      // The browser's own message is in its language; say why in the page's.
      const name = (error && error.name) || "";
      const why = name === "NotAllowedError" || name === "SecurityError" ? "CameraDenied"
        : name === "NotReadableError" || name === "AbortError" ? "CameraBusy" : "NoCamera";
      throw new Error(text(why));
    }
    const pc = new RTCPeerConnection();
    for (const track of stream.getTracks()) {
      prefer(pc.addTransceiver(track, {direction: "sendonly"}), track.kind, RTCRtpSender);
    }
    peers.set("self", pc);
    videoElement("self", text("You"), stream);
    await negotiate(pc, `${videoBase()}/publish`);
    videoStarted = true;
    page.querySelector("[data-start-video]").hidden = true;
    const response = await fetch(videoBase(), {
      headers: {"X-Salen-Participant": page.dataset.participantToken}});
    takePublishers(await response.json());
    syncVideo(videoPublishers);
  }

  function takePublishers(update) {
    if (update.v < videoV) return;
    videoV = update.v;
    videoPublishers = update.publishers;
    if (videoStarted) syncVideo(videoPublishers);
  }

  async function syncVideo(publishers) {
    for (const [id, pc] of peers) {
      if (id !== "self" && !publishers.includes(id)) { pc.close(); peers.delete(id); removeVideo(id); }
    }
    for (const id of publishers) {
      if (id === page.dataset.participant || peers.has(id)) continue;
      const pc = new RTCPeerConnection();
      peers.set(id, pc);
      for (const kind of ["video", "audio"]) {
        prefer(pc.addTransceiver(kind, {direction: "recvonly"}), kind, RTCRtpReceiver);
      }
      const stream = new MediaStream();
      pc.ontrack = (event) => {
        stream.addTrack(event.track);
        videoElement(id, text("Camera", {name: memberName(id)}), stream);
      };
      negotiate(pc, `${videoBase()}/view/${encodeURIComponent(id)}`).catch(showError);
    }
  }

  function memberName(id) { return memberNames.get(id) || id; }
  function removeVideo(id) {
    const figure = page.querySelector(`[data-video="${CSS.escape(id)}"]`);
    if (figure) figure.remove();
  }
  function stopVideo() {
    for (const [, pc] of peers) pc.close();
    peers.clear();
    videoStarted = false;
  }

  // --- the moderators' overview ----------------------------------------------------------
  function onModeratorPush(message) {
    if (message.type === "rooms.resync") {  // notices may have been missed: read it all again
      location.reload();
    } else if (message.type === "room.update") {
      const card = page.querySelector(`[data-room-card="${message.room}"]`);
      if (!card || message.v <= Number(card.dataset.v)) return;
      card.dataset.v = message.v;
      applyNotes(message.notes || [], card);
      if (message.members) renderMembers(card, message.members);
      if (message.closed) card.querySelector("[data-closed]").textContent = text("Closed");
      if (message.help) {
        const help = card.querySelector("[data-help]");
        help.hidden = false;
        help.dir = "auto";
        help.textContent = text("Help", {name: message.help});
      }
    } else if (message.type === "rooms.state") {
      setTimer(message.ends_at, message.now);
      const names = {open: "StateOpen", returned: "StateReturned", closed: "StateClosed"};
      page.querySelector("[data-rooms-state]").textContent = text(names[message.state]);
      if (message.state === "open") {
        for (const c of page.querySelectorAll("[data-closed]")) c.textContent = "";
      } else if (message.state === "returned") {
        for (const c of page.querySelectorAll("[data-closed]")) c.textContent = text("Closed");
      }
    }
  }

  function wireModerator() {
    const act = (type, fields) => socket.call(type, fields).catch(showError);
    page.querySelector("[data-open-rooms]").addEventListener("submit", (event) => {
      event.preventDefault();
      act("rooms.open", {minutes: Number(event.target.minutes.value)});
    });
    for (const button of page.querySelectorAll("[data-extend]")) {
      button.addEventListener("click", () => act("room.timer", {add: Number(button.dataset.extend)}));
    }
    page.querySelector("[data-broadcast-form]").addEventListener("submit", (event) => {
      event.preventDefault();
      const area = event.target.text;
      act("room.broadcast", {text: area.value}).then(() => { area.value = ""; });
    });
    // Returning to the plenary and closing a room are forms that ask first (templates/_confirm.html).
  }

  // --- start -----------------------------------------------------------------------------
  let socket;
  if (kind === "lobby") {
    socket = new Socket(page.dataset.ws, (message) => {
      const maybeOpen = message.type === "rooms.resync";  // a missed opening, perhaps
      if ((message.type === "rooms.state" && message.state === "open") || maybeOpen) goToRoom(null);
    }, () => {});
    for (const button of page.querySelectorAll("[data-join-room]")) {
      button.addEventListener("click", () => goToRoom(Number(button.dataset.joinRoom), true));
    }
  } else if (kind === "room") {
    socket = new Socket(page.dataset.ws, onRoomPush, joinRoom);
    wireRoom();
  } else if (kind === "moderator") {
    socket = new Socket(page.dataset.ws, onModeratorPush, () => {});
    wireModerator();
  }
  window.salenRooms = {socket: () => socket};
})();
