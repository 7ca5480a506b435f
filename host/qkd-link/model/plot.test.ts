import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PROTOCOL } from '../module/config.js';
import { physicsFromProtocol } from './link-physics.js';
import { parseMeasuredPoints, readMeasuredPoints, recordMeasuredPoints, formatMeasuredPoints } from './measured.js';
import { modelTable, plotData, SVG_PATH, DEFAULT_F } from './plot.js';
import { linkBlock, predictSkr } from './skr.js';
import { escapeXml, rateLabel, renderSkrPlot } from './svg.js';
import { MeasuredPointsError } from './errors.js';

/**
 * XML well-formedness, enough for our SVG: one root, every tag closed in order, attributes quoted
 * and unique, no raw '<' or stray '&' in text or attribute values. Returns the root's name.
 */
function checkWellFormed(xml: string): string {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  let root = '';
  let rootClosed = false;
  const re = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*"[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(body))) {
    if (m[6]) throw new Error(`malformed tag at ${m.index}: ${body.slice(m.index, m.index + 40)}`);
    if (m[5] !== undefined) {
      if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(m[5])) throw new Error(`stray & in text at ${m.index}`);
      if (stack.length === 0 && m[5].trim() !== '') throw new Error(`text outside the root at ${m.index}`);
      continue;
    }
    const [, close, name, attrs, selfClose] = m;
    if (!close) {
      if (rootClosed || (stack.length === 0 && root)) throw new Error(`second root element <${name}>`);
      if (!root) root = name!;
      const names = [...attrs!.matchAll(/([\w:.-]+)\s*=\s*"([^"]*)"/g)].map((a) => {
        if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(a[2]!)) throw new Error(`stray & in attribute ${a[1]} of <${name}>`);
        return a[1]!;
      });
      if (new Set(names).size !== names.length) throw new Error(`duplicate attribute in <${name}>`);
      if (!selfClose) stack.push(name!);
      else if (stack.length === 0) rootClosed = true;
    } else {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
      if (stack.length === 0) rootClosed = true;
    }
  }
  if (stack.length) throw new Error(`unclosed <${stack.join('> <')}>`);
  if (!rootClosed) throw new Error('no root element');
  return root;
}

/** The polyline `curve-<id>` as [x, y] pairs (SVG coordinates: y grows downwards). */
function curve(svg: string, id: string): [number, number][] {
  const m = new RegExp(`<polyline id="curve-${id}"[^>]* points="([^"]*)"`).exec(svg);
  assert.ok(m, `curve ${id} present`);
  return m![1]!.split(' ').map((p) => p.split(',').map(Number) as [number, number]);
}

