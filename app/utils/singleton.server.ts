// Keeps one instance per process even when the module is loaded twice
// (the server entry and the Remix build each bundle their own copy, and dev reloads the build).
export function singleton<T>(name: string, create: () => T): T {
  const store = globalThis as unknown as { __tierdeskSingletons?: Map<string, unknown> };
  store.__tierdeskSingletons ??= new Map();
  if (!store.__tierdeskSingletons.has(name)) store.__tierdeskSingletons.set(name, create());
  return store.__tierdeskSingletons.get(name) as T;
}
