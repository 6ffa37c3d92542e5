import { Injectable } from '@nestjs/common';
import { TenantDirectory } from 'nestjs-background-jobs';
import { NotificationTenants } from '../domain';

/** The TENANT_DIRECTORY of the sample: the notification domain's active tenants. */
@Injectable()
export class NotificationTenantDirectory implements TenantDirectory {
  constructor(private readonly tenants: NotificationTenants) {}

  listTenantIds(): Promise<string[]> {
    return this.tenants.listActiveIds();
  }
}
