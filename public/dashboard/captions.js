// Captions in the dashboard player. Loaded before app.js, which calls
// BiblioCaptions.attach(video, videoId, { hls, key }) each time it opens a video. A file of its
// own (no inline script: the page's CSP forbids it) so the player code stays small.
//
// - hls.js: the master playlist carries the subtitles rendition (EXT-X-MEDIA TYPE=SUBTITLES);
//   hls.js makes a text track of it, and this turns it on.
// - MP4, or HLS the browser plays itself: a <track kind="captions"> with the transcript's WebVTT,
//   unless the browser already made a text track of the playlist's subtitles.
// A video without speech gets no track at all (the transcript has no captions link).
(function () {
  'use strict';

  function withToken(url, key) {
    if (!key || !url.startsWith('/')) return url;
    return url + (url.includes('?') ? '&' : '?') + 'access_token=' + encodeURIComponent(key);
  }

  function removeOurTracks(video) {
    for (const t of video.querySelectorAll('track[data-biblio-captions]')) t.remove();
  }

  function showHlsSubtitles(hls) {
    const Hls = window.Hls;
    const on = () => {
      if (hls.subtitleTracks && hls.subtitleTracks.length > 0 && hls.subtitleTrack < 0) {
        hls.subtitleDisplay = true;
        hls.subtitleTrack = 0;
      }
    };
    hls.on(Hls.Events.MANIFEST_PARSED, on);
    hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, on);
  }

  async function transcriptOf(videoId, key) {
    const res = await fetch('/videos/' + encodeURIComponent(videoId) + '/transcript', {
      headers: key ? { authorization: 'Bearer ' + key } : {},
    });
    return res.ok ? res.json() : null;
  }

  function hasOwnSubtitles(video) {
    for (const t of video.textTracks) if (t.kind === 'subtitles' || t.kind === 'captions') return true;
    return false;
  }

  /** Called synchronously after the player got its source (hls.js listeners must be on before the manifest arrives). */
  function attach(video, videoId, opts) {
    removeOurTracks(video);
    if (opts && opts.hls) {
      showHlsSubtitles(opts.hls);
      return Promise.resolve();
    }
    const key = opts && opts.key;
    return transcriptOf(videoId, key)
      .then((t) => {
        if (!t || !t.links || !t.links.captions || video.dataset.videoId !== videoId || hasOwnSubtitles(video)) return;
        const track = document.createElement('track');
        track.kind = 'captions';
        track.label = t.language ? 'Captions (' + t.language + ')' : 'Captions';
        track.srclang = t.language || 'und';
        track.src = withToken(t.links.captions, key);
        track.default = true;
        track.dataset.biblioCaptions = '';
        video.append(track);
        track.track.mode = 'showing';
      })
      .catch(() => undefined);
  }

  window.BiblioCaptions = { attach };
})();
