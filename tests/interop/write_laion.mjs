// Writes a LAION-like Parquet release with hyparquet-writer, an
// implementation independent of ours:
//   node write_laion.mjs OUT ROWS [CODEC] [ROW_GROUP_ROWS] [--nested]
// Columns as LAION-400M/5B ship them (URL, TEXT, SAMPLE_ID, WIDTH, HEIGHT,
// LICENSE, NSFW, similarity) plus md5. Row r (1-based) has
//   URL  https://img{r % 97}.example.com/laion/{r % 1000}/{r}.jpg
//   md5  md5("image bytes of row {r}") in hex
// so a test can register chosen rows without reading the file. --nested
// adds a list<string> column "tags" (copied, never checked).
import { createHash } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import { parquetWriteFile } from 'hyparquet-writer'

const [out, rowsArg, codec = 'SNAPPY', groupArg = '50000'] = process.argv.slice(2)
const nested = process.argv.includes('--nested')
const rows = Number(rowsArg)
const ids = Array.from({ length: rows }, (_, i) => i + 1)
const md5 = (r) => createHash('md5').update(`image bytes of row ${r}`).digest('hex')
const columnData = [
  { name: 'SAMPLE_ID', data: ids.map((r) => BigInt(r) * 1000n + 7n), type: 'INT64' },
  { name: 'URL', data: ids.map((r) => `https://img${r % 97}.example.com/laion/${r % 1000}/${r}.jpg`), type: 'STRING' },
  { name: 'TEXT', data: ids.map((r) => (r % 11 === 0 ? null : `a photo of thing ${r % 5000}, "quoted", ünïcode`)), type: 'STRING' },
  { name: 'WIDTH', data: ids.map((r) => (r % 13 === 0 ? null : 256 + (r % 1024))), type: 'INT32' },
  { name: 'HEIGHT', data: ids.map((r) => 256 + (r % 777)), type: 'INT32' },
  { name: 'LICENSE', data: ids.map((r) => (r % 3 === 0 ? '?' : 'cc-by')), type: 'STRING' },
  { name: 'NSFW', data: ids.map((r) => ['UNLIKELY', 'UNSURE', 'NSFW'][r % 3]), type: 'STRING' },
  { name: 'similarity', data: ids.map((r) => 0.25 + (r % 1000) / 10000), type: 'DOUBLE' },
  { name: 'md5', data: ids.map(md5), type: 'STRING' },
]
let schema
if (nested) {
  columnData.push({ name: 'tags', data: ids.map((r) => (r % 5 === 0 ? null : r % 5 === 1 ? [] : [`t${r % 7}`, r % 2 ? null : `u${r}`])) })
  schema = [{ name: 'root', num_children: columnData.length }]
  const types = { INT64: 'INT64', INT32: 'INT32', DOUBLE: 'DOUBLE', STRING: 'BYTE_ARRAY' }
  for (const c of columnData.slice(0, -1)) {
    const e = { name: c.name, type: types[c.type], repetition_type: c.name === 'SAMPLE_ID' ? 'REQUIRED' : 'OPTIONAL' }
    if (c.type === 'STRING') e.converted_type = 'UTF8'
    schema.push(e)
  }
  schema.push({ name: 'tags', repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST' })
  schema.push({ name: 'list', repetition_type: 'REPEATED', num_children: 1 })
  schema.push({ name: 'element', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL', converted_type: 'UTF8' })
  for (const c of columnData) delete c.type
}
parquetWriteFile({
  filename: out,
  columnData,
  schema,
  codec,
  compressors: { GZIP: (bytes) => new Uint8Array(gzipSync(bytes)) },
  rowGroupSize: Number(groupArg),
  kvMetadata: [{ key: 'optout.test', value: 'laion-like' }],
})
