/** True when `actual` has every key of `expected` with a deep-equal value (recursively for objects). */
export function containsSubset(actual: unknown, expected: unknown): boolean {
  if (typeof expected !== 'object' || expected === null || Array.isArray(expected)) {
    return JSON.stringify(actual) === JSON.stringify(expected);
  }
  if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) return false;
  return Object.entries(expected).every(([key, value]) => containsSubset((actual as Record<string, unknown>)[key], value));
}
