/* runs.js: the overview, the runs list and a run's page. */
(function () {
  'use strict';

  var BGJ = window.BGJ;
  var h = BGJ.h;
  var api = BGJ.api;
  var badge = BGJ.badge;
  var time = BGJ.time;
  var formatTime = BGJ.formatTime;
  var json = BGJ.json;
  var say = BGJ.say;
  var runLink = BGJ.runLink;
  var render = BGJ.render;

  function overview(first) {
    return api('GET', 'overview').then(function (data) {
      var table = h(
        'table',
        {},
        h('caption', { class: 'visually-hidden' }, 'Runs by state, per queue'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, 'Queue'),
            BGJ.config.states.map(function (s) {
              return h('th', { scope: 'col', class: 'num' }, s);
            }),
            h('th', { scope: 'col', class: 'num' }, 'total'),
          ),
        ),
        h(
          'tbody',
          {},
          data.queues.map(function (q) {
            var total = BGJ.config.states.reduce(function (sum, s) {
              return sum + (q.counts[s] || 0);
            }, 0);
            return h(
              'tr',
              {},
              h('th', { scope: 'row' }, q.queue),
              BGJ.config.states.map(function (s) {
                var n = q.counts[s] || 0;
                return h(
                  'td',
                  { class: 'num' },
                  n
                    ? h(
                        'a',
                        {
                          href: '#/runs?state=' + s,
                          'aria-label': n + ' ' + s + ' in ' + q.queue + ': list ' + s + ' runs',
                        },
                        String(n),
                      )
                    : '0',
                );
              }),
              h('td', { class: 'num' }, String(total)),
            );
          }),
        ),
      );
      render(
        [
          h('h1', {}, 'Overview'),
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
            formatTime(data.generatedAt),
            '; refreshes every 5 seconds. Counts cover the history the transport keeps.',
          ),
        ],
        first,
      );
    });
  }

  function runs(first, params) {
    var page = Math.max(1, parseInt(params.get('page') || '1', 10) || 1);
    var query = { page: String(page), size: String(BGJ.config.pageSize) };
    ['state', 'jobId', 'tenantId'].forEach(function (key) {
      if (params.get(key)) query[key] = params.get(key);
    });
    return Promise.all([api('GET', 'executions', query), api('GET', 'recurring')]).then(function (answers) {
      var result = answers[0];
      var jobIds = answers[1].map(function (s) {
        return s.jobId;
      });
      var from = result.total === 0 ? 0 : result.offset + 1;
      var to = result.offset + result.items.length;
      var go = function (p) {
        var next = new URLSearchParams(params);
        next.set('page', String(p));
        location.hash = '#/runs?' + next.toString();
      };
      var form = h(
        'form',
        {
          class: 'filters',
          role: 'search',
          'aria-label': 'Filter runs',
          onsubmit: function (event) {
            event.preventDefault();
            var next = new URLSearchParams();
            ['state', 'jobId', 'tenantId'].forEach(function (key) {
              var value = form.elements[key].value.trim();
              if (value) next.set(key, value);
            });
            location.hash = '#/runs' + (next.toString() ? '?' + next.toString() : '');
          },
        },
        h(
          'div',
          {},
          h('label', { for: 'f-state' }, 'State'),
          h(
            'select',
            { id: 'f-state', name: 'state' },
            h('option', { value: '' }, 'any'),
            BGJ.config.states.map(function (s) {
              return h('option', { value: s, selected: params.get('state') === s }, s);
            }),
          ),
        ),
        h(
          'div',
          {},
          h('label', { for: 'f-job' }, 'Job'),
          h('input', {
            id: 'f-job',
            name: 'jobId',
            list: 'f-jobs',
            value: params.get('jobId') || '',
            placeholder: 'any job',
          }),
          h(
            'datalist',
            { id: 'f-jobs' },
            jobIds.map(function (id) {
              return h('option', { value: id });
            }),
          ),
        ),
        h(
          'div',
          {},
          h('label', { for: 'f-tenant' }, 'Tenant'),
          h('input', {
            id: 'f-tenant',
            name: 'tenantId',
            value: params.get('tenantId') || '',
            placeholder: "any; '-' for host level",
          }),
        ),
        h(
          'div',
          {},
          h('button', { type: 'submit', id: 'f-apply', class: 'primary' }, 'Apply'),
          ' ',
          h('a', { href: '#/runs' }, 'Clear'),
        ),
      );
      var rows = result.items.map(function (run) {
        return h(
          'tr',
          {},
          h('td', { class: 'mono' }, runLink(run.executionId)),
          h('td', {}, run.jobId),
          h('td', {}, run.tenantId === null ? h('span', { class: 'muted' }, 'host') : run.tenantId),
          h('td', {}, badge(run.state)),
          h('td', { class: 'num' }, String(run.attempts)),
          h('td', { class: 'nowrap' }, formatTime(run.createdAt)),
          h('td', { class: 'nowrap' }, formatTime(run.finishedAt)),
          h('td', {}, run.failure ? run.failure.kind : ''),
        );
      });
      render(
        [
          h('h1', {}, 'Runs'),
          h('div', { class: 'panel' }, form),
          h(
            'div',
            { class: 'panel' },
            h(
              'table',
              {},
              h(
                'caption',
                {},
                result.total ? 'Runs ' + from + '–' + to + ' of ' + result.total + ', newest first' : 'No runs match.',
              ),
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  ['Run', 'Job', 'Tenant', 'State', 'Attempts', 'Created', 'Finished', 'Failure'].map(function (c) {
                    return h('th', { scope: 'col', class: c === 'Attempts' ? 'num' : null }, c);
                  }),
                ),
              ),
              h('tbody', {}, rows),
            ),
            h(
              'nav',
              { class: 'pager', 'aria-label': 'Pages' },
              h(
                'button',
                {
                  type: 'button',
                  id: 'page-prev',
                  disabled: page <= 1,
                  onclick: function () {
                    go(page - 1);
                  },
                },
                'Previous page',
              ),
              h('span', {}, 'Page ' + page + ' of ' + Math.max(1, Math.ceil(result.total / BGJ.config.pageSize))),
              h(
                'button',
                {
                  type: 'button',
                  id: 'page-next',
                  disabled: to >= result.total,
                  onclick: function () {
                    go(page + 1);
                  },
                },
                'Next page',
              ),
            ),
          ),
          h('p', { class: 'muted' }, 'Refreshes every 5 seconds.'),
        ],
        first,
      );
    });
  }

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

  BGJ.pages.overview = overview;
  BGJ.pages.runs = runs;
  BGJ.pages.runDetail = runDetail;
})();
