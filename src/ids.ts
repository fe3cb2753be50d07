/** A new random id (UUID v4) from Web Crypto, available on Node and Workers alike. */
export function newId(): string {
  return crypto.randomUUID();
}
