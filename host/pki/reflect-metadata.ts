/**
 * The part of the Reflect metadata API (the decorators-metadata proposal) that @peculiar/x509's
 * dependency tsyringe needs at load time: defineMetadata, getMetadata, getOwnMetadata, hasMetadata.
 * Installed only when no other polyfill (reflect-metadata, core-js) is present. Import this module
 * before @peculiar/x509.
 */
type Key = string | symbol | undefined;
const store = new WeakMap<object, Map<Key, Map<unknown, unknown>>>();

function own(target: object, prop: Key, create: boolean): Map<unknown, unknown> | undefined {
  let byProp = store.get(target);
  if (!byProp) {
    if (!create) return undefined;
    byProp = new Map();
    store.set(target, byProp);
  }
  let m = byProp.get(prop);
  if (!m && create) {
    m = new Map();
    byProp.set(prop, m);
  }
  return m;
}

interface ReflectMetadata {
  defineMetadata(key: unknown, value: unknown, target: object, prop?: Key): void;
  getOwnMetadata(key: unknown, target: object, prop?: Key): unknown;
  getMetadata(key: unknown, target: object, prop?: Key): unknown;
  hasMetadata(key: unknown, target: object, prop?: Key): boolean;
}

const R = Reflect as typeof Reflect & Partial<ReflectMetadata>;
if (typeof R.getMetadata !== 'function') {
  const api: ReflectMetadata = {
    defineMetadata(key, value, target, prop) {
      own(target, prop, true)!.set(key, value);
    },
    getOwnMetadata(key, target, prop) {
      return own(target, prop, false)?.get(key);
    },
    getMetadata(key, target, prop) {
      for (let t: object | null = target; t; t = Object.getPrototypeOf(t) as object | null) {
        const m = own(t, prop, false);
        if (m?.has(key)) return m.get(key);
      }
      return undefined;
    },
    hasMetadata(key, target, prop) {
      return api.getMetadata(key, target, prop) !== undefined;
    },
  };
  Object.assign(R, api);
}

export {};
