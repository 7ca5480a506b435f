import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The dependency rule (docs/ARCHITECTURE.md): imports point downward,
 *   interworking → controller, manager → km → kq ← qkd-link → firmware-bridge, assembly;
 *   api, node and cli on top; pki and bench below the layers that use them.
 * Each folder lists the top-level folders it must not import (relative specifiers reach another
 * folder only through `../`, so a pattern on the specifier is enough). The manager learns of other
 * layers only through node:diagnostics_channel: it may import their `diagnostics.js` files (channel
 * names and event types) and nothing else of them. A dynamic import() with a constant specifier is
 * held to the same patterns by the small rule below (no-restricted-imports sees only static ones).
 */
const LAYERS = ['km', 'kq', 'qkd-link', 'node', 'api', 'cli', 'controller', 'manager', 'interworking', 'pki', 'bench'];
const FORBIDDEN = {
  kq: LAYERS.filter((l) => l !== 'kq'),
  bench: LAYERS.filter((l) => l !== 'bench'),
  pki: LAYERS.filter((l) => l !== 'pki' && l !== 'bench'),
  km: ['qkd-link', 'node', 'api', 'cli', 'controller', 'manager', 'interworking'],
  'qkd-link': ['km', 'node', 'api', 'cli', 'controller', 'manager', 'interworking', 'pki'],
  controller: ['qkd-link', 'node', 'api', 'cli', 'manager', 'interworking', 'firmware-bridge'],
  interworking: ['qkd-link', 'node', 'api', 'cli'],
  api: ['node', 'cli', 'manager', 'controller', 'interworking', 'qkd-link', 'firmware-bridge'],
  node: ['cli'],
  cli: [],
};
// Below every folder of host/: the board side knows nothing of the host.
const FIRMWARE_BRIDGE = [{ regex: '^(\\.\\./)+host/', message: 'firmware-bridge imports nothing of host/ (docs/ARCHITECTURE.md, dependency rule)' }];

const up = (folders) => `^(\\.\\./)+(host/)?(${folders.join('|')})/`;
const layerPatterns = (layer) => {
  if (layer === 'manager') {
    // Interworking and the key supply API sit above the manager: not even their channels (what the
    // manager hears from them is defined below it, in its own or the km layer's diagnostics).
    const above = ['interworking', 'api', 'node', 'cli'];
    const others = [...LAYERS.filter((l) => l !== 'manager' && l !== 'pki' && l !== 'bench' && !above.includes(l)), 'firmware-bridge'];
    return [
      { regex: up(above), message: `host/manager must not import ${above.join(', ')}, which sit above it (docs/ARCHITECTURE.md, dependency rule)` },
      { regex: `${up(others)}(?!(.*/)?diagnostics\\.js$)`, message: 'the manager learns of other layers through their diagnostics channels only: import their diagnostics.js, nothing else' },
    ];
  }
  const forbidden = FORBIDDEN[layer];
  const own = forbidden.length === 0 ? [] : [{ regex: up(forbidden), message: `host/${layer} must not import ${forbidden.join(', ')} (docs/ARCHITECTURE.md, dependency rule)` }];
  // Kx and the interworking reference points decode outside bytes with the board protocol's checked CBOR decoder (one decoding policy), nothing else of the boards.
  return layer === 'km' || layer === 'interworking' ? [...own, { regex: '^(\\.\\./)+firmware-bridge/(?!protocol/cbor\\.js$)', message: `host/${layer} may import firmware-bridge/protocol/cbor.js (the checked CBOR decoder) and nothing else of firmware-bridge` }] : own;
};
// Production code never imports a test helper (test-*.ts) or a test.
const TEST_HELPERS = { regex: '(^|/)(test-[^/]*|[^/]*\\.test)\\.js$', message: 'production code must not import test helpers or tests' };
// Inside the link layer: the WASM kernels and the estimation sit below the session that uses them.
const QKD_LINK_INNER = {
  kernels: ['session', 'estimation', 'reconciliation', 'module', 'channel', 'model'],
  estimation: ['session', 'reconciliation', 'module', 'channel', 'model'],
};
const TESTS = ['**/*.test.ts', '**/*.bench.ts', '**/test-*.ts'];
const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }], 'layers/dynamic-import': ['error', patterns] });

/** no-restricted-imports' `{ regex, message }` patterns, applied to import('...') and import(`...`). */
const dynamicImport = {
  meta: { type: 'problem', schema: [{ type: 'array', items: { type: 'object', properties: { regex: { type: 'string' }, message: { type: 'string' } }, required: ['regex', 'message'] } }] },
  create(context) {
    const patterns = (context.options[0] ?? []).map((p) => ({ re: new RegExp(p.regex), message: p.message }));
    const constant = (n) => (n.type === 'Literal' && typeof n.value === 'string' ? n.value : n.type === 'TemplateLiteral' && n.expressions.length === 0 ? n.quasis[0].value.cooked : null);
    return {
      ImportExpression(node) {
        const spec = constant(node.source);
        const hit = spec === null ? undefined : patterns.find((p) => p.re.test(spec));
        if (hit) context.report({ node, message: `'${spec}' import is restricted from being used by a pattern. ${hit.message}` });
      },
    };
  },
};

const boundaries = [
  ...[...Object.keys(FORBIDDEN), 'manager'].flatMap((layer) => [
    { files: [`host/${layer}/**/*.ts`], rules: restrict([...layerPatterns(layer), TEST_HELPERS]) },
    { files: TESTS.map((t) => `host/${layer}/${t}`), rules: restrict(layerPatterns(layer)) },
  ]),
  ...Object.entries(QKD_LINK_INNER).map(([inner, below]) => ({
    files: [`host/qkd-link/${inner}/**/*.ts`],
    ignores: TESTS,
    rules: restrict([...layerPatterns('qkd-link'), TEST_HELPERS, { regex: `^\\.\\./(${below.join('|')})/`, message: `qkd-link/${inner} sits below ${below.join(', ')}` }]),
  })),
  { files: ['firmware-bridge/**/*.ts'], rules: restrict([...FIRMWARE_BRIDGE, TEST_HELPERS]) },
  { files: TESTS.map((t) => `firmware-bridge/${t}`), rules: restrict(FIRMWARE_BRIDGE) },
];

export default tseslint.config(
  { ignores: ['node_modules/', 'build/', 'assembly/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { plugins: { layers: { rules: { 'dynamic-import': dynamicImport } } } },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  ...boundaries,
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
