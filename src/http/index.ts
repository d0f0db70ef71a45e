/**
 * The HTTP API of a node: the `SyncApi` (src/core/api.ts) over HTTP/1.1 with JSON bodies, for
 * applications in any language. Routes, bodies, errors and curl examples: docs/API.md.
 *
 * Every error answer is `{ "error": <stable code>, "message": <text for a person> }`, with the
 * status from one table (errors.ts). When a token is configured every route requires
 * `Authorization: Bearer <token>`.
 *
 * @example
 * ```ts
 * import { createHttpApi } from './src/http/index.ts'
 *
 * const http = createHttpApi(node.api, { host: '127.0.0.1', port: 7420, bodyBytesMax: 16 * 1024 * 1024 })
 * const { host, port } = await http.listen()
 * // curl http://127.0.0.1:7420/status
 * await http.close()
 * ```
 */

export {
  BadRequestError,
  DialFailedError,
  type ErrorBody,
  errorAnswer,
  HttpRequestError,
  MeshDisabledError,
  NotFoundError,
  TooManyEventsError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
} from './errors.ts'
export type { HttpLog } from './routes/context.ts'
export type { MeshPeerInfo, MeshPeers } from './routes/peers.ts'
export { createHttpApi, type HttpApi, type HttpApiInit } from './server.ts'
