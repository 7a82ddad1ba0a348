// What a run reports while it is set up, as data: the runner emits events,
// the CLI renders them (`crossroot: warning: ...`) or a library caller logs them.
export type EnterEvent =
  /** Something the user should know that does not stop the run (leaked mounts, ...). */
  | { readonly kind: 'warning'; readonly message: string }
  /** What crossroot decided or does on the user's behalf (acceleration, creating a tools root). */
  | { readonly kind: 'note'; readonly message: string }
  /** --verbose: one fact of the plan (namespaces, a mount, the emulation, the exec line). */
  | { readonly kind: 'detail'; readonly message: string }
  /** --verbose: how long each phase took, in milliseconds. */
  | { readonly kind: 'timings'; readonly timings: Readonly<Record<string, number>> };
