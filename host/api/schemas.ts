/**
 * JSON schemas of the ETSI GS QKD 014 V1.1.1 data formats, for fastify: request schemas reject
 * wrong shapes before the handler (request.ts has the exact rules), response schemas make
 * serialization fast and guarantee that integers go out as JSON integers and that nothing but the
 * standard's fields (and its extensions) leaves the server.
 */
import { ID_PATTERN } from '../pki/ids.js';

const SAE_ID = { type: 'string', pattern: ID_PATTERN.source } as const;

export const SCHEMAS = {
  params: { type: 'object', required: ['SAE_ID'], properties: { SAE_ID: SAE_ID } },
  encQuery: { type: 'object', properties: { number: { type: 'string' }, size: { type: 'string' } } },
  decQuery: { type: 'object', required: ['key_ID'], properties: { key_ID: { type: 'string' } } },
  keyRequest: {
    type: 'object',
    properties: {
      number: { type: 'integer' },
      size: { type: 'integer' },
      additional_slave_SAE_IDs: { type: 'array', items: { type: 'string' } },
      extension_mandatory: { type: ['array', 'object'] },
      extension_optional: { type: ['array', 'object'] },
    },
  },
  keyIds: {
    type: 'object',
    required: ['key_IDs'],
    properties: {
      key_IDs: { type: 'array', items: { type: 'object', required: ['key_ID'], properties: { key_ID: { type: 'string' }, key_ID_extension: {} } } },
      key_IDs_extension: {},
    },
  },
  status: {
    type: 'object',
    properties: {
      source_KME_ID: { type: 'string' },
      target_KME_ID: { type: 'string' },
      master_SAE_ID: { type: 'string' },
      slave_SAE_ID: { type: 'string' },
      key_size: { type: 'integer' },
      stored_key_count: { type: 'integer' },
      max_key_count: { type: 'integer' },
      max_key_per_request: { type: 'integer' },
      max_key_size: { type: 'integer' },
      min_key_size: { type: 'integer' },
      max_SAE_ID_count: { type: 'integer' },
      status_extension: { type: 'object', properties: { key_source: { type: 'string' }, relayed: { type: 'boolean' } } },
    },
  },
  keyContainer: {
    type: 'object',
    properties: {
      keys: { type: 'array', items: { type: 'object', properties: { key_ID: { type: 'string' }, key: { type: 'string' } } } },
    },
  },
} as const;
