/**
 * The AQC-shaped flight APIs: search, price, and create/read/cancel an order. Inputs are
 * validated like Amadeus does (400 with `{"errors":[…]}`), answers are canned.
 *
 * @module
 */

import { AMADEUS_CODES, AMADEUS_JSON, type AmadeusErrorEntry, amadeusErrors } from "./errors.ts";
import { flightOffers, flightOrder, type LegQuery, pricedOffers } from "./flight_data.ts";
import type { SimRequest, SimulatorState } from "./state.ts";
import { randomBase62 } from "./token_store.ts";

// Bounded so benchmarks that book in a loop cannot grow the heap without limit.
const MAX_ORDERS = 10_000;
const IATA = /^[A-Z]{3}$/;

/**
 * `GET /v2/shopping/flight-offers?originLocationCode&destinationLocationCode&departureDate&adults`.
 *
 * @param req The request.
 * @returns 200 with offers, or 400.
 */
export function searchOffersGet(req: SimRequest): Response {
  const q = req.url.searchParams;
  const errors: AmadeusErrorEntry[] = [];
  const origin = requireParam(q, "originLocationCode", IATA, errors);
  const destination = requireParam(q, "destinationLocationCode", IATA, errors);
  const date = requireParam(q, "departureDate", null, errors);
  const adultsText = requireParam(q, "adults", /^[1-9]$/, errors);
  const returnDate = q.get("returnDate");
  const maxText = q.get("max");
  if (date !== null && !isDate(date)) errors.push(invalid({ parameter: "departureDate" }));
  if (returnDate !== null && !isDate(returnDate)) errors.push(invalid({ parameter: "returnDate" }));
  if (maxText !== null && !/^[1-9][0-9]{0,2}$/.test(maxText)) {
    errors.push(invalid({ parameter: "max" }));
  }
  if (errors.length > 0) return amadeusErrors(400, errors);
  const legs: LegQuery[] = [{ origin: origin!, destination: destination!, date: date! }];
  if (returnDate !== null) {
    legs.push({ origin: destination!, destination: origin!, date: returnDate });
  }
  return ok(flightOffers({
    legs,
    adults: Number(adultsText),
    max: maxText === null ? undefined : Number(maxText),
    currencyCode: q.get("currencyCode") ?? undefined,
  }, req.url.href));
}

/**
 * `POST /v2/shopping/flight-offers` with an `originDestinations` / `travelers` body.
 *
 * @param req The request.
 * @returns 200 with offers, or 400.
 */
export function searchOffersPost(req: SimRequest): Response {
  const body = parseJson(req);
  if (body instanceof Response) return body;
  const ods = body.originDestinations;
  if (!Array.isArray(ods) || ods.length === 0) {
    return amadeusErrors(400, [missing({ pointer: "/originDestinations" })]);
  }
  const errors: AmadeusErrorEntry[] = [];
  const legs = ods.map((od: unknown, i): LegQuery => {
    const o = isRecord(od) ? od : {};
    const range = isRecord(o.departureDateTimeRange) ? o.departureDateTimeRange : {};
    const leg = {
      origin: String(o.originLocationCode ?? ""),
      destination: String(o.destinationLocationCode ?? ""),
      date: String(range.date ?? ""),
    };
    const at = `/originDestinations[${i}]`;
    if (!IATA.test(leg.origin)) errors.push(invalid({ pointer: `${at}/originLocationCode` }));
    if (!IATA.test(leg.destination)) {
      errors.push(invalid({ pointer: `${at}/destinationLocationCode` }));
    }
    if (!isDate(leg.date)) errors.push(invalid({ pointer: `${at}/departureDateTimeRange/date` }));
    return leg;
  });
  const travelers = Array.isArray(body.travelers) ? body.travelers : [];
  if (travelers.length === 0) errors.push(missing({ pointer: "/travelers" }));
  if (errors.length > 0) return amadeusErrors(400, errors);
  const criteria = isRecord(body.searchCriteria) ? body.searchCriteria : {};
  const max = typeof criteria.maxFlightOffers === "number" ? criteria.maxFlightOffers : undefined;
  return ok(flightOffers({
    legs,
    adults: Math.min(travelers.length, 9),
    max,
    currencyCode: typeof body.currencyCode === "string" ? body.currencyCode : undefined,
  }, req.url.href));
}

/**
 * `POST /v1/shopping/flight-offers/pricing` with `{"data":{"flightOffers":[…]}}`.
 *
 * @param req The request.
 * @returns 200 with the priced offers, or 400.
 */
