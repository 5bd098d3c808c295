/**
 * The page's half of the worker protocol (workers/protocol.ts), shared by the text, style and sequence clients:
 * - the worker starts on the first call, and `setup` (load the model) runs before any call reaches it;
 * - a crash (an uncaught error, a message that cannot be read, a worker that fails to start) fails every call
 *   in flight with a WorkerCrash, and the next call starts a new worker and runs `setup` again;
 * - a call has a time limit (`timeoutMs`) and, when it reports progress, a stall limit (`stallMs`: no progress
 *   for that long); either one stops the worker, since a stuck job cannot be interrupted any other way;
 * - `retry: true` runs a call once more after a crash (safe for pure reads such as embedding).
 */
import * as Comlink from 'comlink';

/** The worker stopped (crashed, failed to start, or was closed) while a call was in flight. */
class WorkerCrash extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkerCrash';
  }
}

/** Did the worker stop (crash, fail to start) under this call, rather than the call itself fail? */
export function isWorkerCrash(e: unknown): boolean {
  return e instanceof WorkerCrash;
}

/** A call ran past its time limit, or its progress stalled; the worker was stopped. */
class WorkerTimeout extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkerTimeout';
  }
}

export interface CallLimits {
  /** Give up the call after this long in all. */
  timeoutMs?: number;
  /** Give up the call when its progress callback stays silent this long (counted from the start, too). */
  stallMs?: number;
  /** What the call does, for the time-out message ("embedding 32 texts"). */
  what: string;
  /** Run it once more on a new worker when the worker crashes meanwhile. */
  retry?: boolean;
}

export interface WorkerHandleOptions<Api> {
  /** Names the worker in messages ("the text worker stopped …"). */
  name: string;
  /**
   * Starts the worker. Each client writes `new Worker(new URL('../../workers/x.worker.ts', import.meta.url),
   * { type: 'module' })` inline: that exact shape is what makes Vite emit the worker as its own chunk.
   */
  spawn: () => Worker;
  /**
   * Runs on every new worker before the first call reaches it (loads the model). Its failure fails that call,
   * and the next call starts afresh.
   */
  setup?: (remote: Comlink.Remote<Api>, progress: Progress) => Promise<unknown>;
  /** Limits of `setup`, asked for at each start (they may name the model being loaded). */
  setupLimits?: () => Omit<CallLimits, 'retry'>;
}

/**
 * Wraps a progress callback for the worker: a comlink proxy that also resets the call's stall timer. Pass
 * `progress(onProgress)` wherever a worker API takes a progress callback. What the callback returns goes back to the
 * worker only with `answers` (an arrow's value is often something no message can carry).
 */
export type Progress = <A extends unknown[], R = void>(f?: (...args: A) => R, answers?: boolean) => (...args: A) => R;

function progressWith(kick: () => void): Progress {
  return <A extends unknown[], R>(f?: (...args: A) => R, answers = false) =>
    Comlink.proxy((...args: A) => {
      kick();
      const r = f?.(...args);
      return answers ? r : undefined;
    }) as unknown as (...args: A) => R;
}

export class WorkerHandle<Api> {
  private worker: Worker | null = null;
  private ready: Promise<Comlink.Remote<Api>> | null = null;
  /** How to fail each call in flight: a crash or a time-out fails them instead of leaving them hanging. */
  private readonly pending = new Set<(e: Error) => void>();
  /** Counts started workers (tests and notes read it through `starts`). */
  private started = 0;

  constructor(private readonly options: WorkerHandleOptions<Api>) {}

  /** How many workers this handle has started (1 until the first crash). */
  get starts(): number {
    return this.started;
  }

