// Entry of a post-processing worker thread: registers tsx's loader in this thread (workers do
// not inherit it), then runs worker.ts.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
