// Open-loop load generator for the fan-out benchmark (bench/fanout.py drives it).
//
// Commands arrive as JSON lines on stdin, each answered by one JSON line on stdout
// ({"event": ...} lines may come before the answer). It holds N viewer sockets, a few
// moderator (or publisher) sockets, and measures, per viewer and per change, the time from
// the change's *scheduled* moment to the frame that carries its version: frames hold
// `"v":<version>` first, so a frame with v covers every change up to v (coalescing is fine).
"use strict";

const WebSocket = require("ws");
const readline = require("readline");

const HIST_MS = 120000;
const V_KEY = Buffer.from('"v":');

function now() {
  return Number(process.hrtime.bigint()) / 1e6; // ms, monotonic
}

function frameVersion(buf) {
  const at = buf.indexOf(V_KEY);
  if (at < 0) return -1;
  let v = 0;
  let i = at + 4;
  while (buf[i] === 32) i++;
  for (; i < buf.length; i++) {
    const c = buf[i];
    if (c < 48 || c > 57) break;
    v = v * 10 + (c - 48);
  }
  return v;
}

class Stats {
  constructor() {
    this.hist = new Uint32Array(HIST_MS + 1);
    this.samples = 0;
    this.max = 0;
  }
  add(ms) {
    const b = ms < 0 ? 0 : Math.min(HIST_MS, Math.round(ms));
    this.hist[b]++;
    this.samples++;
    if (ms > this.max) this.max = ms;
  }
  pct(p) {
    if (!this.samples) return null;
    const want = Math.ceil(this.samples * p);
    let seen = 0;
    for (let i = 0; i <= HIST_MS; i++) {
      seen += this.hist[i];
      if (seen >= want) return i;
    }
    return HIST_MS;
  }
  summary() {
    return { samples: this.samples, p50: this.pct(0.5), p99: this.pct(0.99), max: Math.round(this.max) };
  }
}

const state = {
  viewers: [], // {ws, v, token, open, closedCode}
  mods: [],
  sched: new Map(), // version -> scheduled ms
  stats: null,
  frames: 0,
  pairs: 0,
  counting: false,
  watch: null, // Set of question ids (storm content check)
  errors: 0,
  seq: 0, // last version a peer server was asked to send
  bytes: 0, // bytes of viewer frames received while counting
  voters: [], // viewer sockets that vote in the realistic workload
  set: [], // the realistic workload's rotating set of approved questions
  onAir: 0, // the question the realistic workload put on air last
};

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

function onViewerFrame(viewer, data) {
  const t = now();
  const v = frameVersion(data);
  if (state.counting) {
    state.frames++;
    state.bytes += data.length;
  }
  if (!viewer.synced) {
    viewer.synced = true;
    viewer.syncedAt = t;
    if (viewer.onSynced) viewer.onSynced();
  }
  if (state.watch && viewer.seen) {
    const msg = JSON.parse(data.toString());
    if (msg.you && msg.you.participant) viewer.token = msg.you.participant;
    for (const q of msg.questions || []) {
      if (state.watch.has(q.id) && q.status !== "pending") viewer.seen.add(q.id);
    }
  } else if (viewer.token === null && data.indexOf('"participant"') >= 0) {
    const msg = JSON.parse(data.toString());
    if (msg.you) viewer.token = msg.you.participant;
  }
  if (v > viewer.v) {
    if (state.stats) {
      for (let ver = viewer.v + 1; ver <= v; ver++) {
        const s = state.sched.get(ver);
        if (s !== undefined) {
          state.stats.add(t - s);
          if (state.counting) state.pairs++;
        }
      }
    }
    viewer.v = v;
  }
}

function openViewer(url, viewer) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: 60000 });
    viewer.ws = ws;
    viewer.synced = false;
    viewer.onSynced = () => resolve(true);
    ws.on("message", (data) => onViewerFrame(viewer, data));
    ws.on("close", (code) => {
      viewer.open = false;
      viewer.closedCode = code;
      resolve(false);
    });
    ws.on("error", () => resolve(false));
    ws.on("open", () => {
      viewer.open = true;
    });
  });
}

