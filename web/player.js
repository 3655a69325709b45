// edgeplane player: plays one DASH title with dash.js and shows what the ABR
// logic does. State is exposed as window.edgeplanePlayer for automated tests.
//
// URL parameters:
//   mpd=PATH       manifest to play (default: <title>/manifest.mpd)
//   title=NAME     title folder on the appliance
//   autoplay=0|1   start muted at once (default 1; browsers allow muted autoplay)
//   maxbitrate=K   cap the video bitrate in kbit/s (to force low rungs in tests)
//   buffer=S       seconds of media to buffer ahead (dash.js' stable and
//                  top-quality targets); small values keep the player
//                  fetching, so it notices a slower link quickly
(function () {
  'use strict';

  const params = new URLSearchParams(window.location.search);
  const title = params.get('title') || '';
  const mpd = params.get('mpd') || (title ? title + '/manifest.mpd' : 'manifest.mpd');
  const autoplay = params.get('autoplay') !== '0';

  // The state a test harness polls. Bitrates in kbit/s.
  const state = {
    manifest: mpd,
    ladder: [],        // available video bitrates, ascending
    bitrates: [],      // video bitrate of each rendered quality, in order
    switches: 0,       // rendered video quality changes after the first
    bufferLevel: 0,    // seconds of video buffered ahead
    throughput: 0,     // dash.js average throughput estimate, kbit/s
    currentTime: 0,
    errors: [],
    started: false,
    ended: false,
  };
  window.edgeplanePlayer = state;

  const $ = (id) => document.getElementById(id);
  const log = (msg) => {
    const li = document.createElement('li');
    li.textContent = new Date().toISOString().substring(11, 23) + ' ' + msg;
    $('log').prepend(li);
  };
  $('title').textContent = title || mpd;
  $('s-mpd').textContent = mpd;

  if (typeof dashjs === 'undefined') {
    state.errors.push('dash.js did not load');
    $('s-errors').textContent = state.errors.join('; ');
    return;
  }

  const video = $('video');
  video.muted = autoplay;
  const player = dashjs.MediaPlayer().create();
  const settings = { streaming: { abr: {} } };
  if (params.get('maxbitrate')) {
    settings.streaming.abr.maxBitrate = { video: Number(params.get('maxbitrate')) };
  }
  if (params.get('buffer')) {
    const b = Number(params.get('buffer'));
    settings.streaming.buffer = { stableBufferTime: b, bufferTimeAtTopQuality: b,
                                  bufferTimeAtTopQualityLongForm: b };
  }
  player.updateSettings(settings);
  const ev = dashjs.MediaPlayer.events;

  const kbps = (q) => {
    const list = player.getBitrateInfoListFor('video') || [];
    const info = list.find((b) => b.qualityIndex === q);
    return info ? Math.round(info.bitrate / 1000) : 0;
  };
  const describe = (q) => {
    const list = player.getBitrateInfoListFor('video') || [];
    const b = list.find((x) => x.qualityIndex === q);
    return b ? `${b.width}x${b.height} @ ${Math.round(b.bitrate / 1000)} kbit/s` : '?';
  };

  player.on(ev.STREAM_INITIALIZED, () => {
    state.ladder = (player.getBitrateInfoListFor('video') || [])
      .map((b) => Math.round(b.bitrate / 1000)).sort((a, b) => a - b);
    $('s-ladder').textContent = state.ladder.join(' / ') + ' kbit/s';
    log('stream initialized, ladder ' + state.ladder.join(','));
  });
  player.on(ev.QUALITY_CHANGE_RENDERED, (e) => {
    if (e.mediaType !== 'video') return;
    if (state.bitrates.length > 0) state.switches += 1;
    state.bitrates.push(kbps(e.newQuality));
    $('s-quality').textContent = describe(e.newQuality);
    $('s-switches').textContent = String(state.switches);
    log('video quality → ' + describe(e.newQuality));
  });
  player.on(ev.PLAYBACK_STARTED, () => {
    state.started = true;
    $('s-state').textContent = 'playing';
  });
  player.on(ev.PLAYBACK_ENDED, () => {
    state.ended = true;
    $('s-state').textContent = 'ended';
    log('ended');
  });
  player.on(ev.ERROR, (e) => {
    const msg = (e.error && (e.error.message || e.error.code)) || String(e.error || e);
    state.errors.push(String(msg));
    $('s-errors').textContent = state.errors.join('; ');
    log('error: ' + msg);
  });

  // The first rendered quality: dash.js fires no change event for it.
  player.on(ev.PLAYBACK_PLAYING, () => {
    if (state.bitrates.length === 0) {
      const q = player.getQualityFor('video');
      state.bitrates.push(kbps(q));
      $('s-quality').textContent = describe(q);
    }
  });

  setInterval(() => {
    state.bufferLevel = Number(player.getBufferLength('video') || 0);
    state.currentTime = video.currentTime;
    const t = player.getAverageThroughput ? player.getAverageThroughput('video') : 0;
    state.throughput = Math.round(t || 0);
    $('s-buffer').textContent = state.bufferLevel.toFixed(1) + ' s';
    $('s-throughput').textContent = state.throughput ? state.throughput + ' kbit/s' : '–';
  }, 250);

  player.initialize(video, mpd, autoplay);
})();
