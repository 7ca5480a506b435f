/** Node and SAE IDs go into URL paths (ETSI 014), certificate CNs and file names: unreserved URL characters only. */
export const ID_PATTERN = /^[A-Za-z0-9._~-]{1,64}$/;

/** KME: a node; SAE: a key API client; OPERATOR: a person or system on the management API. */
export type Role = 'KME' | 'SAE' | 'OPERATOR';
