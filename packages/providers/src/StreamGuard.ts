/**
 * The rule that makes provider streams continuable: a failure before the first chunk is an ordinary
 * failure (the router may retry or fall back as for a plain call), a break after it is `MidStream`
 * carrying the text that had arrived, so the router can continue elsewhere without losing or repeating text.
 */
import { asMidStream, breaksStream, type Operation, type ProviderError } from "@switchyard/core"
import { Cause, Effect, Stream } from "effect"

/**
 * Guards a provider stream: counts what passed and converts breaks after the first chunk to MidStream. An
 * error that is the reply's own answer (a 400-class error event) keeps its class, as it would at the start.
 * Stalls are not detected here: the router times each pull with the deployment's stream timeout.
 */
export const guardStream = <Chunk>(
  spec: NonNullable<Operation<string, any, any, Chunk>["stream"]>,
  chunks: Stream.Stream<Chunk, ProviderError>
): Stream.Stream<Chunk, ProviderError> => {
  const textOf = spec.kind === "text" ? spec.text : undefined
  // One stage, counted per array of chunks: this runs for every chunk of every stream.
  return Stream.transformPull(chunks, (pull) => {
    // Per subscription: the same stream value may be run twice, and each run has its own progress.
    let sent = false
    let received = ""
    return Effect.succeed(Effect.mapBothEager(pull, {
      onSuccess: (array) => {
        sent = true
        if (textOf !== undefined) for (const chunk of array) received += textOf(chunk)
        return array
      },
      onFailure: (error) => (sent && !Cause.isDone(error) && breaksStream(error) ? asMidStream(error, received) : error)
    }))
  })
}
