/**
 * The RouterState contract from core, unchanged, against the in-memory state (registered by the import)
 * and against Redis. Under TestClock the Redis state still syncs with a real Redis while the test runs,
 * so the same answers must come out whichever way the local view and Redis's snapshot interleave.
 */
import { Effect, Layer } from "effect"
import { routerStateContract } from "../../core/test/RouterState.test.ts"
import { RedisState } from "../src/index.ts"
import { freshPrefix, sharedRedisUp, testRedisUrl } from "./redis.ts"

// A new namespace each time the layer is built: the contract gives every test a state of its own. The
// state itself would start degraded without Redis, so each test first checks that Redis is there.
const onRedis = Layer.unwrap(
  Effect.andThen(sharedRedisUp, Effect.sync(() => RedisState.layer({ url: testRedisUrl, prefix: freshPrefix() })))
)

routerStateContract("on Redis", onRedis)
