// Chapters of the playing video: listed under the player (clicking one seeks there), the one
// playing marked, and a <track kind="chapters"> for players that show them. The status document
// carries them (snapped to scene cuts, inside the duration); app.js says which video plays with a
// `biblio:video` event on the <video>. No inline script (CSP).
'use strict';
(function () {
  const video = document.getElementById('player');
  if (!video) return;
  const list = document.createElement('ol');
  list.id = 'chapters';
  list.className = 'chapters';
  list.setAttribute('aria-label', 'Chapters');
  list.hidden = true;
  const anchor = document.getElementById('player-caption') || video;
  anchor.after(list);

  /** @type {{startSec: number, title: string}[]} */
  let chapters = [];
  const clock = (sec) => {
    const s = Math.max(0, Math.floor(sec));
    const m = Math.floor(s / 60);
    return (m >= 60 ? Math.floor(m / 60) + ':' + String(m % 60).padStart(2, '0') : String(m)) + ':' + String(s % 60).padStart(2, '0');
  };

  function mark() {
    const t = video.currentTime;
    let current = -1;
    chapters.forEach((c, i) => {
      if (t + 0.05 >= c.startSec) current = i;
    });
    [...list.children].forEach((li, i) => {
      const b = li.firstElementChild;
      if (i === current) b.setAttribute('aria-current', 'true');
      else b.removeAttribute('aria-current');
    });
  }

  video.addEventListener('timeupdate', mark);
  video.addEventListener('biblio:video', (e) => {
    const { status, apiKey } = e.detail || {};
    chapters = (status && status.result && status.result.chapters) || [];
    list.replaceChildren();
    for (const old of video.querySelectorAll('track[kind="chapters"]')) old.remove();
    list.hidden = chapters.length === 0;
    for (const c of chapters) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'chapter';
      b.dataset.start = String(c.startSec);
      b.textContent = clock(c.startSec) + ' ' + c.title;
      b.addEventListener('click', () => {
        video.currentTime = c.startSec;
        video.play().catch(() => undefined);
      });
      const li = document.createElement('li');
      li.append(b);
      list.append(li);
    }
    const link = status && status.links && status.links.chapters;
    if (link) {
      const track = document.createElement('track');
      track.kind = 'chapters';
      track.label = 'Chapters';
      track.src = link + (apiKey ? '?access_token=' + encodeURIComponent(apiKey) : '');
      video.append(track);
    }
    mark();
  });
})();
