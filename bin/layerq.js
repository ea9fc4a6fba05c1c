#!/usr/bin/env node
'use strict';
// sharp decodes on libuv's pool (4 threads by default): size it to the cores before first use.
if (process.env.UV_THREADPOOL_SIZE === undefined) {
  process.env.UV_THREADPOOL_SIZE = String(Math.max(4, require('os').availableParallelism()));
}
require('../dist/src/cli/main.js').main(process.argv).then(
  (code) => { process.exitCode = code; },
);
