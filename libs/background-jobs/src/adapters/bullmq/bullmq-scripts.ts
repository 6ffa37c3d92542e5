import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A Lua script of ./lua as ioredis `defineCommand` takes it. */
export interface LuaCommand {
  /** The ioredis command name it is defined under (`bgj` + the file's name in camel case). */
  name: string;
  numberOfKeys: number;
  lua: string;
}

/**
 * Reads `lua/<name>-<numberOfKeys>.lua` (bullmq's naming) once, when this module loads; the build copies the .lua
 * files beside the compiled .js.
 */
const command = (file: string, numberOfKeys: number): LuaCommand => {
  const name = 'bgj' + file.replace(/(^|-)([a-z])/g, (_, __, letter: string) => letter.toUpperCase());
  return { name, numberOfKeys, lua: readFileSync(join(__dirname, 'lua', `${file}-${numberOfKeys}.lua`), 'utf8') };
};

/** The round (BullMQ priority) of each run about to be added to a fair queue: lua/fair-rounds-3.lua. */
export const FAIR_ROUNDS = command('fair-rounds', 3);
/** Admits a run when every limit it counts against has room, all or nothing: lua/admit-1.lua. */
export const ADMIT = command('admit', 1);
/** Parks, releases or drops a run on a concurrency key and wakes what has room: lua/settle-1.lua. */
export const SETTLE = command('settle', 1);
/** Extends a running run's concurrency slots: lua/renew-1.lua. */
export const RENEW_SLOTS = command('renew', 1);
/** Counts one batch child's final state once and says whether the callbacks are due: lua/batch-child-ended-2.lua. */
export const BATCH_CHILD_ENDED = command('batch-child-ended', 2);
/** Ends a batch still running when its timeout comes due; names its children not ended: lua/batch-timeout-2.lua. */
export const BATCH_TIMEOUT = command('batch-timeout', 2);
/** Registers a continuation's pending dependencies: lua/dependency-wait-1.lua. */
export const DEPENDENCY_WAIT = command('dependency-wait', 1);
/** One execution ended: the continuations it was the last pending dependency of: lua/dependency-ended-1.lua. */
export const DEPENDENCY_ENDED = command('dependency-ended', 1);
