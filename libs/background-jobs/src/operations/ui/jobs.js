/* jobs.js: the job definitions, each with a payload editor that enqueues a run (POST jobs/:id/enqueue; the job's
 * schema checks the payload first and its error is shown next to the editor). */
(function () {
  'use strict';

  var BGJ = window.BGJ;
  var h = BGJ.h;

  /** What each editor holds, by job id, so the page's refreshes keep what someone typed. */
  var editors = {};

  function timing(job) {
    if (!job.schedule) return h('span', { class: 'muted' }, 'enqueued only');
    return [
      job.schedule.cron ? h('code', {}, job.schedule.cron) : 'every ' + job.schedule.everyMs + ' ms',
      ' (' + job.schedule.timezone + ')',
    ];
  }

  function editor(job) {
    if (BGJ.config.readOnly) return null;
    if (editors[job.id]) return editors[job.id];
    var base = 'enqueue-' + job.id;
    var error = h('p', { class: 'field-error', role: 'alert', id: base + '-error' });
    var form = h(
      'form',
      {
        class: 'editor',
        'aria-label': 'Enqueue ' + job.id,
        onsubmit: function (event) {
          event.preventDefault();
          var body = {};
          var text = form.elements.data.value.trim();
          if (text) {
            try {
              body.data = JSON.parse(text);
            } catch (e) {
              error.textContent = 'The payload is not valid JSON: ' + e.message;
              return;
            }
          }
          var tenant = form.elements.tenantId.value.trim();
          if (tenant) body.tenantId = tenant;
          error.textContent = '';
          BGJ.api('POST', 'jobs/' + encodeURIComponent(job.id) + '/enqueue', null, body).then(
            function (answer) {
              BGJ.say(['Enqueued ' + job.id + ': ', BGJ.runLink(answer.executionId, 'open run ' + answer.executionId)]);
            },
            function (e) {
              error.textContent = e.message;
            },
          );
        },
      },
      h(
        'div',
        {},
        h('label', { for: base + '-data' }, 'Payload (JSON) for ' + job.id),
        h('textarea', { id: base + '-data', name: 'data', placeholder: '{ }' }),
      ),
      h(
        'div',
        {},
        h('label', { for: base + '-tenant' }, 'Tenant (empty: host level)'),
        h('input', { id: base + '-tenant', name: 'tenantId' }),
      ),
      error,
      h('div', {}, h('button', { type: 'submit', class: 'primary', id: base }, 'Enqueue ' + job.id)),
    );
    editors[job.id] = h('details', {}, h('summary', {}, 'Enqueue with a payload'), form);
    return editors[job.id];
  }

  function jobsPage(first) {
    return BGJ.api('GET', 'jobs').then(function (list) {
      BGJ.render(
        [
          h('h1', {}, 'Jobs'),
          list.map(function (job) {
            return h(
              'section',
              { class: 'panel', 'aria-labelledby': 'job-' + job.id, 'data-job': job.id },
              h('h2', { id: 'job-' + job.id }, job.id, ' ', h('span', { class: 'muted' }, job.className)),
              h(
                'dl',
                { class: 'facts' },
                [
                  ['Queue', job.queue],
                  ['Tenancy', job.tenancy],
                  ['Schedule', timing(job)],
                  ['Retry', job.retry.attempts + ' attempts, backoff ' + job.retry.backoffMs + ' ms'],
                  ['Timeout', job.timeoutMs ? job.timeoutMs + ' ms' : 'none'],
                  ['Lock', job.lock ? 'yes' : 'none'],
                  ['Payload check', job.hasSchema ? 'schema' : 'none'],
                  ['Enabled', job.enabled ? 'yes' : 'no'],
                ].map(function (f) {
                  return [h('dt', {}, f[0]), h('dd', {}, f[1])];
                }),
              ),
              h('p', {}, h('a', { href: '#/runs?jobId=' + encodeURIComponent(job.id) }, 'Runs of ' + job.id)),
              job.enabled ? editor(job) : null,
            );
          }),
        ],
        first,
      );
      // NOTE: definitions change only with a deploy: no refresh, so an open editor is never rebuilt.
      return false;
    });
  }

  /**
   * On the runs page filtered to failed runs: retry every failed run the filter matches, after a confirmation
   * (POST executions/retry).
   */
  BGJ.bulkRetry = function (params, total) {
    if (BGJ.config.readOnly || params.get('state') !== 'failed' || total === 0) return null;
    var filter = { state: 'failed' };
    if (params.get('jobId')) filter.jobId = params.get('jobId');
    if (params.get('tenantId')) filter.tenantId = params.get('tenantId') === '-' ? null : params.get('tenantId');
    var count = Math.min(total, 1000);
    return BGJ.action(
      {
        id: 'retry-all',
        class: 'primary',
        onclick: function () {
          if (!window.confirm('Retry ' + count + ' failed runs' + (filter.jobId ? ' of ' + filter.jobId : '') + '?'))
            return;
          filter.limit = count;
          BGJ.api('POST', 'executions/retry', null, filter).then(
            function (answer) {
              BGJ.route();
              BGJ.say('Retried ' + answer.retried + ' failed runs.');
            },
            function (e) {
              BGJ.say('Could not retry: ' + e.message);
            },
          );
        },
      },
      'Retry all ' + count + ' failed runs',
    );
  };

  /** Beside bulk retry: remove every failed run the filter matches, after a confirmation (DELETE executions). */
  BGJ.bulkDelete = function (params, total) {
    if (BGJ.config.readOnly || params.get('state') !== 'failed' || total === 0) return null;
    var query = { state: 'failed' };
    if (params.get('jobId')) query.jobId = params.get('jobId');
    if (params.get('tenantId')) query.tenantId = params.get('tenantId');
    var count = Math.min(total, 1000);
    return BGJ.action(
      {
        id: 'delete-all',
        class: 'danger',
        onclick: function () {
          if (!window.confirm('Delete ' + count + ' failed runs? Their payloads and failures are gone for good.'))
            return;
          BGJ.api('DELETE', 'executions', query).then(
            function (answer) {
              BGJ.route();
              BGJ.say('Deleted ' + answer.removed + ' failed runs.');
            },
            function (e) {
              BGJ.say('Could not delete: ' + e.message);
            },
          );
        },
      },
      'Delete all ' + count + ' failed runs',
    );
  };

  BGJ.pages.jobs = jobsPage;
})();
