export {};
//# sourceMappingURL=version.spec.d.ts.map