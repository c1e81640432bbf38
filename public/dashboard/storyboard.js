// Scrub previews: a seek bar under the player; hovering it shows the storyboard tile of that moment
// (the WebVTT thumbnail track the status links: `sprite-….jpg#xywh=x,y,w,h` per cue). app.js tells
// this file which video plays with a `biblio:video` event on the <video>; no inline script (CSP).
'use strict';
(function () {
  const video = document.getElementById('player');
  if (!video) return;
  const wrap = document.createElement('div');
  wrap.className = 'scrub';
  const bar = document.createElement('input');
  bar.type = 'range';
  bar.id = 'scrub-bar';
  bar.min = '0';
  bar.max = '0';
  bar.step = '0.1';
  bar.value = '0';
  bar.setAttribute('aria-label', 'Seek (hover for a preview)');
  const preview = document.createElement('div');
  preview.className = 'scrub-preview';
  preview.id = 'scrub-preview';
  preview.hidden = true;
  preview.setAttribute('aria-hidden', 'true');
  const label = document.createElement('span');
  preview.append(label);
  wrap.append(preview, bar);
  video.after(wrap);

  /** @type {{start: number, end: number, url: string, x: number, y: number, w: number, h: number}[]} */
  let cues = [];
  let fallbackDuration = 0;
  let dragging = false;

  const duration = () => (Number.isFinite(video.duration) && video.duration > 0 ? video.duration : fallbackDuration);
  const clock = (sec) => {
    const s = Math.max(0, Math.floor(sec));
    const m = Math.floor(s / 60);
    return (m >= 60 ? Math.floor(m / 60) + ':' + String(m % 60).padStart(2, '0') : String(m)) + ':' + String(s % 60).padStart(2, '0');
  };
  const vttTime = (t) => t.split(':').reduce((acc, p) => acc * 60 + Number(p), 0);

  /** The cues of a WebVTT thumbnail track, their sprite URLs made absolute against the track's URL. */
  function parse(text, base) {
    const out = [];
    const lines = text.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      const m = /^(\S+)\s+-->\s+(\S+)/.exec(lines[i]);
      const payload = m && lines[i + 1];
      const frag = payload && /^(.*)#xywh=(\d+),(\d+),(\d+),(\d+)$/.exec(payload.trim());
      if (!frag) continue;
      out.push({
        start: vttTime(m[1]),
        end: vttTime(m[2]),
        url: new URL(frag[1], base).href,
        x: Number(frag[2]),
        y: Number(frag[3]),
        w: Number(frag[4]),
        h: Number(frag[5]),
      });
    }
    return out;
  }

  function cueAt(t) {
    let lo = 0;
    let hi = cues.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (t < cues[mid].start) hi = mid - 1;
      else if (t >= cues[mid].end) lo = mid + 1;
      else return cues[mid];
    }
    return cues.length && t >= cues[cues.length - 1].start ? cues[cues.length - 1] : undefined;
  }

  function show(clientX) {
    const rect = bar.getBoundingClientRect();
    const d = duration();
    if (!rect.width || !d) return;
    const px = Math.min(rect.width, Math.max(0, clientX - rect.left));
    const t = (px / rect.width) * d;
    const cue = cueAt(t);
    label.textContent = clock(t);
    if (cue) {
      preview.style.width = cue.w + 'px';
      preview.style.height = cue.h + 'px';
      preview.style.backgroundImage = 'url("' + cue.url.replace(/"/g, '%22') + '")';
      preview.style.backgroundPosition = -cue.x + 'px ' + -cue.y + 'px';
      preview.dataset.sprite = cue.url;
      preview.dataset.xywh = [cue.x, cue.y, cue.w, cue.h].join(',');
    } else {
      preview.style.backgroundImage = 'none';
      delete preview.dataset.sprite;
    }
    const w = cue ? cue.w : preview.offsetWidth;
    preview.style.left = Math.min(Math.max(0, px - w / 2), Math.max(0, rect.width - w)) + 'px';
    preview.dataset.time = t.toFixed(2);
    preview.hidden = false;
  }

  bar.addEventListener('mousemove', (e) => show(e.clientX));
  bar.addEventListener('mouseleave', () => (preview.hidden = true));
  bar.addEventListener('pointerdown', () => (dragging = true));
  bar.addEventListener('pointerup', () => (dragging = false));
  bar.addEventListener('input', () => {
    video.currentTime = Number(bar.value);
  });
  const syncMax = () => (bar.max = String(duration() || 0));
  video.addEventListener('durationchange', syncMax);
  video.addEventListener('loadedmetadata', syncMax);
  video.addEventListener('timeupdate', () => {
    if (!dragging) bar.value = String(video.currentTime);
  });

  video.addEventListener('biblio:video', async (e) => {
    const { status, apiKey } = e.detail || {};
    cues = [];
    preview.hidden = true;
    wrap.dataset.storyboard = 'none';
    fallbackDuration = (status && status.result && status.result.durationSec) || 0;
    syncMax();
    const link = status && status.links && status.links.storyboard;
    if (!link) return;
    // Sprites load as CSS backgrounds, which cannot send a header: the track fetched with
    // ?access_token names sprite URLs that carry it.
    const url = new URL(link + (apiKey ? '?access_token=' + encodeURIComponent(apiKey) : ''), location.href);
    try {
      const res = await fetch(url, { headers: apiKey ? { authorization: 'Bearer ' + apiKey } : {} });
      if (!res.ok) return;
      if (video.dataset.videoId !== (status && status.videoId)) return; // another video started meanwhile
      cues = parse(await res.text(), url);
      wrap.dataset.storyboard = cues.length ? 'loaded' : 'none';
    } catch {
      wrap.dataset.storyboard = 'none';
    }
  });
})();
