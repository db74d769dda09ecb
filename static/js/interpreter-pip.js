// The sign-language interpreter as a picture-in-picture window over a player.
//
// Markup (templates/_interpreter_pip.html): a switch [data-pip-toggle] in [data-interpreter],
// and a window (the element whose id is its data-pip-box) holding a <video>, inside the player. The switch's state is remembered (localStorage
// "salen.interpreter"), so those who choose the interpreter get it on every page. The
// window moves by dragging or with the arrow keys, and resizes by its corner (CSS resize)
// or with + and -; its place and size are remembered too. On the live page it plays the
// interpreter's WHEP stream (live HLS as fall-back), the switch shown while the interpreter
// is on air (the `interpreter` of /api/events/{slug}/now); on a recording's page it plays the
// interpreter's MP4 kept in step with the main video: pip time = main time + shift.
import { WhepPlayer } from "./whep-player.js";

const KEY = "salen.interpreter";
const PLACE_KEY = "salen.interpreter.place";
const STEP = 5; // percent of the player per arrow key press
const SIZES = [20, 25, 30, 35, 40, 50]; // width, percent of the player

function load(key, fallback) {
  try { return JSON.parse(localStorage.getItem(key)) ?? fallback; } catch { return fallback; }
}
function save(key, value) {
  try { localStorage.setItem(key, JSON.stringify(value)); } catch { /* private mode */ }
}

export class InterpreterPip {
  constructor(root) {
    this.root = root;
    this.toggle = root.querySelector("[data-pip-toggle]");
    this.box = document.getElementById(root.dataset.pipBox);
    this.video = null; // made on the first show()
    this.main = document.querySelector(root.dataset.pipMain);
    this.place = load(PLACE_KEY, { x: 70, y: 5, w: 25 });
    this.player = null;
  }

  start() {
    this.toggle.checked = load(KEY, false) === true;
    this.toggle.addEventListener("change", () => {
      save(KEY, this.toggle.checked);
      this.show(this.toggle.checked);
    });
    this.box.addEventListener("keydown", (event) => this.key(event));
    this.box.addEventListener("pointerdown", (event) => this.drag(event));
    new ResizeObserver(() => this.measure()).observe(this.box);
    this.layout();
    const stream = this.root.closest("[data-stream]");
    if (!stream) { // a recording: the interpreter is there
      this.root.hidden = false;
      this.show(this.toggle.checked);
      return;
    }
    // the live page: the switch is offered while the interpreter is on air (player-page.js)
    stream.addEventListener("salen:stream-state", (event) => {
      const onAir = event.detail.interpreter;
      if (onAir === undefined || onAir === !this.root.hidden) return;
      this.root.hidden = !onAir;
      this.show(onAir && this.toggle.checked);
    });
  }

  show(on) {
    if (on && !this.video) {
      this.video = document.createElement("video");
      Object.assign(this.video, { muted: true, playsInline: true, preload: "metadata" });
      this.video.setAttribute("aria-label", this.box.getAttribute("aria-label"));
      if (this.root.dataset.pipSrc) this.video.src = this.root.dataset.pipSrc;
      this.box.append(this.video);
    }
    this.box.hidden = !on;
    this.root.dataset.pipOn = on ? "true" : "false";
    if (on) this.play(); else this.stop();
  }

  play() {
    const data = this.root.dataset;
    if (data.pipWhep) {
      if (this.player) return;
      this.player = new WhepPlayer(this.video, {
        whepUrl: data.pipWhep, hlsUrl: data.pipHls, hlsScriptUrl: data.pipHlsScript,
        onStatus: (status) => { this.box.dataset.mode = status.mode; },
      });
      this.player.start();
    } else if (this.main) {
      this.follow();
    }
  }

  stop() {
    if (this.player) { this.player.stop(); this.player = null; }
    this.video?.pause();
  }

  // a recording: keep the interpreter on the main video's clock
  follow() {
    if (this.following) { this.sync(true); return; }
    this.following = true;
    const shift = Number(this.root.dataset.pipShift || 0);
    this.sync = (hard) => {
      if (this.box.hidden) return;
      const want = this.main.currentTime + shift;
      const duration = this.video.duration || Infinity;
      if (want < 0 || want > duration) { this.video.pause(); this.box.dataset.mode = "outside"; return; }
      this.box.dataset.mode = "playing";
      if (hard || Math.abs(this.video.currentTime - want) > 0.3) this.video.currentTime = want;
      this.video.playbackRate = this.main.playbackRate;
      if (this.main.paused) this.video.pause(); else this.video.play().catch(() => {});
    };
    for (const name of ["play", "pause", "seeked", "ratechange"]) {
      this.main.addEventListener(name, () => this.sync(true));
    }
    this.main.addEventListener("timeupdate", () => this.sync(false));
    this.video.addEventListener("loadedmetadata", () => this.sync(true));
    this.sync(true);
  }

  key(event) {
    const moves = { ArrowLeft: [-STEP, 0], ArrowRight: [STEP, 0], ArrowUp: [0, -STEP], ArrowDown: [0, STEP] };
    if (moves[event.key]) {
      const [dx, dy] = moves[event.key];
      this.place.x += dx;
      this.place.y += dy;
    } else if (event.key === "+" || event.key === "-") {
      const at = SIZES.findIndex((w) => w >= this.place.w);
      const next = Math.min(SIZES.length - 1, Math.max(0, (at < 0 ? SIZES.length - 1 : at) + (event.key === "+" ? 1 : -1)));
      this.place.w = SIZES[next];
    } else {
      return;
    }
    event.preventDefault();
    this.layout();
  }

  drag(event) {
    if (event.button !== 0 || event.target === this.video && event.offsetY > this.video.clientHeight - 40) return;
    const area = this.box.parentElement.getBoundingClientRect();
    const rect = this.box.getBoundingClientRect();
    if (event.clientX > rect.right - 16 && event.clientY > rect.bottom - 16) return; // the resize corner
    const start = { x: event.clientX, y: event.clientY, px: this.place.x, py: this.place.y };
    const move = (e) => {
      this.place.x = start.px + ((e.clientX - start.x) / area.width) * 100;
      this.place.y = start.py + ((e.clientY - start.y) / area.height) * 100;
      this.layout();
    };
    const up = () => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
    event.preventDefault();
  }

  // the window's size was changed by its resize corner: remember it as a share of the player
  measure() {
    const area = this.box.parentElement.getBoundingClientRect();
    if (!area.width || this.box.hidden) return;
    const w = (this.box.getBoundingClientRect().width / area.width) * 100;
    if (Math.abs(w - this.place.w) > 1) { this.place.w = Math.round(w); this.layout(); }
  }

  layout() {
    const p = this.place;
    p.w = Math.min(60, Math.max(15, p.w));
    p.x = Math.min(100 - p.w, Math.max(0, p.x));
    p.y = Math.min(90, Math.max(0, p.y));
    this.box.style.left = `${p.x}%`;
    this.box.style.top = `${p.y}%`;
    this.box.style.width = `${p.w}%`;
    this.box.style.height = "";
    save(PLACE_KEY, p);
  }
}

for (const root of document.querySelectorAll("[data-interpreter]")) {
  const pip = new InterpreterPip(root);
  root.interpreterPip = pip; // for tests and the browser console
  pip.start();
}
