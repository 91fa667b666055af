import { VippathError } from '@vippath/wire';

/**
 * A manifest that MetalLB would reject (or that vippath cannot model). `object` is `Kind/name`, `field` the
 * path of the offending field, e.g. `spec.addresses[1]`.
 */
export class ManifestError extends VippathError {
  readonly object: string;
  readonly field: string;
  constructor(object: string, field: string, message: string) {
    super('BAD_MANIFEST', `${object}: ${field}: ${message}`);
    this.object = object;
    this.field = field;
  }
}

/** The controller could not give a Service an address (the reason is MetalLB's, in words). */
export class AllocationError extends VippathError {
  readonly service: string;
  constructor(service: string, message: string) {
    super('ALLOCATION_FAILED', `Service ${service}: ${message}`);
    this.service = service;
  }
}
