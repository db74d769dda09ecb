// The recording player: HLS through hls.js (or the browser's own HLS), MP4 otherwise;
// chapter and question links seek without reloading, and ?t= starts at a moment.
(function () {
  "use strict";
  var video = document.getElementById("player");
  if (!video) { return; }
  var hlsUrl = video.dataset.hls;
  var start = parseFloat(video.dataset.start || "0") || 0;

  function seek(seconds) {
    var go = function () {
      try { video.currentTime = seconds; } catch (e) { /* not seekable yet */ }
    };
    if (video.readyState >= 1) { go(); } else { video.addEventListener("loadedmetadata", go, { once: true }); }
  }

  if (hlsUrl) {
    if (window.Hls && window.Hls.isSupported()) {
      var hls = new window.Hls({ startPosition: start > 0 ? start : -1 });
      hls.loadSource(hlsUrl);
      hls.attachMedia(video);
      hls.on(window.Hls.Events.ERROR, function (_event, data) {
        // Fall back to the MP4 when the HLS rendition cannot be played.
        if (data.fatal && video.dataset.mp4) {
          hls.destroy();
          video.src = video.dataset.mp4;
          seek(start);
        }
      });
      video.dataset.engine = "hls.js";
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = hlsUrl;
      video.dataset.engine = "native-hls";
    } else {
      video.dataset.engine = "mp4";
    }
  } else {
    video.dataset.engine = "mp4";
  }
  if (start > 0) { seek(start); }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a.seek") : null;
    if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) { return; }
    var seconds = parseFloat(link.dataset.t);
    if (isNaN(seconds)) { return; }
    event.preventDefault();
    seek(seconds);
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", "?t=" + Math.floor(seconds));
    }
    video.focus();
    var playing = video.play();
    if (playing && playing.catch) { playing.catch(function () { /* autoplay refused: stay paused */ }); }
  });
})();

// Chapter marks under the player, the current chapter marked in them and in the list, and a
// "share from this moment" link (?t=seconds, which the page honours on load).
(function () {
  "use strict";
  var video = document.getElementById("player");
  if (!video) { return; }
  var links = Array.prototype.slice.call(document.querySelectorAll(".chapters a.seek"));
  var chapters = links.map(function (link) {
    return { start: parseFloat(link.dataset.t) || 0, link: link, title: link.textContent.trim() };
  });
  var bar = document.querySelector("[data-chapter-marks]");
  var marks = [];
  var position = null;

  function drawMarks() {
    var total = video.duration;
    if (!bar || !chapters.length || !isFinite(total) || total <= 0 || marks.length) { return; }
    chapters.forEach(function (chapter, i) {
      var end = i + 1 < chapters.length ? chapters[i + 1].start : total;
      var mark = document.createElement("a");
      mark.className = "seek";
      mark.href = "?t=" + Math.floor(chapter.start);
      mark.dataset.t = String(chapter.start);
      mark.title = chapter.title;
      mark.tabIndex = -1; // the chapter list is the keyboard's way in
      mark.style.left = (100 * chapter.start / total) + "%";
      mark.style.width = (100 * Math.max(0, end - chapter.start) / total) + "%";
      bar.appendChild(mark);
      marks.push(mark);
    });
    position = document.createElement("span");
    position.className = "position";
    bar.appendChild(position);
    bar.hidden = false;
    mark_current();
  }

  var current = -1;
  function mark_current() {
    var t = video.currentTime;
    var index = -1;
    chapters.forEach(function (chapter, i) { if (chapter.start <= t + 0.25) { index = i; } });
    if (position && isFinite(video.duration) && video.duration > 0) {
      position.style.left = (100 * t / video.duration) + "%";
    }
    if (index === current) { return; }
    current = index;
    chapters.forEach(function (chapter, i) {
      var on = i === index;
      [chapter.link, marks[i]].forEach(function (el) {
        if (!el) { return; }
        if (on) { el.setAttribute("aria-current", "true"); } else { el.removeAttribute("aria-current"); }
      });
    });
  }

  video.addEventListener("loadedmetadata", drawMarks);
  video.addEventListener("durationchange", drawMarks);
  video.addEventListener("timeupdate", mark_current);
  video.addEventListener("seeking", mark_current); // currentTime is already the target
  video.addEventListener("seeked", mark_current);
  if (video.readyState >= 1) { drawMarks(); }

  var share = document.querySelector("[data-share]");
  if (!share) { return; }
  var button = share.querySelector("[data-share-button]");
  var field = share.querySelector("[data-share-url]");
  var status = share.querySelector("[data-share-status]");
  share.hidden = false;
  button.addEventListener("click", function () {
    var url = location.origin + location.pathname + "?t=" + Math.floor(video.currentTime || 0);
    field.value = url;
    field.hidden = false;
    field.select();
    var done = function () { status.textContent = share.dataset.copied; };
    var manual = function () { status.textContent = share.dataset.select; };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(url).then(done, manual);
    } else {
      manual();
    }
  });
})();
