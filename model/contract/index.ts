/** The model's contract: everything that crosses a boundary between pipeline, server and device. */

export * from './admin-api.ts';
export * from './api.ts';
export * from './bounds.ts';
export * from './canonical.ts';
export * from './countries.ts';
export * from './endpoints.ts';
export * from './enrollment-code.ts';
export * from './errors.ts';
export * from './features.ts';
export * from './manifest.ts';
export * from './model-card.ts';
export * from './monitoring-api.ts';
export * from './outcome.ts';
export * from './prediction-log.ts';
export * from './reference.ts';
