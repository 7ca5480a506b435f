/**
 * MxiPerformanceBundle (Mxi type 0x43; Y.3818 clause 7.1 performance management function, clause
 * 9.1 Fig 11: "management in each layer sends a performance report ... packed by XLMO-A and then
 * sent to XLMO-B"): one entry per layer and scope (a Qx link, or `border` for the interworking
 * service as a whole) over the period [from, to), with the QoS parameters of ITU-T Y.3807
 * clause 8, as integers so that the encoding is exact:
 *
 * | field            | Y.3807 | unit                                                 |
 * |------------------|--------|------------------------------------------------------|
 * | throughput       | 8.1    | key bits per second supplied across the border       |
 * | kkrd             | 8.2    | KSA-key response delay, mean, microseconds           |
 * | kkrdv            | 8.3    | KSA-key response delay variation, microseconds       |
 * | kkder            | 8.4    | KSA-key delivery error ratio, parts per million      |
 * | kkdlr            | 8.5    | KSA-key delivery loss ratio, parts per million       |
 * | availability     | 8.6    | share of the period in service, parts per million    |
 * | restoration      | 8.6.1  | longest service restoration time, milliseconds       |
 *
 *   { bundle: uuid, reporter: id, from: ms, to: ms,
 *     entries: [{ layer: QL|KML|control|management, scope: id, throughput, kkrd, kkrdv, kkder, kkdlr, availability, restoration }] }
 */
import { IwDecodeError } from '../errors.js';
import { array, id, object, oneOf, time, uint, uuid } from '../schema.js';
import { defineMessage } from '../spec.js';

export const LAYERS = ['QL', 'KML', 'control', 'management'] as const;
export type Layer = (typeof LAYERS)[number];

export interface PerformanceEntry {
  readonly layer: Layer;
  readonly scope: string;
  readonly throughput: number;
  readonly kkrd: number;
  readonly kkrdv: number;
  readonly kkder: number;
  readonly kkdlr: number;
  readonly availability: number;
  readonly restoration: number;
}

export interface MxiPerformanceBundle {
  readonly bundle: string;
  readonly reporter: string;
  readonly from: number;
  readonly to: number;
  readonly entries: readonly PerformanceEntry[];
}

const ppm = uint(1_000_000);

export const MxiPerformanceBundleSpec = defineMessage<'MxiPerformanceBundle', MxiPerformanceBundle>({
  name: 'MxiPerformanceBundle',
  rp: 'Mxi',
  type: 0x43,
  answer: false,
  schema: object({
    bundle: uuid,
    reporter: id,
    from: time,
    to: time,
    entries: array(
      object({ layer: oneOf(LAYERS), scope: id, throughput: uint(), kkrd: uint(), kkrdv: uint(), kkder: ppm, kkdlr: ppm, availability: ppm, restoration: uint() }),
      1,
      256,
    ),
  }),
  check: (m) => {
    if (m.to <= m.from) throw new IwDecodeError('MxiPerformanceBundle.to', 'must be after from');
  },
  bytes: [],
  freeText: [],
  example: {
    bundle: '1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b',
    reporter: 'xlmo-a',
    from: 1_800_000_000_000,
    to: 1_800_000_060_000,
    entries: [
      { layer: 'KML', scope: 'border', throughput: 25600, kkrd: 4200, kkrdv: 900, kkder: 0, kkdlr: 0, availability: 1_000_000, restoration: 0 },
      { layer: 'QL', scope: 'qx-ab', throughput: 51200, kkrd: 0, kkrdv: 0, kkder: 0, kkdlr: 0, availability: 998_000, restoration: 120 },
    ],
  },
  vector: '850118430700a56662756e646c65782431663265336434632d356236612d343739382d386137622d366335643465336632613162687265706f7274657266786c6d6f2d616466726f6d1b000001a3185c500062746f1b000001a3185d3a6067656e747269657382a9656c61796572634b4d4c6573636f706566626f726465726a7468726f756768707574196400646b6b7264191068656b6b726476190384656b6b64657200656b6b646c72006c617661696c6162696c6974791a000f42406b726573746f726174696f6e00a9656c6179657262514c6573636f70656571782d61626a7468726f75676870757419c800646b6b726400656b6b72647600656b6b64657200656b6b646c72006c617661696c6162696c6974791a000f3a706b726573746f726174696f6e1878',
});
