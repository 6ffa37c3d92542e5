/* Message factories: every error the framework raises is built here, and tests import these instead of copying strings. */

const show = (value: unknown): string => {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return `[function ${value.name || 'anonymous'}]`;
  try {
    const json = JSON.stringify(value);
    return json === undefined ? String(value) : json;
  } catch {
    return String(value);
  }
};

/** Job ids and schedule ids: lower-case letters, digits, ':', '.', '_', '-', starting with a letter or digit. */
export const JOB_ID_PATTERN = /^[a-z0-9][a-z0-9:._-]*$/;
export const JOB_ID_PATTERN_TEXT = String(JOB_ID_PATTERN);

export const INVALID_JOB_ID = (id: unknown, className: string): string =>
  `@PipelineJob on class ${className} has invalid id ${show(id)}: ids must match ${JOB_ID_PATTERN_TEXT} ` +
  `(lower-case letters, digits, ':', '.', '_', '-'; starting with a letter or digit). Fix: rename it, e.g. "${suggestId(id)}".`;

export const INVALID_CRON = (id: string, className: string, cron: unknown, reason: string): string =>
  `Job "${id}" (class ${className}) has invalid cron ${show(cron)}: ${reason}. ` +
  `Fix: use 5 fields ("m h dom mon dow", e.g. "0 3 * * *") or 6 with seconds first (e.g. "*/10 * * * * *").`;

export const INVALID_TIMEZONE = (id: string, className: string, timezone: unknown): string =>
  `Job "${id}" (class ${className}) has unknown timezone ${show(timezone)}. ` +
  `Fix: use an IANA zone name such as "UTC" or "Europe/Berlin".`;

export const DUPLICATE_JOB_ID = (id: string, firstClass: string, secondClass: string): string =>
  `Job id "${id}" is declared twice: by class ${firstClass} and by class ${secondClass}. ` +
  `Fix: give each @PipelineJob a unique id (it is the BullMQ scheduler id).`;

export const MISSING_EXECUTE = (id: string, className: string): string =>
  `Job "${id}" (class ${className}) has no execute() method. ` +
  `Fix: implement BackgroundJob: async execute(ctx: JobContext) { ... }.`;

export const REQUEST_SCOPED_JOB = (id: string, className: string): string =>
  `Job "${id}" (class ${className}) is request-scoped or depends on a request-scoped provider; ` +
  `a job runs outside any request. Fix: make it a singleton (the default scope) and read per-run data from the JobContext.`;

export const MISSING_TENANT_DIRECTORY = (id: string, className: string): string =>
  `Job "${id}" (class ${className}) has tenancy "per-tenant" but no TENANT_DIRECTORY is provided. ` +
  `Fix: provide a TenantDirectory under the TENANT_DIRECTORY token, or use tenancy "host".`;

export const INVALID_JOB_OPTION = (
  id: string,
  className: string,
  option: string,
  value: unknown,
  expected: string,
): string => `Job "${id}" (class ${className}) has invalid ${option} ${show(value)}: expected ${expected}.`;

export const INVALID_MODULE_OPTION = (option: string, value: unknown, expected: string): string =>
  `BackgroundJobsModule option ${option} is invalid (${show(value)}): expected ${expected}.`;

export const UNKNOWN_JOB = (job: unknown, known: string[]): string =>
  `No @PipelineJob is registered as ${show(job)}. ` +
  `Fix: pass a job class decorated with @PipelineJob and listed in a module's providers, or one of the ids: ${
    known.length ? known.join(', ') : '(none registered)'
  }.`;

export const DISABLED_JOB = (id: string): string =>
  `Job "${id}" is disabled (enabled: false), so it cannot be enqueued. Fix: enable it, or do not enqueue it.`;

export const INVALID_ENQUEUE_OPTION = (id: string, option: string, value: unknown, expected: string): string =>
  `enqueue("${id}") got invalid ${option} ${show(value)}: expected ${expected}. Nothing was enqueued.`;

export const INVALID_TENANT_ID = (id: string, value: unknown): string =>
  `enqueue("${id}") got invalid tenantId ${show(value)}: expected null (host level) or a non-empty string ` +
  `of at most 128 printable characters (no control or bidirectional-control characters). Nothing was enqueued.`;

