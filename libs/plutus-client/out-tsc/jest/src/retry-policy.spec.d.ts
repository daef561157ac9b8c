export {};
//# sourceMappingURL=retry-policy.spec.d.ts.map