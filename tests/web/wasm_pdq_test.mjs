// node wasm_pdq_test.mjs PDQ.WASM PDQ_PIXEL_DUMP IMAGE_DIR
//
// The page's hasher (web/static/hasher.js + pdq.wasm, the project's PDQ core
// built by em++) against the native one (`optout hash`'s HashImageBytes), on
// the same decoded pixels of every image in IMAGE_DIR: PDQ hash, quality,
// the 8 dihedral variants, the region hashes and their qualities (owner
// windows and checker regions, client/pdq/match_regions.h, from the
// low-quality floor up, as sent when the server has region tiers) and MD5
// must be identical; an image the native
// hasher refuses for lack of detail must be refused too. Exit 1 on any
// difference.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hasher } from '../../web/static/hasher.js';

const [wasmPath, dumpTool, imageDir] = process.argv.slice(2);
const hasher = await Hasher.load(readFileSync(wasmPath));
const work = mkdtempSync(join(tmpdir(), 'optout-wasm-pdq-'));
const rgbaPath = join(work, 'pixels.rgba');
// One dump process answers a JSON line per image path written to it.
// Regions from the server's default low-quality floor
// (client/common/protocol/pdq_quality.h), the page's floor with region tiers.
const REGION_FLOOR = 15;
const dump = spawn(dumpTool, [rgbaPath, String(REGION_FLOOR)], { stdio: ['pipe', 'pipe', 'inherit'] });
const answers = createInterface({ input: dump.stdout })[Symbol.asyncIterator]();
async function native(file) {
  dump.stdin.write(`${file}\n`);
  const { value, done } = await answers.next();
  if (done) throw new Error('pdq_pixel_dump stopped');
  return JSON.parse(value);
}
let compared = 0;
let refused = 0;
let regions = 0;
const failures = [];
try {
  for (const name of readdirSync(imageDir).sort()) {
    const file = join(imageDir, name);
    const expected = await native(file);
    const bytes = readFileSync(file);
    if (expected.error !== undefined) {
      if (expected.width === undefined) continue;  // not decodable: nothing to compare
      let wasmError = '';
      try {
        const rgba = readFileSync(rgbaPath);
        const row = expected.width * 4;
        hasher.pdq(expected.width, expected.height, (y, n) => rgba.subarray(y * row, (y + n) * row));
      } catch (e) {
        wasmError = e.message;
      }
      if (wasmError === '') failures.push({ name, native: expected, wasm: 'hashed what native refused' });
      refused += 1;
      continue;
    }
    const rgba = readFileSync(rgbaPath);
    const row = expected.width * 4;
    const got = hasher.pdq(expected.width, expected.height,
                           (y, n) => rgba.subarray(y * row, (y + n) * row), { dihedral: true });
    const ownerRegions = hasher.regions({ owner: true, minQuality: REGION_FLOOR });
    const checkerRegions = hasher.regions({ minQuality: REGION_FLOOR });
    const md5 = hasher.md5(bytes);
    const sameRegions = (got, hashes, qualities) =>
      got.map((r) => r.hash).join() === hashes.join() && got.map((r) => r.quality).join() === qualities.join();
    const same = got.pdq === expected.pdq && got.quality === expected.quality &&
                 got.dihedral.join() === expected.dihedral.join() && md5 === expected.md5 &&
                 sameRegions(ownerRegions, expected.owner_regions, expected.owner_regions_quality) &&
                 sameRegions(checkerRegions, expected.checker_regions, expected.checker_regions_quality);
    if (!same) failures.push({ name, native: expected, wasm: { ...got, md5, ownerRegions, checkerRegions } });
    regions += ownerRegions.length + checkerRegions.length;
    compared += 1;
  }
} finally {
  dump.stdin.end();
  rmSync(work, { recursive: true, force: true });
}
console.log(`wasm PDQ vs native: ${compared} images compared (${regions} region hashes), ` +
            `${failures.length} differ; ${refused} refused by both (too small or no detail)`);
for (const f of failures.slice(0, 5)) console.log(JSON.stringify(f));
if (failures.length > 0 || compared < 10 || regions === 0) process.exit(1);
