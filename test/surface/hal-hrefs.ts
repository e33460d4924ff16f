/** Every `_links.*.href` of a HAL answer, at any depth, in document order. */
export function collectHrefs(value: unknown, into: string[] = []): string[] {
  if (value === null || typeof value !== 'object') return into;
  if (Array.isArray(value)) {
    for (const item of value) collectHrefs(item, into);
    return into;
  }
  for (const [key, member] of Object.entries(value)) {
    if (key === '_links' && member && typeof member === 'object') {
      for (const link of Object.values(member)) if (link && typeof (link as { href?: unknown }).href === 'string') into.push((link as { href: string }).href);
    }
    collectHrefs(member, into);
  }
  return into;
}
