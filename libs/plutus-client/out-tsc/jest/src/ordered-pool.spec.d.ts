export {};
//# sourceMappingURL=ordered-pool.spec.d.ts.map