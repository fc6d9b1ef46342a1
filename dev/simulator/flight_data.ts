/**
 * Canned but plausible flight data, derived deterministically from the search so equal
 * searches give equal answers.
 *
 * @module
 */

/** One leg asked for. */
export interface LegQuery {
  /** IATA origin, e.g. `NCE`. */
  origin: string;
  /** IATA destination, e.g. `JFK`. */
  destination: string;
  /** `YYYY-MM-DD`. */
  date: string;
}

/** A flight search. */
export interface OfferQuery {
  /** One leg per itinerary (two for a return trip). */
  legs: LegQuery[];
  /** Adult travellers, 1–9. */
  adults: number;
  /** How many offers; default 3, at most 250. */
  max?: number | undefined;
  /** Currency of prices; default `EUR`. */
  currencyCode?: string | undefined;
}

const CARRIERS: Record<string, string> = {
  "6X": "AMADEUS SIX",
  AF: "AIR FRANCE",
  LH: "LUFTHANSA",
  BA: "BRITISH AIRWAYS",
  KL: "KLM ROYAL DUTCH AIRLINES",
};
const AIRCRAFT: Record<string, string> = {
  "320": "AIRBUS A320",
  "321": "AIRBUS A321",
  "738": "BOEING 737-800",
  "77W": "BOEING 777-300ER",
};
const COUNTRIES: Record<string, string> = {
  NCE: "FR",
  CDG: "FR",
  ORY: "FR",
  LHR: "GB",
  FRA: "DE",
  MAD: "ES",
  AMS: "NL",
  JFK: "US",
  BKK: "TH",
  SYD: "AU",
};

/**
 * A Flight Offers Search answer.
 *
 * @param query The search.
 * @param selfUrl The request URL, echoed in `meta.links.self`.
 * @returns `{ meta, data, dictionaries }`.
 */
export function flightOffers(query: OfferQuery, selfUrl: string): Record<string, unknown> {
  const count = Math.min(Math.max(query.max ?? 3, 1), 250);
  const currency = query.currencyCode ?? "EUR";
  const seed = hash(query.legs.map((l) => l.origin + l.destination + l.date).join("|"));
  const carriers = Object.keys(CARRIERS);
  const aircraft = Object.keys(AIRCRAFT);
  const data = [];
  for (let i = 0; i < count; i++) {
    const carrier = carriers[(seed + i) % carriers.length];
    let segmentId = 0;
    const itineraries = query.legs.map((leg, legIndex) => {
      const minutes = 55 + ((seed >>> 3) + legIndex * 97) % 600;
      const departure = `${leg.date}T${pad(6 + (i * 3) % 16)}:${pad((seed + i * 5) % 12 * 5)}:00`;
      const arrival = addMinutes(departure, minutes);
      segmentId++;
      return {
        duration: isoDuration(minutes),
        segments: [{
          departure: { iataCode: leg.origin, at: departure },
          arrival: { iataCode: leg.destination, at: arrival },
          carrierCode: carrier,
          number: String(1000 + (seed + i * 31 + legIndex * 7) % 8000),
          aircraft: { code: aircraft[(seed + i + legIndex) % aircraft.length] },
          operating: { carrierCode: carrier },
          duration: isoDuration(minutes),
          id: String(segmentId),
          numberOfStops: 0,
          blacklistedInEU: false,
        }],
      };
    });
    const base = 49 + seed % 400 + i * 17.35;
    const perAdult = price(base, currency);
    const total = money((Number(perAdult.base) + Number(perAdult.taxes)) * query.adults);
    data.push({
      type: "flight-offer",
      id: String(i + 1),
      source: "GDS",
      instantTicketingRequired: false,
      nonHomogeneous: false,
      oneWay: false,
      lastTicketingDate: query.legs[0].date,
      numberOfBookableSeats: 9 - (i % 5),
      itineraries,
      price: {
        currency,
        total,
        base: money(Number(perAdult.base) * query.adults),
        fees: [{ amount: "0.00", type: "SUPPLIER" }, { amount: "0.00", type: "TICKETING" }],
        grandTotal: total,
      },
      pricingOptions: { fareType: ["PUBLISHED"], includedCheckedBagsOnly: true },
      validatingAirlineCodes: [carrier],
      travelerPricings: Array.from({ length: query.adults }, (_, t) => ({
        travelerId: String(t + 1),
        fareOption: "STANDARD",
        travelerType: "ADULT",
        price: { currency, total: perAdult.total, base: perAdult.base },
        fareDetailsBySegment: Array.from({ length: segmentId }, (_, s) => ({
          segmentId: String(s + 1),
          cabin: "ECONOMY",
          fareBasis: "YSIMAQC",
          class: "Y",
          includedCheckedBags: { quantity: 1 },
        })),
      })),
    });
  }
  return {
    meta: { count: data.length, links: { self: selfUrl } },
    data,
    dictionaries: dictionaries(query.legs.flatMap((l) => [l.origin, l.destination]), currency),
  };
}

