import assert from "../../tests/helpers/assert.ts";
import { isSecurityPath } from "./path_policy.ts";

Deno.test("isSecurityPath: the token endpoint and all of /v1/security/ in every spelling", () => {
  for (
    const path of [
      "/v1/security/oauth2/token",
      "/v1/security/oauth2/token?grant_type=client_credentials",
      "/v1/security",
      "/v1/security/",
      "/V1/SECURITY/OAUTH2/TOKEN",
      "/v1/Security/oauth2/token",
      "/v1/security;x=1/oauth2/token",
      "/v1;a/security/oauth2/token",
      "/v1/security./oauth2/token",
      "/v1/%73ecurity/oauth2/token",
      "/v1/%53ECURITY/oauth2/token",
      "/v1%2Fsecurity%2Foauth2%2Ftoken",
      "/%76%31/%73%65%63%75%72%69%74%79/oauth2/token",
      "/v1/%2573ecurity/oauth2/token",
      "/v1/%252573ecurity/oauth2/token",
      "/v1/security%3Bx/oauth2/token",
      "/v1/security/oauth2/token/",
    ]
  ) {
    assert.equal(isSecurityPath(path), true, path);
  }
});

Deno.test("isSecurityPath: other APIs, and security words elsewhere, pass", () => {
  for (
    const path of [
      "/v2/shopping/flight-offers",
      "/v1/booking/flight-orders/security",
      "/v2/security/x",
      "/v1/securityx/y",
      "/v1/echo/v1/security/oauth2/token",
      "/v1/echo?next=/v1/security/oauth2/token",
      "/v1/%zz/security",
    ]
  ) {
    assert.equal(isSecurityPath(path), false, path);
  }
});
