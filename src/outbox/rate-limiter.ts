import type { ChannelName } from '../store/schema';

/** A token bucket: `ratePerSecond` sustained, up to `burst` at once. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.last) / 1000;
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.ratePerSecond);
    this.last = now;
  }

  /** Milliseconds until one token is available (0 when it is now). */
  waitMs(now: number): number {
    this.refill(now);
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000);
  }

  /** True when the bucket is back to its full burst, so forgetting it changes nothing. */
  isFull(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.burst;
  }

  take(now: number): void {
    this.refill(now);
    this.tokens -= 1;
  }

  /** Gives back a token taken for a request that was not made. */
  giveBack(now: number): void {
    this.refill(now);
    this.tokens = Math.min(this.burst, this.tokens + 1);
  }
}

export interface RateLimitSettings {
  linePerSecond: number;
  telegramPerSecond: number;
  telegramPerChatPerSecond: number;
  /** Telegram tolerates short bursts in one chat; sustained it wants about one message a second. */
  telegramPerChatBurst?: number;
}

/**
 * The platforms' sending limits, kept per instance: LINE's requests per second for the channel,
 * Telegram's overall messages per second and messages per chat.
 */
export class RateLimits {
  private readonly platform = new Map<ChannelName, TokenBucket>();
  private readonly perChat = new Map<string, TokenBucket>();

  constructor(
    private readonly settings: RateLimitSettings,
    private readonly nowMs: () => number,
  ) {}

  /** Takes a send slot for this recipient, or says how long to wait for one (taking nothing). */
  reserve(channel: ChannelName, externalId: string): number {
    const now = this.nowMs();
    const buckets: TokenBucket[] = [];
    const platform = this.platformBucket(channel, now);
    if (platform) buckets.push(platform);
    if (channel === 'telegram') buckets.push(this.chatBucket(externalId, now));
    const wait = Math.max(0, ...buckets.map((b) => b.waitMs(now)));
    if (wait > 0) return wait;
    for (const b of buckets) b.take(now);
    this.forgetIdleChats(now);
    return 0;
  }

  /**
   * Returns the slot `reserve` took when no request followed (another instance claimed the row first),
   * so instances racing for the same rows do not use up each other's room.
   */
  release(channel: ChannelName, externalId: string): void {
    const now = this.nowMs();
    this.platformBucket(channel, now)?.giveBack(now);
    if (channel === 'telegram') this.perChat.get(externalId)?.giveBack(now);
  }

  private platformBucket(channel: ChannelName, now: number): TokenBucket | null {
    const rate = channel === 'line' ? this.settings.linePerSecond : channel === 'telegram' ? this.settings.telegramPerSecond : null;
    if (rate === null) return null;
    let bucket = this.platform.get(channel);
    if (!bucket) {
      // A tenth of a second's worth at once, not a whole second's: a full bucket after a pause sends up to twice
      // the limit within one second, which a platform counting a sliding second refuses with 429.
      bucket = new TokenBucket(rate, Math.max(1, Math.ceil(rate / 10)), now);
      this.platform.set(channel, bucket);
    }
    return bucket;
  }

  private chatBucket(externalId: string, now: number): TokenBucket {
    let bucket = this.perChat.get(externalId);
    if (!bucket) {
      bucket = new TokenBucket(this.settings.telegramPerChatPerSecond, this.settings.telegramPerChatBurst ?? 3, now);
      this.perChat.set(externalId, bucket);
    }
    return bucket;
  }

  private forgetIdleChats(now: number): void {
    // A chat's bucket refills completely within seconds; keep the map from growing with every customer ever served.
    if (this.perChat.size < 10_000) return;
    for (const [id, bucket] of this.perChat) if (bucket.isFull(now)) this.perChat.delete(id);
  }
}
