/** Route patterns (`GET /hello/:name`) compiled to matchers. */
export interface CompiledRoute<T> {
  method: string;
  pattern: RegExp;
  params: string[];
  target: T;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function compileRoute<T>(route: string, target: T): CompiledRoute<T> {
  const [method, path] = route.split(' ') as [string, string];
  const params: string[] = [];
  const source = path
    .split('/')
    .map((segment) => {
      if (!segment.startsWith(':')) return escape(segment);
      params.push(segment.slice(1));
      return '([^/]+)';
    })
    .join('/');
  return { method, pattern: new RegExp(`^${source}/?$`), params, target };
}

export function matchRoute<T>(routes: Array<CompiledRoute<T>>, method: string, path: string): { target: T; params: Record<string, string> } | null {
  for (const route of routes) {
    if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) continue;
    const match = route.pattern.exec(path);
    if (!match) continue;
    const params: Record<string, string> = {};
    route.params.forEach((name, i) => {
      params[name] = decodeURIComponent(match[i + 1]!);
    });
    return { target: route.target, params };
  }
  return null;
}
