import { createHmac, timingSafeEqual } from 'node:crypto';
import { signatureToCheck, type LineSignatureCheck } from '../channels/line/verify';

/**
 * The LINE signature check with Node's own HMAC: the same answer as the Web Crypto check the core uses
 * (tests hold them to the same samples), without handing every webhook to the thread pool and back,
 * which on a busy Node service costs more than the HMAC itself. The comparison is constant-time.
 */
export const nodeLineSignature: LineSignatureCheck = (channelSecret, rawBody, signatureHeader) => {
  const signature = signatureToCheck(channelSecret, signatureHeader);
  if (!signature) return false;
  const expected = createHmac('sha256', channelSecret).update(rawBody).digest();
  return expected.length === signature.length && timingSafeEqual(expected, signature);
};
