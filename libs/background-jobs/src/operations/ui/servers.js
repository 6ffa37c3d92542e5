/* servers.js: the live instances running workers (GET instances), from their heartbeats. */
(function () {
  'use strict';

  var BGJ = window.BGJ;
  var h = BGJ.h;

  function servers(first) {
    return BGJ.api('GET', 'instances').then(function (list) {
      var rows = list.map(function (i) {
        return h(
          'tr',
          { 'data-instance': i.instanceId },
          h('th', { scope: 'row' }, i.hostname, h('div', { class: 'muted mono' }, 'pid ' + i.pid)),
          h('td', {}, i.queues.join(', ')),
          h('td', { class: 'num' }, String(i.running) + ' / ' + String(i.concurrency)),
          h('td', {}, BGJ.time(i.startedAt)),
          h('td', { class: 'last-beat' }, BGJ.time(i.lastBeatAt)),
          h('td', {}, i.version),
        );
      });
      BGJ.render(
        [
          h('h1', {}, 'Servers'),
          h(
            'div',
            { class: 'panel' },
            BGJ.table(
              list.length + (list.length === 1 ? ' live instance' : ' live instances'),
              ['Instance', 'Queues', 'Running / concurrency', 'Started', 'Last heartbeat', 'Version'],
              rows,
            ),
          ),
          h(
            'p',
            { class: 'muted' },
            'Refreshes every 2 seconds. An instance beats every 2 s; one whose process stopped drops out within 6 s.',
          ),
        ],
        first,
      );
    });
  }

  BGJ.pages.servers = servers;
})();
