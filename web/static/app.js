// app.js: the page's behaviour. Photos are decoded by the browser
// (createImageBitmap), hashed by the project's PDQ core in WebAssembly
// (hasher.js) and by WebCrypto (SHA-256); only those hashes, and the URLs
// and scopes typed, are sent to the registry's JSON API on this origin.
import { Hasher, toHex } from './hasher.js';

const $ = (id) => document.getElementById(id);
const MAX_PIXELS = 100e6;  // as `optout register` without --max-pixels

const hasherReady = fetch('pdq.wasm').then((response) => {
  if (!response.ok) throw new Error('PDQ hashing is not available: this server was built without pdq.wasm (emscripten)');
  return Hasher.load(response);
});
hasherReady.catch(() => {});  // reported when a photo is hashed

async function api(method, path, body, bearer) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'omit', cache: 'no-store',
  });
  let answer = {};
  try { answer = await response.json(); } catch { /* not JSON */ }
  if (!response.ok) throw new Error(`${answer.message || response.statusText} [${answer.code || response.status}]`);
  return answer;
}
const infoReady = api('GET', '/v1/info');
infoReady.catch(() => {});
async function minQuality() {
  try { return (await infoReady).minPdqQuality || 50; } catch { return 50; }
}
// The lowest quality the server takes: from there up to minQuality() a hash
// is low-quality, matched at its stricter low-quality distance (the
// quality sent says so; README.md#matching). Servers without the tier say 0.
async function lowQualityFloor() {
  const min = await minQuality();
  try {
    const low = (await infoReady).lowQualityPdqFloor || 0;
    return low > 0 && low < min ? low : min;
  } catch { return min; }
}
// Whether the server matches each region in its own tier
// (GetInfoResponse.pdq_region_tiers): then regions go from the low-quality
// floor up with their qualities (PdqHash.region_quality), whatever the
// image's tier, as `optout register --image` sends them
// (client/common/protocol/pdq_quality.h).
async function regionTiers() {
  try {
    return Boolean((await infoReady).pdqRegionTiers) && await lowQualityFloor() < await minQuality();
  } catch { return false; }
}
// Regions of an image of `quality`: from the low floor with region tiers,
// else from its own tier's floor.
async function regionFloor(quality) {
  if (await regionTiers()) return lowQualityFloor();
  return quality >= await minQuality() ? minQuality() : lowQualityFloor();
}
// `h.regions` on the PdqHash `pdq` they travel with: their hashes, and their
// qualities when the server has region tiers (hashFile recorded it).
function putRegions(pdq, h) {
  pdq.regions = h.regions.map((r) => pdqWire(r.hash));
  if (h.regionTiers) pdq.regionQuality = h.regions.map((r) => r.quality);
}

function showError(error) {
  const box = $('error');
  box.textContent = error ? String(error.message || error) : '';
  box.hidden = !error;
  if (error) box.focus?.();
}

// ---- hashing -------------------------------------------------------------

function hexToBytes(hex) {
  return Uint8Array.from(hex.match(/../g), (h) => parseInt(h, 16));
}
function base64(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}
// PdqHash wire bytes are the hex form's bytes in reverse (client/pdq/README.md#bits-and-hex).
const pdqWire = (hex) => base64(hexToBytes(hex).reverse());

// A copy of a JPEG's bytes whose EXIF orientation says "as stored" (1):
// `optout hash` hashes the stored pixel grid, as the reference does, but
// browsers always apply EXIF rotation when decoding. Digests are of the
// original bytes; only the decoder sees the copy.
function withStoredOrientation(bytes) {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return bytes;
  let at = 2;
  while (at + 4 <= bytes.length && bytes[at] === 0xff) {
    const marker = bytes[at + 1];
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    if (marker === 0xda) break;  // image data follows: no more headers
    const exif = at + 4;
    if (marker === 0xe1 && String.fromCharCode(...bytes.subarray(exif, exif + 4)) === 'Exif') {
      const tiff = exif + 6;
      const little = bytes[tiff] === 0x49;
      const u16 = (i) => (little ? bytes[i] | (bytes[i + 1] << 8) : (bytes[i] << 8) | bytes[i + 1]);
      const u32 = (i) => (little ? u16(i) + u16(i + 2) * 65536 : u16(i) * 65536 + u16(i + 2));
      const ifd = tiff + u32(tiff + 4);
      for (let e = 0; e < u16(ifd) && ifd + 2 + 12 * e + 12 <= at + 2 + length; e++) {
        const entry = ifd + 2 + 12 * e;
        if (u16(entry) === 0x0112 && u16(entry + 8) !== 1) {
          const copy = bytes.slice();
          copy[entry + 8] = little ? 1 : 0;
          copy[entry + 9] = little ? 0 : 1;
          return copy;
        }
      }
    }
    at += 2 + length;
  }
  return bytes;
}

