/*
 * The one Node module the Workers entry uses (workerd provides it under nodejs_compat), declared for the
 * Workers type check, which leaves out @types/node because its globals collide with the Workers runtime's.
 */
declare module 'node:async_hooks' {
  export class AsyncLocalStorage<T> {
    run<R>(store: T, callback: () => R): R;
    getStore(): T | undefined;
  }
}
