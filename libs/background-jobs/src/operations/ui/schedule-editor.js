/* schedule-editor.js: the form that creates and edits runtime schedules (PUT schedules/:id); it keeps what someone is
 * typing across the schedules page's refreshes. */
(function () {
  'use strict';

  var BGJ = window.BGJ;
  var h = BGJ.h;
  var api = BGJ.api;
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

  function schedules(first) {
    return BGJ.pages.schedules(first);
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

  BGJ.scheduleEditor = {
    /** Starts editing `s` (null: a new schedule). */
    edit: edit,
    /** The form's section, built once per edit and reused by refreshes. */
    node: function (jobIds) {
      return editorNode || (editorNode = editor(jobIds));
    },
    /** Whether the form edits schedule `id` (a deleted schedule's form goes back to a new one). */
    editing: function (id) {
      return editing !== null && editing.scheduleId === id;
    },
  };
})();
