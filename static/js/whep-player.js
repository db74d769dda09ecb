// Plays a Salen live stream: WebRTC through WHEP first, live HLS when WebRTC fails or the
// server is full (503). Plain ES module, no build step.
//
//   import { WhepPlayer } from "/static/js/whep-player.js";
//   const player = new WhepPlayer(videoElement, {
//     whepUrl: "/whep/my-event",
//     hlsUrl: "/live/my-event/index.m3u8",
//     hlsScriptUrl: "/static/vendor/hls.min.js",   // optional: hls.js for browsers without native HLS
//     onStatus: (status) => console.log(status),   // {mode, message}
//   });
//   await player.start();   // ... player.stop();
//
// Modes reported through onStatus: "connecting", "webrtc", "waiting" (nobody publishes yet;
// retried after the server's Retry-After), "hls", "ended", "error".

const GATHER_TIMEOUT_MS = 2000;
const HLS_RETRY_MS = 3000;
const CONNECT_TIMEOUT_MS = 10000;

/** Parse RFC 9725 `Link: <url>; rel="ice-server"; username=...; credential=...` headers. */
export function iceServersFromLinks(header) {
  if (!header) return [];
  const servers = [];
  for (const part of header.split(/,(?=\s*<)/)) {
    const match = part.match(/<([^>]+)>(.*)/);
    if (!match || !/rel="?ice-server"?/.test(match[2])) continue;
    const server = { urls: match[1] };
    const user = match[2].match(/username="([^"]*)"/);
    const credential = match[2].match(/credential="([^"]*)"/);
    if (user) server.username = decodeURIComponent(user[1]);
    if (credential) server.credential = decodeURIComponent(credential[1]);
    servers.push(server);
  }
  return servers;
}

/** The endpoint's STUN/TURN servers, from the `Link` headers of an OPTIONS request. */
export async function fetchIceServers(url) {
  try {
    const response = await fetch(url, { method: "OPTIONS" });
    return iceServersFromLinks(response.headers.get("Link"));
  } catch {
    return [];
  }
}

/** Resolve once ICE gathering is complete (non-trickle WHIP/WHEP), or after a timeout. */
export function gatheringComplete(pc, timeoutMs = GATHER_TIMEOUT_MS) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState !== "complete") return;
      pc.removeEventListener("icegatheringstatechange", done);
      resolve();
    };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, timeoutMs);
  });
}

export class WhepPlayer {
  constructor(video, { whepUrl, hlsUrl, hlsScriptUrl = null, onStatus = () => {}, iceServers = null }) {
    this.video = video;
    this.whepUrl = whepUrl;
    this.hlsUrl = hlsUrl;
    this.hlsScriptUrl = hlsScriptUrl;
    this.onStatus = onStatus;
    this.iceServers = iceServers;
    this.mode = "idle";
    this.pc = null;
    this.location = null;
    this.hls = null;
    this.retryTimer = null;
    this.stopped = false;
  }

  /** Start playing: WebRTC if possible, HLS otherwise. */
  async start() {
    this.stopped = false;
    if (typeof RTCPeerConnection === "undefined") return this.playHls("WebRTC is not available");
    try {
      await this.playWebRtc();
    } catch (error) {
      if (!this.stopped && this.mode !== "waiting") await this.fallBack(String(error.message || error));
    }
  }

  setStatus(mode, message = "") {
    this.mode = mode;
    this.onStatus({ mode, message });
  }

  async fetchIceServers() {
    return this.iceServers || fetchIceServers(this.whepUrl);
  }