/**
 * A Flight Offers Price answer: the offers back, confirmed, with taxes itemised.
 *
 * @param offers The offers sent for pricing.
 * @returns `{ data, dictionaries }`.
 */
export function pricedOffers(offers: Record<string, unknown>[]): Record<string, unknown> {
  const codes = new Set<string>();
  const flightOffers = offers.map((offer) => {
    for (const code of JSON.stringify(offer).match(/"iataCode":"([A-Z]{3})"/g) ?? []) {
      codes.add(code.slice(-4, -1));
    }
    const p = isRecord(offer.price) ? offer.price : {};
    const total = typeof p.total === "string" ? p.total : "0.00";
    const base = typeof p.base === "string" ? p.base : total;
    return {
      ...offer,
      price: {
        ...p,
        total,
        base,
        grandTotal: total,
        taxes: [{ amount: money(Number(total) - Number(base)), code: "YQ" }],
        billingCurrency: typeof p.currency === "string" ? p.currency : "EUR",
      },
    };
  });
  return {
    data: {
      type: "flight-offers-pricing",
      flightOffers,
      bookingRequirements: { emailAddressRequired: true, mobilePhoneNumberRequired: true },
    },
    dictionaries: { locations: dictionaries([...codes], "EUR").locations },
  };
}

/**
 * The `data` of a created Flight Create Orders answer.
 *
 * @param fields The order id, creating office, and the request's `data` member.
 * @returns The order.
 */
export function flightOrder(
  fields: { id: string; officeId: string; reference: string; request: Record<string, unknown> },
): Record<string, unknown> {
  const offers = Array.isArray(fields.request.flightOffers) ? fields.request.flightOffers : [];
  return {
    type: "flight-order",
    id: fields.id,
    queuingOfficeId: fields.officeId,
    associatedRecords: [{
      reference: fields.reference,
      creationDate: new Date().toISOString().slice(0, 19),
      originSystemCode: "GDS",
      flightOfferId: isRecord(offers[0]) && typeof offers[0].id === "string" ? offers[0].id : "1",
    }],
    flightOffers: offers,
    travelers: Array.isArray(fields.request.travelers) ? fields.request.travelers : [],
    ticketingAgreement: { option: "DELAY_TO_CANCEL", delay: "6D" },
    automatedProcess: [{ code: "IMMEDIATE", queue: { number: "0", category: "0" } }],
  };
}

function dictionaries(codes: string[], currency: string) {
  const locations: Record<string, { cityCode: string; countryCode: string }> = {};
  for (const code of codes) {
    locations[code] = { cityCode: code, countryCode: COUNTRIES[code] ?? "ZZ" };
  }
  return {
    locations,
    aircraft: AIRCRAFT,
    currencies: { [currency]: currency },
    carriers: CARRIERS,
  };
}

function price(base: number, currency: string) {
  const taxes = base * 0.18;
  return { currency, base: money(base), taxes: money(taxes), total: money(base + taxes) };
}

function money(value: number): string {
  return (Math.round(value * 100) / 100).toFixed(2);
}

function hash(text: string): number {
  // FNV-1a: tiny, stable, and good enough to vary canned data by route.
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

function addMinutes(localIso: string, minutes: number): string {
  const t = new Date(`${localIso}Z`).getTime() + minutes * 60_000;
  return new Date(t).toISOString().slice(0, 19);
}

function isoDuration(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `PT${h ? `${h}H` : ""}${m ? `${m}M` : ""}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
