// Reads a Parquet input and check-dataset's filtered output with hyparquet
// (independent of our reader) and checks that the output is the input
// without exactly the removed rows: same schema (names, types, repetition,
// annotations), same column order, same compression per column, same
// key/value metadata, every other row identical and in the same order.
//   node compare.mjs INPUT OUTPUT REMOVED_ROWS_FILE
// REMOVED_ROWS_FILE: 1-based row numbers, one per line. Prints one JSON
// line {"ok":true,"rows":N,...} or {"ok":false,"error":"..."}; exit 0 / 1.
import { readFileSync } from 'node:fs'
import { parquetMetadata, parquetReadObjects } from 'hyparquet'
import { compressors } from 'hyparquet-compressors'

const [input, output, removedFile] = process.argv.slice(2)
const fail = (error) => {
  console.log(JSON.stringify({ ok: false, error }))
  process.exit(1)
}
const load = async (path) => {
  const buffer = readFileSync(path)
  const file = buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength)
  const metadata = parquetMetadata(file)
  const rows = await parquetReadObjects({ file, compressors })
  return { metadata, rows }
}
const codecs = (m) => (m.row_groups[0]?.columns ?? []).map((c) => c.meta_data.codec)
const schemaOf = (m) => m.schema.map(({ name, type, type_length, repetition_type, num_children, converted_type, logical_type }) =>
  ({ name, type, type_length, repetition_type, num_children, converted_type, logical_type }))
const text = (v) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x))

const removed = new Set(readFileSync(removedFile, 'utf8').split('\n').filter(Boolean).map(Number))
const a = await load(input)
const b = await load(output)
if (text(schemaOf(a.metadata)) !== text(schemaOf(b.metadata))) fail(`schema differs: ${text(schemaOf(b.metadata))}`)
if (b.metadata.row_groups.length && text(codecs(a.metadata)) !== text(codecs(b.metadata))) {
  fail(`codecs differ: ${text(codecs(a.metadata))} vs ${text(codecs(b.metadata))}`)
}
if (text(a.metadata.key_value_metadata) !== text(b.metadata.key_value_metadata)) fail('key/value metadata differs')
const want = a.rows.filter((_, i) => !removed.has(i + 1))
if (want.length !== b.rows.length) fail(`output has ${b.rows.length} rows, want ${want.length}`)
if (Number(b.metadata.num_rows) !== want.length) fail(`footer says ${b.metadata.num_rows} rows, want ${want.length}`)
for (let i = 0; i < want.length; i++) {
  if (text(want[i]) !== text(b.rows[i])) fail(`row ${i + 1} of the output differs: ${text(b.rows[i])} want ${text(want[i])}`)
}
console.log(JSON.stringify({ ok: true, rows: b.rows.length, removed: a.rows.length - b.rows.length,
  row_groups: b.metadata.row_groups.length, codecs: codecs(b.metadata) }))