export function priceOffers(req: SimRequest): Response {
  const body = parseJson(req);
  if (body instanceof Response) return body;
  const data = isRecord(body.data) ? body.data : {};
  const offers = Array.isArray(data.flightOffers) ? data.flightOffers.filter(isRecord) : [];
  if (offers.length === 0) return amadeusErrors(400, [missing({ pointer: "/data/flightOffers" })]);
  return ok(pricedOffers(offers));
}

/**
 * `POST /v1/booking/flight-orders` with `{"data":{"flightOffers":[…],"travelers":[…]}}`.
 *
 * @param req The request.
 * @param options `officeId`: office of the token, which owns the order; `state`: where
 * orders are kept.
 * @returns 201 with the order and a `Location`, or 400.
 */
export function createOrder(
  req: SimRequest,
  { officeId, state }: { officeId: string; state: SimulatorState },
): Response {
  const body = parseJson(req);
  if (body instanceof Response) return body;
  const data = isRecord(body.data) ? body.data : {};
  const errors: AmadeusErrorEntry[] = [];
  if (!Array.isArray(data.flightOffers) || data.flightOffers.length === 0) {
    errors.push(missing({ pointer: "/data/flightOffers" }));
  }
  if (!Array.isArray(data.travelers) || data.travelers.length === 0) {
    errors.push(missing({ pointer: "/data/travelers" }));
  }
  if (errors.length > 0) return amadeusErrors(400, errors);
  const id = `eJz${randomBase62(24)}`;
  const order = flightOrder({
    id,
    officeId,
    reference: randomBase62(6).toUpperCase(),
    request: data,
  });
  state.orders.set(id, { officeId, data: order });
  if (state.orders.size > MAX_ORDERS) {
    state.orders.delete(state.orders.keys().next().value as string);
  }
  const res = ok({ data: order, dictionaries: {} }, 201);
  res.headers.set("location", `${req.url.origin}/v1/booking/flight-orders/${id}`);
  return res;
}

/**
 * `GET` or `DELETE /v1/booking/flight-orders/:id`; another office's order is not found.
 *
 * @param req The request.
 * @param id The order id from the path.
 * @param options `officeId`: office of the token; `state`: where orders are kept.
 * @returns 200 with the order, 204 after a cancel, or 404.
 */
export function readOrDeleteOrder(
  req: SimRequest,
  id: string,
  { officeId, state }: { officeId: string; state: SimulatorState },
): Response {
  const order = state.orders.get(id);
  if (order === undefined || order.officeId !== officeId) {
    return amadeusErrors(404, [{
      code: AMADEUS_CODES.recordNotFound,
      title: "NOT FOUND",
      detail: "Record not found",
      source: { parameter: "flightOrderId" },
    }]);
  }
  if (req.method === "DELETE") {
    state.orders.delete(id);
    return new Response(null, { status: 204 });
  }
  return ok({ data: order.data, dictionaries: {} });
}

function ok(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": AMADEUS_JSON },
  });
}

function parseJson(req: SimRequest): Record<string, unknown> | Response {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(req.body));
    if (isRecord(value)) return value;
  } catch {
    // Falls through to the same 400 as a non-object body.
  }
  return amadeusErrors(400, [{
    code: AMADEUS_CODES.invalidFormat,
    title: "INVALID FORMAT",
    detail: "The request body must be a JSON object",
    source: { pointer: "/" },
  }]);
}

function requireParam(
  query: URLSearchParams,
  name: string,
  pattern: RegExp | null,
  errors: AmadeusErrorEntry[],
): string | null {
  const value = query.get(name);
  if (value === null || value === "") {
    errors.push(missing({ parameter: name }));
    return null;
  }
  if (pattern !== null && !pattern.test(value)) {
    errors.push(invalid({ parameter: name }));
    return null;
  }
  return value;
}

function missing(source: Record<string, string>): AmadeusErrorEntry {
  return {
    code: AMADEUS_CODES.mandatoryDataMissing,
    title: "MANDATORY DATA MISSING",
    detail: "This field must be filled.",
    source,
  };
}

function invalid(source: Record<string, string>): AmadeusErrorEntry {
  return {
    code: AMADEUS_CODES.invalidFormat,
    title: "INVALID FORMAT",
    detail: "This field is not in the expected format.",
    source,
  };
}

function isDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(text);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
