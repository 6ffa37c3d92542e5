import { MISSING_OPTIONAL_PEER } from '../contracts/background-jobs.messages';
import { MissingOptionalPeerError } from '../contracts/errors/missing-optional-peer.error';

/** An optional peer dependency: its package name, the feature that needs it and the command that installs it. */
export interface OptionalPeer {
  pkg: string;
  feature: string;
  install: string;
}

/**
 * Loads an optional peer dependency when a feature first needs it; a missing package is an error naming the feature
 * and the install command. `load` is the caller's own `() => import('<pkg>')`: our CommonJS build compiles it to
 * `require`, and an ESM host or test runner that runs the source gets a real `import()`, so both find the package.
 */
export async function loadOptionalPeer<T>(peer: OptionalPeer, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
    const notFound = code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND';
    if (notFound && String(message).includes(peer.pkg))
      throw new MissingOptionalPeerError(peer.pkg, MISSING_OPTIONAL_PEER(peer.pkg, peer.feature, peer.install));
    throw error;
  }
}
