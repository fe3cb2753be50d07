import { messagingApi } from '@line/bot-sdk';
import type { Api } from 'node-telegram-bot-api';
import type { BlobStore } from '../blobs/blob-store';
import { readLimited } from '../blobs/images';
import type { InboundEvent } from '../channels/types';
import type { Logger } from '../ops/logger';
import type { Store } from '../store/store';
import { PHOTO_MAX_BYTES } from './model';

/*
 * Photos customers send on LINE and Telegram arrive as ids; the picture itself is fetched from the
 * platform (LINE's data API `/v2/bot/message/{id}/content`, Telegram's getFile and file download) into the
 * blob store, before the event is processed, so the flow step that reads it stays free of I/O. Only photos
 * sent while a complaint is being made or a person is answering are fetched: a photo sent to the menu is
 * answered and not kept. The event then carries `blob:<key>` as its media id; a photo that could not be
 * fetched keeps the platform's id, and the flow asks the customer to send it again.
 */

/** Conversations in these flows keep the photos the customer sends. */
export const FLOWS_KEEPING_PHOTOS = ['cmp', 'handoff'] as const;

export const BLOB_MEDIA_PREFIX = 'blob:';

export interface MediaDeps {
  store: Store;
  blobs: BlobStore;
  logger: Logger;
  line?: { channelAccessToken: string; dataApiBaseUrl: string } | null;
  telegram?: { api: Api; botToken: string; apiBaseUrl: string } | null;
  /** Longest wait for one download; a photo that takes longer is treated as lost. */
  timeoutMs?: number;
}

/** The key a platform's photo is kept under: the same on every attempt, so a retried event finds it. */
export function platformPhotoKey(channel: 'line' | 'telegram', mediaId: string): string | null {
  return /^[A-Za-z0-9_-]{1,150}$/.test(mediaId) ? `photos/${channel}/${mediaId}` : null;
}

type Download = AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;

/** Returns the event with its photo fetched into the blob store (see the file comment); never throws. */
export function createMediaFetcher(deps: MediaDeps): (event: InboundEvent) => Promise<InboundEvent> {
  const log = deps.logger.child({ component: 'media' });
  const timeoutMs = deps.timeoutMs ?? 20_000;
  const lineBlobs = deps.line ? new messagingApi.MessagingApiBlobClient({ channelAccessToken: deps.line.channelAccessToken, baseURL: deps.line.dataApiBaseUrl }) : null;

  async function download(channel: 'line' | 'telegram', mediaId: string): Promise<Download | null> {
    if (channel === 'line' && lineBlobs) return lineBlobs.getMessageContent(mediaId);
    if (channel === 'telegram' && deps.telegram) {
      const file = await deps.telegram.api.getFile({ file_id: mediaId });
      if (!file.file_path) return null;
      const res = await fetch(`${deps.telegram.apiBaseUrl}/file/bot${deps.telegram.botToken}/${file.file_path}`, { signal: AbortSignal.timeout(timeoutMs) });
      if (!res.ok || !res.body) throw new Error(`Telegram file download answered ${res.status}`);
      return res.body;
    }
    return null;
  }

  async function keepsPhotos(event: InboundEvent): Promise<boolean> {
    const row = await deps.store.db
      .selectFrom('channel_identities')
      .innerJoin('conversations', 'conversations.customer_id', 'channel_identities.customer_id')
      .select('conversations.flow')
      .where('channel_identities.channel', '=', event.channel)
      .where('channel_identities.external_id', '=', event.externalId)
      .executeTakeFirst();
    return (FLOWS_KEEPING_PHOTOS as readonly (string | null | undefined)[]).includes(row?.flow);
  }

  return async (event) => {
    const input = event.input;
    if (input.type !== 'image' || event.channel === 'web' || input.mediaId.startsWith(BLOB_MEDIA_PREFIX)) return event;
    const channel = event.channel;
    const key = platformPhotoKey(channel, input.mediaId);
    const withKey = (k: string): InboundEvent => ({ ...event, input: { type: 'image', mediaId: `${BLOB_MEDIA_PREFIX}${k}` } });
    try {
      if (!key || !(await keepsPhotos(event))) return event;
      if (await deps.blobs.get(key)) return withKey(key);
      const body = await download(channel, input.mediaId);
      if (!body) return event;
      const bytes = await readLimited(body, PHOTO_MAX_BYTES);
      if (bytes === 'too_large') {
        log.warn({ channel, mediaId: input.mediaId }, 'photo larger than kept; the customer is asked to send another');
        return event;
      }
      const stored = await deps.blobs.put(key, bytes, { maxBytes: PHOTO_MAX_BYTES });
      if (!stored.ok) {
        log.warn({ channel, mediaId: input.mediaId, reason: stored.reason }, 'photo not kept');
        return event;
      }
      return withKey(key);
    } catch (err) {
      log.warn({ channel, mediaId: input.mediaId, err: err instanceof Error ? err.message : String(err) }, 'photo could not be fetched; the customer is asked to send it again');
      return event;
    }
  };
}
