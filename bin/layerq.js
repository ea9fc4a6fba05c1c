#!/usr/bin/env node
'use strict';
// sharp decodes on libuv's pool (4 threads by default): size it to the cores before first use.
if (process.env.UV_THREADPOOL_SIZE === undefined) {
  process.env.UV_THREADPOOL_SIZE = String(Math.max(4, require('os').availableParallelism()));
}
let main;
try {
  ({ main } = require('../dist/src/cli/main.js'));
} catch (e) {
  // A broken install or an unbuilt checkout: one line, not a stack trace (LAYERQ_DEBUG=1 for it).
  const missing = e && e.code === 'MODULE_NOT_FOUND' && String(e.message).includes('dist/src/cli/main.js');
  const first = String((e && e.message) || e).split('\n')[0];
  process.stderr.write(`layerq: error: ${missing ? "dist/ is missing; in a checkout run 'npm run build'" : `cannot start: ${first}`}\n`);
  if (process.env.LAYERQ_DEBUG) process.stderr.write(`${e && e.stack}\n`);
  process.exit(1);
}
main(process.argv).then((code) => {
  process.exitCode = code;
});
