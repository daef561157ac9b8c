export {};
//# sourceMappingURL=sandbox-server.spec.d.ts.map