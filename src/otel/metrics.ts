/**
 * The gateway's metrics (OpenTelemetry instruments). Labels are bounded: office ids (canonical,
 * at most the offices served), caller ids (configured names), sources, outcomes and status
 * classes; never a token, secret, key or path with a query.
 *
 * @module
 */
import type { Counter, Histogram, Meter } from "@opentelemetry/api";

/** Every metric name, its unit and what it counts (the README lists the same). */
export const METRICS = {
  tokenRequests: "aqc.token.requests",
  tokenLookups: "aqc.token.lookups",
  timeToExpiry: "aqc.token.time_to_expiry",
  upstreamDuration: "aqc.upstream.duration",
  upstream429: "aqc.upstream.rate_limited",
  rateLimited: "aqc.gateway.rate_limited",
  circuit: "aqc.token.circuit.open",
  held: "aqc.upstream.held",
  storeErrors: "aqc.store.errors",
  serverDuration: "http.server.request.duration",
} as const;

/** One office's token circuit, for the gauge. */
export interface CircuitReading {
  officeId: string;
  open: boolean;
  code?: string;
}

/** The instruments. */
export interface Instruments {
  tokenRequests: Counter;
  tokenLookups: Counter;
  timeToExpiry: Histogram;
  upstreamDuration: Histogram;
  upstream429: Counter;
  rateLimited: Counter;
  storeErrors: Counter;
  serverDuration: Histogram;
  /** Registers the gauges' readers (called once the gateway is built). */
  observeCircuit(circuit: () => CircuitReading[], held: () => Map<string, number>): void;
}

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Creates the instruments on a meter.
 *
 * @param meter The meter.
 * @returns The instruments.
 */
export function createInstruments(meter: Meter): Instruments {
  const circuit = meter.createObservableGauge(METRICS.circuit, {
    description: "1 while a token failure is in force for the office (requests fail fast)",
  });
  const held = meter.createObservableGauge(METRICS.held, {
    description: "Seconds the office is still held after an AQC 429",
    unit: "s",
  });
  return {
    tokenRequests: meter.createCounter(METRICS.tokenRequests, {
      description: "Token requests to AQC by outcome (success or the error code)",
    }),
    tokenLookups: meter.createCounter(METRICS.tokenLookups, {
      description: "Tokens obtained for proxied requests by source (l1, l2, endpoint, peer)",
    }),
    timeToExpiry: meter.createHistogram(METRICS.timeToExpiry, {
      description: "Seconds left on the cached token when its refresh starts",
      unit: "s",
    }),
    upstreamDuration: meter.createHistogram(METRICS.upstreamDuration, {
      description: "Duration of AQC calls by office and status class",
      unit: "s",
      advice: { explicitBucketBoundaries: SECONDS },
    }),
    upstream429: meter.createCounter(METRICS.upstream429, {
      description: "AQC 429 answers by office",
    }),
    rateLimited: meter.createCounter(METRICS.rateLimited, {
      description: "Requests the gateway answered 429 (caller limit or AQC 429 hold)",
    }),
    storeErrors: meter.createCounter(METRICS.storeErrors, {
      description: "Store calls that failed or timed out, by operation",
    }),
    serverDuration: meter.createHistogram(METRICS.serverDuration, {
      description: "Duration of gateway requests",
      unit: "s",
      advice: { explicitBucketBoundaries: SECONDS },
    }),
    observeCircuit(readCircuit, readHeld) {
      circuit.addCallback((result) => {
        for (const reading of readCircuit()) {
          result.observe(reading.open ? 1 : 0, {
            "aqc.office_id": reading.officeId,
            ...(reading.open && reading.code !== undefined
              ? { "aqc.error_code": reading.code }
              : {}),
          });
        }
      });
      held.addCallback((result) => {
        for (const [officeId, ms] of readHeld()) {
          result.observe(Math.ceil(ms / 1000), { "aqc.office_id": officeId });
        }
      });
    },
  };
}