// `regions`: 'owner' (registering: the fixed windows) or 'checker' (the
// trimmed regions), as the optout command sends them (README.md#matching).
async function hashFile(file, { dihedral = false, regions = '' } = {}) {
  const hasher = await hasherReady;
  const bytes = new Uint8Array(await file.arrayBuffer());
  const sha256 = toHex(await crypto.subtle.digest('SHA-256', bytes));
  const md5 = hasher.md5(bytes);
  // The stored pixel grid, as `optout hash` reads it: no EXIF rotation, no
  // colour-profile conversion, no premultiplied alpha.
  const bitmap = await createImageBitmap(new Blob([withStoredOrientation(bytes)]), {
    premultiplyAlpha: 'none', colorSpaceConversion: 'none',
  });
  const { width, height } = bitmap;
  if (width * height > MAX_PIXELS) throw new Error(`${file.name}: image is above 100 MP`);
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const pdq = hasher.pdq(width, height, (y, n) => context.getImageData(0, y, width, n).data, { dihedral });
  if (regions) {
    pdq.regions = hasher.regions({ owner: regions === 'owner', minQuality: await regionFloor(pdq.quality) });
    pdq.regionTiers = await regionTiers();
  }
  return { ...pdq, sha256, md5 };
}

// For automated tests: what this page would send for `file`.
window.optoutHashFile = async (file) => {
  const { pdq, quality, sha256, md5 } = await hashFile(file);
  return { pdq, quality, sha256, md5 };
};

// ---- opt out -------------------------------------------------------------

const photos = [];  // {file, hashes (promise)}

function addPhotos(files) {
  const dihedral = $('dihedral-input').checked;
  for (const file of files) {
    if (!file.type.startsWith('image/') && file.type !== '') continue;
    const item = document.createElement('li');
    const thumb = document.createElement('img');
    thumb.alt = '';
    thumb.src = URL.createObjectURL(file);  // shown here only, never sent
    const text = document.createElement('span');
    text.textContent = `${file.name}: hashing…`;
    item.append(thumb, text);
    $('photo-list').append(item);
    const photo = { file, dihedral, hashes: hashFile(file, { dihedral: true, regions: 'owner' }) };
    photos.push(photo);
    photo.hashes.then(async (h) => {
      const min = await minQuality();
      const low = await lowQualityFloor();
      text.textContent = h.quality >= min
        ? `${file.name}: hashed (PDQ quality ${h.quality})`
        : h.quality >= low
          ? `${file.name} has PDQ quality ${h.quality} (< ${min}, low detail): registered as low-quality, only close near-duplicates match`
          : `${file.name} has PDQ quality ${h.quality} (< ${low}, too flat or small): registered by its file digests only, near-duplicates will not match`;
    }, (e) => { text.textContent = `${file.name}: ${e.message}`; });
  }
}

$('photo-input').addEventListener('change', (e) => addPhotos(e.target.files));
const drop = $('drop-zone');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  addPhotos(e.dataTransfer.files);
});

const lines = (id) => $(id).value.split('\n').map((s) => s.trim()).filter(Boolean);

function randomRequestId() {
  return toHex(crypto.getRandomValues(new Uint8Array(16)));  // 128 random bits
}

async function buildRegistration() {
  const min = await minQuality();
  const low = await lowQualityFloor();
  const dihedral = $('dihedral-input').checked;
  const request = { requestId: randomRequestId(), urls: lines('url-input'), scopes: lines('scope-input'),
                    pdq: [], sha256: [], md5: [] };
  const registered = { urls: request.urls, url_any_query: [], scopes: request.scopes,
                       pdq: [], sha256: [], md5: [], images: [] };
  // Hex of every digest sent, by request position: the receipt names items
  // the way `optout register` does.
  const hex = { pdq: [], sha256: [], md5: [] };
  const seen = new Set();
  for (const photo of photos) {
    const h = await photo.hashes;  // a photo that cannot be hashed stops the registration
    if (seen.has(h.sha256)) continue;  // the same file twice is registered once
    seen.add(h.sha256);
    const usable = h.quality >= low;
    const image = { file: photo.file.name, pdq: h.pdq, quality: h.quality, sha256: h.sha256,
                    md5: h.md5, pdq_registered: usable };
    if (usable && h.quality < min) image.pdq_low_quality = true;
    if (usable) {
      const variants = dihedral ? [...new Set([h.pdq, ...h.dihedral])] : [h.pdq];
      for (const variant of variants) {
        request.pdq.push({ hash: pdqWire(variant), quality: h.quality });
        hex.pdq.push(variant);
      }
      // The image's windows travel with its plain hash (README.md#matching).
      if (h.regions.length) putRegions(request.pdq[request.pdq.length - variants.length], h);
      image.regions = h.regions.length;
      if (dihedral) image.dihedral = variants.slice(1);
    }
    request.sha256.push(base64(hexToBytes(h.sha256)));
    request.md5.push(base64(hexToBytes(h.md5)));
    hex.sha256.push(h.sha256);
    hex.md5.push(h.md5);
    registered.images.push(image);
  }
  return { request, registered, hex };
}

