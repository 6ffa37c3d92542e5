import { DynamicModule, Provider } from '@nestjs/common';
import {
  BackgroundJobsModuleOptions,
  INVALID_MODULE_OPTION,
  JobDefinitionError,
  OperationsOptions,
} from '../contracts';
import { rejectUnknownKeys } from '../core';
import { BACKGROUND_JOBS_MODULE_OPTIONS } from '../background-jobs.module-definition';
import { createDashboardController, createDashboardNotFoundController } from './dashboard.controller';
import { createDashboardSessionController } from './dashboard-session.controller';
import { DashboardSessionGuard } from './dashboard-session.guard';
import { DashboardSessions } from './dashboard-sessions';
import { createOperationsController } from './operations.controller';
import { createOperationsJobsController } from './operations-jobs.controller';
import { ASYNC_OPERATIONS_MISPLACED, OPERATIONS_WITHOUT_GUARD } from './operations.messages';

/** `operations` as validated: the guard, the path without surrounding slashes, and whether the dashboard is served. */
export interface ResolvedOperations {
  guard: NonNullable<OperationsOptions['guard']>;
  path: string;
  ui: boolean;
}

const OPERATIONS_KEYS = ['guard', 'path', 'ui'];

/** Validates `operations`: an unknown key, a missing guard, a bad path or a non-boolean `ui` stops the boot. */
export function resolveOperations(operations: OperationsOptions): ResolvedOperations {
  if (typeof operations !== 'object' || operations === null) {
    throw new JobDefinitionError(
      INVALID_MODULE_OPTION('operations', operations, '{ guard: MyAdminGuard, path?: string, ui?: boolean }'),
    );
  }
  rejectUnknownKeys(
    operations,
    OPERATIONS_KEYS,
    (key, value, known) =>
      new JobDefinitionError(INVALID_MODULE_OPTION(`operations.${key}`, value, `one of the keys ${known.join(', ')}`)),
  );
  if (operations.ui !== undefined && typeof operations.ui !== 'boolean') {
    throw new JobDefinitionError(
      INVALID_MODULE_OPTION('operations.ui', operations.ui, 'true (serve the dashboard at <path>/ui) or false'),
    );
  }
  const guard = operations.guard as { canActivate?: unknown } | Function | undefined;
  if (!guard) throw new JobDefinitionError(OPERATIONS_WITHOUT_GUARD);
  if (typeof guard !== 'function' && typeof guard.canActivate !== 'function') {
    throw new JobDefinitionError(
      INVALID_MODULE_OPTION('operations.guard', guard, 'a guard class or an object with canActivate(context)'),
    );
  }
  const path = (operations.path ?? 'jobs').replace(/^\/+|\/+$/g, '');
  if (
    typeof operations.path !== 'undefined' &&
    (typeof operations.path !== 'string' || !/^[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/.test(path))
  ) {
    throw new JobDefinitionError(
      INVALID_MODULE_OPTION('operations.path', operations.path, "a URL path such as 'jobs' or 'admin/jobs'"),
    );
  }
  return { guard: guard as OperationsOptions['guard'], path, ui: operations.ui === true };
}

/**
 * Adds the operations controller to the module built by forRoot/forRootAsync when a guard is given. Nest takes a
 * controller's path and guards at decoration time, so the class is created here, once per module.
 */
export function withOperations(
  definition: DynamicModule,
  operations: OperationsOptions | undefined,
  async: boolean,
): DynamicModule {
  if (operations === undefined) {
    if (!async) return definition;
    // NOTE: forRootAsync resolves its options after the module is built: an `operations` returned by the factory
    // could not be mounted, so refuse it at boot instead of leaving the surface silently missing.
    const check: Provider = {
      provide: Symbol('background-jobs:operations-check'),
      useFactory: (raw: BackgroundJobsModuleOptions) => {
        if (raw?.operations) throw new JobDefinitionError(ASYNC_OPERATIONS_MISPLACED);
        return true;
      },
      inject: [BACKGROUND_JOBS_MODULE_OPTIONS],
    };
    return { ...definition, providers: [...(definition.providers ?? []), check] };
  }
  const resolved = resolveOperations(operations);
  const controllers = [createOperationsController(resolved), createOperationsJobsController(resolved)];
  const providers: Provider[] = [];
  if (resolved.ui) {
    // NOTE: the page calls the REST routes under <path>/ui/api, where its session cookie reaches them; the 404
    // catch-all comes last so that every other route under <path>/ui matches first.
    controllers.push(
      createDashboardSessionController(resolved),
      createDashboardController(resolved),
      createOperationsController({ ...resolved, path: `${resolved.path}/ui/api` }, [DashboardSessionGuard]),
      createOperationsJobsController({ ...resolved, path: `${resolved.path}/ui/api` }, [DashboardSessionGuard]),
      createDashboardNotFoundController(resolved),
    );
    providers.push({ provide: DashboardSessions, useFactory: () => new DashboardSessions() });
  }
  return {
    ...definition,
    controllers: [...(definition.controllers ?? []), ...controllers],
    providers: [...(definition.providers ?? []), ...providers],
  };
}
