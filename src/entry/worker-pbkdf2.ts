/*
 * PBKDF2-HMAC-SHA256 in plain JavaScript, for Cloudflare's runtime: its Web Crypto (and node:crypto) refuse
 * more than 100,000 PBKDF2 iterations in production (workerd's checkPbkdfLimits), while staff passwords are
 * hashed with 600,000. The result is the same bytes Web Crypto derives on Node, so one stored hash works on
 * both. Each iteration is two SHA-256 blocks: the key's inner and outer pads are hashed once up front.
 */

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7,
  0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
  0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const INITIAL = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
const BLOCK = 64;

/** Runs the SHA-256 compression of one 16-word block `w` (extended in place to 64 words) into `state`. */
function compress(state: Int32Array, w: Int32Array): void {
  for (let i = 16; i < 64; i++) {
    const a = w[i - 15]!;
    const b = w[i - 2]!;
    const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
    const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
    w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
  }
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  let e = state[4]!;
  let f = state[5]!;
  let g = state[6]!;
  let h = state[7]!;
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
  state[4] = (state[4]! + e) | 0;
  state[5] = (state[5]! + f) | 0;
  state[6] = (state[6]! + g) | 0;
  state[7] = (state[7]! + h) | 0;
}

/** SHA-256 of a message, as words of state after its last block, starting from `from` (a pad's state) with `prefix` bytes already hashed. */
function sha256Words(message: Uint8Array, from: Int32Array = INITIAL, prefix = 0): Int32Array {
  const state = new Int32Array(from);
  const total = message.length + prefix;
  const padded = new Uint8Array(Math.ceil((message.length + 9) / BLOCK) * BLOCK);
  padded.set(message);
  padded[message.length] = 0x80;
  const bits = total * 8;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bits / 2 ** 32));
  view.setUint32(padded.length - 4, bits >>> 0);
  const w = new Int32Array(64);
  for (let offset = 0; offset < padded.length; offset += BLOCK) {
    for (let i = 0; i < 16; i++) w[i] = view.getInt32(offset + i * 4);
    compress(state, w);
  }
  return state;
}

function wordsToBytes(words: Int32Array): Uint8Array {
  const out = new Uint8Array(words.length * 4);
  const view = new DataView(out.buffer);
  words.forEach((word, i) => view.setInt32(i * 4, word));
  return out;
}

/** The state after hashing one 64-byte block (an HMAC pad). */
function padState(key: Uint8Array, byte: number): Int32Array {
  const block = new Uint8Array(BLOCK);
  block.set(key);
  for (let i = 0; i < BLOCK; i++) block[i]! ^= byte;
  const state = new Int32Array(INITIAL);
  const view = new DataView(block.buffer);
  const w = new Int32Array(64);
  for (let i = 0; i < 16; i++) w[i] = view.getInt32(i * 4);
  compress(state, w);
  return state;
}

/**
 * PBKDF2 with HMAC-SHA256, deriving `bytes` bytes (as Web Crypto's deriveBits with `bytes * 8` bits does).
 * The password is taken as given; callers normalise it the way the stored hash was made.
 */
export function pbkdf2Sha256(password: Uint8Array, salt: Uint8Array, iterations: number, bytes: number): Uint8Array {
  if (!Number.isInteger(iterations) || iterations < 1) throw new RangeError('iterations must be a positive integer');
  const key = password.length > BLOCK ? wordsToBytes(sha256Words(password)) : password;
  const inner = padState(key, 0x36);
  const outer = padState(key, 0x5c);
  const out = new Uint8Array(bytes);
  // The 32-byte message of every later iteration fits one block with its padding: words 8..15 are fixed.
  const w = new Int32Array(64);
  const state = new Int32Array(8);
  const u = new Int32Array(8);
  const t = new Int32Array(8);
  for (let blockIndex = 1, written = 0; written < bytes; blockIndex++) {
    const first = new Uint8Array(salt.length + 4);
    first.set(salt);
    new DataView(first.buffer).setUint32(salt.length, blockIndex);
    const innerFirst = sha256Words(first, inner, BLOCK);
    u.set(sha256Words(wordsToBytes(innerFirst), outer, BLOCK));
    t.set(u);
    for (let n = 1; n < iterations; n++) {
      // inner: H(ipad || u), one block: u, 0x80, zeros, length (64 + 32 bytes = 768 bits).
      state.set(inner);
      w.set(u);
      w[8] = 0x80000000;
      w.fill(0, 9, 15);
      w[15] = 768;
      compress(state, w);
      // outer: H(opad || inner), the same shape.
      w.set(state);
      w[8] = 0x80000000;
      w.fill(0, 9, 15);
      w[15] = 768;
      state.set(outer);
      compress(state, w);
      u.set(state);
      for (let i = 0; i < 8; i++) t[i]! ^= u[i]!;
    }
    const chunk = wordsToBytes(t);
    out.set(chunk.subarray(0, Math.min(chunk.length, bytes - written)), written);
    written += chunk.length;
  }
  return out;
}
