// Live state on the front page, the event page and the player (templates/_live.html): keeps
// each badge ("Live now", "Starts in 12 min", "Ended — recording to come") and recording link
// current without a reload. It polls the page's source (GET /api/now or
// /api/events/{slug}/now; answers are cacheable for a few seconds) unless the page has a
// stream player, which polls the same answer and hands it over through `applyLive`.
// The countdown is worked out here from the start time, so cached pages never show stale
// minutes. Texts come from the page, never from this file.

const POLL_MS = 10000;
const COLORS = { live: "danger", soon: "warning", upcoming: "info", ended: "neutral", recorded: "success" };
const source = document.getElementById("live-texts");
const texts = source ? JSON.parse(source.textContent) : {};

/** The badge's text for a phase; "soon" counts down the minutes to `startsAt`. */
export function phaseText(phase, startsAt, streamed) {
  if (phase === "soon" && startsAt) {
    const minutes = Math.ceil((Date.parse(startsAt) - Date.now()) / 60000);
    if (minutes <= 0) return texts.starting;
    return texts[minutes === 1 ? "soon_one" : "soon_other"].replace("{n}", String(minutes));
  }
  if (phase === "ended" && streamed) return texts.ended_streamed;
  return texts[phase] || texts.upcoming;
}

function drawBadge(badge) {
  const data = badge.dataset;
  badge.textContent = phaseText(data.phase, data.starts, data.liveStreamed !== undefined);
  badge.dataset.color = COLORS[data.phase] || "info";
}

/** Show `state` (an answer of the state endpoints) on every badge of the event `slug`. */
export function applyLive(slug, state) {
  if (!state || !state.phase) return;
  const name = CSS.escape(slug);
  for (const badge of document.querySelectorAll(`[data-live-badge="${name}"]`)) {
    badge.dataset.phase = state.phase;
    if (state.starts_at) badge.dataset.starts = state.starts_at;
    else delete badge.dataset.starts;
    if (state.streamed) badge.dataset.liveStreamed = "";
    drawBadge(badge);
  }
  for (const link of document.querySelectorAll(`[data-live-recording="${name}"]`)) {
    link.hidden = !state.recording;
    if (state.recording) link.href = state.recording;
  }
  for (const notice of document.querySelectorAll(`[data-live-ended="${name}"]`)) {
    notice.hidden = state.phase !== "ended";
  }
}

async function poll(url) {
  try {
    const response = await fetch(url);
    if (response.ok) {
      const answer = await response.json();
      if (answer.events) {
        for (const [slug, state] of Object.entries(answer.events)) applyLive(slug, state);
      } else if (answer.slug) {
        applyLive(answer.slug, answer);
      }
    }
  } catch {
    // offline for a moment: keep what is shown and try again
  }
  setTimeout(() => poll(url), Number(source.dataset.pollMs) || POLL_MS);
}

if (source) {
  for (const badge of document.querySelectorAll("[data-live-badge]")) drawBadge(badge);
  setInterval(() => {
    for (const badge of document.querySelectorAll("[data-live-badge][data-phase=soon]")) drawBadge(badge);
  }, 15000);
  const player = document.querySelector("[data-stream][data-state-url]");
  if (source.dataset.liveSource && !player) poll(source.dataset.liveSource);
}
