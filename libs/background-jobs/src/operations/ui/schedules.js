/* schedules.js: every schedule (a @PipelineJob's and each runtime one on a row of its own, acted on by its schedule
 * id), and the form that creates, edits and deletes runtime schedules (PUT / DELETE schedules/:id). */
(function () {
  'use strict';

  var BGJ = window.BGJ;
  var h = BGJ.h;
  var api = BGJ.api;
  var badge = BGJ.badge;
  var say = BGJ.say;

  /** The schedule the form edits (null: a new one); kept across the page's refreshes. */
  var editing = null;
  var formError = '';
  /** The form's element, reused by the page's refreshes so that what someone is typing stays; rebuilt by edit(). */
  var editorNode = null;

  /** Starts editing `s` (null: a new schedule): the form is rebuilt with its values. */
  function edit(s) {
    editing = s;
    formError = '';
    editorNode = null;
  }

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
                    edit(s);
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

  function field(id, label, input, hint) {
    return h('div', {}, h('label', { for: id }, label), input, hint ? h('div', { class: 'muted' }, hint) : null);
  }

  function editor(jobIds) {
    var s = editing || {};
    var form = h(
      'form',
      {
        class: 'editor',
        'aria-labelledby': 'editor-title',
        onsubmit: function (event) {
          event.preventDefault();
          save(form);
        },
      },
      h('h2', { id: 'editor-title' }, editing ? 'Edit runtime schedule ' + s.scheduleId : 'New runtime schedule'),
      field('s-id', 'Schedule id', h('input', { id: 's-id', name: 'id', required: true, value: s.scheduleId || '' })),
      field(
        's-job',
        'Job',
        h('input', { id: 's-job', name: 'jobId', list: 's-jobs', required: true, value: s.jobId || '' }),
      ),
      h(
        'datalist',
        { id: 's-jobs' },
        jobIds.map(function (id) {
          return h('option', { value: id });
        }),
      ),
      field(
        's-cron',
        'Cron',
        h('input', { id: 's-cron', name: 'cron', value: s.cron || '', placeholder: '*/5 * * * *' }),
        'A cron pattern, or leave empty and give an interval.',
      ),
      field(
        's-every',
        'Every (ms)',
        h('input', { id: 's-every', name: 'everyMs', inputmode: 'numeric', value: s.everyMs ? String(s.everyMs) : '' }),
      ),
      field(
        's-tz',
        'Time zone',
        h('input', { id: 's-tz', name: 'timezone', value: s.timezone || '', placeholder: 'UTC' }),
      ),
      field('s-tenant', 'Tenant', h('input', { id: 's-tenant', name: 'tenantId', value: s.tenantId || '' })),
      field(
        's-data',
        'Payload (JSON)',
        h('textarea', { id: 's-data', name: 'data' }, s.data === undefined ? '' : JSON.stringify(s.data, null, 2)),
      ),
      h('p', { class: 'field-error', role: 'alert', id: 's-error' }, formError),
      h(
        'div',
        {},
        h('button', { type: 'submit', class: 'primary', id: 's-save' }, editing ? 'Save schedule' : 'Create schedule'),
        editing
          ? h(
              'button',
              {
                type: 'button',
                id: 's-new',
                onclick: function () {
                  edit(null);
                  schedules(false);
                },
              },
              'New schedule instead',
            )
          : null,
      ),
    );
    return h('section', { class: 'panel' }, form);
  }

  function save(form) {
    var value = function (name) {
      return form.elements[name].value.trim();
    };
    var body = { jobId: value('jobId') };
    if (value('cron')) body.cron = value('cron');
    if (value('everyMs')) body.everyMs = Number(value('everyMs'));
    if (value('timezone')) body.timezone = value('timezone');
    if (value('tenantId')) body.tenantId = value('tenantId');
    if (value('data')) {
      try {
        body.data = JSON.parse(value('data'));
      } catch (e) {
        return showFormError('Payload is not valid JSON: ' + e.message);
      }
    }
    var id = value('id');
    var replaced = editing && editing.scheduleId !== id ? editing.scheduleId : null;
    api('PUT', 'schedules/' + encodeURIComponent(id), null, body)
      .then(function () {
        // NOTE: a new id is a new schedule: the one renamed away from is removed once the new one exists.
        return replaced ? api('DELETE', 'schedules/' + encodeURIComponent(replaced)) : null;
      })
      .then(
        function () {
          edit(null);
          say('Saved schedule ' + id + '.');
          return schedules(false);
        },
        function (error) {
          showFormError(error.message);
        },
      );
  }

  function showFormError(message) {
    formError = message;
    var el = document.getElementById('s-error');
    if (el) el.textContent = message;
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
          BGJ.config.readOnly ? null : editorNode || (editorNode = editor(jobIds)),
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
        if (editing && editing.scheduleId === id) edit(null);
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
