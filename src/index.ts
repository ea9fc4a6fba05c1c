/** layerq's public library API. */
export * from './ir/graph';
