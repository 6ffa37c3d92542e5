/* waiting.js: the runs that may not start yet (pending and delayed) and why each waits (JobExecution.waiting: a rate
 * limit, a concurrency key, its tenant's turn, a delay, its dependencies, a sleep), and a batch's page. */
(function () {
  'use strict';

  var BGJ = window.BGJ;
  var h = BGJ.h;

  function pageOf(params) {
    return Math.max(1, parseInt(params.get('page') || '1', 10) || 1);
  }

  function goTo(base, params) {
    return function (p) {
      var next = new URLSearchParams(params);
      next.set('page', String(p));
      location.hash = base + '?' + next.toString();
    };
  }

  function runRow(run, extra) {
    return h(
      'tr',
      { 'data-run': run.executionId },
      h('td', { class: 'mono' }, BGJ.runLink(run.executionId)),
      h('td', {}, run.jobId),
      extra(run),
      h('td', { class: 'nowrap' }, BGJ.formatTime(run.createdAt)),
    );
  }

  function waitingCells(run) {
    var w = run.waiting;
    return [
      h('td', {}, BGJ.badge(run.state)),
      h('td', { class: 'waiting-reason' }, w ? w.reason : h('span', { class: 'muted' }, 'a free worker')),
      h('td', {}, w && w.limit ? w.limit : ''),
      h('td', {}, w && w.key ? w.key : ''),
      h('td', { class: 'nowrap' }, w && w.until ? BGJ.formatTime(w.until) : ''),
    ];
  }

  function waiting(first, params) {
    var page = pageOf(params);
    var query = { state: 'pending,delayed', page: String(page), size: String(BGJ.config.pageSize) };
    return BGJ.api('GET', 'executions', query).then(function (result) {
      var rows = result.items.map(function (run) {
        return runRow(run, waitingCells);
      });
      BGJ.render(
        [
          h('h1', {}, 'Waiting runs'),
          h(
            'p',
            {},
            'Runs that may not start yet, and why: a rate limit or concurrency key (the limit and key), a fair ' +
              'queue’s turn, a delay, the runs they depend on, or a sleep. "A free worker" means nothing holds it back.',
          ),
          h(
            'div',
            { class: 'panel' },
            BGJ.table(
              result.total ? result.total + (result.total === 1 ? ' waiting run' : ' waiting runs') : 'No run waits.',
              ['Run', 'Job', 'State', 'Reason', 'Limit', 'Key', 'Until', 'Created'],
              rows,
            ),
            BGJ.pager(page, Math.ceil(result.total / BGJ.config.pageSize), goTo('#/waiting', params)),
          ),
          h('p', { class: 'muted' }, 'Refreshes every 5 seconds.'),
        ],
        first,
      );
    });
  }

  function batch(first, id, params) {
    var page = pageOf(params);
    var path = 'batches/' + encodeURIComponent(id);
    var query = { page: String(page), size: String(BGJ.config.pageSize) };
    return Promise.all([BGJ.api('GET', path), BGJ.api('GET', path + '/executions', query)]).then(function (answers) {
      var summary = answers[0];
      var children = answers[1];
      var counts = ['total', 'completed', 'failed', 'cancelled', 'pending'].map(function (k) {
        return h('div', { class: 'card', 'data-count': k }, h('dt', {}, k), h('dd', {}, String(summary[k])));
      });
      var rows = children.items.map(function (run) {
        return runRow(run, function (r) {
          return [
            h('td', {}, BGJ.badge(r.state)),
            h('td', {}, r.waiting ? BGJ.waitingText(r.waiting) : r.failure ? r.failure.message : ''),
          ];
        });
      });
      BGJ.render(
        [
          h('h1', {}, 'Batch ', h('span', { class: 'mono' }, summary.batchId)),
          h(
            'section',
            { class: 'panel', 'aria-labelledby': 'batch-state' },
            h(
              'h2',
              { id: 'batch-state' },
              'State: ',
              BGJ.badge(summary.state, { succeeded: 'completed', failed: 'failed' }[summary.state] || 'running'),
            ),
            h('dl', { class: 'cards' }, counts),
          ),
          h(
            'section',
            { class: 'panel', 'aria-labelledby': 'batch-children' },
            h('h2', { id: 'batch-children' }, 'Runs of the batch'),
            BGJ.table(
              'Runs ' + (children.offset + 1) + '–' + (children.offset + rows.length) + ' of ' + summary.total,
              ['Run', 'Job', 'State', 'Waiting or failure', 'Created'],
              rows,
            ),
            BGJ.pager(
              page,
              Math.ceil(summary.total / BGJ.config.pageSize),
              goTo('#/batches/' + encodeURIComponent(id), params),
            ),
          ),
          h('p', { class: 'muted' }, summary.state === 'running' ? 'Refreshes every 2 seconds.' : 'Every run ended.'),
        ],
        first,
      );
      return summary.state === 'running';
    });
  }

  BGJ.pages.waiting = waiting;
  BGJ.pages.batch = batch;
})();
