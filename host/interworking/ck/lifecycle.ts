/**
 * CkLifecycle (Ck type 0x53; Fig 12, last step): a KM of the interworking node sends its
 * controller IWF, outside the IWN, the lifecycle metadata of keys it transferred (KM-A), handed
 * over (KM-B) or burned, and what became of their data there. Never key bytes.
 *
 *   { transfer: uuid, km: id, keys: [uuid], state: transferred|supplied|failed,
 *     data: deleted|handed-over|burned, at: ms }
 */
import { array, id, object, oneOf, time, uuid } from '../schema.js';
import { defineMessage, LIMITS } from '../spec.js';
import type { LifecycleMetadata } from '../iwn/diagnostics.js';

export const LIFECYCLE_STATES = ['transferred', 'supplied', 'failed'] as const;
export const LIFECYCLE_DATA = ['deleted', 'handed-over', 'burned'] as const;

export type CkLifecycle = LifecycleMetadata;

export const CkLifecycleSpec = defineMessage<'CkLifecycle', CkLifecycle>({
  name: 'CkLifecycle',
  rp: 'Ck',
  type: 0x53,
  answer: false,
  schema: object({ transfer: uuid, km: id, keys: array(uuid, 1, LIMITS.keys), state: oneOf(LIFECYCLE_STATES), data: oneOf(LIFECYCLE_DATA), at: time }),
  bytes: [],
  freeText: [],
  example: { transfer: '1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9', km: 'iwn-a', keys: ['0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d'], state: 'transferred', data: 'deleted', at: 1_800_000_000_000 },
  vector: '850118530700a6687472616e73666572782431663265336434632d356236612d343937382d383639352d613462336332643165306639626b6d6569776e2d61646b65797381782430613162326333642d346535662d346136622d386337642d3965306631613262336334646573746174656b7472616e7366657272656464646174616764656c657465646261741b000001a3185c5000',
});
