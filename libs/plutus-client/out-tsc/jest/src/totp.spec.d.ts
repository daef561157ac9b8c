export {};
//# sourceMappingURL=totp.spec.d.ts.map