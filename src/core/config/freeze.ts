import { LabnoteError } from "../../protocol";

const views = new WeakMap<object, object>();

function frozenError(path: string, action: string): LabnoteError {
  return new LabnoteError(
    "CONFIG_FROZEN",
    `Cannot ${action} run.config${path}`,
    "a run's config is read-only so the record matches what ran; pass changes when starting the run: exp.start({ config: { \"key\": value } })",
  );
}

function keyPath(path: string, key: string | symbol): string {
  const k = String(key);
  return /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`;
}

/**
 * A deeply read-only view of a config: reads pass through, every write, delete or
 * redefinition throws a LabnoteError naming the key (in strict and sloppy code alike).
 */
export function readOnlyView<T extends object>(target: T, path = ""): T {
  const cached = views.get(target);
  if (cached) return cached as T;
  const view = new Proxy(target, {
    get(t, k, r) {
      const v = Reflect.get(t, k, r);
      return typeof v === "object" && v !== null && !(v instanceof Date) ? readOnlyView(v as object, keyPath(path, k)) : v;
    },
    set(_t, k) {
      throw frozenError(keyPath(path, k), "change");
    },
    deleteProperty(_t, k) {
      throw frozenError(keyPath(path, k), "delete");
    },
    defineProperty(_t, k) {
      throw frozenError(keyPath(path, k), "change");
    },
    setPrototypeOf() {
      throw frozenError(path, "change the prototype of");
    },
    preventExtensions() {
      throw frozenError(path, "freeze");
    },
  });
  views.set(target, view);
  return view;
}
