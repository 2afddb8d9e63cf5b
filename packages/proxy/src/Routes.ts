/**
 * The gateway's routes. Every operation of the core registry gets `POST /v1<path>` and `POST <path>`,
 * both served by the one generic handler; the rest are models, health and metrics. Anything else is an
 * OpenAI-shaped 404.
 */
import { aliasTargets, type GeneralSettings, type Operation, operationNames, operations, Router, RouterState } from "@switchyard/core"
import { MaxReplyBytes } from "@switchyard/providers"
import { Clock, Effect, Layer } from "effect"
import { HttpRouter, type HttpServerRequest, HttpServerResponse } from "effect/http"
import { Auth } from "./Auth.ts"
import { makeBrowserGuard } from "./BrowserGuard.ts"
import { countTokensHandler } from "./CountTokens.ts"
import { makeOperationHandler } from "./Handler.ts"
import { ApiErrors, errorResponse } from "./HttpErrors.ts"
import { GatewayMetrics } from "./Metrics.ts"
import { bodyLimitBytes } from "./RequestBody.ts"
import { makeRedactor } from "./Secrets.ts"

/** The routes of a gateway; `settings` is the config's `general_settings`, `boundHost` the address it listens on. */
export const routes = (
  settings: GeneralSettings | undefined,
  boundHost = "127.0.0.1"
): Layer.Layer<never, never, HttpRouter.HttpRouter | Router | Auth | GatewayMetrics | RouterState> =>
  HttpRouter.use((httpRouter) =>
    Effect.gen(function*() {
      const router = yield* Router
      const auth = yield* Auth
      const metrics = yield* GatewayMetrics
      const state = yield* RouterState
      const guard = makeBrowserGuard(settings, boundHost)
      // Metric series only for configured names: a client inventing model names must not add series.
      const configured = new Set(["unknown", ...router.groups, ...aliasTargets(router.policy.settings).keys()])
      const handlerOf = makeOperationHandler({
        guard,
        modelLabel: (model) => (configured.has(model) ? model : "other"),
        router,
        auth,
        metrics,
        bodyLimitBytes: bodyLimitBytes(settings?.max_request_body_mb),
        redact: makeRedactor(router.deployments, auth.keys)
      })

      const replyLimit = settings?.max_response_body_mb === undefined
        ? undefined
        : Math.floor(settings.max_response_body_mb * 1024 * 1024)
      const operationRoutes = operationNames.flatMap((name): ReadonlyArray<HttpRouter.Route> => {
        const operation = operations[name] as Operation
        const routed = handlerOf(operation)
        const handler = replyLimit === undefined
          ? routed
          : (request: HttpServerRequest.HttpServerRequest) => Effect.provideService(routed(request), MaxReplyBytes, replyLimit)
        return [
          HttpRouter.route("POST", `/v1${operation.path}` as `/${string}`, handler),
          HttpRouter.route("POST", operation.path as `/${string}`, handler)
        ]
      })

      // Aliases are models to clients too, unless `hidden`, as in LiteLLM's /models.
      const visibleAliases = [...aliasTargets(router.policy.settings)].filter(([, a]) => !a.hidden).map(([name]) => name)
      const models = [...router.groups, ...visibleAliases.filter((a) => !router.groups.includes(a))]
      const listModels = (request: HttpServerRequest.HttpServerRequest) =>
        guard.check(request, false).pipe(
          Effect.andThen(auth.authenticate(request.headers)),
          Effect.map((principal) =>
            HttpServerResponse.jsonUnsafe({
              object: "list",
              data: auth.visible(principal, models).map((id) => ({
                id,
                object: "model",
                created: 0,
                owned_by: "switchyard"
              }))
            })
          ),
          Effect.catch((error) => Effect.succeed(errorResponse(error))),
          Effect.map((response) => guard.withCors(request, response))
        )

      // A degraded state (a shared backend unreachable) still serves from its local view: ready, and said so.
      const readiness = Effect.map(state.health, (health) =>
        HttpServerResponse.jsonUnsafe({
          status: "ready",
          state: health,
          model_groups: router.groups.length,
          deployments: router.deployments.length
        }))

      const liveness = Effect.succeed(HttpServerResponse.jsonUnsafe({ status: "alive" }))
      const countTokens = countTokensHandler(auth, bodyLimitBytes(settings?.max_request_body_mb))
      const ids = router.deployments.map((d) => d.id)
      // The health estimate is read at scrape time, so the gauges are as fresh as the state.
      const deploymentHealth = Effect.gen(function*() {
        const stats = yield* state.stats(ids)
        const now = yield* Clock.currentTimeMillis
        yield* metrics.deploymentHealth(
          router.deployments.map((d, i) => ({ deployment: d.id, group: d.group, stats: stats[i]!, now }))
        )
      })
      const render = Effect.flatMap(state.health, metrics.stateHealth).pipe(
        Effect.andThen(deploymentHealth),
        Effect.andThen(metrics.render),
        Effect.map((text) =>
          HttpServerResponse.text(text, { contentType: "text/plain; version=0.0.4; charset=utf-8" }))
      )
      const metricsAccess = (request: HttpServerRequest.HttpServerRequest) =>
        settings?.metrics_auth === true
          ? Effect.flatMap(auth.authenticate(request.headers), (principal) =>
            principal._tag === "Virtual" ? Effect.fail(ApiErrors.masterKeyRequired()) : Effect.void)
          : Effect.void
      const prometheus = (request: HttpServerRequest.HttpServerRequest) =>
        guard.check(request, false).pipe(
          Effect.andThen(metricsAccess(request)),
          Effect.andThen(render),
          Effect.catch((error) => Effect.succeed(errorResponse(error)))
        )
      const preflight = (request: HttpServerRequest.HttpServerRequest) =>
        guard.preflight(request).pipe(Effect.catch((error) => Effect.succeed(errorResponse(error))))
      // A CORS preflight may name any route; the rest of the unmatched requests are 404s.
      const notFound = (request: HttpServerRequest.HttpServerRequest) =>
        request.method === "OPTIONS"
          ? preflight(request)
          : Effect.succeed(errorResponse(ApiErrors.unknownRoute(request.method, request.url.split("?")[0] ?? "")))

      yield* httpRouter.addAll(operationRoutes)
      yield* httpRouter.addAll([
        HttpRouter.route("GET", "/v1/models", listModels),
        HttpRouter.route("GET", "/models", listModels),
        HttpRouter.route("GET", "/health/liveliness", liveness),
        HttpRouter.route("GET", "/health/liveness", liveness),
        HttpRouter.route("GET", "/health/readiness", readiness),
        HttpRouter.route("GET", "/metrics", prometheus),
        HttpRouter.route("POST", "/v1/messages/count_tokens", countTokens),
        HttpRouter.route("*", "*", notFound)
      ])
    })
  )
