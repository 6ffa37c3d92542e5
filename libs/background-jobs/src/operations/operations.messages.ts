/* Messages of the operations surface; tests import these instead of copying strings. */

export const INVALID_QUERY = (field: string, value: unknown, expected: string): string =>
  `Query parameter "${field}" is invalid (${JSON.stringify(value)}): expected ${expected}.`;

export const CONFLICTING_QUERY = (first: string, second: string): string =>
  `Query parameters "${first}" and "${second}" cannot be combined: paginate with offset/limit or with page/size.`;

export const EXECUTION_NOT_FOUND = (executionId: string): string =>
  `No execution "${executionId}" (never enqueued, or removed by history retention).`;

export const BATCH_NOT_FOUND = (batchId: string): string =>
  `No batch "${batchId}" (never created, or expired 7 days after it finished).`;

export const RECURRING_NOT_FOUND = (jobId: string, known: string[]): string =>
  `No recurring job or schedule "${jobId}". Schedules: ${known.length ? known.join(', ') : '(none)'}.`;

export const SCHEDULE_NOT_FOUND = (scheduleId: string): string =>
  `No runtime schedule "${scheduleId}" (never made with PUT schedules/:id, or removed already).`;

export const INVALID_SCHEDULE_BODY = (field: string, value: unknown, expected: string): string =>
  `Body field "${field}" is invalid (${JSON.stringify(value)}): expected ${expected}.`;

export const CANCEL_FINISHED = (executionId: string, state: string): string =>
  `Execution "${executionId}" is ${state}; only pending, delayed or running runs can be cancelled.`;

export const OPERATIONS_WITHOUT_GUARD =
  'operations.guard is required: the operations surface exposes job payloads and can cancel and trigger runs, ' +
  'so it is mounted only behind a guard. Fix: pass operations: { guard: MyAdminGuard }, or leave operations out.';

export const ASYNC_OPERATIONS_MISPLACED =
  'forRootAsync: the factory returned `operations`, but the HTTP surface is built before the factory runs. ' +
  'Fix: pass operations next to useFactory: forRootAsync({ operations: { guard }, useFactory, inject }).';

export const MAXMEMORY_POLICY_WARNING = (policy: string): string =>
  `Redis maxmemory-policy is "${policy}": under memory pressure Redis may evict queued jobs and schedulers. ` +
  `Fix: CONFIG SET maxmemory-policy noeviction (and in redis.conf).`;

export const REPLICA_UNREACHABLE_WARNING = (addresses: string[]): string =>
  `Redis Cluster replica(s) ${addresses.join(', ')} did not answer: a failover of their shard would have no replica to promote. ` +
  'Fix: bring the replica(s) back (CLUSTER NODES shows their state).';

export const MASTERS_UNREACHABLE = (addresses: string[]): string =>
  `Redis Cluster master(s) ${addresses.join(', ')} did not answer.`;

export const OPERATIONS_TOKEN_MISSING = (field: string): string =>
  `OperationsTokenGuard: options.${field} is missing or empty, so nobody could sign in. ` +
  `Fix: pass a secret from the environment, e.g. new OperationsTokenGuard({ ${field}: process.env.OPS_TOKEN! }), ` +
  'and fail the boot when that variable is unset.';

export const OPERATIONS_TOKEN_INVALID = (field: string, min: number): string =>
  `OperationsTokenGuard: options.${field} must be a string of at least ${min} characters with no whitespace ` +
  '(the value is not shown: it is a secret). Fix: generate one, e.g. `openssl rand -hex 32`.';

export const OPERATIONS_READ_ONLY_ACTION = (method: string): string =>
  `This operations token is read-only: ${method} requests (cancel, retry, pause, trigger, enqueue, delete) are ` +
  'refused. Fix: sign in with the full-access token.';

export const DASHBOARD_CSRF_REFUSED =
  "This dashboard action lacks its session's CSRF header (x-bgj-csrf), or carries one without that session. " +
  'Fix: act from the dashboard page after signing in, or call the REST routes with Authorization: Bearer <token>.';

export const DASHBOARD_SIGN_IN_BODY = (max: number): string =>
  `Sign-in expects a JSON body { "token": "<operations token>" } (1 to ${max} characters, no whitespace). ` +
  'Fix: send the token the operations guard accepts.';

export const DASHBOARD_SESSION_ENDED = 'Your dashboard session has ended. Sign in again.';

export const JOB_NOT_FOUND = (jobId: string, known: string[]): string =>
  `No job "${jobId}". Jobs: ${known.length ? known.join(', ') : '(none)'}.`;

export const PAYLOAD_REJECTED_BY_SCHEMA = (jobId: string, reason: string): string =>
  `Job "${jobId}" refused the payload: ${reason}. Fix: change "data" to what the job's schema accepts; nothing was enqueued.`;
