/**
 * Tracing export. Every request runs in a `switchyard.request` span with the router's attempts inside it;
 * when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, spans are exported
 * over OTLP/HTTP JSON. Without it nothing is exported and the layer is empty.
 */
import { Config, Effect, Layer, Option } from "effect"
import { FetchHttpClient } from "effect/http"

/** The OTLP traces URL from the standard environment variables, if tracing is configured. */
export const tracesUrl = Effect.gen(function*() {
  const traces = yield* Config.option(Config.String("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
  const base = yield* Config.option(Config.String("OTEL_EXPORTER_OTLP_ENDPOINT"))
  if (Option.isSome(traces)) return Option.some(traces.value)
  return Option.map(base, (url) => `${url.replace(/\/+$/, "")}/v1/traces`)
})

/** Exports spans over OTLP when the environment asks for it; otherwise provides nothing. */
export const telemetryLayer = Layer.unwrap(
  Effect.gen(function*() {
    const url = yield* tracesUrl
    const serviceName = yield* Config.String("OTEL_SERVICE_NAME").pipe(Config.withDefault("switchyard"))
    if (Option.isNone(url)) return Layer.empty
    // Loaded only when tracing is configured: a process without it does not carry the exporter's modules.
    const [OtlpTracer, OtlpSerialization] = yield* Effect.promise(() =>
      Promise.all([import("effect/observability/OtlpTracer"), import("effect/observability/OtlpSerialization")])
    )
    return OtlpTracer.layer({ url: url.value, resource: { serviceName } }).pipe(
      Layer.provide(OtlpSerialization.layerJson),
      Layer.provide(FetchHttpClient.layer)
    )
  }).pipe(Effect.orElseSucceed(() => Layer.empty))
)