async function pool(items, concurrency, fn) {
  let next = 0;
  let ok = 0;
  async function worker() {
    while (next < items.length) {
      const item = items[next++];
      if (await fn(item)) ok++;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return ok;
}

async function connect(cmd) {
  const t0 = now();
  const fresh = [];
  for (let i = 0; i < cmd.n; i++) {
    const viewer = { ws: null, v: 0, token: null, open: false, closedCode: 0, synced: false };
    state.viewers.push(viewer);
    fresh.push(viewer);
  }
  const ok = await pool(fresh, cmd.concurrency || 256, (viewer) => openViewer(cmd.url, viewer));
  return { connected: ok, failed: cmd.n - ok, seconds: (now() - t0) / 1000 };
}

function openMod(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const mod = { ws, pending: new Map(), nextId: 1, frames: [] };
    ws.on("message", (data) => {
      const msg = JSON.parse(data.toString());
      if (msg.type === "ok" || msg.type === "error") {
        const cb = mod.pending.get(msg.id);
        if (cb) {
          mod.pending.delete(msg.id);
          cb(msg);
        }
      } else if (mod.onPush) {
        mod.onPush(msg, now());
      }
    });
    ws.on("open", () => resolve(mod));
    ws.on("error", reject);
  });
}

function call(mod, type, fields) {
  const id = mod.nextId++;
  return new Promise((resolve) => {
    mod.pending.set(id, resolve);
    mod.ws.send(JSON.stringify({ type, id, ...fields }));
  });
}

async function mods(cmd) {
  state.mods = [];
  for (let i = 0; i < cmd.count; i++) state.mods.push(await openMod(cmd.url));
  state.kind = cmd.kind;
  return { mods: state.mods.length };
}

// The Salen actions, cycled: approve a pending question, put it on the queue, move the
// queue's last question to the front, put the front one on air (the previous one is done).
function salenAction(k, plan) {
  const step = k % 4;
  if (step === 0) {
    plan.current = plan.pending.shift();
    return ["qa.approve", { question: plan.current }];
  }
  if (step === 1) return ["panel.enqueue", { question: plan.current }];
  if (step === 2) return ["panel.move", { question: plan.current, position: 0 }];
  return ["panel.now", { question: plan.current }];
}

// The realistic workload (issue 24): ten steps mixing viewers' votes, edits of questions in
// a rotating set of approved ones, and the panel's flow (approve a new question, put it on
// the queue, move it to the front, put it on air: the one on air before is answered and
// leaves the set, the new one joins it). Frames coalesced over a tick then carry several
// question states. Votes come from voter sockets and their replies carry no version: they
// load the server but their latency is not measured.
const REALISTIC = ["vote", "edit", "approve", "vote", "enqueue", "vote", "edit", "move", "vote", "now"];
const SET_SIZE = 64;
const EDIT_TAIL = " Could the panel also say how this affects the timetable for the next two years, "
  + "what the municipality expects the county to pay for, and whether the hearing round "
  + "in the spring will include the smaller organisations that were left out the last time?";

function pick(list, k) {
  return list[(k * 7919) % list.length];
}

function realisticAction(k, plan) {
  const step = REALISTIC[k % REALISTIC.length];
  const votable = state.set.filter((q) => q !== state.onAir && q !== plan.current);
  if (step === "vote") {
    const voter = state.voters[k % state.voters.length];
    const q = pick(votable, k);
    const up = !voter.voted.has(q);
    if (up) voter.voted.add(q);
    else voter.voted.delete(q);
    return [voter, up ? "qa.vote" : "qa.unvote", { question: q }];
  }
  const mods = state.mods;
  if (step === "edit") {
    const q = pick(state.set, k);
    return [mods[1 + (k % (mods.length - 1))], "qa.edit", { question: q, text: `Question ${q}, edit ${k}.${EDIT_TAIL}` }];
  }
  if (step === "approve") {
    plan.current = plan.pending.shift();
    state.set.push(plan.current);
    return [mods[0], "qa.approve", { question: plan.current }];
  }
  if (step === "enqueue") return [mods[0], "panel.enqueue", { question: plan.current }];
  if (step === "move") return [mods[0], "panel.move", { question: plan.current, position: 0 }];
  // now: the previous question on air is answered and leaves the set
  const gone = state.onAir;
  state.set = state.set.filter((q) => q !== gone);
  state.onAir = plan.current;
  return [mods[0], "panel.now", { question: plan.current }];
}

