/* run-parts.js: the parts of a run's page that composition and flow control add: why it waits, what it waits for
 * (its dependencies), the batch it belongs to and its durable steps. Every value is set as text. */
(function () {
  'use strict';

  var BGJ = window.BGJ;
  var h = BGJ.h;

  /** What each waiting reason means, in a reader's words. */
  var REASONS = {
    'rate-limit': 'held back by a rate limit',
    concurrency: 'held back by a concurrency limit',
    fairness: 'waiting for its tenant’s turn',
    delay: 'delayed',
    dependencies: 'waiting for the runs it depends on',
    sleep: 'sleeping (ctx.sleep)',
  };

  /** One line: the reason, the limit and key that hold the run back, and until when when that is known. */
  BGJ.waitingText = function (waiting) {
    var text = REASONS[waiting.reason] || waiting.reason;
    if (waiting.limit) text += ' ' + waiting.limit + (waiting.key ? ' (key ' + waiting.key + ')' : '');
    else if (waiting.key) text += ' (key ' + waiting.key + ')';
    if (waiting.until) text += ' until ' + BGJ.formatTime(waiting.until);
    return text;
  };

  /** A batch child's execution id is `<batchId>.<index>`; null for any other run. */
  BGJ.batchOf = function (executionId) {
    var match = /^(batch\.[^.]+)\.(\d+)$/.exec(executionId);
    return match ? { batchId: match[1], index: Number(match[2]) } : null;
  };

  BGJ.batchLink = function (batchId, text) {
    return h('a', { href: '#/batches/' + encodeURIComponent(batchId) }, text || batchId);
  };

  function facts(list) {
    return h(
      'dl',
      { class: 'facts' },
      list
        .filter(function (f) {
          return f[1] !== undefined && f[1] !== null;
        })
        .map(function (f) {
          return [h('dt', {}, f[0]), h('dd', { class: f[2] || null }, f[1])];
        }),
    );
  }

  function waitingSection(run) {
    var w = run.waiting;
    if (!w) return null;
    return h(
      'section',
      { class: 'panel', 'aria-labelledby': 'run-waiting' },
      h('h2', { id: 'run-waiting' }, 'Why it waits'),
      facts([
        ['Reason', w.reason, 'waiting-reason'],
        ['Meaning', REASONS[w.reason] || null],
        ['Limit', w.limit || null, 'waiting-limit'],
        ['Key', w.key || null, 'waiting-key'],
        ['Until', w.until ? BGJ.time(w.until) : 'woken by an event (a slot freeing, a dependency ending)'],
      ]),
    );
  }

  function dependenciesSection(run) {
    if (!run.after || !run.after.length) return null;
    return h(
      'section',
      { class: 'panel', 'aria-labelledby': 'run-after' },
      h('h2', { id: 'run-after' }, 'Runs after ' + run.after.length + (run.after.length === 1 ? ' run' : ' runs')),
      h(
        'ul',
        { class: 'dependencies' },
        run.after.map(function (id) {
          return h('li', { class: 'mono' }, BGJ.runLink(id));
        }),
      ),
      h(
        'p',
        { class: 'muted' },
        run.onDependencyFailure === 'run'
          ? 'Runs even if one of them fails or is cancelled.'
          : 'Cancelled if one of them fails or is cancelled.',
      ),
    );
  }

  function batchSection(run) {
    var batch = BGJ.batchOf(run.executionId);
    if (!batch) return null;
    return h('p', { class: 'batch-of' }, 'Run ' + (batch.index + 1) + ' of batch ', BGJ.batchLink(batch.batchId), '.');
  }

  function stepsSection(run) {
    if (!run.steps || !run.steps.length) return null;
    var rows = run.steps.map(function (step) {
      return h(
        'tr',
        { 'data-step': step.name },
        h('th', { scope: 'row' }, step.name),
        h('td', {}, BGJ.badge(step.state)),
        h('td', { class: 'num' }, step.durationMs + ' ms'),
        h('td', { class: 'nowrap' }, BGJ.formatTime(step.startedAt)),
        h('td', {}, step.error || null),
      );
    });
    return h(
      'section',
      { class: 'panel', 'aria-labelledby': 'run-steps' },
      h('h2', { id: 'run-steps' }, 'Steps (' + run.steps.length + ')'),
      BGJ.table('Steps of run ' + run.executionId, ['Step', 'State', 'Duration', 'Started', 'Error'], rows),
      h('p', { class: 'muted' }, 'A completed step is not run again: a retry or a resumed run gets its result back.'),
    );
  }

  /** The sections composition and flow control add to a run's page, in the order they are shown. */
  BGJ.runParts = function (run) {
    return [batchSection(run), waitingSection(run), dependenciesSection(run), stepsSection(run)];
  };
})();
