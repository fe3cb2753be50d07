import { describe, expect, it } from 'vitest';
import { verifyTelegramSecret } from '../../../src/channels/telegram/verify';

describe('verifyTelegramSecret', () => {
  const secret = 'dealer_Webhook-secret_123';

  it('accepts exactly the secret given to setWebhook', () => {
    expect(verifyTelegramSecret(secret, secret)).toBe(true);
  });

  it.each([
    ['missing header', undefined],
    ['null header', null],
    ['empty header', ''],
    ['one character changed', 'dealer_Webhook-secret_124'],
    ['different case', secret.toUpperCase()],
    ['a prefix of the secret', secret.slice(0, -1)],
    ['the secret with more after it', `${secret}x`],
    ['the secret with a trailing space', `${secret} `],
  ])('refuses %s', (_, header) => {
    expect(verifyTelegramSecret(secret, header)).toBe(false);
  });

  it('compares bytes, so characters that differ only beyond ASCII still differ', () => {
    expect(verifyTelegramSecret('秘密', '秘密')).toBe(true);
    expect(verifyTelegramSecret('秘密', '秘宓')).toBe(false);
  });

  it('never accepts anything when no secret is configured', () => {
    expect(verifyTelegramSecret('', '')).toBe(false);
    expect(verifyTelegramSecret('', 'anything')).toBe(false);
  });
});
