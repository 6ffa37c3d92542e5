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
    // NOTE: a delayed run with no reason recorded waits for its time: a delay given at enqueue, a schedule's tick.
    var timed = !w && run.state === 'delayed';
    var until = w ? w.until : timed ? run.scheduledAt : null;
    return [
      h('td', {}, BGJ.badge(run.state)),
      h(
        'td',
        { class: 'waiting-reason' },
        w ? w.reason : h('span', { class: 'muted' }, timed ? 'its time' : 'a free worker'),
      ),
      h('td', {}, w && w.limit ? w.limit : null),
      h('td', {}, w && w.key ? w.key : null),
      h('td', { class: 'nowrap' }, until ? BGJ.formatTime(until) : null),
    ];
  }

  /** Runs queued per tenant in each queue of fair jobs (GET tenants/backlog): the ten busiest tenants, the rest summed. */
  function backlogSection(backlog) {
    if (!backlog.length) return null;
    return h(
      'section',
      { class: 'panel', 'aria-labelledby': 'backlog' },
      h('h2', { id: 'backlog' }, 'Backlog per tenant'),
      backlog.map(function (b) {
        var rows = b.tenants.map(function (t) {
          return h(
            'tr',
            { 'data-tenant': t.tenantId === null ? '-' : t.tenantId },
            h('th', { scope: 'row' }, t.tenantId === null ? h('span', { class: 'muted' }, 'host level') : t.tenantId),
            h('td', { class: 'num' }, String(t.queued)),
          );
        });
        if (b.others.tenants)
          rows.push(
            h(
              'tr',
              { 'data-tenant': '(others)' },
              h('th', { scope: 'row' }, b.others.tenants + ' other tenants'),
              h('td', { class: 'num' }, String(b.others.queued)),
            ),
          );
        return BGJ.table('Queue ' + b.queue + ': runs queued per tenant', ['Tenant', 'Queued'], rows);
      }),
      h(
        'p',
        { class: 'muted' },
        'Fair queues take the tenants round robin, so a tenant with many runs queued does not hold back the others.',
      ),
    );
  }

  function waiting(first, params) {
    var page = pageOf(params);
    var query = { state: 'pending,delayed', page: String(page), size: String(BGJ.config.pageSize) };
    return Promise.all([BGJ.api('GET', 'executions', query), BGJ.api('GET', 'tenants/backlog')]).then(
      function (answers) {
        var result = answers[0];
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
                'queue’s turn, a delay, the runs they depend on, or a sleep. "Its time": a delay or a schedule’s next tick; "a free worker": nothing else holds it back.',
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
            backlogSection(answers[1]),
            h('p', { class: 'muted' }, 'Refreshes every 5 seconds.'),
          ],
          first,
        );
      },
    );
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
            h('td', {}, r.waiting ? BGJ.waitingText(r.waiting) : r.failure ? r.failure.message : null),
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
