/**
 * Errors of the ETSI GS QKD 014 server and the one registry that maps each code to its HTTP
 * status. ETSI 014 V1.1.1 defines 400 (bad request), 401 (unauthorized) and 503 (error on the
 * server side), each with a JSON body `{ "message": string, "details": [object, ...] }`; paths
 * outside the API get 404 with the same body. Nothing here ever carries key bytes, and refusals
 * about keys or SAEs that are not the caller's do not say whether those exist.
 * host/api/README.md documents every code; a test fails if one is missing there.
 */
export const API_ERRORS = {
  /** The body is not JSON, or JSON of the wrong shape (a schema failure). */
  ERR_API_BAD_REQUEST: 400,
  /** A parameter is out of its bounds (number, size, key IDs, SAE IDs); `details` names it. */
  ERR_API_INVALID_PARAMETER: 400,
  /** The body is larger than the server accepts. */
  ERR_API_BODY_TOO_LARGE: 400,
  /** The request's headers are larger than the HTTP layer accepts (16 KiB); the connection closes. */
  ERR_API_HEADERS_TOO_LARGE: 400,
  /** The request body is not application/json. */
  ERR_API_UNSUPPORTED_MEDIA_TYPE: 400,
  /** No key supply between the caller and the named SAE(s): unknown, foreign or same-KME SAEs alike. */
  ERR_API_SAE_PAIR: 400,
  /** extension_mandatory names an extension this KME does not implement. */
  ERR_API_EXTENSION_UNSUPPORTED: 400,
  /** dec_keys: a key ID that is unknown, not addressed to the caller by that master, or already delivered. */
  ERR_API_KEY_NOT_AVAILABLE: 400,
  /** The client certificate is valid for the network but does not name an SAE served by this KME. */
  ERR_API_UNAUTHORIZED: 401,
  /** Not enough key material now, or the peer KME / relay route is unreachable; retry later. */
  ERR_API_KEYS_UNAVAILABLE: 503,
  /** The KME cannot serve (zeroized, shutting down, internal fault). */
  ERR_API_SERVICE_UNAVAILABLE: 503,
  /** This SAE sent more requests than its rate limit allows; Retry-After says when to try again. */
  ERR_API_RATE_LIMITED: 503,
  /** Not an ETSI 014 path. */
  ERR_API_NOT_FOUND: 404,
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;

export type ErrorDetail = Readonly<Record<string, string | number | boolean>>;

export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly status: number;
  readonly details: readonly ErrorDetail[];
  /** Seconds after which a retry may succeed (the Retry-After header of a 503). */
  readonly retryAfterS: number | undefined;

  constructor(code: ApiErrorCode, message: string, details: readonly ErrorDetail[] = [], retryAfterS?: number) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = API_ERRORS[code];
    this.details = details;
    this.retryAfterS = retryAfterS;
  }

  /** The ETSI 014 error body; `code` is an extra detail for programs, first in the list. */
  body(): { message: string; details: ErrorDetail[] } {
    return { message: this.message, details: [{ code: this.code }, ...this.details] };
  }
}

export function invalid(parameter: string, reason: string): ApiError {
  return new ApiError('ERR_API_INVALID_PARAMETER', `invalid ${parameter}: ${reason}`, [{ parameter, reason }]);
}
