/* chart.js: a live chart of attempts completed and failed per minute, drawn as SVG from the run tallies the
 * overview carries (the answering instance's, since it started); samples are kept while the page is open. */
(function () {
  'use strict';

  var BGJ = window.BGJ;
  var h = BGJ.h;
  var SVG = 'http://www.w3.org/2000/svg';
  var KEEP = 36;
  var samples = [];

  function svg(tag, attrs) {
    var el = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (key) {
      el.setAttribute(key, attrs[key]);
    });
    return el;
  }

  /** Adds one sample of the tallies; returns per-minute rates between consecutive samples. */
  function rates(totals) {
    if (!totals) return [];
    var now = Date.now();
    var last = samples[samples.length - 1];
    // NOTE: counters that went down mean another instance answered or this one restarted: start over.
    if (last && (totals.completed < last.completed || totals.failed < last.failed)) samples = [];
    samples.push({ at: now, completed: totals.completed, failed: totals.failed });
    if (samples.length > KEEP + 1) samples.shift();
    var out = [];
    for (var i = 1; i < samples.length; i++) {
      var minutes = Math.max(1, samples[i].at - samples[i - 1].at) / 60000;
      out.push({
        completed: (samples[i].completed - samples[i - 1].completed) / minutes,
        failed: (samples[i].failed - samples[i - 1].failed) / minutes,
      });
    }
    return out;
  }

  /** The chart's section: two bars per interval (completed, failed), with a text summary for screen readers. */
  BGJ.liveChart = function (totals) {
    var series = rates(totals);
    var width = 720;
    var height = 160;
    var max = series.reduce(function (m, r) {
      return Math.max(m, r.completed, r.failed);
    }, 1);
    var slot = width / KEEP;
    var chart = svg('svg', {
      viewBox: '0 0 ' + width + ' ' + height,
      class: 'chart',
      role: 'img',
      'aria-labelledby': 'chart-title chart-summary',
    });
    series.forEach(function (r, i) {
      var x = i * slot;
      [
        ['completed', r.completed, 0],
        ['failed', r.failed, slot / 2],
      ].forEach(function (bar) {
        var barHeight = Math.round((bar[1] / max) * (height - 10));
        chart.appendChild(
          svg('rect', {
            x: String(x + bar[2] + 1),
            y: String(height - barHeight),
            width: String(Math.max(1, slot / 2 - 2)),
            height: String(barHeight),
            class: 'bar-' + bar[0],
          }),
        );
      });
    });
    var latest = series[series.length - 1];
    return h(
      'section',
      { class: 'panel', 'aria-labelledby': 'chart-title' },
      h('h2', { id: 'chart-title' }, 'Attempts per minute'),
      chart,
      h(
        'p',
        { id: 'chart-summary', class: 'muted' },
        latest
          ? 'Latest: ' +
              Math.round(latest.completed) +
              ' completed and ' +
              Math.round(latest.failed) +
              ' failed per minute.'
          : 'Collecting samples…',
        ' ',
        h('span', { class: 'legend completed' }, 'completed'),
        ' ',
        h('span', { class: 'legend failed' }, 'failed'),
        ' · the instance that answers, since it started; a sample every 5 seconds.',
      ),
    );
  };
})();
