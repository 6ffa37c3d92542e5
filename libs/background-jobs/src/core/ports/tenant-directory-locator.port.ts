import { TenantDirectory } from '../../contracts';

/**
 * Finds the host's TENANT_DIRECTORY wherever the host provided it (usually its root module, which the
 * library's module cannot inject from). Provided by the entry.
 */
export abstract class TenantDirectoryLocator {
  abstract find(): TenantDirectory | undefined;
}