// Each registered item with the public match id checks will name it by, in
// the CLI receipt's shape ({kind, item, match_id}), so the owner can
// recognise her items in published check reports.
function matchIdsOf(request, hex, answer) {
  const itemOf = {
    MATCH_KIND_URL: ['url', (i) => request.urls[i]],
    MATCH_KIND_SCOPE: ['scope', (i) => request.scopes[i]],
    MATCH_KIND_PDQ: ['pdq', (i) => hex.pdq[i]],
    MATCH_KIND_SHA256: ['sha256', (i) => hex.sha256[i]],
    MATCH_KIND_MD5: ['md5', (i) => hex.md5[i]],
  };
  return (answer.items || []).map((item) => {
    const [kind, valueAt] = itemOf[item.kind] || ['none', () => ''];
    // proto3 JSON leaves out an index of 0.
    return { kind, item: valueAt(item.index || 0) || '', match_id: item.matchId || '' };
  });
}

// ---- scope challenge -----------------------------------------------------

const SCOPE_STATES = { SCOPE_STATE_PENDING: 'pending', SCOPE_STATE_VERIFIED: 'verified',
                       SCOPE_STATE_LAPSED: 'lapsed', SCOPE_STATE_EXPIRED: 'expired' };
let challengeOf = null;  // { id, token } of the opt-out whose challenge is shown

// One line per scope: host and state, where to publish the token while it
// is not verified, and why the last check failed.
function showScopes(scopes) {
  const list = $('challenge-scopes');
  list.replaceChildren();
  for (const scope of scopes) {
    const item = document.createElement('li');
    item.dataset.host = scope.host;
    const state = SCOPE_STATES[scope.state] || 'pending';
    item.dataset.state = state;
    const head = document.createElement('strong');
    head.textContent = `${scope.host}: ${state}`;
    item.append(head);
    if (state === 'pending' && scope.pendingUntilUnixSeconds) {
      item.append(` (until ${day(scope.pendingUntilUnixSeconds)})`);
    }
    if (state !== 'verified') {
      const where = document.createElement('div');
      const file = document.createElement('code');
      file.textContent = scope.httpsUrl || '';
      where.append('file: ', file);
      if (scope.dnsName) {
        const txt = document.createElement('code');
        txt.textContent = scope.dnsName;
        where.append(' or TXT record at ', txt);
      }
      item.append(where);
    }
    if (scope.reason) {
      const why = document.createElement('div');
      why.textContent = `last check: ${scope.reason}`;
      item.append(why);
    }
    list.append(item);
  }
}

function showChallenge(id, token, answer) {
  const scopes = answer.scopes || [];
  challengeOf = scopes.length ? { id, token } : null;
  $('challenge').hidden = !scopes.length;
  if (!scopes.length) return;
  $('challenge-token').textContent = answer.challengeToken || '';
  showScopes(scopes);
}

$('verify-button').addEventListener('click', async () => {
  showError(null);
  if (!challengeOf) return;
  const button = $('verify-button');
  button.disabled = true;
  try {
    const verified = await api('POST', `/v1/optouts/${encodeURIComponent(challengeOf.id)}/verify`,
                               undefined, challengeOf.token);
    showScopes(verified.scopes || []);
  } catch (error) {
    showError(error);
  } finally {
    button.disabled = false;
  }
});

function rfc3339Now() {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

$('register-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  showError(null);
  const button = $('register-button');
  button.disabled = true;
  try {
    const { request, registered, hex } = await buildRegistration();
    if (!request.urls.length && !request.scopes.length && !registered.images.length) {
      throw new Error('Choose a photo or type a URL or scope first.');
    }
    const answer = await api('POST', '/v1/optouts', request);
    // The CLI's receipt format (client/cli/receipt.h). "server" is the gRPC
    // address, which this page does not know: optout then uses --server.
    const receipt = { id: answer.optOutId, token: answer.manageToken, server: '',
                      created: rfc3339Now(), registered,
                      match_ids: matchIdsOf(request, hex, answer) };
    if ((answer.scopes || []).length) {
      // As the CLI's receipt keeps it, for `optout verify --receipt`.
      receipt.challenge = { token: answer.challengeToken,
                            scopes: answer.scopes.map((scope) => ({ host: scope.host, https_url: scope.httpsUrl,
                                                                    ...(scope.dnsName ? { dns_name: scope.dnsName } : {}) })) };
    }
    $('receipt-id').textContent = receipt.id;
    $('receipt-token').textContent = receipt.token;
    showChallenge(receipt.id, receipt.token, answer);
    const link = $('receipt-download');
    link.href = URL.createObjectURL(new Blob([`${JSON.stringify(receipt, null, 2)}\n`], { type: 'application/json' }));
    link.download = `receipt-${receipt.id}.json`;
    $('receipt').hidden = false;
    $('receipt').focus();
  } catch (error) {
    showError(error);
  } finally {
    button.disabled = false;
  }
});

