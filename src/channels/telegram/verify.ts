const encoder = new TextEncoder();

/**
 * Checks the `X-Telegram-Bot-Api-Secret-Token` header against the secret given to `setWebhook`. Telegram
 * signs nothing, so this token is the only proof a webhook call came from Telegram; the comparison walks
 * every byte of the longer value whatever matches, so its timing tells an attacker nothing about how
 * much of a guess was right. An empty expected secret never matches: a misconfigured service must not
 * accept every caller.
 */
export function verifyTelegramSecret(expected: string, header: string | null | undefined): boolean {
  if (!expected || header == null) return false;
  const a = encoder.encode(expected);
  const b = encoder.encode(header);
  let diff = a.length ^ b.length;
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
