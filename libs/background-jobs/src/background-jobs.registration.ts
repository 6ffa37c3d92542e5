import { DynamicModule, Provider } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { JobDefinitionError, MODULE_REGISTERED_TWICE } from './contracts';

/** How and where this registration of the module was made, e.g. `forTest() at test/app.e2e-spec.ts:12:37`. */
export const REGISTRATION = Symbol('background-jobs:registration');

/**
 * Resolved before the options, so that a second registration stops the boot before either one connects or starts a
 * worker. Its value is meaningless; depending on it is the point.
 */
export const SINGLE_REGISTRATION = Symbol('background-jobs:single-registration');

/**
 * Marks `module` as a registration made by `how`, named with the caller's file and line. The last mark wins, so
 * `forTest()` may build on `forRoot()` and still be named `forTest()`.
 */
export function withRegistration(module: DynamicModule, how: string): DynamicModule {
  return { ...module, providers: [...(module.providers ?? []), { provide: REGISTRATION, useValue: named(how) }] };
}

/** Throws when the app holds more than one registration of the module, naming each. */
export const singleRegistration: Provider = {
  provide: SINGLE_REGISTRATION,
  useFactory: (modules: ModulesContainer): true => {
    const registrations = [...modules.values()]
      .map((module) => module.providers.get(REGISTRATION)?.instance as string | undefined)
      .filter((how): how is string => how !== undefined);
    if (registrations.length > 1) throw new JobDefinitionError(MODULE_REGISTERED_TWICE(registrations));
    return true;
  },
  inject: [ModulesContainer],
};

/** `how` and the first stack frame outside this library's module files: the host's line that registered it. */
function named(how: string): string {
  const frames = (new Error().stack ?? '').split('\n').slice(1);
  const caller = frames.find((frame) => !/background-jobs\.(module|registration)\.[cm]?[jt]s/.test(frame));
  const site = caller?.match(/\((.+)\)\s*$/)?.[1] ?? caller?.trim().replace(/^at\s+/, '');
  return site ? `${how} at ${site.replace(/^file:\/\//, '').replace(`${process.cwd()}/`, '')}` : how;
}
