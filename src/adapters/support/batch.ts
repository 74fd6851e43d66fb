/**
 * Groups concurrent lookups of one kind into a single query (the "data loader" pattern): the calls made while a batch
 * is being collected — until the current turn of the event loop ends — are answered by one statement, so that the
 * hot reads of many sessions cost one round trip and one query between them instead of one each.
 *
 * At most `maxInFlight` batches run at once; calls made meanwhile wait for the next batch, which makes batches larger
 * exactly when the database is the bottleneck. A batch holds at most `maxSize` calls.
 */
export class Batcher<K, R> {
  private pending: { key: K; resolve: (value: R) => void; reject: (err: unknown) => void }[] = [];
  private scheduled = false;
  private inFlight = 0;

  /**
   * @param run Answers every key of a batch, in order (`results[i]` for `keys[i]`). When it throws for a batch of
   *   several keys, each key is run again alone, and only the calls whose own run throws fail.
   */
  constructor(
    private readonly run: (keys: readonly K[]) => Promise<readonly R[]>,
    private readonly options: { readonly maxSize?: number; readonly maxInFlight?: number } = {},
  ) {}

  /** Resolves with `key`'s result, computed with the other keys of its batch. */
  load(key: K): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ key, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.pending.length === 0 || this.inFlight >= (this.options.maxInFlight ?? 4)) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.pending.length > 0 && this.inFlight < (this.options.maxInFlight ?? 4)) {
      const batch = this.pending.splice(0, this.options.maxSize ?? 64);
      this.inFlight += 1;
      this.run(batch.map((call) => call.key))
        .then(
          (results): unknown => batch.forEach((call, i) => call.resolve(results[i]!)),
          // One key may be what failed the batch (the batches mix every session's calls, of every organization):
          // each call is then run alone, so that a failure reaches only the calls it belongs to.
          (err: unknown): unknown =>
            batch.length === 1
              ? batch[0]!.reject(err)
              : Promise.all(batch.map((call) => this.run([call.key]).then((results) => call.resolve(results[0]!), call.reject))),
        )
        .finally(() => {
          this.inFlight -= 1;
          this.schedule();
        });
    }
  }
}
