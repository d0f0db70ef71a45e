/**
 * Errors of the config layer. One class: the config a person wrote (file, environment, flags)
 * cannot be used. `issues` lists every problem found, each naming the field path, so a person
 * fixes them all in one go; `message` is the same list, one line per issue.
 */

export interface ConfigIssue {
  /** Dotted field path (`http.port`, `members.2`), or the file / variable name for source errors. */
  readonly path: string
  /** What is wrong, for a person: the rule, the value found and where it came from. */
  readonly message: string
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  readonly code = 'config_invalid'
  readonly issues: readonly ConfigIssue[]

  constructor(issues: readonly ConfigIssue[], options?: ErrorOptions) {
    super(issues.map((i) => `config: ${i.path}: ${i.message}`).join('\n'), options)
    this.issues = issues
  }
}

export function isConfigError(err: unknown): err is ConfigError {
  return err instanceof Error && err.name === 'ConfigError'
}
