/* run.js: one run's page: its facts, progress, actions, failure, logs, payload and result; why it waits, its
 * dependencies, its batch and its steps come from run-parts.js. */
(function () {
  'use strict';

  var BGJ = window.BGJ;
  var h = BGJ.h;
  var api = BGJ.api;
  var badge = BGJ.badge;
  var time = BGJ.time;
  var json = BGJ.json;
  var say = BGJ.say;
  var render = BGJ.render;

  function runDetail(first, id) {
    return api('GET', 'executions/' + encodeURIComponent(id)).then(function (run) {
      var live = BGJ.config.finalStates.indexOf(run.state) < 0;
      var progressValue = typeof run.progress === 'number' ? Math.round(run.progress) : null;
      var duration = run.startedAt && run.finishedAt ? new Date(run.finishedAt) - new Date(run.startedAt) + ' ms' : '—';
      var facts = [
        ['Job', h('a', { href: '#/runs?jobId=' + encodeURIComponent(run.jobId) }, run.jobId)],
        ['State', badge(run.state)],
        ['Tenant', run.tenantId === null ? 'host level (no tenant)' : run.tenantId],
        ['Attempts', String(run.attempts)],
        ['Created', time(run.createdAt)],
        ['Scheduled for', time(run.scheduledAt)],
        ['Started', time(run.startedAt)],
        ['Finished', time(run.finishedAt)],
        ['Duration', duration],
      ];
      if (run.skipReason) facts.push(['Skipped because', run.skipReason]);
      var actions = [];
      if (live)
        actions.push(
          BGJ.action(
            {
              id: 'run-cancel',
              class: 'danger',
              onclick: function () {
                // NOTE: a cancel cannot be undone (the run is aborted or removed): ask first.
                if (window.confirm('Cancel run ' + id + ' of ' + run.jobId + '? This cannot be undone.')) act('cancel');
              },
            },
            'Cancel run',
          ),
        );
      if (run.state === 'failed')
        actions.push(
          BGJ.action(
            {
              id: 'run-retry',
              class: 'primary',
              onclick: function () {
                act('retry');
              },
            },
            'Retry run',
          ),
        );
      actions = actions.filter(Boolean);
      // NOTE: a cancel is someone's decision, not a fault: shown plainly, without the red of a failure or a stack.
      var deliberate = run.failure && run.failure.kind === 'cancelled';
      render(
        [
          h('p', {}, h('a', { href: '#/runs' }, '← All runs')),
          h('h1', {}, 'Run ', h('span', { class: 'mono' }, run.executionId)),
          h(
            'section',
            { class: 'panel', 'aria-labelledby': 'run-facts' },
            h('h2', { id: 'run-facts', class: 'visually-hidden' }, 'Details'),
            h(
              'dl',
              { class: 'facts' },
              facts.map(function (f) {
                return [h('dt', {}, f[0]), h('dd', {}, f[1])];
              }),
            ),
            h(
              'div',
              { class: 'progress', style: null },
              h('label', { for: 'run-progress' }, h('strong', {}, 'Progress')),
              progressValue === null
                ? live
                  ? h('progress', { id: 'run-progress', max: '100' })
                  : h('span', { id: 'run-progress' }, 'not reported')
                : h('progress', { id: 'run-progress', max: '100', value: String(progressValue) }, progressValue + ' %'),
              progressValue === null ? null : h('span', { class: 'progress-text' }, progressValue + ' %'),
            ),
            actions.length ? h('div', { class: 'actions' }, actions) : null,
            live ? h('p', { class: 'muted' }, 'Refreshing every second until the run finishes.') : null,
          ),
          BGJ.runParts(run),
          run.failure
            ? h(
                'section',
                { class: deliberate ? 'panel cancelled' : 'panel failure', 'aria-labelledby': 'run-failure' },
                deliberate
                  ? h('h2', { id: 'run-failure' }, 'Cancelled')
                  : h('h2', { id: 'run-failure' }, 'Failure: ', h('span', { class: 'failure-kind' }, run.failure.kind)),
                h('p', { class: 'failure-message' }, run.failure.message),
                run.failure.stack && !deliberate
                  ? h('details', {}, h('summary', {}, 'Stack'), h('pre', { class: 'failure-stack' }, run.failure.stack))
                  : null,
              )
            : null,
          h(
            'section',
            { class: 'panel', 'aria-labelledby': 'run-logs' },
            h('h2', { id: 'run-logs' }, 'Logs (' + run.logCount + ' ' + (run.logCount === 1 ? 'line' : 'lines') + ')'),
            run.logs.length
              ? h(
                  'ol',
                  {
                    class: 'logs',
                    tabindex: '0',
                    'aria-label': 'Log lines',
                    start: String(run.logCount - run.logs.length + 1),
                  },
                  run.logs.map(function (line) {
                    return h('li', {}, line);
                  }),
                )
              : h('p', { class: 'muted' }, 'No log lines.'),
            run.logCount > run.logs.length
              ? h('p', { class: 'muted' }, 'Showing the last ' + run.logs.length + '.')
              : null,
          ),
          h(
            'section',
            { class: 'panel', 'aria-labelledby': 'run-payload' },
            h('h2', { id: 'run-payload' }, 'Payload'),
            h('pre', {}, json(run.data)),
          ),
          run.result !== undefined
            ? h(
                'section',
                { class: 'panel', 'aria-labelledby': 'run-result' },
                h('h2', { id: 'run-result' }, 'Result'),
                h('pre', {}, json(run.result)),
              )
            : null,
        ],
        first,
      );
      return live;
    });

    function act(action) {
      api('POST', 'executions/' + encodeURIComponent(id) + '/' + action).then(
        function () {
          BGJ.route();
          say(action === 'cancel' ? 'Cancel requested for run ' + id + '.' : 'Run ' + id + ' queued again.');
        },
        function (error) {
          say('Could not ' + action + ' run ' + id + ': ' + error.message);
        },
      );
    }
  }

  BGJ.pages.runDetail = runDetail;
})();
