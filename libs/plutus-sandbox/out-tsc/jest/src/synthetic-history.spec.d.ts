export {};
//# sourceMappingURL=synthetic-history.spec.d.ts.map