async function prepare(cmd) {
  // The realistic workload's set: SET_SIZE questions approved one after another (not
  // measured), and the voter sockets.
  const used = [];
  while (state.set.length < SET_SIZE && used.length < cmd.pending.length) {
    const q = cmd.pending[used.length];
    used.push(q);
    const reply = await call(state.mods[0], "qa.approve", { question: q });
    if (reply.type === "ok") state.set.push(q);
  }
  state.voters = [];
  for (let i = 0; i < cmd.voters; i++) {
    const voter = await openMod(cmd.url);
    voter.voted = new Set();
    state.voters.push(voter);
  }
  return { approved: state.set.length, used: used.length, voters: state.voters.length };
}

function versionOf(reply) {
  if (reply.question) return reply.question.v;
  if (reply.panel) return reply.panel.v;
  return -1;
}

async function askers(cmd, until) {
  // Questions from fresh viewer connections while the load runs; measured to the moment
  // a moderator socket receives the pending question.
  const stats = new Stats();
  const waiting = new Map();
  const watcher = state.mods[0];
  watcher.onPush = (msg, t) => {
    for (const q of msg.questions || []) {
      const sent = waiting.get(q.text);
      if (sent !== undefined) {
        stats.add(t - sent);
        waiting.delete(q.text);
      }
    }
  };
  const sockets = [];
  let k = 0;
  while (now() < until && k < cmd.asks) {
    const mod = await openMod(cmd.askUrl);
    sockets.push(mod);
    const text = `bench question ${cmd.tag} ${k++}`;
    waiting.set(text, now());
    call(mod, "qa.ask", { text, anonymous: true });
    await sleep(cmd.askEvery);
  }
  await sleep(2000);
  for (const s of sockets) s.ws.terminate();
  watcher.onPush = null;
  return { ...stats.summary(), asked: k, unanswered: waiting.size };
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

async function run(cmd) {
  state.stats = new Stats();
  state.sched = new Map();
  state.frames = 0;
  state.bytes = 0;
  state.pairs = 0;
  const plan = { pending: cmd.pending ? [...cmd.pending] : [], current: 0 };
  const realistic = cmd.workload === "realistic";
  let voteErrors = 0;
  let votes = 0;
  const total = Math.round(cmd.rate * cmd.seconds);
  const versions = [];
  let errors = 0;
  let late = 0;
  const cpu0 = process.cpuUsage();
  const t0 = now() + 50;
  state.counting = true;
  out({ event: "window_start" });
  const asking = cmd.asks ? askers(cmd, t0 + cmd.seconds * 1000) : null;
  const replies = [];
  for (let k = 0; k < total; k++) {
    const at = t0 + (k * 1000) / cmd.rate;
    const wait = at - now();
    if (wait > 0) await sleep(wait);
    else if (wait < -5) late++;
    // One cycle of four actions stays on one moderator socket, so it runs in order.
    const mod = state.mods[Math.floor(k / 4) % state.mods.length];
    if (state.kind === "salen" && realistic) {
      if (REALISTIC[k % REALISTIC.length] === "approve" && !plan.pending.length) break;
      const [sock, type, fields] = realisticAction(k, plan);
      const voting = type === "qa.vote" || type === "qa.unvote";
      replies.push(
        call(sock, type, fields).then((reply) => {
          if (reply.type !== "ok") {
            if (voting) voteErrors++;
            else errors++;
          } else if (voting) {
            votes++;
          } else {
            const v = versionOf(reply);
            state.sched.set(v, at);
            versions.push(v);
          }
        })
      );
    } else if (state.kind === "salen") {
      if (k % 4 === 0 && !plan.pending.length) break;
      const [type, fields] = salenAction(k, plan);
      replies.push(
        call(mod, type, fields).then((reply) => {
          if (reply.type !== "ok") errors++;
          else {
            const v = versionOf(reply);
            state.sched.set(v, at);
            versions.push(v);
          }
        })
      );
    } else {
      // Peer versions go on from the previous run: viewers keep the highest one they saw.
      const seq = ++state.seq;
      state.sched.set(seq, at);
      versions.push(seq);
      mod.ws.send(JSON.stringify(cmd.frameBytes ? { seq, bytes: cmd.frameBytes } : { seq }));
    }
  }
  const windowEnd = Math.max(now(), t0 + cmd.seconds * 1000);
  if (windowEnd > now()) await sleep(windowEnd - now());
  state.counting = false;
  const frames = state.frames;
  const bytes = state.bytes;
  const pairs = state.pairs;
  const window = (now() - t0) / 1000;
  out({ event: "window_end" });
  await Promise.all(replies);
  const asked = asking ? await asking : null;
  await sleep(cmd.drain * 1000);
  const cpu = process.cpuUsage(cpu0);
  const latency = state.stats.summary();
  const lost = losses(versions);
  state.stats = null;
  return {
    changes: versions.length, errors, late, frames, pairs, window, latency, bytes, votes,
    vote_errors: voteErrors,
    lost: lost.lost, closed: lost.closed, asked,
    used: cmd.pending ? cmd.pending.length - plan.pending.length : 0, gen_cpu_s: (cpu.user + cpu.system) / 1e6,
  };
}

function losses(versions) {
  const sorted = [...versions].sort((a, b) => a - b);
  let lost = 0;
  let closed = 0;
  for (const viewer of state.viewers) {
    if (!viewer.open) closed++;
    // changes with a version above what this viewer ended with
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] <= viewer.v) lo = mid + 1;
      else hi = mid;
    }
    lost += sorted.length - lo;
  }
  return { lost, closed };
}

