import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// NOTE: every step that must be atomic is one Lua script (in ./lua, named <what-it-does>-<number of keys>.lua, as
// bullmq names its commands), so no other client can interleave between check and act. Read once, when this module
// loads; the build copies the .lua files beside the compiled .js.
const lua = (name: string): string => readFileSync(join(__dirname, 'lua', name), 'utf8');

/** Compare-and-extend one lock: see lua/extend-lock-1.lua. */
export const EXTEND = lua('extend-lock-1.lua');

/** Acquires and releases, two keys per operation, in the order asked: see lua/acquire-release-batch-2n.lua. */
export const BATCH = lua('acquire-release-batch-2n.lua');
