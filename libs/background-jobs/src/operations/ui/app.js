/* app.js: routing between the pages the other scripts register on window.BGJ, and sign-out. Loads last. */
(function () {
  'use strict';

  var BGJ = window.BGJ;
  var timer = null;

  function every(ms, fn) {
    var mine = BGJ.generation;
    timer = setTimeout(function tick() {
      if (mine !== BGJ.generation) return;
      fn().then(
        function (again) {
          if (again !== false && mine === BGJ.generation) timer = setTimeout(tick, ms);
        },
        function () {
          if (mine === BGJ.generation) timer = setTimeout(tick, ms);
        },
      );
    }, ms);
  }

  /** Each route: its page, its title and how often it refreshes. */
  function resolve(section, rest, params) {
    if (section === 'runs' && rest) {
      var id = decodeURIComponent(rest);
      return {
        title: 'Run ' + id,
        period: 1000,
        load: function (first) {
          return BGJ.pages.runDetail(first, id);
        },
      };
    }
    if (section === 'runs')
      return {
        title: 'Runs',
        period: 5000,
        load: function (first) {
          return BGJ.pages.runs(first, params);
        },
      };
    if (section === 'batches' && rest) {
      var batchId = decodeURIComponent(rest);
      return {
        title: 'Batch ' + batchId,
        period: 2000,
        load: function (first) {
          return BGJ.pages.batch(first, batchId, params);
        },
      };
    }
    if (section === 'waiting')
      return {
        title: 'Waiting runs',
        period: 5000,
        load: function (first) {
          return BGJ.pages.waiting(first, params);
        },
      };
    if (section === 'schedules') return { title: 'Schedules', period: 10000, load: BGJ.pages.schedules };
    if (section === 'jobs') return { title: 'Jobs', period: 0, load: BGJ.pages.jobs };
    if (section === 'servers') return { title: 'Servers', period: 2000, load: BGJ.pages.servers };
    return { title: 'Overview', period: 5000, load: BGJ.pages.overview };
  }

  BGJ.route = function () {
    BGJ.generation += 1;
    clearTimeout(timer);
    BGJ.say('');
    var hash = location.hash.replace(/^#\/?/, '');
    var at = hash.indexOf('?');
    var path = at < 0 ? hash : hash.slice(0, at);
    var params = new URLSearchParams(at < 0 ? '' : hash.slice(at + 1));
    var section = path.split('/')[0] || 'overview';
    Array.prototype.forEach.call(document.querySelectorAll('[data-nav]'), function (a) {
      if (a.getAttribute('data-nav') === section) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    });
    var page = resolve(section, path.split('/').slice(1).join('/'), params);
    document.title = page.title + ' · Background jobs';
    page.load(true).then(function (again) {
      if (again !== false)
        every(page.period, function () {
          return page.load(false);
        });
    }, BGJ.showError);
  };

  document.getElementById('sign-out').addEventListener('click', BGJ.signOut);
  window.addEventListener('hashchange', BGJ.route);
  BGJ.load().then(function (config) {
    if (config.readOnly) document.body.classList.add('read-only');
    BGJ.route();
  }, BGJ.showError);
})();
