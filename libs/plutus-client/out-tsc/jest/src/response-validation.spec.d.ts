export {};
//# sourceMappingURL=response-validation.spec.d.ts.map