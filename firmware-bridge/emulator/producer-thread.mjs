// Worker entry of producer.ts: worker threads do not inherit the parent's tsx loader, so register
// it here (as host/cli/qkdn-edge.mjs does for the command) before loading the TypeScript.
import { register } from 'tsx/esm/api';

register();
await import('./producer.ts');