export const WAIT_TIMEOUT = (executionId: string, ms: number): string =>
  `Execution "${executionId}" did not finish within ${ms} ms (it goes on). ` +
  `Fix: raise waitTimeoutMs, or poll getExecution().`;

export const NOT_RECURRING = (id: string, action: string): string =>
  `"${id}" is neither a recurring job (cron or everyMs, enabled) nor a runtime schedule, so there is no schedule to ${action}. ` +
  `Fix: ${action} a job with a cron or everyMs, or the id of a schedule made with upsertSchedule.`;

export const INVALID_SCHEDULE = (scheduleId: unknown, option: string, value: unknown, expected: string): string =>
  `Schedule ${show(scheduleId)} has invalid ${option} ${show(value)}: expected ${expected}. Fix: pass ${expected}; nothing was scheduled.`;

export const SCHEDULE_ID_TAKEN = (scheduleId: string, action: 'upsert' | 'remove'): string =>
  `Schedule id "${scheduleId}" is the id of a @PipelineJob, whose own schedule is declared by its decorator. ` +
  (action === 'upsert'
    ? `Fix: choose another id for the runtime schedule (e.g. "${scheduleId}:runtime").`
    : `Fix: pause it (pause("${scheduleId}")) or set enabled: false on the job; removeSchedule removes runtime schedules only.`);

export const SCHEDULE_OF_DISABLED_JOB = (scheduleId: string, jobId: string): string =>
  `Schedule "${scheduleId}" names job "${jobId}", which is disabled (enabled: false). Fix: enable the job first; nothing was scheduled.`;

export const RETRY_NOT_FAILED = (executionId: string, state: string): string =>
  `Execution "${executionId}" is ${state}; only failed runs can be retried. ` +
  `Fix: wait for it to fail, or enqueue a new run.`;

export const INVALID_LOG_LIMIT = (executionId: string, limit: unknown): string =>
  `getExecutionLogs("${executionId}") got invalid limit ${show(limit)}: expected a positive integer (the last lines to return). ` +
  `Fix: pass a limit of 1 or more, or leave it out (100).`;

export const INVALID_EXECUTION_ID = (executionId: unknown): string =>
  `Execution id ${show(executionId)} is invalid: expected the non-empty string enqueue() returned.`;

function suggestId(id: unknown): string {
  const text = typeof id === 'string' ? id : 'my-job';
  const cleaned = text
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[^a-z0-9:._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '');
  return cleaned || 'my-job';
}

export const LOCK_UNAVAILABLE = (key: string, ms: number, cause: string): string =>
  `Lock "${key}" could not be acquired: the lock store did not answer within ${ms} ms (${cause}). ` +
  `Nothing is held. Fix: check that Redis is reachable at transport.connection; the run is retried.`;

export const LOCK_BUSY = (key: string): string => `lock "${key}" is held by another run`;

export const LOCK_LOST = (key: string, why: string): string =>
  `Lock "${key}" was lost: ${why}. The run was aborted so that two holders never work at once.`;

export const LOCK_MAX_HOLD = (key: string, maxHoldMs: number): string =>
  `Lock "${key}" was given up after its maxHoldMs of ${maxHoldMs} ms.`;

export const LOCK_NOT_CONFIGURED = (id: string): string =>
  `Job "${id}" has a lock, but this transport provides no DistributedLock. ` +
  `Fix: use the 'bullmq' transport, or remove the job's lock option.`;

export const INVALID_LOCK_OPTION = (key: unknown, option: string, value: unknown, expected: string): string =>
  `DistributedLock.acquire(${show(key)}) got invalid ${option} ${show(value)}: expected ${expected}.`;

export const INVALID_PAYLOAD = (id: string, problem: string): string =>
  `enqueue("${id}") got a payload that cannot be queued: ${problem}. Nothing was enqueued. ` +
  `Fix: pass plain JSON data (ids, not whole objects), or raise maxPayloadBytes.`;

