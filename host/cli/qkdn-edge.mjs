#!/usr/bin/env node
// Entry point of the `qkdn-edge` command: runs the TypeScript sources through tsx's loader, so
// the code that runs is the code in the tree (no separate compile step to forget).
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
