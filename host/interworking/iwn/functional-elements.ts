/**
 * Where each functional element of an interworking node (ITU-T Y.3818 clause 7.2) lives in
 * host/interworking/iwn, and the test that shows it at work. Each file named here names its
 * element in its header comment (functional-elements.test.ts checks that, and that the tests
 * exist), so the map cannot drift from the code.
 */
export interface IwnFunctionalElement {
  readonly element: string;
  /** Files of host/interworking/iwn. */
  readonly files: readonly string[];
  /** Tests (from the repository root) that exercise it. */
  readonly tests: readonly string[];
  readonly note: string;
}

const FIG_6 = 'hil-tests/interworking/iwn/iwn.test.ts';
const CLEAR = 'hil-tests/interworking/iwn/in-clear.test.ts';
const CRASH = 'hil-tests/interworking/iwn/crash.test.ts';
const UNPRIMED = 'hil-tests/interworking/iwn/unprimed.test.ts';

export const IWN_FUNCTIONAL_ELEMENTS: readonly IwnFunctionalElement[] = [
  { element: 'key transfer function', files: ['km-iwf.ts', 'transfer-pads.ts', 'transfer-journal.ts'], tests: [FIG_6, CLEAR, CRASH], note: "KM-A → KM-B over Kxi-1' (Kxi1KeyRelay, ctx IWN), padded with IWN transfer pads, journalled by both KMs so that a crash loses no key; key relay inside a QKDN is host/km's" },
  { element: 'key supply function', files: ['km-iwf.ts'], tests: [FIG_6], note: "Kxi2KeySupplyNotification over Kxi-2'; KM-B hands the keys over to the slave SAE's KM, reserved for it (host/km/hand-over.ts)" },
  { element: 'session control function', files: ['km-iwf.ts', 'controller-iwf.ts', 'ck-link.ts'], tests: [FIG_6, CLEAR, UNPRIMED], note: 'Kxi1Sessions: a pad used once, a key once; admission of each transfer by controller-A, in the IWN or over Ck' },
  { element: 'routing control function', files: ['controller-iwf.ts', 'controller-host.ts'], tests: [FIG_6, UNPRIMED], note: "the transfer route, suspended and resumed by both controllers on a fault (Fig 13), over Cxi' or Cxi" },
  { element: 'policy-based control function', files: ['controller-iwf.ts', 'iwn.ts'], tests: [FIG_6], note: 'only shared SAEs, within their key size; every message through the border filter' },
  { element: 'configuration control function', files: ['controller-iwf.ts'], tests: [FIG_6], note: 'the transfer link and keys determined for KM-A (Fig 12)' },
  { element: 'fault management function', files: ['../mxi/xlmo-iwf.ts', 'controller-host.ts'], tests: [FIG_6, UNPRIMED], note: "KMLM-A → XLMO-A → XLMO-B over Mxi' (or over Ck, then Mxi), diagnosis, QCLM decisions (Fig 14)" },
  { element: 'configuration management function', files: ['iwn.ts'], tests: [FIG_6], note: 'transfer link and shared SAEs provisioned at start and checked against both networks; no run-time change' },
  { element: 'accounting management function', files: ['../mxi/xlmo-iwf.ts'], tests: [FIG_6], note: "keys per SAE pair and direction, sealed to the other XLMO (MxiAccounting)" },
  { element: 'performance management function', files: ['../mxi/xlmo-iwf.ts'], tests: [FIG_6], note: 'the transfer service’s Y.3807 parameters per period (MxiPerformanceBundle)' },
  { element: 'security management function', files: ['../mxi/xlmo-iwf.ts', 'iwn.ts'], tests: [FIG_6], note: 'Mxi sealed with pinned manager keys; pinned mutual TLS between the KMs; a tamper zeroizes both KMs' },
];
