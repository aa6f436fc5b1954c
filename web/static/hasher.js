// hasher.js: the project's PDQ core (client/pdq, compiled to pdq.wasm by
// em++) and MD5, driven from JavaScript. Used by the page (app.js) and by
// the node test that compares it with `optout hash` (tests/web/).
// Pixels are handed over in strips of rows, so a large photo never needs a
// second full-size copy inside the module.

const STRIP_BYTES = 4 << 20;

const PDQ_ERRORS = {
  [-1]: 'internal error: not every row was hashed',
  [-2]: 'image is smaller than 5 px on a side; PDQ cannot hash it',
  [-3]: 'image has no detail to hash (its PDQ hash would be all zero)',
};

export class Hasher {
  constructor(exports) {
    this.x = exports;
  }

  // `source`: a fetch Response or the module's bytes.
  static async load(source) {
    const imports = {
      env: { emscripten_notify_memory_growth() {} },
      wasi_snapshot_preview1: {
        proc_exit(code) { throw new Error(`pdq.wasm stopped (${code})`); },
      },
    };
    const { instance } = source instanceof Response
      ? await WebAssembly.instantiateStreaming(source, imports)
      : await WebAssembly.instantiate(source, imports);
    instance.exports._initialize();
    return new Hasher(instance.exports);
  }

  // Copies `bytes` into the module's scratch buffer.
  put(bytes) {
    const at = this.x.optout_buffer(bytes.length);
    new Uint8Array(this.x.memory.buffer, at, bytes.length).set(bytes);
  }

  string(pointer, length) {
    return new TextDecoder().decode(new Uint8Array(this.x.memory.buffer, pointer, length));
  }

  // Hashes a width x height RGBA image; rows(y, n) returns the RGBA bytes of
  // rows y .. y+n-1. Resolves to {pdq, quality, dihedral: [8 hex]}.
  pdq(width, height, rows, { dihedral = false } = {}) {
    if (this.x.optout_pdq_begin(width, height) !== 0) throw new Error('image has no pixels');
    const strip = Math.max(1, Math.floor(STRIP_BYTES / (width * 4)));
    for (let y = 0; y < height; y += strip) {
      const n = Math.min(strip, height - y);
      this.put(rows(y, n));
      if (this.x.optout_pdq_rows(n) !== 0) throw new Error('internal error: rows out of order');
    }
    const quality = this.x.optout_pdq_finish(dihedral ? 1 : 0);
    if (quality < 0) throw new Error(PDQ_ERRORS[quality] || `PDQ error ${quality}`);
    const hex = this.string(this.x.optout_pdq_hex(), 9 * 64);
    const result = { pdq: hex.slice(0, 64), quality };
    if (dihedral) result.dihedral = [...Array(8).keys()].map((i) => hex.slice(64 * (i + 1), 64 * (i + 2)));
    return result;
  }

  // After pdq(): the image's region hashes (client/pdq/match_regions.h),
  // the owner's windows when registering (`owner`) or the checker's trimmed
  // regions, those of quality >= minQuality only, as [{hash: hex, quality}].
  regions({ owner = false, minQuality = 50 } = {}) {
    const n = this.x.optout_pdq_regions(owner ? 1 : 0, minQuality);
    if (n < 0) throw new Error('internal error: regions asked before a hash');
    const hex = this.string(this.x.optout_pdq_regions_hex(), 64 * n);
    const qualities = new Uint8Array(this.x.memory.buffer, this.x.optout_pdq_region_qualities(), n);
    return [...Array(n).keys()].map((i) => ({ hash: hex.slice(64 * i, 64 * (i + 1)), quality: qualities[i] }));
  }

  md5(bytes) {
    this.x.optout_md5_begin();
    for (let at = 0; at < bytes.length; at += STRIP_BYTES) {
      const chunk = bytes.subarray(at, at + STRIP_BYTES);
      this.put(chunk);
      this.x.optout_md5_update(chunk.length);
    }
    return this.string(this.x.optout_md5_hex(), 32);
  }
}

export function toHex(buffer) {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
