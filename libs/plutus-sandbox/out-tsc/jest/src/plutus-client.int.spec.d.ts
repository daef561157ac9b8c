export {};
//# sourceMappingURL=plutus-client.int.spec.d.ts.map