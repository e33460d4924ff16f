// swagger2openapi ships no types; only the call bankgate makes is declared.
declare module 'swagger2openapi' {
  interface ConvertOptions {
    patch?: boolean;
    warnOnly?: boolean;
    resolveInternal?: boolean;
    [option: string]: unknown;
  }
  interface ConvertResult {
    openapi: Record<string, unknown>;
  }
  export function convertObj(swagger: unknown, options: ConvertOptions): Promise<ConvertResult>;
  const swagger2openapi: { convertObj: typeof convertObj };
  export default swagger2openapi;
}
