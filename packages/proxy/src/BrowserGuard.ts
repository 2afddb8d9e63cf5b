/**
 * What keeps a web page from using the gateway through its visitor's browser. A page can send a
 * cross-site `text/plain` POST without a preflight, and DNS rebinding lets it read the replies of a
 * server on 127.0.0.1 under its own host name. So: an `Origin` must be in
 * `general_settings.allowed_origins`; a body must be declared `application/json` (or
 * `multipart/form-data` where the route takes uploads), which a browser only sends after a preflight;
 * and while no key is configured, `Host` must name the loopback, the bound address or an
 * `allowed_hosts` entry.
 */
import type { GeneralSettings } from "@switchyard/core"
import { Effect } from "effect"
import { type HttpServerRequest, HttpServerResponse } from "effect/http"
import { type ApiError, ApiErrors } from "./HttpErrors.ts"

/** The routes whose bodies may be uploads. */
const multipartPaths = new Set(["/audio/transcriptions", "/v1/audio/transcriptions"])

const loopback = ["localhost", "127.0.0.1", "::1", "[::1]"]
const wildcardHosts = new Set(["0.0.0.0", "::", ""])

/** The host name of a `Host` header, without its port (IPv6 keeps its brackets). */
const hostName = (host: string): string => {
  const trimmed = host.trim().toLowerCase()
  if (trimmed.startsWith("[")) return trimmed.slice(0, trimmed.indexOf("]") + 1)
  const colon = trimmed.lastIndexOf(":")
  return colon === -1 ? trimmed : trimmed.slice(0, colon)
}

/** The checks of one gateway. */
export interface BrowserGuard {
  /** Refuses a request from a foreign origin or host (403) or with a body a form could send (415). */
  readonly check: (request: HttpServerRequest.HttpServerRequest, hasBody: boolean) => Effect.Effect<void, ApiError>
  /** Adds the CORS headers an allowed origin needs to read the response. */
  readonly withCors: (
    request: HttpServerRequest.HttpServerRequest,
    response: HttpServerResponse.HttpServerResponse
  ) => HttpServerResponse.HttpServerResponse
  /** The answer to a CORS preflight (`OPTIONS`). */
  readonly preflight: (request: HttpServerRequest.HttpServerRequest) => Effect.Effect<HttpServerResponse.HttpServerResponse, ApiError>
}

/** Builds the guard from `general_settings` and the address the server binds. */
export const makeBrowserGuard = (settings: GeneralSettings | undefined, boundHost: string): BrowserGuard => {
  const origins = new Set((settings?.allowed_origins ?? []).map((o) => o.toLowerCase().replace(/\/+$/, "")))
  const anyOrigin = origins.has("*")
  const keyless = settings?.master_key === undefined && (settings?.virtual_keys ?? []).length === 0
  const hosts = new Set([
    ...loopback,
    ...(wildcardHosts.has(boundHost) ? [] : [hostName(boundHost.includes(":") && !boundHost.startsWith("[") ? `[${boundHost}]` : boundHost)]),
    ...(settings?.allowed_hosts ?? []).map((h) => h.toLowerCase())
  ])
  const allowedOrigin = (origin: string | undefined) =>
    origin !== undefined && (anyOrigin || origins.has(origin.toLowerCase().replace(/\/+$/, "")))

  const check: BrowserGuard["check"] = (request, hasBody) => {
    const origin = request.headers["origin"]
    if (origin !== undefined && !allowedOrigin(origin)) return Effect.fail(ApiErrors.originNotAllowed(origin))
    if (keyless && !hosts.has(hostName(request.headers["host"] ?? ""))) {
      return Effect.fail(ApiErrors.hostNotAllowed(request.headers["host"] ?? ""))
    }
    if (!hasBody) return Effect.void
    const type = (request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase()
    const path = request.url.split("?")[0] ?? ""
    return type === "application/json" || (type === "multipart/form-data" && multipartPaths.has(path))
      ? Effect.void
      : Effect.fail(ApiErrors.unsupportedMediaType(type))
  }

  const withCors: BrowserGuard["withCors"] = (request, response) => {
    const origin = request.headers["origin"]
    return allowedOrigin(origin)
      ? HttpServerResponse.setHeaders(response, { "access-control-allow-origin": origin!, vary: "Origin" })
      : response
  }

  const preflight: BrowserGuard["preflight"] = (request) =>
    Effect.map(check(request, false), () =>
      withCors(
        request,
        HttpServerResponse.empty({
          status: 204,
          headers: {
            "access-control-allow-methods": "GET, POST, OPTIONS",
            "access-control-allow-headers": "authorization, content-type",
            "access-control-max-age": "600"
          }
        })
      ))

  return { check, withCors, preflight }
}
