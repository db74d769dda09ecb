// The live stream on an event page (templates/_player.html) and the organiser's stream page:
// polls the stream state, keeps the status line current, and plays Salen's own stream
// (WebRTC through WHEP, live HLS as the fall-back) while it is live. Before and after, the
// player area is a poster (title, start, live badge); while autoplay keeps the sound off, a
// "Tap for sound" button. On public pages the state is the event's live state
// (/api/events/{slug}/now, cacheable), handed to the page's badges (live-state.js).
// Texts come from the page (a JSON script element), never from this file.
import { WhepPlayer } from "./whep-player.js";
import { applyLive } from "./live-state.js";

const POLL_MS = 4000;
const PLAYING = new Set(["live", "paused"]);
const MODE_TEXTS = new Set(["hls", "error"]); // the other player modes say nothing new

function statusLine(texts, state) {
  if (state.state !== "live") return texts[state.state] || texts.idle;
  const key = state.viewers === 1 ? "viewers_one" : "viewers_other";
  return `${texts.live} · ${texts[key].replace("{n}", String(state.viewers))}`;
}

class StreamView {
  constructor(root) {
    this.root = root;
    // the texts may come after the page's content (templates/_player_texts.html)
    const texts = root.querySelector("[data-stream-texts]") || document.querySelector("[data-stream-texts]");
    this.texts = JSON.parse(texts.textContent);
    this.line = root.querySelector("[data-stream-status]");
    this.mode = root.querySelector("[data-stream-mode]");
    this.video = root.querySelector("video");
    this.poster = root.querySelector("[data-poster]");
    this.unmute = root.querySelector("[data-unmute]");
    this.player = null;
    this.pollMs = Number(root.dataset.pollMs) || POLL_MS;
  }

  start() {
    this.apply({ state: this.root.dataset.state });
    if (this.video && this.unmute) this.offerSound();
    this.poll();
  }

  // Autoplay is only allowed muted: offer the sound once the video plays without it.
  offerSound() {
    const update = () => {
      this.unmute.hidden = !(this.video.muted && !this.video.paused && !this.video.hidden);
    };
    for (const name of ["playing", "pause", "volumechange", "emptied"]) {
      this.video.addEventListener(name, update);
    }
    this.unmute.addEventListener("click", () => {
      this.video.muted = false;
      const playing = this.video.play();
      if (playing && playing.catch) playing.catch(() => {});
      update();
    });
  }

  async poll() {
    try {
      const response = await fetch(this.root.dataset.stateUrl, { cache: this.root.dataset.cache || "no-store" });
      if (response.ok) this.apply(await response.json());
    } catch {
      // offline for a moment: keep the last state and try again
    }
    setTimeout(() => this.poll(), this.pollMs);
  }

  apply(state) {
    this.root.dataset.state = state.state;
    // for the sign-language interpreter's switch (interpreter-pip.js)
    this.root.dispatchEvent(new CustomEvent("salen:stream-state", { detail: state }));
    if (this.line && state.viewers !== undefined) this.line.textContent = statusLine(this.texts, state);
    if (state.problem !== undefined) this.showProblem(state);
    if (state.slug) applyLive(state.slug, state);
    const onAir = PLAYING.has(state.state);
    if (this.poster) {
      this.poster.hidden = onAir;
      if (this.video) this.video.hidden = !onAir;
    }
    if (this.unmute && !onAir) this.unmute.hidden = true;
    if (!this.video) return;
    if (PLAYING.has(state.state) && !this.player) this.play();
    else if (!PLAYING.has(state.state) && this.player) this.stopPlaying();
  }

  play() {
    const data = this.root.dataset;
    this.player = new WhepPlayer(this.video, {
      whepUrl: data.whepUrl,
      hlsUrl: data.hlsUrl,
      hlsScriptUrl: data.hlsScript,
      onStatus: (status) => this.showMode(status.mode, status.message),
    });
    this.video.salenPlayer = this.player; // for tests and the browser console
    if (data.forceHls !== undefined) this.player.playHls("requested");
    else this.player.start();
  }

  stopPlaying() {
    const player = this.player;
    this.player = null;
    player.stop();
  }

  // the organiser's page: a full or read-only recordings folder, and the retry while stuck
  showProblem(state) {
    const notice = this.root.querySelector("[data-stream-problem]");
    const retry = this.root.querySelector("[data-stream-retry]");
    const code = state.problem ? state.problem.code : "";
    if (notice) {
      notice.hidden = !code;
      notice.dataset.streamProblem = code;
      notice.textContent = code ? this.texts[`problem.${code}`] || this.texts["problem.storage.error"] : "";
    }
    if (retry) retry.hidden = !(code && state.state === "finalising");
  }

  showMode(mode, reason = "") {
    this.root.dataset.mode = mode;
    this.root.dataset.reason = reason; // e.g. "WHEP answered 503" when WebRTC is full
    if (this.mode) this.mode.textContent = MODE_TEXTS.has(mode) ? this.texts[mode] : "";
  }
}

for (const root of document.querySelectorAll("[data-stream][data-state-url]")) {
  new StreamView(root).start();
}
