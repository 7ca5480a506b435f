/**
 * Parsers of ETSI GS QKD 014 V1.1.1 requests: pure functions from what arrived (JSON body,
 * query string, path parameter) to a checked request, or an ApiError naming the parameter. They
 * are the single source of truth for what is accepted (the fastify schemas in schemas.ts only
 * reject obviously wrong shapes early), and fast-check covers them in request.test.ts.
 *
 * Accepted, as the standard and common clients need:
 * - Key request (enc_keys POST): `number` (default 1), `size` (default key_size),
 *   `additional_slave_SAE_IDs`, `extension_mandatory`, `extension_optional`; unknown top-level
 *   fields are ignored. Extensions as V1.1.1 arrays of single-pair objects or as later drafts'
 *   dictionaries. Every mandatory extension must be implemented (none is, yet) or the request is
 *   refused; optional ones are ignored.
 * - enc_keys GET: `number`, `size` as decimal digits, each at most once.
 * - Key IDs (dec_keys POST): `key_IDs`: [{ key_ID, key_ID_extension? }], `key_IDs_extension`.
 * - dec_keys GET: `key_ID` once.
 */
import { ApiError, invalid } from './errors.js';
import { ID_PATTERN } from '../pki/ids.js';

export interface EtsiLimits {
  /** Default key size in bits (status `key_size`). */
  readonly keySize: number;
  readonly minKeySize: number;
  readonly maxKeySize: number;
  readonly maxKeyPerRequest: number;
  /** Additional slave SAEs allowed in one request; 0 disables multicast. */
  readonly maxSaeIdCount: number;
}

export interface KeyRequest {
  readonly number: number;
  readonly size: number;
  readonly additionalSlaves: readonly string[];
}

const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const DIGITS = /^[0-9]{1,9}$/;

/** Extensions this KME implements when they come as extension_mandatory. */
export const SUPPORTED_MANDATORY_EXTENSIONS: ReadonlySet<string> = new Set();

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseSaeId(v: unknown, parameter: string): string {
  if (typeof v !== 'string' || !ID_PATTERN.test(v)) throw invalid(parameter, 'an SAE ID is 1-64 of A-Z a-z 0-9 . _ ~ -');
  return v;
}

function checkNumber(n: number, limits: EtsiLimits): number {
  if (!Number.isInteger(n) || n < 1 || n > limits.maxKeyPerRequest) throw invalid('number', `an integer from 1 to max_key_per_request (${limits.maxKeyPerRequest})`);
  return n;
}

function checkSize(s: number, limits: EtsiLimits): number {
  if (!Number.isInteger(s) || s < limits.minKeySize || s > limits.maxKeySize || s % 8 !== 0) throw invalid('size', `a multiple of 8 from min_key_size (${limits.minKeySize}) to max_key_size (${limits.maxKeySize}) bits`);
  return s;
}

/** Extension names from either form; refuses anything that is neither. */
function extensionNames(v: unknown, parameter: string): string[] {
  if (v === undefined) return [];
  if (Array.isArray(v)) {
    const names: string[] = [];
    for (const [i, e] of v.entries()) {
      if (!isObject(e) || Object.keys(e).length === 0) throw invalid(`${parameter}[${i}]`, 'an object naming an extension');
      names.push(...Object.keys(e));
    }
    return names;
  }
  if (isObject(v)) return Object.keys(v);
  throw invalid(parameter, 'an array of objects or an object');
}

function checkExtensions(body: Record<string, unknown>): void {
  const mandatory = extensionNames(body.extension_mandatory, 'extension_mandatory');
  extensionNames(body.extension_optional, 'extension_optional'); // shape only: optional ones are ignored
  const unsupported = mandatory.filter((n) => !SUPPORTED_MANDATORY_EXTENSIONS.has(n));
  if (unsupported.length > 0)
    throw new ApiError(
      'ERR_API_EXTENSION_UNSUPPORTED',
      'a mandatory extension is not supported by this KME',
      unsupported.slice(0, 16).map((n) => ({ extension: n.slice(0, 64) })),
    );
}

