/* runs.js: the runs list, filtered by state, job and tenant, with bulk retry and delete of failed runs. */
(function () {
  'use strict';

  var BGJ = window.BGJ;
  var h = BGJ.h;
  var api = BGJ.api;
  var badge = BGJ.badge;
  var formatTime = BGJ.formatTime;
  var runLink = BGJ.runLink;
  var render = BGJ.render;

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
          h(
            'td',
            {},
            badge(run.state),
            run.waiting ? h('div', { class: 'muted' }, BGJ.waitingText(run.waiting)) : null,
          ),
          h('td', { class: 'num' }, String(run.attempts)),
          h('td', { class: 'nowrap' }, formatTime(run.createdAt)),
          h('td', { class: 'nowrap' }, formatTime(run.finishedAt)),
          h('td', {}, run.failure ? run.failure.kind : null),
        );
      });
      render(
        [
          h('h1', {}, 'Runs'),
          h('div', { class: 'panel' }, form),
          h('div', { class: 'actions' }, BGJ.bulkRetry(params, result.total), BGJ.bulkDelete(params, result.total)),
          h(
            'div',
            { class: 'panel' },
            BGJ.table(
              result.total ? 'Runs ' + from + '–' + to + ' of ' + result.total + ', newest first' : 'No runs match.',
              ['Run', 'Job', 'Tenant', 'State', 'Attempts', 'Created', 'Finished', 'Failure'],
              rows,
            ),
            BGJ.pager(page, Math.ceil(result.total / BGJ.config.pageSize), go),
          ),
          h('p', { class: 'muted' }, 'Refreshes every 5 seconds.'),
        ],
        first,
      );
    });
  }

  BGJ.pages.runs = runs;
})();
