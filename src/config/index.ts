/**
 * The node's configuration: one schema, defaults with their reasons, and loading from a JSON
 * file, the environment and command-line flags (in that order of precedence, flags last).
 *
 * @example
 * ```ts
 * import { loadConfig, isConfigError } from './src/config/index.ts'
 *
 * try {
 *   const config = loadConfig({ file: 'gkm.json', readEnv: true, flags: { http: '127.0.0.1:7420' } })
 *   console.log(config.dataDir, config.http.port)
 * } catch (err) {
 *   if (isConfigError(err)) console.error(err.message) // config: http.port: must be an integer 0..65535 (got "abc" from --http)
 *   else throw err
 * }
 * ```
 *
 * Environment: `GKM_CONFIG` (file), `GKM_DATA_DIR`, `GKM_HTTP` (HOST:PORT), `GKM_HTTP_TOKEN`,
 * `GKM_LISTEN` and `GKM_BOOTSTRAP` (comma lists), `GKM_NO_MDNS=1`, `GKM_LOG_LEVEL`.
 * Every field, its default and its reason: docs/CONFIG.md.
 */
export { CONFIG_DEFAULTS, CONFIG_EVENT_TYPES, LOG_LEVELS, SHORT_EVENT_TYPES } from './defaults.ts'
export { ConfigError, type ConfigIssue, isConfigError } from './errors.ts'
export { type ConfigFlags, type LoadConfigOptions, loadConfig, parseHostPort } from './load.ts'
export {
  type ConfigEventType,
  type GkmConfig,
  isLoopbackHost,
  isMultiaddrText,
  type LogLevel,
} from './schema.ts'