async function storm(cmd) {
  // Every viewer's socket dies at once; each reconnects at once with ?since=<its v>&p=<token>
  // while a moderator keeps approving the questions in cmd.pending at cmd.rate per second.
  state.watch = new Set(cmd.pending);
  for (const viewer of state.viewers) viewer.seen = new Set();
  const t0 = now();
  for (const viewer of state.viewers) {
    viewer.onSynced = null;
    viewer.ws.removeAllListeners("close");
    viewer.ws.terminate();
    viewer.open = false;
  }
  let approved = 0;
  const approving = (async () => {
    for (const q of cmd.pending) {
      const reply = await call(state.mods[0], "qa.approve", { question: q });
      if (reply.type === "ok") approved++;
      await sleep(1000 / cmd.rate);
    }
  })();
  const ok = await pool(state.viewers, cmd.concurrency || 256, (viewer) => {
    const p = viewer.token ? `&p=${encodeURIComponent(viewer.token)}` : "";
    return openViewer(`${cmd.url}?since=${viewer.v}${p}`, viewer);
  });
  const allSynced = (now() - t0) / 1000;
  await approving;
  await sleep(cmd.drain * 1000);
  let missing = 0;
  let short = 0;
  for (const viewer of state.viewers) {
    for (const q of cmd.pending) if (!viewer.seen.has(q)) missing++;
    if (!viewer.open) short++;
  }
  state.watch = null;
  return { reconnected: ok, seconds: allSynced, approved, missing, not_open: short };
}

async function closeAll() {
  for (const viewer of state.viewers) viewer.ws && viewer.ws.terminate();
  for (const mod of state.mods) mod.ws.terminate();
  for (const voter of state.voters) voter.ws.terminate();
  state.viewers = [];
  state.mods = [];
  state.voters = [];
  state.set = [];
  state.onAir = 0;
  return { closed: true };
}

const handlers = { connect, mods, prepare, run, storm, close: closeAll };

const rl = readline.createInterface({ input: process.stdin });
let chain = Promise.resolve();
rl.on("line", (line) => {
  chain = chain.then(async () => {
    const cmd = JSON.parse(line);
    try {
      out({ ok: true, ...(await handlers[cmd.cmd](cmd)) });
    } catch (err) {
      out({ ok: false, error: String(err && err.stack ? err.stack : err) });
    }
  });
});
rl.on("close", () => chain.then(() => process.exit(0)));
