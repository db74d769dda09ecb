// Publishes camera and microphone to a Salen WHIP endpoint (H.264 + Opus), for a remote
// speaker without OBS. Plain ES module, no build step.
//
//   import { WhipPublisher } from "/static/js/whip-publish.js";
//   const publisher = new WhipPublisher({
//     whipUrl: "/whip/my-event",
//     streamKey: "...",
//     preview: videoElement,                 // optional: shows the local camera, muted
//     onStatus: (status) => console.log(status),  // {mode, message}
//   });
//   await publisher.start();   // ... await publisher.stop();
//
// Modes reported through onStatus: "starting", "live", "stopped", "error" (message says why:
// wrong key, stream already live, no camera, ...).

import { fetchIceServers, gatheringComplete } from "./whep-player.js";

const MESSAGES = {
  401: "The stream key is wrong.",
  404: "There is no such event.",
  409: "Someone is already streaming to this event.",
  400: "The server refused the offer.",
};

/** Why the browser gave no camera or microphone, as a message key the page translates
 *  (the browser's own message is in its language, not the page's). */
export function deviceProblem(error) {
  const name = (error && error.name) || "";
  if (name === "NotAllowedError" || name === "SecurityError") return "camera_denied";
  if (name === "NotReadableError" || name === "AbortError") return "camera_busy";
  return "no_camera";
}

export class WhipPublisher {
  constructor({ whipUrl, streamKey, preview = null, onStatus = () => {}, maxBitrate = 2500000 }) {
    this.whipUrl = whipUrl;
    this.streamKey = streamKey;
    this.preview = preview;
    this.onStatus = onStatus;
    this.maxBitrate = maxBitrate;
    this.stream = null;
    this.pc = null;
    this.location = null;
  }

  setStatus(mode, message = "") {
    this.mode = mode;
    this.onStatus({ mode, message });
  }

  /** Ask for camera and microphone, then publish them. */
  async start(constraints = { video: { width: 1280, height: 720, frameRate: 30 }, audio: true }) {
    this.setStatus("starting");
    try {
      this.stream = await navigator.mediaDevices.getUserMedia(constraints);
    } catch (error) {
      this.setStatus("error", deviceProblem(error));
      throw error;
    }
    if (this.preview) {
      this.preview.muted = true;
      this.preview.srcObject = this.stream;
      this.preview.play?.().catch(() => {});
    }
    try {
      await this.negotiate();
    } catch (error) {
      await this.stop("error", String(error.message || error));
      throw error;
    }
  }

  authHeaders() {
    return { Authorization: `Bearer ${this.streamKey}` };
  }

  async negotiate() {
    const pc = new RTCPeerConnection({ iceServers: await fetchIceServers(this.whipUrl) });
    this.pc = pc;
    for (const track of this.stream.getTracks()) {
      const transceiver = pc.addTransceiver(track, { direction: "sendonly", streams: [this.stream] });
      preferCodec(transceiver, track.kind === "video" ? "video/H264" : "audio/opus");
      if (track.kind === "video") limitBitrate(transceiver.sender, this.maxBitrate);
    }
    await pc.setLocalDescription(await pc.createOffer());
    await gatheringComplete(pc);
    const response = await fetch(this.whipUrl, {
      method: "POST",
      headers: { "Content-Type": "application/sdp", ...this.authHeaders() },
      body: pc.localDescription.sdp,
    });
    if (response.status !== 201) {
      throw new Error(MESSAGES[response.status] || `The server answered ${response.status}.`);
    }
    this.location = new URL(response.headers.get("Location"), new URL(this.whipUrl, location.href)).href;
    await pc.setRemoteDescription({ type: "answer", sdp: await response.text() });
    pc.addEventListener("connectionstatechange", () => {
      if (pc.connectionState === "connected") this.setStatus("live");
      if (pc.connectionState === "failed") this.stop("error", "The connection to the server failed.");
    });
  }

  /** Stop publishing: DELETE the WHIP session, hang up and release the devices. */
  async stop(mode = "stopped", message = "") {
    if (this.location) {
      const url = this.location;
      this.location = null;
      await fetch(url, { method: "DELETE", headers: this.authHeaders() }).catch(() => {});
    }
    if (this.pc) {
      this.pc.close();
      this.pc = null;
    }
    for (const track of this.stream?.getTracks() || []) track.stop();
    this.stream = null;
    if (this.preview) this.preview.srcObject = null;
    this.setStatus(mode, message);
  }
}

function preferCodec(transceiver, mimeType) {
  const capabilities = RTCRtpSender.getCapabilities?.(transceiver.sender.track.kind);
  if (!capabilities || !transceiver.setCodecPreferences) return;
  const wanted = capabilities.codecs.filter((c) => c.mimeType.toLowerCase() === mimeType.toLowerCase());
  // packetization-mode=1 first: Salen's relay and most players expect it
  wanted.sort((a, b) => Number(/packetization-mode=1/.test(b.sdpFmtpLine || "")) - Number(/packetization-mode=1/.test(a.sdpFmtpLine || "")));
  const rest = capabilities.codecs.filter((c) => /rtx|red|ulpfec/i.test(c.mimeType));
  if (wanted.length) transceiver.setCodecPreferences([...wanted, ...rest]);
}

function limitBitrate(sender, maxBitrate) {
  const parameters = sender.getParameters();
  if (!parameters.encodings || !parameters.encodings.length) parameters.encodings = [{}];
  parameters.encodings[0].maxBitrate = maxBitrate;
  sender.setParameters(parameters).catch(() => {});
}
