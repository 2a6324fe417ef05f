/**
 * `{{ path }}` templates in step inputs. A string that is exactly one
 * template takes the referenced value as is (object, number…); otherwise each
 * template is replaced by its value as text.
 */
const WHOLE = /^\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}$/;
const ANY = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

export function lookup(scope: unknown, path: string): unknown {
  let value = scope;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

const asText = (value: unknown): string => (value === undefined || value === null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value));

export function render(template: unknown, scope: unknown): unknown {
  if (typeof template === 'string') {
    const whole = WHOLE.exec(template);
    if (whole) return lookup(scope, whole[1]!);
    return template.replace(ANY, (_match, path: string) => asText(lookup(scope, path)));
  }
  if (Array.isArray(template)) return template.map((item) => render(item, scope));
  if (typeof template === 'object' && template !== null) {
    return Object.fromEntries(Object.entries(template).map(([key, value]) => [key, render(value, scope)]));
  }
  return template;
}
