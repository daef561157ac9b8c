// asl-validator ships JavaScript without type declarations; this is the part the tests use.
declare module 'asl-validator' {
  export default function aslValidator(
    definition: unknown,
    options?: unknown,
  ): { isValid: boolean; errorsText(separator?: string): string };
}
