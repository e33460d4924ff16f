/**
 * Bank and API names: they become URL segments (`/{bank}/{api}/…`), config keys (`banks.<bank>.apis.<api>`) and
 * directories (`generated/<bank>/<api>/`). One pattern, shared by the config schema and the generator, so a name the
 * generator accepts is always one the config accepts.
 */
export const NAME_PATTERN = /^[a-z][a-z0-9-]*$/;

export const NAME_RULE = 'lower-case letters, digits and dashes, starting with a letter (it becomes a URL segment)';

/** A name the pattern accepts, close to `name` (`200yml` → `api-200yml`, `My_API` → `my-api`), for error messages. */
export function suggestName(name: string, prefix: string): string {
  const cleaned = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  if (cleaned === '') return prefix;
  return /^[a-z]/.test(cleaned) ? cleaned : `${prefix}-${cleaned}`;
}
