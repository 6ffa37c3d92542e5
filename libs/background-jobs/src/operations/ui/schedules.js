/* schedules.js: every schedule (a @PipelineJob's and each runtime one on a row of its own, acted on by its schedule
 * id): pause, resume, trigger, and for runtime ones edit (schedule-editor.js) and delete (DELETE schedules/:id). */
(function () {
  'use strict';

  var BGJ = window.BGJ;
  var h = BGJ.h;
  var api = BGJ.api;
  var badge = BGJ.badge;
  var say = BGJ.say;

  function scheduleText(s) {
    return s.cron ? h('code', {}, s.cron) : s.everyMs ? 'every ' + s.everyMs + ' ms' : '—';
  }

  function row(s) {
    var id = s.scheduleId;
    var action = s.paused ? 'resume' : 'pause';
    return h(
      'tr',
      { 'data-schedule': id, 'data-job': s.source === 'decorator' ? s.jobId : null },
      h(
        'th',
        { scope: 'row' },
        id,
        s.source === 'runtime' ? h('div', { class: 'muted' }, 'runtime schedule of ', s.jobId) : null,
        s.tenancy === 'per-tenant' ? h('div', { class: 'muted' }, 'per tenant') : null,
        s.tenantId ? h('div', { class: 'muted' }, 'tenant ', s.tenantId) : null,
      ),
      h('td', {}, scheduleText(s)),
      h('td', {}, s.timezone),
      h(
        'td',
        { class: 'next-run' },
        s.paused
          ? h('span', { class: 'muted' }, 'none while paused')
          : s.enabled
            ? BGJ.time(s.nextRunAt)
            : h('span', { class: 'muted' }, 'disabled'),
      ),
      h(
        'td',
        {},
        s.lastRun
          ? [
              BGJ.runLink(s.lastRun.executionId, badge(s.lastRun.state)),
              ' ',
              h('span', { class: 'muted' }, BGJ.formatTime(s.lastRun.finishedAt || s.lastRun.startedAt)),
            ]
          : h('span', { class: 'muted' }, 'never'),
      ),
      h('td', { class: 'paused' }, s.paused ? badge('paused') : badge('active', 'completed')),
      h(
        'td',
        { class: 'actions' },
        BGJ.action(
          {
            id: action + '-' + id,
            'aria-label': (s.paused ? 'Resume ' : 'Pause ') + id,
            onclick: function () {
              act(action, id);
            },
          },
          s.paused ? 'Resume' : 'Pause',
        ),
        BGJ.action(
          {
            id: 'trigger-' + id,
            class: 'primary',
            'aria-label': 'Trigger ' + id,
            onclick: function () {
              trigger(id);
            },
          },
          'Trigger',
        ),
        s.source === 'runtime'
          ? [
              BGJ.action(
                {
                  id: 'edit-' + id,
                  'aria-label': 'Edit ' + id,
                  onclick: function () {
                    BGJ.scheduleEditor.edit(s);
                    schedules(false).then(function () {
                      document.getElementById('s-id').focus();
                    });
                  },
                },
                'Edit',
              ),
              BGJ.action(
                {
                  id: 'delete-' + id,
                  class: 'danger',
                  'aria-label': 'Delete ' + id,
                  onclick: function () {
                    if (window.confirm('Delete runtime schedule ' + id + '? Its future ticks stop.')) remove(id);
                  },
                },
                'Delete',
              ),
            ]
          : null,
      ),
    );
  }

  function schedules(first) {
    return api('GET', 'recurring').then(function (list) {
      var jobIds = list
        .map(function (s) {
          return s.jobId;
        })
        .filter(function (id, i, all) {
          return all.indexOf(id) === i;
        });
      BGJ.render(
        [
          h('h1', {}, 'Schedules'),
          h(
            'div',
            { class: 'panel' },
            BGJ.table(
              list.length + ' schedules',
              ['Schedule', 'Timing', 'Time zone', 'Next run', 'Last run', 'Status', 'Actions'],
              list.map(row),
            ),
          ),
          h(
            'p',
            { class: 'muted' },
            'Refreshes every 10 seconds. Pause stops a schedule on every instance until resumed; trigger runs it now.',
          ),
          BGJ.config.readOnly ? null : BGJ.scheduleEditor.node(jobIds),
        ],
        first,
      );
    });
  }

  function act(action, id) {
    api('POST', 'recurring/' + encodeURIComponent(id) + '/' + action)
      .then(function () {
        say((action === 'pause' ? 'Paused ' : 'Resumed ') + id + '.');
        return schedules(false);
      })
      .then(
        function () {
          var next = document.getElementById((action === 'pause' ? 'resume-' : 'pause-') + id);
          if (next) next.focus();
        },
        function (error) {
          say('Could not ' + action + ' ' + id + ': ' + error.message);
        },
      );
  }

  function trigger(id) {
    api('POST', 'recurring/' + encodeURIComponent(id) + '/trigger').then(
      function (answer) {
        say(['Triggered ' + id + ': ', BGJ.runLink(answer.executionId, 'open run ' + answer.executionId)]);
      },
      function (error) {
        say('Could not trigger ' + id + ': ' + error.message);
      },
    );
  }

  function remove(id) {
    api('DELETE', 'schedules/' + encodeURIComponent(id)).then(
      function () {
        if (BGJ.scheduleEditor.editing(id)) BGJ.scheduleEditor.edit(null);
        say('Deleted schedule ' + id + '.');
        return schedules(false);
      },
      function (error) {
        say('Could not delete ' + id + ': ' + error.message);
      },
    );
  }

  BGJ.pages.schedules = schedules;
})();
