import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A Lua script of ./lua as ioredis `defineCommand` takes it. */
export interface LuaCommand {
  numberOfKeys: number;
  lua: string;
}

/**
 * Reads `lua/<name>-<numberOfKeys>.lua` (bullmq's naming) once, when this module loads; the build copies the .lua
 * files beside the compiled .js.
 */
const command = (name: string, numberOfKeys: number): LuaCommand => ({
  numberOfKeys,
  lua: readFileSync(join(__dirname, 'lua', `${name}-${numberOfKeys}.lua`), 'utf8'),
});

/** The round (BullMQ priority) of each run about to be added to a fair queue: lua/fair-rounds-2.lua. */
export const FAIR_ROUNDS = command('fair-rounds', 2);
/** Takes or renews a tenant slot under the per-tenant cap: lua/acquire-tenant-slot-1.lua. */
export const ACQUIRE_TENANT_SLOT = command('acquire-tenant-slot', 1);
/** Extends a held tenant slot: lua/renew-tenant-slot-1.lua. */
export const RENEW_TENANT_SLOT = command('renew-tenant-slot', 1);
