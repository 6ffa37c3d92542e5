/* overview.js: runs by state per queue, the live chart and the last hour's failures. */
(function () {
  'use strict';

  var BGJ = window.BGJ;
  var h = BGJ.h;

  function overview(first) {
    return BGJ.api('GET', 'overview').then(function (data) {
      var rows = data.queues.map(function (q) {
        var total = BGJ.config.states.reduce(function (sum, s) {
          return sum + (q.counts[s] || 0);
        }, 0);
        return h(
          'tr',
          {},
          h('th', { scope: 'row' }, q.queue),
          BGJ.config.states.map(function (s) {
            var n = q.counts[s] || 0;
            var label = n + ' ' + s + ' in ' + q.queue + ': list ' + s + ' runs';
            return h(
              'td',
              { class: 'num' },
              n ? h('a', { href: '#/runs?state=' + s, 'aria-label': label }, String(n)) : '0',
            );
          }),
          h('td', { class: 'num' }, String(total)),
        );
      });
      var table = BGJ.table('Runs by state, per queue', ['Queue'].concat(BGJ.config.states, ['total']), rows);
      BGJ.render(
        [
          h('h1', {}, 'Overview'),
          BGJ.liveChart(data.runTotals),
          h(
            'section',
            { class: 'panel', 'aria-labelledby': 'by-state' },
            h('h2', { id: 'by-state' }, 'Runs by state, per queue'),
            table,
          ),
          h(
            'section',
            { class: 'panel', 'aria-labelledby': 'failures' },
            h('h2', { id: 'failures' }, 'Failures in the last hour: ' + data.failures.total),
            h(
              'dl',
              { class: 'cards' },
              BGJ.config.failureKinds.map(function (k) {
                return h('div', { class: 'card' }, h('dt', {}, k), h('dd', {}, String(data.failures.byKind[k] || 0)));
              }),
            ),
            h(
              'p',
              {},
              h('a', { href: '#/runs?state=failed' }, 'See failed runs'),
              ' · ',
              h('a', { href: '#/runs?state=cancelled' }, 'See cancelled runs'),
            ),
          ),
          h(
            'p',
            { class: 'muted' },
            'Updated ',
            BGJ.formatTime(data.generatedAt),
            '; refreshes every 5 seconds. Counts cover the history the transport keeps.',
          ),
        ],
        first,
      );
    });
  }

  BGJ.pages.overview = overview;
})();
