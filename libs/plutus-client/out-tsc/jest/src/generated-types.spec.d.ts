export {};
//# sourceMappingURL=generated-types.spec.d.ts.map