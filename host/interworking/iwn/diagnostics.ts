/**
 * What an interworking node tells observers (its process prints these as JSON lines; tests and
 * the manager's layer functions read them), on one node:diagnostics_channel channel. Never key
 * bytes: key IDs, SAE IDs, counts and reasons only.
 *
 * | kind              | from           | when                                                           |
 * |-------------------|----------------|----------------------------------------------------------------|
 * | transfer          | KM IWF         | a key transfer KM-A → KM-B: handing-over (at KM-B), then transferred, failed or voided |
 * | recovered         | IWN            | after a restart: transfers left in doubt voided at both ends (counts) |
 * | lifecycle         | controller IWF | a KM reported a transferred key's lifecycle metadata (Fig 12)   |
 * | transfer-admitted | controller IWF | the key resources were enough; link and keys determined (Fig 12)|
 * | transfer-refused  | controller IWF | they were not                                                   |
 * | status-shared     | controller IWF | the reachability it shares with the other controller changed    |
 * | fault             | controller IWF | a fault on its side, shared at once (Fig 13)                     |
 * | reroute-decision  | controller IWF | transfer towards an SAE suspended or resumed (Fig 13)           |
 * | mxi-fault         | XLMO IWF       | a fault sent to, or received from, the other XLMO (Fig 14)      |
 * | qclm-decision     | XLMO IWF       | its QCLM's decision on a diagnosis (Fig 14)                      |
 * | zeroized          | IWN            | a tamper zeroized both KMs                                      |
 */
import { channel } from 'node:diagnostics_channel';

export const IWN_CHANNEL = 'qkdn:interworking:iwn';

export interface LifecycleMetadata {
  readonly transfer: string;
  readonly km: string;
  readonly keys: readonly string[];
  /** transferred: KM-A sent them to KM-B; supplied: KM-B handed them to the slave SAE's KM; failed. */
  readonly state: 'transferred' | 'supplied' | 'failed';
  /** What became of the key data in this KM: deleted (after the transfer), handed over (to the slave's KM), burned. */
  readonly data: 'deleted' | 'handed-over' | 'burned';
  readonly at: number;
}

export type IwnEvent = { readonly kind: string } & Readonly<Record<string, unknown>>;

const ch = channel(IWN_CHANNEL);

export function publishIwnControl(e: IwnEvent): void {
  if (ch.hasSubscribers) ch.publish(e);
}
