/* nestjs-background-jobs dashboard: plain browser JavaScript, no build step, no dependencies.
 * core.js: the settings the server serves (config.json), the REST client and the small DOM helpers the pages share.
 * The page lives at <path>/ui and reads and acts only through the REST routes under <path>/ui/api. */
(function () {
  'use strict';

  var UI = location.pathname.replace(/\/+$/, '');
  var main = document.getElementById('main');
  var statusRegion = document.getElementById('status');
  /** `generation` counts route changes (app.js): a read answered after the page changed is dropped, not drawn. */
  var BGJ = (window.BGJ = { UI: UI, config: null, pages: {}, generation: 0 });

  /** Reads config.json (constants, the API path, this session's CSRF value, the read-only role) once. */
  BGJ.load = function () {
    return request('GET', UI + '/config.json').then(function (config) {
      BGJ.config = config;
      return config;
    });
  };

  function request(method, url, body) {
    var headers = { Accept: 'application/json' };
    var config = BGJ.config;
    if (method !== 'GET' && config && config.csrf) headers[config.csrfHeader] = config.csrf;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return fetch(url, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    }).then(function (res) {
      return res.text().then(function (text) {
        var parsed = null;
        try {
          parsed = text ? JSON.parse(text) : null;
        } catch (e) {
          parsed = text;
        }
        if (!res.ok) {
          var message = parsed && parsed.message ? [].concat(parsed.message).join(' ') : res.statusText;
          var error = new Error(res.status + ' ' + message);
          error.status = res.status;
          throw error;
        }
        return parsed;
      });
    });
  }

  /**
   * One REST call under <path>/ui/api; rejects with the API's message. A GET answered after the route changed never
   * settles: a page's late refresh must not draw over the page that replaced it.
   */
  BGJ.api = function (method, path, params, body) {
    var query = params ? new URLSearchParams(params).toString() : '';
    var answer = request(method, BGJ.config.api + '/' + path + (query ? '?' + query : ''), body);
    if (method !== 'GET') return answer;
    var mine = BGJ.generation;
    var stale = function () {
      return new Promise(function () {});
    };
    return answer.then(
      function (value) {
        return mine === BGJ.generation ? value : stale();
      },
      function (error) {
        if (mine === BGJ.generation) throw error;
        return stale();
      },
    );
  };

  BGJ.signOut = function () {
    request('DELETE', UI + '/session').then(
      function () {
        location.reload();
      },
      function () {
        location.reload();
      },
    );
  };

  /** Builds an element: h('a', { href: '#/' }, 'text', child, …). Text is always set as text, never as HTML. */
  var h = (BGJ.h = function (tag, attrs) {
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
  });

  var append = (BGJ.append = function (el, child) {
    if (child === undefined || child === null || child === false) return;
    if (Array.isArray(child))
      child.forEach(function (c) {
        append(el, c);
      });
    else el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  });

  BGJ.badge = function (text, kind) {
    return h('span', { class: 'badge ' + (kind || text) }, text);
  };

  /** A button for an action; none at all for a read-only session (the REST would answer 403). */
  BGJ.action = function (attrs, label) {
    if (BGJ.config.readOnly) return null;
    return h('button', Object.assign({ type: 'button' }, attrs), label);
  };

  /** Local date and time with the time zone's name, so a reader knows which clock it is. */
  BGJ.formatTime = function (value) {
    if (!value) return '—';
    return new Date(value).toLocaleString(undefined, {
      month: 'short',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      timeZoneName: 'short',
    });
  };

  function relative(value) {
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

  BGJ.time = function (value) {
    if (!value) return '—';
    var iso = new Date(value).toISOString();
    return h(
      'time',
      { datetime: iso, title: iso },
      BGJ.formatTime(value),
      h('span', { class: 'muted' }, ' (' + relative(value) + ')'),
    );
  };

  BGJ.json = function (value) {
    return value === undefined ? 'none' : JSON.stringify(value, null, 2);
  };

  BGJ.say = function (content) {
    statusRegion.textContent = '';
    append(statusRegion, content);
  };

  BGJ.runLink = function (id, text) {
    return h('a', { href: '#/runs/' + encodeURIComponent(id) }, text || id);
  };

  /** Replaces the page's content, keeping keyboard focus on the control that had it (refreshes rebuild the page). */
  BGJ.render = function (nodes, focusMain) {
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
  };

  BGJ.showError = function (error) {
    var denied = error.status === 401 || error.status === 403;
    BGJ.render([
      h('h1', {}, denied ? 'Not signed in' : 'Something went wrong'),
      h('p', { class: 'error', role: 'alert' }, error.message),
      denied ? h('button', { type: 'button', class: 'primary', onclick: BGJ.signOut }, 'Sign in again') : null,
    ]);
  };

  /**
   * A table inside a scrolling box; on a narrow screen (`.stack`, app.css) each row becomes a card whose cells carry
   * their column's name.
   */
  BGJ.table = function (caption, columns, rows) {
    rows.forEach(function (row) {
      Array.prototype.forEach.call(row.children, function (cell, i) {
        if (cell.tagName === 'TD' && columns[i]) cell.setAttribute('data-label', columns[i]);
      });
    });
    return h(
      'div',
      // NOTE: focusable and named, so a keyboard can scroll a table wider than the screen.
      { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': caption },
      h(
        'table',
        { class: 'stack' },
        h('caption', {}, caption),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            columns.map(function (c) {
              return h('th', { scope: 'col' }, c);
            }),
          ),
        ),
        h('tbody', {}, rows),
      ),
    );
  };

  /** Previous / next buttons and 'Page n of m'; `go(p)` opens page p. */
  BGJ.pager = function (page, pages, go) {
    var button = function (id, label, target, disabled) {
      var attrs = { type: 'button', id: id, disabled: disabled };
      attrs.onclick = function () {
        go(target);
      };
      return h('button', attrs, label);
    };
    return h(
      'nav',
      { class: 'pager', 'aria-label': 'Pages' },
      button('page-prev', 'Previous page', page - 1, page <= 1),
      h('span', {}, 'Page ' + page + ' of ' + Math.max(1, pages)),
      button('page-next', 'Next page', page + 1, page >= pages),
    );
  };
})();
