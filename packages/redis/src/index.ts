/** Switchyard on Redis: the router state shared by several replicas, with a local view on the hot path. */
export { describeTarget, type RedisTarget, RedisUnavailable } from "./Connection.ts"
export { gaugeValue, stateBackendUp } from "./Health.ts"
export {
  makeRedisState,
  RedisState,
  type RedisStateOptions,
  type RedisStateShape,
  routerStateFromSettings
} from "./RedisState.ts"
export { redisTargetFromSettings, wantsRedis } from "./Settings.ts"
