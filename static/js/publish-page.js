// The remote speaker's publishing page (templates/stream/publish.html): camera preview, then
// WHIP publishing with the stream key through whip-publish.js. Texts come from the page.
import { WhipPublisher, deviceProblem } from "./whip-publish.js";

const root = document.querySelector("[data-publish]");
const form = document.querySelector("[data-publish-form]");
const texts = JSON.parse(document.querySelector("[data-publish-texts]").textContent);
const video = root.querySelector("video");
const statusLine = document.querySelector("[data-publish-status]");
const keyInput = form.elements.key;
const buttons = {
  preview: form.querySelector("[data-preview]"),
  start: form.querySelector("[data-start]"),
  stop: form.querySelector("[data-stop]"),
};
let publisher = null;
// the role (speaker or sign-language interpreter) picks the WHIP address
for (const radio of form.querySelectorAll("[data-publish-role] input")) {
  radio.addEventListener("change", () => {
    if (radio.checked) root.dataset.whipUrl = radio.dataset.whipUrl;
  });
}
let previewStream = null;

function show(mode, message = "") {
  root.dataset.mode = mode;
  const detail = message ? ` ${texts[message] || message}` : "";
  statusLine.textContent = `${texts[mode] || ""}${detail}`.trim();
  const busy = mode === "starting" || mode === "live";
  buttons.start.disabled = busy;
  buttons.preview.disabled = busy;
  buttons.stop.disabled = !busy;
}

function endPreview() {
  for (const track of previewStream?.getTracks() || []) track.stop();
  previewStream = null;
}

buttons.preview.addEventListener("click", async () => {
  try {
    endPreview();
    previewStream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    video.srcObject = previewStream;
    show("preview");
  } catch (error) {
    show("error", deviceProblem(error));
  }
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const streamKey = keyInput.value.trim();
  if (!streamKey) {
    show("error", "no_key");
    keyInput.focus();
    return;
  }
  endPreview(); // the publisher opens the devices itself
  publisher = new WhipPublisher({
    whipUrl: root.dataset.whipUrl,
    streamKey,
    preview: video,
    onStatus: (status) => show(status.mode, status.message),
  });
  root.publisher = publisher; // for tests and the browser console
  try {
    await publisher.start();
  } catch {
    // the status line already says why
  }
});

buttons.stop.addEventListener("click", () => publisher?.stop());
window.addEventListener("pagehide", () => publisher?.stop());
