// Live status of a moving video over server-sent events (GET /videos/:id/events): the API pushes
// each change of the status document, so the dashboard need not poll GET /videos/:id every 1.5 s.
// app.js asks follow() for each moving video and polls only those it returns false for: no
// EventSource, no free stream, or a stream that failed (401, 503 Overloaded, a dropped connection).
// The events carry the same status document as GET /videos/:id (src/contracts/status-events.ts).
'use strict';
(function () {
  if (typeof window.EventSource !== 'function') return;
  // Browsers open at most 6 HTTP/1.1 connections per origin: streams must leave room for the
  // API calls, thumbnails and the player.
  const MAX_STREAMS = 3;
  const FINAL = new Set(['ready', 'failed']);
  const streams = new Map();
  const failed = new Set();

  function stop(videoId) {
    const es = streams.get(videoId);
    if (es) es.close();
    streams.delete(videoId);
  }

  /**
   * Follows a video until it is ready or failed, calling onStatus with each status document;
   * true when a stream carries it (the caller does not poll it then).
   */
  function follow(videoId, key, onStatus) {
    if (streams.has(videoId)) return true;
    if (failed.has(videoId) || streams.size >= MAX_STREAMS) return false;
    // EventSource cannot send headers: the key goes as access_token, as for the player's media.
    const url = '/videos/' + encodeURIComponent(videoId) + '/events' + (key ? '?access_token=' + encodeURIComponent(key) : '');
    const es = new EventSource(url);
    streams.set(videoId, es);
    es.addEventListener('status', (e) => {
      let s;
      try {
        s = JSON.parse(e.data);
      } catch {
        return;
      }
      // Closed before the server closes: an EventSource would reconnect to a finished stream.
      if (FINAL.has(s.status)) stop(videoId);
      onStatus(s);
    });
    es.addEventListener('deleted', () => {
      stop(videoId);
      failed.add(videoId);
    });
    // Refused or dropped: polling takes over for this video.
    es.addEventListener('error', () => {
      stop(videoId);
      failed.add(videoId);
    });
    return true;
  }

  window.BiblioStatusEvents = { follow, following: () => [...streams.keys()] };
})();