// ---- status and withdraw -------------------------------------------------

$('status-receipt-input').addEventListener('change', async (e) => {
  showError(null);
  const file = e.target.files[0];
  if (!file) return;
  try {
    const receipt = JSON.parse(await file.text());
    if (typeof receipt.id !== 'string' || typeof receipt.token !== 'string') throw new Error();
    $('status-id').value = receipt.id;
    $('status-token').value = receipt.token;
  } catch {
    showError(new Error(`${file.name} is not an opt-out receipt (it needs "id" and "token").`));
  }
});

const credentials = () => ({ id: $('status-id').value.trim(), token: $('status-token').value.trim() });
const day = (unixSeconds) => new Date(Number(unixSeconds) * 1000).toISOString().slice(0, 10);

$('status-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  showError(null);
  const { id, token } = credentials();
  try {
    const got = await api('GET', `/v1/optouts/${encodeURIComponent(id)}`, undefined, token);
    $('status-counts').textContent =
      `Registered on ${day(got.createdUnixSeconds)}: ${got.urlCount} URLs, ${got.scopeCount} scopes, ` +
      `${got.pdqCount} PDQ hashes, ${got.sha256Count} SHA-256, ${got.md5Count} MD5.`;
    $('revoke-button').hidden = false;
    $('status-result').hidden = false;
  } catch (error) {
    $('status-result').hidden = true;
    showError(error);
  }
});

$('revoke-button').addEventListener('click', async () => {
  showError(null);
  const { id, token } = credentials();
  if (!window.confirm('Withdraw this opt-out? Crawlers will no longer be told to skip these images.')) return;
  try {
    await api('DELETE', `/v1/optouts/${encodeURIComponent(id)}`, undefined, token);
    $('status-counts').textContent = `Withdrawn on ${new Date().toISOString().slice(0, 10)}.`;
    $('revoke-button').hidden = true;
  } catch (error) {
    showError(error);
  }
});

// ---- check ---------------------------------------------------------------

const KIND_NAMES = { MATCH_KIND_URL: 'URL', MATCH_KIND_SCOPE: 'scope', MATCH_KIND_PDQ: 'PDQ (near-duplicate)',
                     MATCH_KIND_SHA256: 'SHA-256 (same file)', MATCH_KIND_MD5: 'MD5 (same file)' };
const RANK = ['MATCH_KIND_SHA256', 'MATCH_KIND_MD5', 'MATCH_KIND_PDQ'];  // an image's strongest evidence first

$('check-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  showError(null);
  const url = $('check-url-input').value.trim();
  const photo = $('check-photo-input').files[0];
  const items = [];
  const said = [];
  try {
    if (url) items.push({ url });
    let imageItems = 0;
    if (photo) {
      const h = await hashFile(photo, { dihedral: true, regions: 'checker' });
      if (h.quality >= await lowQualityFloor()) {
        // The quality tells the server whether the image is low-quality.
        const pdq = { hash: pdqWire(h.pdq), quality: h.quality, dihedral: h.dihedral.map(pdqWire) };
        putRegions(pdq, h);
        items.push({ pdq });
        imageItems += 1;
      }
      items.push({ sha256: base64(hexToBytes(h.sha256)) }, { md5: base64(hexToBytes(h.md5)) });
      imageItems += 2;
    }
    if (!items.length) throw new Error('Type a URL or choose a photo to check.');
    const { results } = await api('POST', '/v1/check', { items });
    if (url) {
      const r = results[0];
      said.push(r.matched ? `${url}: opted out (${KIND_NAMES[r.kind]} match)` : `${url}: not opted out`);
    }
    if (photo) {
      const mine = results.slice(url ? 1 : 0, (url ? 1 : 0) + imageItems).filter((r) => r.matched);
      mine.sort((a, b) => RANK.indexOf(a.kind) - RANK.indexOf(b.kind));
      said.push(mine.length ? `${photo.name}: opted out (${KIND_NAMES[mine[0].kind]} match)`
                            : `${photo.name}: not opted out`);
    }
    $('check-result').textContent = said.join(' · ');
  } catch (error) {
    $('check-result').textContent = '';
    showError(error);
  }
});
