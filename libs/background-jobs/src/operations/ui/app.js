/* nestjs-background-jobs dashboard: plain browser JavaScript, no build step, no dependencies.
 * Reads and acts only through the REST routes of the same operations path (the page lives at <path>/ui). */
(function () {
  'use strict';

  var UI = location.pathname.replace(/\/+$/, '');
  var API = UI.replace(/\/ui$/, '');
  var COOKIE = 'bgj_ops_token';
  var STATES = ['pending', 'delayed', 'running', 'completed', 'failed', 'cancelled', 'skipped'];
  var KINDS = ['transient', 'permanent', 'cancelled', 'timeout', 'lock-lost'];
  var FINAL = ['completed', 'failed', 'cancelled', 'skipped'];
  var PAGE_SIZE = 20;
  var main = document.getElementById('main');
  var statusRegion = document.getElementById('status');
  var timer = null;
  var generation = 0;

  function token() {
    var match = document.cookie
      .split(';')
      .map(function (c) {
        return c.trim();
      })
      .filter(function (c) {
        return c.indexOf(COOKIE + '=') === 0;
      })[0];
    return match ? decodeURIComponent(match.slice(COOKIE.length + 1)) : '';
  }

  function signOut() {
    document.cookie = COOKIE + '=; Path=' + UI + '; Max-Age=0; SameSite=Strict';
    location.reload();
  }

  /** One REST call with the token as a bearer header; rejects with the API's message. */
  function api(method, path, params) {
    var query = params ? new URLSearchParams(params).toString() : '';
    var headers = { Accept: 'application/json' };
    var bearer = token();
    if (bearer) headers.Authorization = 'Bearer ' + bearer;
    return fetch(API + '/' + path + (query ? '?' + query : ''), {
      method: method,
      headers: headers,
      credentials: 'same-origin',
    }).then(function (res) {
      return res.text().then(function (text) {
        var body = null;
        try {
          body = text ? JSON.parse(text) : null;
        } catch (e) {
          body = text;
        }
        if (!res.ok) {
          var message = body && body.message ? [].concat(body.message).join(' ') : res.statusText;
          var error = new Error(res.status + ' ' + message);
          error.status = res.status;
          throw error;
        }
        return body;
      });
    });
  }

  /** Builds an element: h('a', { href: '#/' }, 'text', child, …). Text is always set as text, never as HTML. */
  function h(tag, attrs) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === undefined || value === null || value === false) return;
      if (key === 'class') el.className = value;
      else if (key.slice(0, 2) === 'on') el.addEventListener(key.slice(2), value);
      else if (key === 'value') el.value = value;
      else el.setAttribute(key, value === true ? '' : value);
    });
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }

  function append(el, child) {
    if (child === undefined || child === null || child === false) return;
    if (Array.isArray(child))
      child.forEach(function (c) {
        append(el, c);
      });
    else el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }

  function badge(text, kind) {
    return h('span', { class: 'badge ' + (kind || text) }, text);
  }

  function formatTime(value) {
    if (!value) return '—';
    var date = new Date(value);
    return date.toLocaleString(undefined, {
      month: 'short',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  }

  function relative(value) {
    if (!value) return '';
    var seconds = Math.round((new Date(value).getTime() - Date.now()) / 1000);
    var abs = Math.abs(seconds);
    if (abs < 2) return 'just now';
    var text =
      abs < 60
        ? abs + ' s'
        : abs < 3600
          ? Math.round(abs / 60) + ' min'
          : abs < 86400
            ? Math.round(abs / 3600) + ' h'
            : Math.round(abs / 86400) + ' d';
    return seconds >= 0 ? 'in ' + text : text + ' ago';
  }

  function time(value) {
    if (!value) return '—';
    return h(
      'time',
      { datetime: new Date(value).toISOString(), title: new Date(value).toISOString() },
      formatTime(value),
      h('span', { class: 'muted' }, ' (' + relative(value) + ')'),
    );
  }

  function json(value) {
    return value === undefined ? 'none' : JSON.stringify(value, null, 2);
  }

  function say(content) {
    statusRegion.textContent = '';
    append(statusRegion, content);
  }

  function runLink(id, text) {
    return h('a', { href: '#/runs/' + encodeURIComponent(id) }, text || id);
  }

  /** Replaces the page's content, keeping keyboard focus on the control that had it (refreshes rebuild the page). */
  function render(nodes, focusMain) {
    var focused = document.activeElement && main.contains(document.activeElement) ? document.activeElement.id : '';
    var logs = main.querySelector('.logs');
    var logScroll = logs
      ? { top: logs.scrollTop, atEnd: logs.scrollTop + logs.clientHeight >= logs.scrollHeight - 4 }
      : null;
    main.textContent = '';
    append(main, nodes);
    var newLogs = main.querySelector('.logs');
    if (newLogs && logScroll) newLogs.scrollTop = logScroll.atEnd ? newLogs.scrollHeight : logScroll.top;
    if (focusMain) main.focus();
    else if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
  }

  function showError(error) {
    var denied = error.status === 401 || error.status === 403;
    render([
      h('h1', {}, denied ? 'Not signed in' : 'Something went wrong'),
      h('p', { class: 'error', role: 'alert' }, error.message),
      denied ? h('button', { type: 'button', class: 'primary', onclick: signOut }, 'Sign in again') : null,
    ]);
  }

  function every(ms, fn) {
    var mine = generation;
    timer = setTimeout(function tick() {
      if (mine !== generation) return;
      fn().then(
        function (again) {
          if (again !== false && mine === generation) timer = setTimeout(tick, ms);
        },
        function () {
          if (mine === generation) timer = setTimeout(tick, ms);
        },
      );
    }, ms);
  }

  // ---- pages --------------------------------------------------------------------------------------------------

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
            STATES.map(function (s) {
              return h('th', { scope: 'col', class: 'num' }, s);
            }),
            h('th', { scope: 'col', class: 'num' }, 'total'),
          ),
        ),
        h(
          'tbody',
          {},
          data.queues.map(function (q) {
            var total = STATES.reduce(function (sum, s) {
              return sum + (q.counts[s] || 0);
            }, 0);
            return h(
              'tr',
              {},
              h('th', { scope: 'row' }, q.queue),
              STATES.map(function (s) {
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
              KINDS.map(function (k) {
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

  function schedules(first) {
    return api('GET', 'recurring').then(function (list) {
      var rows = list.map(function (s) {
        var action = s.paused ? 'resume' : 'pause';
        return h(
          'tr',
          { 'data-job': s.jobId },
          h(
            'th',
            { scope: 'row' },
            h('a', { href: '#/runs?jobId=' + encodeURIComponent(s.jobId) }, s.jobId),
            s.tenancy === 'per-tenant' ? h('div', { class: 'muted' }, 'per tenant') : null,
          ),
          h('td', {}, s.cron ? h('code', {}, s.cron) : s.everyMs ? 'every ' + s.everyMs + ' ms' : '—'),
          h('td', {}, s.timezone),
          h(
            'td',
            { class: 'next-run' },
            s.paused
              ? h('span', { class: 'muted' }, 'none while paused')
              : s.enabled
                ? time(s.nextRunAt)
                : h('span', { class: 'muted' }, 'disabled'),
          ),
          h(
            'td',
            {},
            s.lastRun
              ? [
                  runLink(s.lastRun.executionId, badge(s.lastRun.state)),
                  ' ',
                  h('span', { class: 'muted' }, formatTime(s.lastRun.finishedAt || s.lastRun.startedAt)),
                ]
              : h('span', { class: 'muted' }, 'never'),
          ),
          h('td', { class: 'paused' }, s.paused ? badge('paused') : badge('active', 'completed')),
          h(
            'td',
            { class: 'actions' },
            h(
              'button',
              {
                type: 'button',
                id: action + '-' + s.jobId,
                'aria-label': (s.paused ? 'Resume ' : 'Pause ') + s.jobId,
                onclick: function () {
                  act(action, s.jobId);
                },
              },
              s.paused ? 'Resume' : 'Pause',
            ),
            h(
              'button',
              {
                type: 'button',
                id: 'trigger-' + s.jobId,
                class: 'primary',
                'aria-label': 'Trigger ' + s.jobId,
                onclick: function () {
                  trigger(s.jobId);
                },
              },
              'Trigger',
            ),
          ),
        );
      });
      render(
        [
          h('h1', {}, 'Schedules'),
          h(
            'div',
            { class: 'panel' },
            h(
              'table',
              {},
              h('caption', {}, list.length + ' recurring jobs'),
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  ['Job', 'Schedule', 'Time zone', 'Next run', 'Last run', 'Status', 'Actions'].map(function (c) {
                    return h('th', { scope: 'col' }, c);
                  }),
                ),
              ),
              h('tbody', {}, rows),
            ),
          ),
          h(
            'p',
            { class: 'muted' },
            'Refreshes every 10 seconds. Pause stops a schedule on every instance until resumed; trigger runs the job now.',
          ),
        ],
        first,
      );
    });

    function act(action, jobId) {
      api('POST', 'recurring/' + encodeURIComponent(jobId) + '/' + action)
        .then(function () {
          say((action === 'pause' ? 'Paused ' : 'Resumed ') + jobId + '.');
          return schedules(false);
        })
        .then(
          function () {
            var next = document.getElementById((action === 'pause' ? 'resume-' : 'pause-') + jobId);
            if (next) next.focus();
          },
          function (error) {
            say('Could not ' + action + ' ' + jobId + ': ' + error.message);
          },
        );
    }

    function trigger(jobId) {
      api('POST', 'recurring/' + encodeURIComponent(jobId) + '/trigger').then(
        function (answer) {
          say(['Triggered ' + jobId + ': ', runLink(answer.executionId, 'open run ' + answer.executionId)]);
        },
        function (error) {
          say('Could not trigger ' + jobId + ': ' + error.message);
        },
      );
    }
  }

  function runs(first, params) {
    var page = Math.max(1, parseInt(params.get('page') || '1', 10) || 1);
    var query = { page: String(page), size: String(PAGE_SIZE) };
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
            STATES.map(function (s) {
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
              h('span', {}, 'Page ' + page + ' of ' + Math.max(1, Math.ceil(result.total / PAGE_SIZE))),
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
      var live = FINAL.indexOf(run.state) < 0;
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
          h(
            'button',
            {
              type: 'button',
              id: 'run-cancel',
              class: 'danger',
              onclick: function () {
                act('cancel');
              },
            },
            'Cancel run',
          ),
        );
      if (run.state === 'failed')
        actions.push(
          h(
            'button',
            {
              type: 'button',
              id: 'run-retry',
              class: 'primary',
              onclick: function () {
                act('retry');
              },
            },
            'Retry run',
          ),
        );
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
                { class: 'panel failure', 'aria-labelledby': 'run-failure' },
                h('h2', { id: 'run-failure' }, 'Failure: ', h('span', { class: 'failure-kind' }, run.failure.kind)),
                h('p', { class: 'failure-message' }, run.failure.message),
                run.failure.stack
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
          route();
          say(action === 'cancel' ? 'Cancel requested for run ' + id + '.' : 'Run ' + id + ' queued again.');
        },
        function (error) {
          say('Could not ' + action + ' run ' + id + ': ' + error.message);
        },
      );
    }
  }

  // ---- routing ------------------------------------------------------------------------------------------------

  function route() {
    generation += 1;
    clearTimeout(timer);
    say('');
    var hash = location.hash.replace(/^#\/?/, '');
    var at = hash.indexOf('?');
    var path = at < 0 ? hash : hash.slice(0, at);
    var params = new URLSearchParams(at < 0 ? '' : hash.slice(at + 1));
    var section = path.split('/')[0] || 'overview';
    Array.prototype.forEach.call(document.querySelectorAll('[data-nav]'), function (a) {
      if (a.getAttribute('data-nav') === section) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    });
    var load;
    var period = 5000;
    if (section === 'runs' && path.split('/')[1]) {
      var id = decodeURIComponent(path.split('/').slice(1).join('/'));
      document.title = 'Run ' + id + ' · Background jobs';
      load = function (first) {
        return runDetail(first, id);
      };
      period = 1000;
    } else if (section === 'runs') {
      document.title = 'Runs · Background jobs';
      load = function (first) {
        return runs(first, params);
      };
    } else if (section === 'schedules') {
      document.title = 'Schedules · Background jobs';
      load = schedules;
      period = 10000;
    } else {
      document.title = 'Overview · Background jobs';
      load = overview;
    }
    load(true).then(function (again) {
      if (again !== false)
        every(period, function () {
          return load(false);
        });
    }, showError);
  }

  document.getElementById('sign-out').addEventListener('click', signOut);
  window.addEventListener('hashchange', route);
  route();
})();
