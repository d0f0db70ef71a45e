/** Operational errors of the node layer (not the peer's fault, not the caller's misuse). */

/** The ingest queue is full: the caller should retry later (HTTP 503). Nothing was accepted. */
export class IngestBusyError extends Error {
  override readonly name = 'IngestBusyError'
  readonly code = 'busy'
}

/** The durable write failed: nothing of the group was acknowledged. */
export class StorageWriteError extends Error {
  override readonly name = 'StorageWriteError'
  readonly code = 'storage_error'
}

/** The node is stopping or stopped. */
export class NodeStoppedError extends Error {
  override readonly name = 'NodeStoppedError'
  readonly code = 'stopped'
}

/** The mesh could not listen on its address (the port is in use, the address is not local). */
export class MeshListenError extends Error {
  override readonly name = 'MeshListenError'
  readonly code = 'mesh_listen_failed'
}

/** A bootstrap entry is empty, or names a file that cannot be read. */
export class BootstrapFileError extends Error {
  override readonly name = 'BootstrapFileError'
  readonly code = 'bootstrap_file'
}
