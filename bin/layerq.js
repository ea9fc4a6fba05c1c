#!/usr/bin/env node
'use strict';
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
