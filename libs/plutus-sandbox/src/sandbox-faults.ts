export type SandboxRoute = 'login' | 'rewards' | 'transactions';

export interface FaultSpec {
  /** How many matching requests get the fault. Default: all of them. */
  times?: number;
  /** Let this many matching requests through first. Default 0. */
  after?: number;
  /** Routes it applies to. Default: all. */
  routes?: SandboxRoute[];
}

/** Faults a test (or a curious user) can inject. Count-based, so a test knows exactly what happens. */
export interface SandboxFaults {
  /** Added before every response, in milliseconds. */
  latencyMs?: number;
  /** 429 with a Retry-After header. */
  rateLimit?: FaultSpec & { retryAfterSeconds?: number };
  /** A 5xx answer (500 unless `status` says otherwise). */
  serverError?: FaultSpec & { status?: number };
  /** The socket is destroyed without an answer. */
  dropConnection?: FaultSpec;
  /** A valid token is treated as expired (REST: 401; Hasura: 200 with `invalid-jwt`). */
  expiredToken?: FaultSpec;
  /** A 200 whose body is cut-off JSON. */
  malformedJson?: FaultSpec;
  /** A 200 whose first row carries `amount` as a string that is not a number. */
  wrongType?: FaultSpec;
  /** A sign-in with right credentials is refused (as when a TOTP code expires in transit). */
  rejectLogin?: FaultSpec;
}

export type FaultName = Exclude<keyof SandboxFaults, 'latencyMs'>;

const FAULT_ORDER: FaultName[] = [
  'dropConnection',
  'rateLimit',
  'serverError',
  'malformedJson',
  'expiredToken',
  'rejectLogin',
  'wrongType',
];

/** Decides which fault, if any, a request meets, counting down each fault's budget. */
export class FaultInjector {
  private faults: SandboxFaults = {};
  private seen = new Map<FaultName, number>();
  private fired = new Map<FaultName, number>();

  set(faults: SandboxFaults): void {
    this.faults = { ...faults };
    this.seen.clear();
    this.fired.clear();
  }

  get latencyMs(): number {
    return this.faults.latencyMs ?? 0;
  }

  /** The faults that apply to this request, in a fixed order; each is counted as fired. */
  draw(route: SandboxRoute, applicable: readonly FaultName[]): FaultName | undefined {
    for (const name of FAULT_ORDER) {
      if (!applicable.includes(name)) continue;
      const spec = this.faults[name];
      if (!spec || (spec.routes && !spec.routes.includes(route))) continue;
      const seen = (this.seen.get(name) ?? 0) + 1;
      this.seen.set(name, seen);
      if (seen <= (spec.after ?? 0)) continue;
      const fired = this.fired.get(name) ?? 0;
      if (fired >= (spec.times ?? Number.POSITIVE_INFINITY)) continue;
      this.fired.set(name, fired + 1);
      return name;
    }
    return undefined;
  }

  spec<K extends FaultName>(name: K): SandboxFaults[K] {
    return this.faults[name];
  }

  firedCount(name: FaultName): number {
    return this.fired.get(name) ?? 0;
  }
}