export const PAYLOAD_CHANGED_BY_JSON = (
  id: string,
  path: string,
  what: string,
  arrivesAs: string,
  rejected: boolean,
): string =>
  `enqueue("${id}") got a payload that JSON would change: ${path} is ${what}; the job would receive ${arrivesAs}. ` +
  (rejected ? 'Nothing was enqueued. ' : "It was enqueued anyway (payloadChanges: 'warn'). ") +
  `Fix: pass plain JSON data (an ISO string for a Date, [...map] or Object.fromEntries(map), [...set], a plain object ` +
  `for a class instance), or set payloadChanges: 'warn' to accept the change.`;

export const UNPROVIDED_JOB = (className: string, id: unknown): string =>
  `Class ${className} has @PipelineJob({ id: ${show(id)} }) but no module provides it, so it is not registered ` +
  `(no schedule, and enqueue refuses it). Fix: add ${className} to the providers of a module the app imports.`;

export const SHUTDOWN_HOOKS_DISABLED =
  'Shutdown hooks are not enabled: on SIGTERM the process exits at once and running jobs stop mid-way ' +
  '(BullMQ hands them to another instance only after the worker lock expires). ' +
  'Fix: call app.enableShutdownHooks() in main.ts, or handle SIGTERM yourself with await app.close().';

export const SHUTDOWN_DRAIN = (running: number, graceMs: number): string =>
  `Shutting down: waiting up to ${formatSeconds(graceMs)} for ${running} run${running === 1 ? '' : 's'} to finish ` +
  `(worker.shutdownGraceMs); after that, running jobs are aborted and handed back to the queue.`;

export const SHUTDOWN_DRAINED = (finished: number, handedBack: number, ms: number): string =>
  `Shut down after ${ms} ms: ${finished} run${finished === 1 ? '' : 's'} finished, ${handedBack} handed back to the queue.`;

export const DEFAULT_PREFIX_IN_PRODUCTION = (queues: string[]): string =>
  `transport.prefix is not set, so this app uses BullMQ's default prefix "bull" in production (NODE_ENV=production), ` +
  `on queue(s) ${queues.map((q) => `"${q}"`).join(', ') || '(none)'}: another app on the same Redis with the same ` +
  `defaults shares its keys and removes its schedules as unknown. Fix: set transport.prefix to a name unique to this app.`;

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

export const UNRESOLVABLE_INTERCEPTOR = (className: string, reason: string): string =>
  `Interceptor class ${className} (BackgroundJobsModule option interceptors) could not be created through Nest DI: ${reason} ` +
  `Fix: list ${className} in the providers of a module the app imports (its dependencies are then resolved there), ` +
  `or make its dependencies global.`;

export const UNKNOWN_JOB_EVENT = (handler: string, name: unknown, known: string[]): string =>
  `@OnJobEvent on ${handler} names unknown event ${show(name)}. Fix: use one of ${known.join(', ')}.`;

export const REQUEST_SCOPED_EVENT_HANDLER = (handler: string): string =>
  `@OnJobEvent on ${handler}: its class is request-scoped or depends on a request-scoped provider, and job events ` +
  `happen outside any request. Fix: make it a singleton (the default scope).`;

export const DRAIN_WITHOUT_WORKER =
  'drain() on a producer-only test app (worker: false) cannot run anything. Fix: leave worker unset in BackgroundJobsModule.forTest().';

export const INVALID_TEST_CLOCK_MOVE = (value: unknown, now?: Date): string =>
  `The test clock cannot move to ${value instanceof Date ? value.toISOString() : show(value)}` +
  `${now ? ` (it is ${now.toISOString()})` : ''}: expected a number of ms ≥ 0, or a Date not before now. ` +
  `Fix: advanceBy(ms) or advanceTo(a later Date).`;

export const LOCAL_SCHEDULES_NOT_LOADED =
  'LocalSchedules was used before reconcile() loaded @nestjs/schedule. ' +
  'Fix: this is a bug in nestjs-background-jobs (the transport starts its schedules after reconcile); please report it.';

export const NOT_ON_TEST_CLOCK = (method: string): string =>
  `BackgroundJobsTesting.${method}() drives the test clock, and this app runs BackgroundJobsModule on real time. ` +
  'Fix: import BackgroundJobsModule.forTest() instead of forRoot(), or keep your AppModule and put it on the test ' +
  'clock: Test.createTestingModule({ imports: [AppModule] }).overrideProvider(BACKGROUND_JOBS_TEST_CLOCK).useValue({}).';