  private start(): Promise<Comlink.Remote<Api>> {
    const worker = this.options.spawn();
    this.started++;
    worker.addEventListener('error', (ev) => {
      ev.preventDefault();
      if (this.worker === worker) this.stop(new WorkerCrash(`the ${this.options.name} worker stopped (${ev.message || 'it failed to start'})`));
    });
    worker.addEventListener('messageerror', () => {
      if (this.worker === worker) this.stop(new WorkerCrash(`the ${this.options.name} worker sent a message that could not be read`));
    });
    this.worker = worker;
    const remote = Comlink.wrap<Api>(worker);
    const setup = this.options.setup;
    if (!setup) return Promise.resolve(remote);
    let kick = () => {};
    const limits = { what: `starting the ${this.options.name} worker`, ...this.options.setupLimits?.() };
    return this.guard(() => setup(remote, progressWith(() => kick())), limits, (k) => (kick = k)).then(() => remote);
  }

  /** Stops the worker and fails every call in flight with `reason`. The next call starts a new worker. */
  stop(reason: Error = new WorkerCrash(`the ${this.options.name} worker was closed`)): void {
    const worker = this.worker;
    this.worker = null;
    this.ready = null;
    worker?.terminate();
    for (const fail of [...this.pending]) fail(reason);
    this.pending.clear();
  }

  /** Runs `job` on the worker under the limits; `job` gets the remote API and the progress wrapper. */
  async call<T>(job: (remote: Comlink.Remote<Api>, progress: Progress) => Promise<T>, limits: CallLimits): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(job, limits);
      } catch (e) {
        if (e instanceof WorkerCrash && limits.retry && attempt === 0) continue;
        throw e;
      }
    }
  }

  /**
   * Calls the worker as it is, with no start, no setup and no limits: for messages that must pass a running job
   * (cancel). A no-op when no worker runs.
   */
  direct(job: (remote: Comlink.Remote<Api>) => Promise<unknown>): Promise<void> {
    const ready = this.worker ? this.ready : null;
    return ready ? ready.then(job).then(() => undefined, () => undefined) : Promise.resolve();
  }

  private async once<T>(job: Parameters<WorkerHandle<Api>['call']>[0], limits: CallLimits): Promise<T> {
    let remote: Comlink.Remote<Api>;
    this.ready ??= this.start();
    const ready = this.ready;
    try {
      remote = await ready;
    } catch (e) {
      // A failed setup leaves no usable worker: the next call starts afresh.
      if (this.ready === ready) this.stop(e instanceof Error ? e : new Error(String(e)));
      throw e;
    }
    let kick = () => {};
    return this.guard(() => job(remote, progressWith(() => kick())) as Promise<T>, limits, (k) => (kick = k));
  }

  /** Runs `run` so that a crash, the time limit or a stall fails it (and a limit also stops the worker). */
  private guard<T>(run: () => Promise<T>, limits: Omit<CallLimits, 'retry'>, onKick: (kick: () => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timers: ReturnType<typeof setTimeout>[] = [];
      let stallTimer: ReturnType<typeof setTimeout> | undefined;
      const settle = () => {
        this.pending.delete(fail);
        timers.forEach(clearTimeout);
        clearTimeout(stallTimer);
      };
      const fail = (e: Error) => {
        settle();
        reject(e);
      };
      this.pending.add(fail);
      const trip = (message: string) => this.stop(new WorkerTimeout(message));
      if (limits.timeoutMs !== undefined) {
        timers.push(setTimeout(() => trip(`${limits.what} took longer than ${seconds(limits.timeoutMs!)}`), limits.timeoutMs));
      }
      if (limits.stallMs !== undefined) {
        const kick = () => {
          clearTimeout(stallTimer);
          stallTimer = setTimeout(() => trip(`${limits.what} stalled: no progress for ${seconds(limits.stallMs!)}`), limits.stallMs);
        };
        kick();
        onKick(kick);
      }
      run().then(
        (v) => {
          settle();
          resolve(v);
        },
        (e: unknown) => fail(e instanceof Error ? e : new Error(String(e))),
      );
    });
  }
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
}
