#!/usr/bin/env node
// The `wasm-cnn` command: see src/cli/. Built into build/dist/cli.js by `npm run build`.
import '../build/dist/cli.js';