function checkFigure(svg: string, measured: number): void {
  assert.is(checkWellFormed(svg), 'svg');
  assert.match(svg, /xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  const finite = curve(svg, 'finite');
  const asym = curve(svg, 'asymptotic');
  const plob = curve(svg, 'plob');
  for (const [name, c] of [
    ['finite', finite],
    ['asymptotic', asym],
    ['plob', plob],
  ] as const) {
    assert.ok(c.length > 100, `${name}: ${c.length} points over 0-150 km`);
    for (let i = 1; i < c.length; i++) {
      assert.ok(c[i]![0] > c[i - 1]![0], `${name}: distance increases`);
      assert.ok(c[i]![1] >= c[i - 1]![1], `${name}: rate falls with distance (point ${i})`);
    }
  }
  // Lower on the page is a lower rate: at each shared x, finite below asymptotic below PLOB.
  const at = (c: [number, number][], x: number) => c.find((p) => p[0] === x)?.[1];
  for (const [x, y] of finite) {
    const ya = at(asym, x);
    const yp = at(plob, x);
    if (ya !== undefined) assert.ok(y >= ya, `finite below asymptotic at x ${x}`);
    if (yp !== undefined) assert.ok(y >= yp, `finite below PLOB at x ${x}`);
  }
  const group = /<g id="measured"[^>]*>([\s\S]*?)<\/g>/.exec(svg);
  assert.ok(group, 'measured group present');
  assert.is((group![1]!.match(/<circle /g) ?? []).length, measured, 'one marker per measured point (regenerate the figure with plot.ts)');
}

test('the well-formedness checker refuses what it should', () => {
  for (const bad of ['<svg><g></svg>', '<svg a="1" a="2"/>', '<svg>a & b</svg>', '<svg/><svg/>', '<svg><g x=1/></svg>']) {
    assert.throws(() => checkWellFormed(bad), undefined, bad);
  }
  assert.is(checkWellFormed('<?xml version="1.0"?>\n<svg a="&amp;"><g/>text &lt;</svg>\n'), 'svg');
});

test('the committed figure is well-formed SVG with monotone curves in order', () => {
  const svg = readFileSync(SVG_PATH, 'utf8');
  checkFigure(svg, readMeasuredPoints().length);
});

test('a figure with measured points: one marker each, labels escaped, still well-formed', () => {
  const data = plotData({
    physics: physicsFromProtocol(DEFAULT_PROTOCOL),
    block: linkBlock(1 << 20, DEFAULT_PROTOCOL.pZ),
    skr: { f: DEFAULT_F },
    kmMax: 150,
    stepKm: 1,
    measured: [
      { distance_km: 10, skr_bps: 2.9e6 },
      { distance_km: 50, skr_bps: 6.1e5 },
      { distance_km: 149, skr_bps: 0 },
    ],
    blockLabel: 'blocks <of> 2^20 & more',
  });
  const svg = renderSkrPlot(data);
  checkFigure(svg, 2); // the zero point cannot be drawn on a log scale
  assert.ok(svg.includes('blocks &lt;of&gt; 2^20 &amp; more'));
  assert.is(escapeXml('a<b>&"'), 'a&lt;b&gt;&amp;&quot;');
  assert.is(rateLabel(0), '1 bit/s');
  assert.is(rateLabel(4), '10 kbit/s');
  assert.is(rateLabel(9), '1 Gbit/s');
});

test('the figures table: one row per distance with the predicted rates', () => {
  const physics = physicsFromProtocol(DEFAULT_PROTOCOL);
  const block = linkBlock(1 << 20, DEFAULT_PROTOCOL.pZ);
  const rows = modelTable(physics, block, { f: DEFAULT_F }, [10, 50]).trim().split('\n');
  assert.is(rows.length, 4);
  const skr10 = predictSkr(physics, 10, block, { f: DEFAULT_F }).skrBps;
  assert.ok(rows[2]!.startsWith('| 10 |') && rows[2]!.includes(`| ${(skr10 / 1e3).toFixed(1)} |`), rows[2]);
});

test('measured points: the documented file format round-trips, one point per distance; bad files are refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skr-points-'));
  try {
    const path = join(dir, 'measured-skr.json');
    assert.equal(readMeasuredPoints(path), []);
    recordMeasuredPoints([{ distance_km: 50, skr_bps: 6e5, skr_model_bps: 6.5e5, blocks: 4 }], path);
    const all = recordMeasuredPoints([{ distance_km: 10, skr_bps: 3e6 }, { distance_km: 50, skr_bps: 6.2e5 }], path);
    assert.equal(all, [
      { distance_km: 10, skr_bps: 3e6 },
      { distance_km: 50, skr_bps: 6.2e5 },
    ]);
    assert.equal(readMeasuredPoints(path), all);
    assert.equal(JSON.parse(readFileSync(path, 'utf8')), { version: 1, points: all });
    assert.is(formatMeasuredPoints(all), readFileSync(path, 'utf8'));
    for (const [text, why] of [
      ['{', /not JSON/],
      ['[]', /object/],
      ['{"version":2,"points":[]}', /version/],
      ['{"version":1,"points":[{"distance_km":-1,"skr_bps":1}]}', /distance_km/],
      ['{"version":1,"points":[{"distance_km":1,"skr_bps":"fast"}]}', /skr_bps/],
      ['{"version":1,"points":[{"distance_km":1,"skr_bps":1,"blocks":1.5}]}', /blocks/],
    ] as const) {
      writeFileSync(path, text);
      assert.throws(() => readMeasuredPoints(path), (e: unknown) => e instanceof MeasuredPointsError && e.code === 'ERR_MODEL_POINTS' && why.test(e.message), text);
    }
    assert.throws(() => parseMeasuredPoints('{"version":1}'), /points/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
