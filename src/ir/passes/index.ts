/** Graph preparation passes, each a pure Graph -> Graph function, and the pipeline. */
export { eliminateIdentity } from './eliminate-identity';
export { foldConstants } from './fold-constants';
export { fuseQdqPairs, FAKE_QUANTIZE, INTERNAL_OPS } from './fuse-qdq';
export { clipBoundsToAttrs } from './clip-attrs';
export { inferShapes } from './infer-shapes';
export { foldBatchNorm } from './fold-batchnorm';
export { checkSupported, RUNTIME_OPS } from './check-supported';
export { prepareModel } from './prepare';
