/**
 * Errors of the management layer and the one registry mapping each code to its HTTP status on the
 * management API. The body has the key API's shape, `{ message, details: [{code}, ...] }`, so one
 * client handles both. host/manager/README.md documents every code.
 */
export const MANAGEMENT_ERRORS = {
  /** The body is not JSON, or not of the documented shape; `details` says where. */
  ERR_MGMT_BAD_REQUEST: 400,
  /** A query or path parameter is out of its bounds. */
  ERR_MGMT_INVALID_PARAMETER: 400,
  /** A configuration was refused by its checks (the reason names the field). */
  ERR_MGMT_CONFIG_INVALID: 400,
  /** The client certificate is valid for the network but is not an operator's (OU=OPERATOR). */
  ERR_MGMT_UNAUTHORIZED: 401,
  /** No such alarm or configuration version. */
  ERR_MGMT_NOT_FOUND: 404,
  /** The configuration changed meanwhile (`baseVersion` is not the current version). */
  ERR_MGMT_CONFLICT: 409,
  /** Where the configuration applies (the controller's configuration control) refused it; the version in force stays. */
  ERR_MGMT_CONFIG_REFUSED: 409,
  /** The node cannot apply or answer now (stopping, store closed). */
  ERR_MGMT_UNAVAILABLE: 503,
} as const;

export type ManagementErrorCode = keyof typeof MANAGEMENT_ERRORS;
export type ErrorDetail = Readonly<Record<string, string | number | boolean>>;

export class ManagementError extends Error {
  readonly code: ManagementErrorCode;
  readonly status: number;
  readonly details: readonly ErrorDetail[];

  constructor(code: ManagementErrorCode, message: string, details: readonly ErrorDetail[] = []) {
    super(message);
    this.name = 'ManagementError';
    this.code = code;
    this.status = MANAGEMENT_ERRORS[code];
    this.details = details;
  }

  body(): { message: string; details: ErrorDetail[] } {
    return { message: this.message, details: [{ code: this.code }, ...this.details] };
  }
}
