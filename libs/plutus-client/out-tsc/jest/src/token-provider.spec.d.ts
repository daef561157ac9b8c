export {};
//# sourceMappingURL=token-provider.spec.d.ts.map