  async playWebRtc() {
    this.setStatus("connecting");
    const pc = new RTCPeerConnection({ iceServers: await this.fetchIceServers() });
    this.pc = pc;
    pc.addTransceiver("video", { direction: "recvonly" });
    pc.addTransceiver("audio", { direction: "recvonly" });
    const stream = new MediaStream();
    pc.addEventListener("track", (event) => {
      stream.addTrack(event.track);
      this.video.srcObject = stream;
    });
    await pc.setLocalDescription(await pc.createOffer());
    await gatheringComplete(pc);
    const response = await fetch(this.whepUrl, {
      method: "POST",
      headers: { "Content-Type": "application/sdp" },
      body: pc.localDescription.sdp,
    });
    if (response.status === 409) {
      // nobody is publishing yet: try again when the server says so
      pc.close();
      this.pc = null;
      const seconds = Number(response.headers.get("Retry-After")) || 5;
      this.setStatus("waiting", `retrying in ${seconds} s`);
      this.retryTimer = setTimeout(() => this.start(), seconds * 1000);
      return;
    }
    if (response.status !== 201) {
      pc.close();
      this.pc = null;
      throw new Error(`WHEP answered ${response.status}`);
    }
    this.location = new URL(response.headers.get("Location"), new URL(this.whepUrl, location.href)).href;
    await pc.setRemoteDescription({ type: "answer", sdp: await response.text() });
    await this.waitConnected(pc);
    this.setStatus("webrtc");
    pc.addEventListener("connectionstatechange", () => {
      if (this.stopped || this.pc !== pc) return;
      if (pc.connectionState === "failed") this.fallBack("WebRTC connection failed");
    });
    this.video.play?.().catch(() => {});
  }

  waitConnected(pc) {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (pc.connectionState === "connected") resolve();
        else if (pc.connectionState === "failed" || pc.connectionState === "closed") reject(new Error("WebRTC connection failed"));
      };
      pc.addEventListener("connectionstatechange", check);
      setTimeout(() => reject(new Error("WebRTC connection timed out")), CONNECT_TIMEOUT_MS);
      check();
    });
  }

  async fallBack(reason) {
    await this.closeWebRtc();
    await this.playHls(reason);
  }

  async closeWebRtc() {
    if (this.location) {
      fetch(this.location, { method: "DELETE" }).catch(() => {});
      this.location = null;
    }
    if (this.pc) {
      this.pc.close();
      this.pc = null;
    }
  }

  /** Play the live HLS rendition: native where supported, else hls.js if configured. */
  async playHls(reason = "") {
    if (!this.hlsUrl) return this.setStatus("error", reason || "no HLS fall-back configured");
    this.video.srcObject = null;
    if (this.video.canPlayType("application/vnd.apple.mpegurl")) {
      this.video.src = this.hlsUrl;
      // the live playlist appears a few seconds after the stream starts: keep trying
      this.video.onerror = () => {
        if (this.stopped || this.mode !== "hls") return;
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => {
          this.video.src = this.hlsUrl;
          this.video.play?.().catch(() => {});
        }, HLS_RETRY_MS);
      };
    } else {
      const Hls = await loadHlsJs(this.hlsScriptUrl);
      if (!Hls || !Hls.isSupported()) {
        this.video.src = this.hlsUrl; // last resort; the browser may still manage
      } else {
        this.hls = new Hls({ liveSyncDurationCount: 2, manifestLoadingMaxRetry: 100 });
        this.hls.loadSource(this.hlsUrl);
        this.hls.attachMedia(this.video);
      }
    }
    this.setStatus("hls", reason);
    this.video.play?.().catch(() => {});
  }

  /** Stop playing and end the WHEP session. */
  async stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.closeWebRtc();
    if (this.hls) {
      this.hls.destroy();
      this.hls = null;
    }
    this.video.onerror = null;
    this.video.removeAttribute("src");
    this.video.srcObject = null;
    this.setStatus("ended");
  }
}

function loadHlsJs(url) {
  if (globalThis.Hls) return Promise.resolve(globalThis.Hls);
  if (!url) return Promise.resolve(null);
  return new Promise((resolve) => {
    const script = document.createElement("script");
    script.src = url;
    script.onload = () => resolve(globalThis.Hls || null);
    script.onerror = () => resolve(null);
    document.head.append(script);
  });
}
