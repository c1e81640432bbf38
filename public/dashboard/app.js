// Biblio dashboard: plain browser JavaScript against the HTTP API (no build step).
// The answers it reads are the types of src/contracts/http.ts, shared with the API and the CLI.
/** @typedef {import('../../src/contracts/http').VideoListResponse} VideoListResponse */
/** @typedef {import('../../src/contracts/http').VideoStatusResponse} VideoStatusResponse */
/** @typedef {import('../../src/contracts/http').SearchResponse} SearchResponse */
/** @typedef {import('../../src/contracts/http').DeadLetterListResponse} DeadLetterListResponse */
'use strict';
(function () {
  const $ = (sel) => document.querySelector(sel);
  const KEY_STORE = 'biblio.apiKey';
  const FINAL = new Set(['ready', 'failed']);
  const state = { videos: new Map(), details: new Map(), cursor: null, selected: null, hls: null };

  function apiKey() {
    return localStorage.getItem(KEY_STORE) || '';
  }
  function authHeaders(extra) {
    const h = Object.assign({}, extra || {});
    if (apiKey()) h.authorization = 'Bearer ' + apiKey();
    return h;
  }
  class ApiError extends Error {
    constructor(status, type, message, hint) {
      super(message);
      this.status = status;
      this.type = type;
      this.hint = hint;
    }
  }
  async function api(method, path, body) {
    const res = await fetch(path, {
      method,
      headers: authHeaders(body === undefined ? {} : { 'content-type': 'application/json' }),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const e = (json && json.error) || {};
      throw new ApiError(res.status, e.type || 'Http' + res.status, e.message || res.statusText, e.hint);
    }
    return json;
  }
  function describeError(err) {
    if (err instanceof ApiError) {
      if (err.status === 401 || err.status === 403) return err.type + ': ' + err.message + ' — enter an API key above.';
      return err.type + ': ' + err.message + (err.hint ? ' (' + err.hint + ')' : '');
    }
    return String(err && err.message ? err.message : err);
  }
  function say(el, text, isError) {
    el.textContent = text || '';
    el.classList.toggle('error', Boolean(isError));
  }
  function announce(text) {
    $('#announcer').textContent = text;
  }
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
    return el;
  }

  // ---- API key -------------------------------------------------------------------------
  $('#api-key').value = apiKey();
  $('#key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const v = $('#api-key').value.trim();
    if (v) localStorage.setItem(KEY_STORE, v);
    else localStorage.removeItem(KEY_STORE);
    announce(v ? 'API key saved' : 'API key removed');
    refreshVideos(true);
    refreshDlq();
  });

  // ---- thumbnails (fetched with the key when one is set: <img> cannot send headers) ------
  const thumbCache = new Map();
  function thumbnail(item) {
    const link = item.links && item.links.thumbnail;
    if (!link) return h('div', { class: 'thumb-missing', role: 'img', 'aria-label': 'no thumbnail yet' });
    const img = h('img', { alt: 'Thumbnail of ' + item.videoId, loading: 'lazy', width: 128, height: 72 });
    if (!apiKey()) {
      img.src = link;
      return img;
    }
    const cached = thumbCache.get(link);
    if (cached) img.src = cached;
    else
      fetch(link, { headers: authHeaders() })
        .then((r) => (r.ok ? r.blob() : Promise.reject(new Error(String(r.status)))))
        .then((b) => {
          const url = URL.createObjectURL(b);
          thumbCache.set(link, url);
          img.src = url;
        })
        .catch(() => undefined);
    return img;
  }

  // ---- video list ----------------------------------------------------------------------
  function viewState(item, detail) {
    const s = detail || {};
    const status = s.status || item.status;
    if (status === 'ready' && s.result && s.result.degraded) return 'degraded';
    if (s.waitingFor || status === 'waiting_for_source') return 'waiting';
    if (status === 'queued' && s.step && s.step !== 'queued') return 'processing';
    return status;
  }
  function reasonOf(item, detail) {
    const s = detail || {};
    if (s.waitingFor) return { text: 'Waiting: ' + s.waitingFor, warn: true };
    if (s.status === 'waiting_for_source')
      return { text: 'Waiting for a new source URL (biblio refresh-url ' + item.videoId + ' URL)', warn: true };
    const err = s.lastError || item.lastError;
    const status = s.status || item.status;
    if (err && status === 'failed') return { text: 'Failed at ' + (err.step || '?') + ': ' + err.type + ' — ' + err.message, warn: false };
    if (err && !FINAL.has(status))
      return { text: 'Retrying after ' + err.type + ': ' + err.message + (s.attempt ? ' (attempt ' + s.attempt + ')' : ''), warn: true };
    if (s.result && s.result.degraded) return { text: 'Degraded: ' + (s.result.degradedReason || 'analysis incomplete'), warn: true };
    return null;
  }
  function renderVideo(item) {
    const detail = state.details.get(item.videoId);
    const view = viewState(item, detail);
    const step = detail ? detail.step : item.status === 'ready' ? 'done' : item.status;
    const pct = detail && detail.progress ? Math.round(detail.progress.percent) : item.status === 'ready' ? 100 : 0;
    const phase = detail && detail.progress && detail.progress.phase !== step ? ' (' + detail.progress.phase + ')' : '';
    const reason = reasonOf(item, detail);
    const temporal = (detail && detail.links && detail.links.temporalUi) || (item.links && item.links.temporalUi);
    const summary = (detail && detail.result && detail.result.summary) || item.summary;
    return h(
      'li',
      { class: 'video', 'data-video-id': item.videoId, 'data-status': view },
      thumbnail(item),
      h(
        'div',
        {},
        h('strong', {}, item.videoId),
        ' ',
        h('span', { class: 'badge ' + view, 'data-testid': 'status' }, view),
        ' ',
        h('span', { class: 'note' }, 'step ' + step + phase),
        FINAL.has(view) ? null : h('progress', { max: 100, value: pct, 'aria-label': 'Progress of ' + item.videoId + ' at step ' + step }),
        reason ? h('p', { class: 'reason' + (reason.warn ? ' warn' : '') }, reason.text) : null,
        summary ? h('p', { class: 'note' }, summary) : null,
        h(
          'div',
          {},
          item.links && item.links.rendition && view !== 'failed'
            ? h(
                'button',
                { type: 'button', class: 'play', onclick: () => play(item.videoId) },
                'Play ',
                h('span', { class: 'visually-hidden' }, item.videoId),
              )
            : null,
          ' ',
          temporal ? h('a', { href: temporal, target: '_blank', rel: 'noopener' }, 'Run in Temporal Web UI') : null,
          ' ',
          analysisOf(item, detail) === 'delayed'
            ? h(
                'button',
                { type: 'button', class: 'reanalyze', onclick: () => reanalyzeVideo(item.videoId) },
                'Re-analyse ',
                h('span', { class: 'visually-hidden' }, item.videoId),
              )
            : null,
          ' ',
          h(
            'button',
            { type: 'button', class: 'delete', onclick: () => deleteVideo(item.videoId) },
            'Delete ',
            h('span', { class: 'visually-hidden' }, item.videoId),
          ),
        ),
      ),
    );
  }
  // 'delayed': ready on a stand-in analysis (the AI provider was unavailable). The live status is
  // newer than the list row while the run still waits on a re-analysis timer.
  function analysisOf(item, detail) {
    return (detail && detail.analysis) || item.analysis || null;
  }
  // Operators only (403 otherwise, shown as the message): the video's run tries now, or workflow
  // reanalyzeVideo runs when that run has ended; the row turns complete when it is done.
  async function reanalyzeVideo(videoId) {
    try {
      const out = await api('POST', '/videos/' + encodeURIComponent(videoId) + '/reanalyze');
      state.details.delete(videoId);
      const text =
        out && out.action === 'signalled'
          ? 'Re-analysing ' + videoId + ' now (its run was waiting to try again).'
          : 'Re-analysing ' + videoId + '.';
      say($('#videos-message'), text);
      announce(text);
      // The re-analysis takes a while: poll the detail until the analysis is no longer delayed.
      const until = Date.now() + 10 * 60_000;
      const poll = async () => {
        const s = await api('GET', '/videos/' + encodeURIComponent(videoId)).catch(() => null);
        if (s) state.details.set(videoId, s);
        renderList();
        if ((!s || s.analysis === 'delayed') && Date.now() < until) setTimeout(poll, 3_000);
        else if (s && s.analysis === 'complete') announce('Analysis of ' + videoId + ' is complete.');
      };
      setTimeout(poll, 1_000);
    } catch (err) {
      say($('#videos-message'), describeError(err), true);
    }
  }
  // Operators only (the API answers 403 otherwise, shown as the message): the run is cancelled and
  // every file, vector point and row of the video goes.
  async function deleteVideo(videoId) {
    if (!window.confirm('Delete ' + videoId + ' everywhere? Its files and search entry go; this cannot be undone.')) return;
    try {
      const out = await api('DELETE', '/videos/' + encodeURIComponent(videoId));
      state.videos.delete(videoId);
      state.details.delete(videoId);
      renderList();
      const text =
        out && out.deleted === false
          ? 'Deleting ' + videoId + ': a store is not answering; the deletion keeps retrying.'
          : 'Deleted ' + videoId + '.';
      say($('#videos-message'), text);
      announce(text);
    } catch (err) {
      say($('#videos-message'), describeError(err), true);
    }
  }
  function renderList() {
    const list = $('#video-list');
    const items = [...state.videos.values()].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
    list.replaceChildren(...items.map(renderVideo));
    if (!items.length) say($('#videos-message'), 'No videos yet: drop one above, or run `biblio submit FILE`.');
  }
  let listNotAvailable = false;
  async function refreshVideos(reset) {
    try {
      /** @type {VideoListResponse} */
      const page = await api('GET', '/videos?limit=50');
      if (reset) state.videos.clear();
      for (const item of page.items) state.videos.set(item.videoId, Object.assign({}, state.videos.get(item.videoId), item));
      state.cursor = page.nextCursor;
      $('#more').hidden = !state.cursor;
      listNotAvailable = false;
      // The list answered again: an error shown from an earlier refresh is no longer true.
      if ($('#videos-message').classList.contains('error')) say($('#videos-message'), '');
    } catch (err) {
      if (err instanceof ApiError && err.status === 404 && err.type === 'RouteNotFound') {
        listNotAvailable = true;
        say($('#videos-message'), 'This server has no video list (GET /videos); videos you upload here still show.', true);
      } else say($('#videos-message'), describeError(err), true);
    }
    // Live detail for what is still moving (the list row says queued until the run ends).
    // Also refetch when the row and the last detail disagree (a replayed dead letter, a run that just ended).
    const moving = [...state.videos.values()]
      .filter((v) => {
        const d = state.details.get(v.videoId);
        return !FINAL.has(v.status) || !d || !FINAL.has(d.status) || d.status !== v.status;
      })
      .slice(0, 20);
    const apply = (videoId, s) => {
      const v = state.videos.get(videoId);
      state.details.set(videoId, s);
      if (v && FINAL.has(s.status)) {
        v.status = s.status;
        if (s.status === 'ready')
          v.links = Object.assign(
            {},
            v.links,
            v.links && v.links.rendition
              ? {}
              : { rendition: '/videos/' + videoId + '/rendition.mp4', thumbnail: '/videos/' + videoId + '/thumbnail.jpg' },
          );
      }
    };
    // Pushed by the server where status-events.js can (each event re-renders); polled otherwise.
    const live = window.BiblioStatusEvents;
    const polled = moving.filter(
      (v) =>
        !(
          live &&
          live.follow(v.videoId, apiKey(), (s) => {
            apply(v.videoId, s);
            renderList();
          })
        ),
    );
    await Promise.all(
      polled.map((v) =>
        api('GET', '/videos/' + encodeURIComponent(v.videoId))
          .then((s) => apply(v.videoId, s))
          .catch(() => undefined),
      ),
    );
    if (!listNotAvailable || state.videos.size) renderList();
  }
  $('#more').addEventListener('click', async () => {
    if (!state.cursor) return;
    try {
      const page = await api('GET', '/videos?limit=50&cursor=' + encodeURIComponent(state.cursor));
      for (const item of page.items) state.videos.set(item.videoId, item);
      state.cursor = page.nextCursor;
      $('#more').hidden = !state.cursor;
      renderList();
    } catch (err) {
      say($('#videos-message'), describeError(err), true);
    }
  });

  // ---- player --------------------------------------------------------------------------
  function hlsLink(s) {
    const l = (s && s.links) || {};
    const r = (s && s.result) || {};
    return l.hls || r.hlsUrl || r.hlsPlaylist || null;
  }
  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const el = h('script', { src });
      el.onload = resolve;
      el.onerror = reject;
      document.head.append(el);
    });
  }
  async function play(videoId) {
    const video = $('#player');
    let s = state.details.get(videoId);
    try {
      s = await api('GET', '/videos/' + encodeURIComponent(videoId));
      state.details.set(videoId, s);
    } catch (err) {
      announce(describeError(err));
    }
    $('#player-panel').hidden = false;
    if (state.hls) {
      state.hls.destroy();
      state.hls = null;
    }
    const hls = hlsLink(s);
    const mp4 =
      (s && s.links && (s.links.rendition || s.links.renditionUrl)) || '/videos/' + encodeURIComponent(videoId) + '/rendition.mp4';
    if (hls && !video.canPlayType('application/vnd.apple.mpegurl')) {
      await loadScript('/dashboard/vendor/hls.min.js');
      const Hls = window.Hls;
      state.hls = new Hls({ xhrSetup: (xhr) => apiKey() && xhr.setRequestHeader('authorization', 'Bearer ' + apiKey()) });
      state.hls.loadSource(hls);
      state.hls.attachMedia(video);
    } else {
      // <video> cannot send headers: same-origin media files take the key as access_token.
      const src = hls || mp4;
      video.src =
        apiKey() && src.startsWith('/') ? src + (src.includes('?') ? '&' : '?') + 'access_token=' + encodeURIComponent(apiKey()) : src;
    }
    video.dataset.videoId = videoId;
    // storyboard.js (scrub previews) and chapters.js read the playing video's status from this event.
    video.dispatchEvent(new CustomEvent('biblio:video', { detail: { videoId, status: s, apiKey: apiKey() } }));
    if (window.BiblioCaptions) window.BiblioCaptions.attach(video, videoId, { hls: state.hls, key: apiKey() }); // captions.js
    $('#player-caption').textContent = 'Playing ' + videoId + (hls ? ' (HLS)' : ' (MP4)');
    const r = s && s.result;
    const dl = $('#player-details');
    dl.replaceChildren();
    if (r) {
      for (const [k, v] of [
        ['Size', r.width + '×' + r.height + ', ' + r.durationSec + ' s'],
        ['Summary', r.summary],
        ['Tags', (r.tags || []).join(', ')],
        ['Analysis', r.analyzer + '/' + r.model + (r.offlineAnalysis ? ' (offline — not AI)' : '')],
      ])
        dl.append(h('dt', {}, k), h('dd', {}, v));
    }
    if (s && s.links && s.links.temporalUi)
      dl.append(
        h('dt', {}, 'Run'),
        h('dd', {}, h('a', { href: s.links.temporalUi, target: '_blank', rel: 'noopener' }, 'Temporal Web UI')),
      );
    $('#player-panel').scrollIntoView({ block: 'nearest' });
    video.play().catch(() => undefined);
  }

  // ---- upload (signed-URL flow) ----------------------------------------------------------
  // A presigned PUT: exactly the signed headers (the browser sets content-length), no API key.
  function putWithProgress(url, headers, body, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('PUT', url);
      for (const [k, v] of Object.entries(headers || {})) if (k.toLowerCase() !== 'content-length') xhr.setRequestHeader(k, v);
      xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded);
      xhr.onload = () =>
        xhr.status >= 200 && xhr.status < 300
          ? resolve()
          : reject(new ApiError(xhr.status, 'UploadRefused', xhr.responseText.slice(0, 200) || xhr.statusText));
      xhr.onerror = () => reject(new Error('the upload connection failed'));
      xhr.send(body);
    });
  }
  // Sends what the ticket still needs and completes it; after a dropped connection (or an API
  // restart) it asks GET /uploads/:id what arrived and sends only the other parts.
  async function sendTicket(ticket, file, onProgress) {
    for (let failures = 0; ;) {
      try {
        if (ticket.state === 'completed') return ticket;
        const up = ticket.upload;
        if (up.method === 'PUT') {
          await putWithProgress(up.url, up.headers, file, (n) => onProgress(n / file.size)).catch((err) => {
            if (!(err instanceof ApiError && (err.status === 409 || err.status === 412))) throw err; // already received
          });
        } else {
          const held = new Map(up.received.map((p) => [p.partNumber, p.sizeBytes]));
          let done = up.received.reduce((n, p) => n + p.sizeBytes, 0);
          for (const part of up.parts) {
            if (held.get(part.partNumber) === part.sizeBytes) continue;
            const start = (part.partNumber - 1) * up.partSize;
            await putWithProgress(part.url, {}, file.slice(start, start + part.sizeBytes), (n) => onProgress((done + n) / file.size));
            done += part.sizeBytes;
          }
        }
        return await api('POST', ticket.complete.url, {});
      } catch (err) {
        const retry = !(err instanceof ApiError) || err.status >= 500 || err.status === 403;
        if (!retry || ++failures >= 20) throw err;
        await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** failures)));
        ticket = await api('GET', '/uploads/' + ticket.uploadId).catch(() => ticket);
      }
    }
  }
  async function upload(file) {
    const msg = $('#upload-message');
    const bar = $('#upload-progress');
    bar.value = 0;
    say(msg, 'Uploading ' + file.name + '…');
    try {
      let ticket;
      try {
        ticket = await api('POST', '/uploads', {
          // Shown only; the server takes letters, digits, space and "._-".
          filename:
            file.name
              .replace(/[^A-Za-z0-9 ._-]/g, '_')
              .replace(/^[^A-Za-z0-9]+/, '')
              .slice(0, 200) || 'video',
          sizeBytes: file.size,
          contentType: file.type || 'application/octet-stream',
        });
      } catch (err) {
        if (err instanceof ApiError && err.status === 404 && err.type === 'RouteNotFound') {
          say(msg, 'Uploads are not available on this server (no POST /uploads). Submit with `biblio submit FILE` on the server.', true);
          return;
        }
        throw err;
      }
      const done = await sendTicket(ticket, file, (f) => (bar.value = Math.round(f * 100)));
      bar.value = 100;
      const s = await api('POST', '/videos', done.next.body);
      state.videos.set(s.videoId, {
        videoId: s.videoId,
        status: s.status,
        createdAt: new Date().toISOString(),
        tags: [],
        links: { self: '/videos/' + s.videoId, temporalUi: s.links.temporalUi },
      });
      state.details.set(s.videoId, s);
      renderList();
      say(msg, 'Uploaded ' + file.name + ' as ' + s.videoId + '; processing.');
      announce('Upload complete: ' + s.videoId);
    } catch (err) {
      say(msg, describeError(err), true);
    }
  }
  const drop = $('#drop');
  const picker = $('#file');
  drop.addEventListener('click', () => picker.click());
  drop.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      picker.click();
    }
  });
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const f = e.dataTransfer && e.dataTransfer.files[0];
    if (f) upload(f);
  });
  picker.addEventListener('change', () => picker.files[0] && upload(picker.files[0]));

  // ---- search --------------------------------------------------------------------------
  $('#search-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const params = new URLSearchParams();
    for (const [k, v] of new FormData(e.target).entries()) if (String(v).trim()) params.set(k, String(v).trim());
    params.set('limit', '10');
    const out = $('#search-results');
    out.replaceChildren();
    say($('#search-message'), 'Searching…');
    try {
      /** @type {SearchResponse} */
      const res = await api('GET', '/search?' + params.toString());
      say(
        $('#search-message'),
        res.results.length ? res.results.length + ' result(s)' + (res.offline ? ' — offline analyzer, not AI' : '') : 'No matches.',
      );
      out.replaceChildren(
        ...res.results.map((r) =>
          h(
            'li',
            { 'data-video-id': r.videoId },
            h('strong', {}, r.videoId),
            ' ',
            h('span', { class: 'note' }, 'score ' + Number(r.score).toFixed(3)),
            h('p', {}, r.summary || ''),
            h('p', { class: 'note' }, (r.tags || []).join(', ')),
            h('button', { type: 'button', onclick: () => play(r.videoId) }, 'Play ', h('span', { class: 'visually-hidden' }, r.videoId)),
            window.biblioSearchMoments ? window.biblioSearchMoments.list(r) : null, // moments: search-moments.js
          ),
        ),
      );
    } catch (err) {
      say($('#search-message'), describeError(err), true);
    }
  });

  // ---- dead-letter queue ---------------------------------------------------------------
  async function refreshDlq() {
    const msg = $('#dlq-message');
    const table = $('#dlq-table');
    const stateFilter = $('#dlq-state').value;
    try {
      /** @type {DeadLetterListResponse} */
      const body = await api('GET', '/dead-letters' + (stateFilter ? '?state=' + encodeURIComponent(stateFilter) : ''));
      const items = body.items;
      table.hidden = items.length === 0;
      say(msg, items.length ? '' : 'No dead letters' + (stateFilter ? ' in state ' + stateFilter : '') + '.');
      table.tBodies[0].replaceChildren(
        ...items.map((d) =>
          h(
            'tr',
            { 'data-dead-letter-id': d.id },
            h('td', {}, d.videoId || d.workflowId || ''),
            h('td', {}, d.step || ''),
            h('td', {}, (d.errorType || d.type || '') + (d.message ? ': ' + d.message : '')),
            h('td', {}, d.attempts == null ? '' : String(d.attempts)),
            h('td', {}, d.state || ''),
            h(
              'td',
              {},
              h('button', { type: 'button', onclick: () => inspectDlq(d.id) }, 'Inspect'),
              ' ',
              h('button', { type: 'button', onclick: () => actDlq(d.id, 'replay'), disabled: d.state && d.state !== 'open' }, 'Replay'),
              ' ',
              h('button', { type: 'button', onclick: () => actDlq(d.id, 'discard'), disabled: d.state && d.state !== 'open' }, 'Discard'),
              ' ',
              d.links && d.links.temporalUi ? h('a', { href: d.links.temporalUi, target: '_blank', rel: 'noopener' }, 'Run') : null,
            ),
          ),
        ),
      );
    } catch (err) {
      table.hidden = true;
      if (err instanceof ApiError && err.status === 404) say(msg, 'The dead-letter queue is not available on this server.', false);
      else say(msg, describeError(err), true);
    }
  }
  async function inspectDlq(id) {
    const pre = $('#dlq-detail');
    try {
      pre.textContent = JSON.stringify(await api('GET', '/dead-letters/' + encodeURIComponent(id)), null, 2);
    } catch (err) {
      pre.textContent = describeError(err);
    }
    pre.hidden = false;
    pre.focus();
  }
  async function actDlq(id, verb) {
    if (verb === 'discard' && !window.confirm('Discard dead letter ' + id + '? It will not be re-run.')) return;
    try {
      await api('POST', '/dead-letters/' + encodeURIComponent(id) + '/' + verb);
      say($('#dlq-message'), (verb === 'replay' ? 'Replaying ' : 'Discarded ') + id + '.');
      announce(verb + ' ' + id + ' accepted');
    } catch (err) {
      say($('#dlq-message'), describeError(err), true);
    }
    await refreshDlq();
    await refreshVideos(false);
  }
  $('#dlq-form').addEventListener('submit', (e) => {
    e.preventDefault();
    refreshDlq();
  });

  // ---- start ---------------------------------------------------------------------------
  refreshVideos(true);
  refreshDlq();
  setInterval(() => refreshVideos(false), 1500);
  window.biblioDashboard = { refreshVideos, refreshDlq, play, upload };
})();
