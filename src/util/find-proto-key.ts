/** Path of the first "__proto__" key in a parsed JSON value, or null. Such a key would silently set a prototype instead of a field. */
export function findProtoKey(value: unknown, path = ''): string | null {
  if (typeof value !== 'object' || value === null) return null;
  for (const key of Object.keys(value)) {
    const here = Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
    if (key === '__proto__') return here;
    const found = findProtoKey((value as Record<string, unknown>)[key], here);
    if (found !== null) return found;
  }
  return null;
}
