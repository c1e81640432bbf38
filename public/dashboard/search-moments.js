// Search moments: each search result lists where in the video the query is said (quoted) or
// shown (a keyframe's description, after "shown:"), and a click opens the player at that second.
// The same place is a link, /dashboard/#video=<id>&t=<seconds> (what `biblio search` prints):
// opening it plays the video from there. A separate file (the page's CSP allows no inline
// script); app.js calls list() for each result and exposes play() as window.biblioDashboard.play.
/** @typedef {import('../../src/contracts/http').SearchHit} SearchHit */
/** @typedef {import('../../src/contracts/http').SearchMoment} SearchMoment */
'use strict';
(function () {
  function clock(sec) {
    const total = Math.max(0, Math.floor(sec));
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = String(total % 60).padStart(2, '0');
    return h > 0 ? h + ':' + String(m).padStart(2, '0') + ':' + s : m + ':' + s;
  }
  function linkOf(videoId, sec) {
    return '#video=' + encodeURIComponent(videoId) + '&t=' + Math.max(0, Math.floor(sec));
  }

  // Seeks once the new source has its metadata (before that, currentTime is not settable:
  // the element resets it when the source loads).
  function seekWhenReady(video, sec) {
    const go = () => {
      video.currentTime = Math.min(sec, Number.isFinite(video.duration) ? Math.max(0, video.duration - 0.1) : sec);
    };
    if (video.readyState >= 1) go();
    else video.addEventListener('loadedmetadata', go, { once: true });
  }

  /** Opens the player on `videoId` and plays from `sec`. */
  async function openAt(videoId, sec) {
    const dashboard = window.biblioDashboard;
    if (!dashboard) return;
    const video = document.querySelector('#player');
    await dashboard.play(videoId);
    seekWhenReady(video, sec);
    video.dataset.startAt = String(sec);
  }

  /** The moments of one search result as a list of links; null when it has none. @param {SearchHit} hit */
  function list(hit) {
    const moments = Array.isArray(hit.moments) ? hit.moments : [];
    if (!moments.length) return null;
    const ul = document.createElement('ul');
    ul.className = 'moments';
    ul.setAttribute('aria-label', 'Moments in ' + hit.videoId);
    for (const m of moments) {
      const start = Math.max(0, Math.floor(m.startSec));
      const a = document.createElement('a');
      a.href = linkOf(hit.videoId, start);
      a.className = 'moment';
      a.dataset.videoId = hit.videoId;
      a.dataset.startSec = String(start);
      a.textContent = clock(m.startSec) + '–' + clock(m.endSec);
      a.setAttribute('aria-label', 'Play ' + hit.videoId + ' from ' + clock(m.startSec));
      a.addEventListener('click', (e) => {
        e.preventDefault();
        // The address names the moment (shareable, reloadable) without a hashchange re-opening it.
        history.replaceState(null, '', a.getAttribute('href'));
        openAt(hit.videoId, start);
      });
      // Spoken words are quoted; a keyframe's description is the model's reading of a frame, not a quote.
      const words = document.createElement(m.source === 'keyframe' ? 'span' : 'q');
      words.textContent = m.source === 'keyframe' ? 'shown: ' + m.text : m.text;
      const li = document.createElement('li');
      li.dataset.source = m.source;
      li.append(a, ' ', words);
      ul.append(li);
    }
    return ul;
  }

  /** #video=<id>&t=<seconds> → play it from there (on load and when the address changes). */
  function fromAddress() {
    const params = new URLSearchParams(location.hash.replace(/^#/, ''));
    const videoId = params.get('video');
    if (!videoId) return;
    const t = Number(params.get('t') || '0');
    openAt(videoId, Number.isFinite(t) && t > 0 ? t : 0);
  }
  window.addEventListener('hashchange', fromAddress);
  fromAddress();

  window.biblioSearchMoments = { list, openAt };
})();