function checkAdditionalSlaves(v: unknown, master: string, slave: string, limits: EtsiLimits): string[] {
  if (v === undefined) return [];
  const p = 'additional_slave_SAE_IDs';
  if (!Array.isArray(v)) throw invalid(p, 'an array of SAE IDs');
  if (v.length === 0) throw invalid(p, 'must not be empty when present');
  if (v.length > limits.maxSaeIdCount) throw invalid(p, `at most max_SAE_ID_count (${limits.maxSaeIdCount}) SAE IDs`);
  const seen = new Set<string>([slave]);
  return v.map((x, i) => {
    const id = parseSaeId(x, `${p}[${i}]`);
    if (id === master) throw invalid(`${p}[${i}]`, 'the master SAE cannot be a slave');
    if (seen.has(id)) throw invalid(`${p}[${i}]`, 'duplicate SAE ID');
    seen.add(id);
    return id;
  });
}

/** enc_keys POST body. `master` is the caller, `slave` the path's slave_SAE_ID. */
export function parseKeyRequestBody(body: unknown, master: string, slave: string, limits: EtsiLimits): KeyRequest {
  if (!isObject(body)) throw new ApiError('ERR_API_BAD_REQUEST', 'the key request must be a JSON object');
  if (body.number !== undefined && typeof body.number !== 'number') throw invalid('number', 'a JSON integer');
  if (body.size !== undefined && typeof body.size !== 'number') throw invalid('size', 'a JSON integer');
  const number = body.number === undefined ? 1 : checkNumber(body.number as number, limits);
  const size = body.size === undefined ? limits.keySize : checkSize(body.size as number, limits);
  const additionalSlaves = checkAdditionalSlaves(body.additional_slave_SAE_IDs, master, slave, limits);
  checkExtensions(body);
  return { number, size, additionalSlaves };
}

function single(query: Record<string, unknown>, name: string): string | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalid(name, 'given at most once');
  return v;
}

/** enc_keys GET query string. */
export function parseKeyRequestQuery(query: unknown, limits: EtsiLimits): KeyRequest {
  const q = isObject(query) ? query : {};
  const n = single(q, 'number');
  const s = single(q, 'size');
  if (n !== undefined && !DIGITS.test(n)) throw invalid('number', 'decimal digits');
  if (s !== undefined && !DIGITS.test(s)) throw invalid('size', 'decimal digits');
  return { number: n === undefined ? 1 : checkNumber(Number(n), limits), size: s === undefined ? limits.keySize : checkSize(Number(s), limits), additionalSlaves: [] };
}

function keyId(v: unknown, parameter: string): string {
  if (typeof v !== 'string' || !UUID_PATTERN.test(v)) throw invalid(parameter, 'a UUID');
  return v.toLowerCase();
}

/** dec_keys POST body. */
export function parseKeyIdsBody(body: unknown, limits: EtsiLimits): string[] {
  if (!isObject(body)) throw new ApiError('ERR_API_BAD_REQUEST', 'the key IDs must be a JSON object');
  const list = body.key_IDs;
  if (!Array.isArray(list) || list.length === 0) throw invalid('key_IDs', 'a non-empty array');
  if (list.length > limits.maxKeyPerRequest) throw invalid('key_IDs', `at most max_key_per_request (${limits.maxKeyPerRequest}) key IDs`);
  const seen = new Set<string>();
  return list.map((e, i) => {
    if (!isObject(e)) throw invalid(`key_IDs[${i}]`, 'an object with key_ID');
    const id = keyId(e.key_ID, `key_IDs[${i}].key_ID`);
    if (seen.has(id)) throw invalid(`key_IDs[${i}].key_ID`, 'duplicate key ID');
    seen.add(id);
    return id;
  });
}

/** dec_keys GET query string. */
export function parseKeyIdQuery(query: unknown): string[] {
  const q = isObject(query) ? query : {};
  const v = single(q, 'key_ID');
  if (v === undefined) throw invalid('key_ID', 'required');
  return [keyId(v, 'key_ID')];
}
