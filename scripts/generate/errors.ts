/** Stable codes for every way generation can fail; tests and callers match on these, not on messages. */
export type GenerateErrorCode =
  | 'USAGE'
  | 'SPEC_READ'
  | 'SPEC_PARSE'
  | 'SPEC_VERSION'
  | 'SPEC_SHAPE'
  | 'SPEC_TOO_LARGE'
  | 'OVERLAY_INVALID'
  | 'ROUTE_COLLISION'
  | 'REF_UNRESOLVED'
  | 'REF_EXTERNAL'
  | 'OPERATION_ID_DUPLICATE'
  | 'SECURITY_SCHEME_UNDEFINED'
  | 'CONVERT_FAILED'
  | 'TYPESCRIPT_FAILED'
  | 'SDK_FAILED'
  | 'CHECK_DIFF'
  | 'BREAKING_CHANGE'
  | 'INTERNAL';

/**
 * One problem with one spec (or with the invocation). `file` is the spec as the user named it, `pointer` the
 * JSON pointer (`#/paths/~1accounts/get`) or `line:column` of the problem, so each message says where.
 */
export class GenerateError extends Error {
  override readonly name = 'GenerateError';
  readonly code: GenerateErrorCode;
  readonly file: string | undefined;
  readonly pointer: string | undefined;

  constructor(code: GenerateErrorCode, message: string, where: { file?: string; pointer?: string; cause?: unknown } = {}) {
    super(message, where.cause === undefined ? undefined : { cause: where.cause });
    this.code = code;
    this.file = where.file;
    this.pointer = where.pointer;
  }

  /** One line: `openapi/x/y.yaml: #/paths/~1a/get/parameters/0: $ref #/parameters/Foo does not resolve [REF_UNRESOLVED]`. */
  format(): string {
    const where = [this.file, this.pointer].filter((part) => part !== undefined && part !== '').join(': ');
    return `${where === '' ? '' : `${where}: `}${this.message} [${this.code}]`;
  }
}

/** Several problems found together (all specs are validated before any is reported), thrown as one. */
export class GenerateErrors extends Error {
  override readonly name = 'GenerateErrors';
  readonly problems: readonly GenerateError[];

  constructor(problems: readonly GenerateError[]) {
    super(problems.map((problem) => problem.format()).join('\n'));
    this.problems = problems;
  }
}

/** Flattens whatever was thrown into GenerateErrors; unexpected errors keep their message, never a bare stack. */
export function toProblems(error: unknown): readonly GenerateError[] {
  if (error instanceof GenerateErrors) return error.problems;
  if (error instanceof GenerateError) return [error];
  const message = error instanceof Error ? error.message : String(error);
  return [new GenerateError('INTERNAL', `unexpected failure (set BANKGATE_DEBUG=1 for the stack): ${message.split('\n')[0]}`, { cause: error })];
}