export const MODULE_REGISTERED_TWICE = (registrations: string[]): string =>
  `BackgroundJobsModule is registered ${registrations.length} times in one app: ${registrations.join('; ')}. ` +
  'Each registration would start its own transport and workers, and BackgroundJobs would answer from one of them. ' +
  'Fix: register it once. To test your AppModule on the test clock, import only AppModule and ' +
  'override BACKGROUND_JOBS_TEST_CLOCK (docs/testing.md#your-real-appmodule-on-the-test-clock).';

export const NO_TENANT_DIRECTORY = (id: string): string =>
  `Job "${id}" is per-tenant but no TENANT_DIRECTORY is provided. Fix: provide a TenantDirectory under TENANT_DIRECTORY.`;

export const BAD_TENANT_LISTING = (id: string, type: string): string =>
  `TENANT_DIRECTORY.listTenantIds() returned ${type} for job "${id}": expected string[]. Fix: resolve an array of tenant ids.`;

export const INVALID_TENANT_IDS_SKIPPED = (id: string, invalid: unknown[]): string =>
  `Job "${id}": TENANT_DIRECTORY returned ${invalid.length} invalid tenant id(s) ${JSON.stringify(invalid.slice(0, 5))}; ` +
  `they were skipped. Fix the directory: ids are non-empty strings of at most 128 printable characters.`;

export const JOB_TIMED_OUT = (id: string, timeoutMs: number): string =>
  `Job "${id}" exceeded its timeout of ${timeoutMs} ms.`;

export const INVALID_PROGRESS = (id: string, percent: unknown): string =>
  `reportProgress(${String(percent)}) in job "${id}": expected a number from 0 to 100.`;

export const SCHEMA_REJECTED = (id: string, reason: string): string =>
  `The payload of job "${id}" was rejected by its schema: ${reason}`;

export const REDIS_UNREACHABLE = (where: string, cause: string): string =>
  `BackgroundJobs cannot use Redis at ${where}: ${cause}. Fix: start Redis there, or correct transport.connection (url, password).`;

export const UNREGISTERED_QUEUE_JOB = (name: string): string =>
  `No @PipelineJob "${name}" is registered on this instance; the queue belongs to nestjs-background-jobs. ` +
  `Fix: deploy the job on every instance that works this queue, or remove its runs.`;

export const CANCELLED_ON_REQUEST = (executionId: string): string =>
  `Execution ${executionId} was cancelled on request.`;

export const CANCELLED_BEFORE_START = 'Cancelled before it started.';

export const SHUTDOWN_HANDED_BACK = (executionId: string, graceMs: number): string =>
  `Instance shutting down: execution ${executionId} handed back after a ${graceMs} ms grace period.`;

export const SHUTDOWN_INTERRUPTED = (executionId: string, graceMs: number): string =>
  `Instance shutting down: execution ${executionId} interrupted after a ${graceMs} ms grace period.`;

export const PAUSED_SKIP = (id: string): string => `Job "${id}" is paused.`;

export const MISFIRE_SKIP = (missed: number, lateMs: number, thresholdMs: number): string =>
  `misfire: ${missed} later tick(s) were missed while no worker ran (the tick started ${lateMs} ms late, past misfireThresholdMs ${thresholdMs})`;

export const SCHEDULE_ENDED_SKIP = (scheduleId: string, endDate: Date): string =>
  `schedule "${scheduleId}" ended at ${endDate.toISOString()}: a tick due after its endDate does not run`;

export const MISFIRE_SKIP_LOG = (scheduleId: string, missed: number, lateMs: number): string =>
  `Skipped a tick of schedule "${scheduleId}": ${lateMs} ms late, ${missed} later tick(s) already due when it started (misfire: 'skip').`;

export const MISSING_OPTIONAL_PEER = (pkg: string, feature: string, install: string): string =>
  `${feature} needs ${pkg}, which is not installed (it is an optional peer dependency of nestjs-background-jobs). ` +
  `Fix: ${install}`;
