/**
 * Where each functional element of ITU-T Y.3818 lives: clause 7.1 (gateway nodes) and clause 7.2
 * (interworking node). Each file named here says which element it implements in its header
 * comment (functional-elements.test.ts checks that), so the map cannot drift from the code.
 * `state` is honest about how far each element goes in this tree: `wire` (its messages exist,
 * schema-checked and test-vectored), `logic` (its decisions are computed and tested), or
 * `pending` (the procedure that uses it is not wired end to end yet).
 */
export interface FunctionalElement {
  /** The element's name as the Recommendation writes it. */
  readonly element: string;
  readonly clauses: readonly ('7.1' | '7.2')[];
  /** Files of host/interworking that implement it. */
  readonly files: readonly string[];
  readonly state: 'wire' | 'logic' | 'pending';
  readonly note: string;
}

export const FUNCTIONAL_ELEMENTS: readonly FunctionalElement[] = [
  { element: 'key relay function', clauses: ['7.1'], files: ['kxi-1/key-relay.ts', 'kxi-1/relay-hop.ts'], state: 'logic', note: 'Kxi1KeyRelay: one-time pad with Qx units across the border; the gateway KM’s hop handler for it' },
  { element: 'key transfer function', clauses: ['7.2'], files: ['kxi-1/key-relay.ts'], state: 'wire', note: "the same message on Kxi-1' (ctx = IWN), KM-A to KM-B inside the IWN" },
  { element: 'key supply function', clauses: ['7.1', '7.2'], files: ['kxi-2/key-supply-notification.ts'], state: 'wire', note: 'Kxi2KeySupplyNotification and its response: master SAE in one network, slaves in the other' },
  { element: 'session control function', clauses: ['7.1', '7.2'], files: ['kxi-1/session.ts', 'kxi-1/relay-completion.ts', 'border/endpoint.ts'], state: 'logic', note: 'relay states across one Qx link (pads used once, keys delivered once, ETSI 020 completion and void); the pinned mutual-TLS session' },
  { element: 'routing control function', clauses: ['7.1', '7.2'], files: ['cxi/segments.ts', 'cxi/reroute.ts', 'gwn/controller-iwf.ts'], state: 'logic', note: 'segments joined at the GWN pair; consistent rerouting, propose / vote / commit, run by the GWN controllers on a link failure (Fig 10)' },
  { element: 'policy-based control function', clauses: ['7.1', '7.2'], files: ['border/policy.ts', 'border/filter.ts'], state: 'logic', note: 'sharing policy, topology summary, border filter' },
  { element: 'configuration control function', clauses: ['7.1', '7.2'], files: ['cxi/reroute-commit.ts', 'cxi/reroute.ts', 'gwn/controller-iwf.ts'], state: 'logic', note: 'the push of a committed plan to the gateway KMs: supplies held during a round, routes left out of the plan refused (Fig 10)' },
  { element: 'fault management function', clauses: ['7.1', '7.2'], files: ['mxi/fault.ts', 'mxi/diagnosis.ts', 'mxi/decision.ts', 'mxi/xlmo-iwf.ts'], state: 'logic', note: 'KMLM → XLMO-A → XLMO-B sealed; diagnosis; QCLM decision at both (Figs 11, 14)' },
  { element: 'configuration management function', clauses: ['7.1', '7.2'], files: ['mxi/decision.ts'], state: 'pending', note: 'border routes provisioned by the managers: only the suspend/resume decisions exist so far' },
  { element: 'accounting management function', clauses: ['7.1', '7.2'], files: ['mxi/accounting.ts', 'mxi/xlmo-iwf.ts'], state: 'logic', note: 'cross-border key usage per SAE pair and direction' },
  { element: 'performance management function', clauses: ['7.1', '7.2'], files: ['mxi/performance-bundle.ts', 'mxi/seal.ts', 'mxi/xlmo-iwf.ts'], state: 'logic', note: 'Y.3807 parameters per layer (KML, QL, control), packed by the XLMO and shared sealed (Fig 11)' },
  { element: 'security management function', clauses: ['7.1', '7.2'], files: ['mxi/security-report.ts', 'mxi/seal.ts', 'border/pinning.ts', 'mxi/xlmo-iwf.ts'], state: 'logic', note: 'security events of every layer, shared sealed; peer pinning' },
];
