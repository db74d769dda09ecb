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
