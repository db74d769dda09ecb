// The check-in page's camera: scan QR codes with jsQR and check in through the API without
// leaving the page. Progressive enhancement only: without this file (or without a camera)
// the page's forms do the same. Chromium on Linux has no BarcodeDetector, hence jsQR.
"use strict";

(() => {
  const root = document.querySelector("[data-checkin]");
  const scanner = document.querySelector("[data-scanner]");
  if (!root || !scanner || typeof window.jsQR !== "function" ||
      !(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)) {
    return;
  }
  const video = scanner.querySelector("video");
  const start = scanner.querySelector("[data-start-camera]");
  const result = document.getElementById("checkin-result");
  const counter = document.querySelector("[data-checked-in]");
  const csrf = document.querySelector('input[name="csrf_token"]').value;
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const SCAN_EVERY_MS = 150;
  const SAME_CODE_MS = 4000; // a code held in front of the camera is sent once, not per frame
  let last = { code: "", at: 0 };
  let busy = false;

  function fill(text, params) {
    return text.replace(/%\((\w+)\)s/g, (_, key) => (key in params ? params[key] : ""));
  }

  function show(verdict, color, text) {
    result.replaceChildren();
    const box = document.createElement("div");
    box.className = "ds-alert checkin-verdict";
    box.dataset.verdict = verdict;
    box.dataset.color = color;
    const p = document.createElement("p");
    p.className = "ds-paragraph";
    p.textContent = text;
    box.append(p);
    result.append(box);
  }

  function time(iso) {
    return new Date(iso).toLocaleTimeString(document.documentElement.lang || "nb", {
      hour: "2-digit", minute: "2-digit", timeZone: root.dataset.timezone,
    });
  }

  async function checkIn(code) {
    busy = true;
    try {
      const response = await fetch(root.dataset.api, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept": "application/json" },
        body: JSON.stringify({ code }),
      });
      const body = await response.json();
      if (response.ok && body.verdict === "checked_in") {
        show("checked_in", "success", fill(root.dataset.msgCheckedIn, { name: body.name }));
        if (counter) counter.textContent = String(Number(counter.textContent) + 1);
      } else if (response.ok) {
        show("already", "info", fill(root.dataset.msgAlready,
          { name: body.name, time: time(body.checked_in_at) }));
      } else {
        show(String(body.code || "error").replace("checkin.", ""), "danger", body.message || "");
      }
    } catch (error) {
      show("error", "danger", root.dataset.msgNetwork);
    } finally {
      busy = false;
    }
  }

  function scan() {
    if (video.readyState >= video.HAVE_ENOUGH_DATA && !busy) {
      const scale = Math.min(1, 640 / video.videoWidth);
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      const image = context.getImageData(0, 0, canvas.width, canvas.height);
      const found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
      const now = Date.now();
      if (found && found.data && (found.data !== last.code || now - last.at > SAME_CODE_MS)) {
        last = { code: found.data, at: now };
        checkIn(found.data);
      }
    }
    window.setTimeout(scan, SCAN_EVERY_MS);
  }

  start.addEventListener("click", async () => {
    start.disabled = true;
    try {
      const stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "environment" }, audio: false,
      });
      video.srcObject = stream;
      video.hidden = false;
      await video.play();
      start.hidden = true;
      scan();
    } catch (error) {
      start.disabled = false;
      show("camera", "danger", root.dataset.msgCameraFailed);
    }
  });
  scanner.hidden = false;
})();
