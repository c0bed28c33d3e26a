// workerd implements node:async_hooks' AsyncLocalStorage under the `nodejs_als` compatibility flag (see
// wrangler.toml); `wrangler types` does not declare it for that flag alone, so its used surface is declared here.
declare module "node:async_hooks" {
  export class AsyncLocalStorage<T> {
    run<R>(store: T, callback: () => R): R;
    getStore(): T | undefined;
  }
}
