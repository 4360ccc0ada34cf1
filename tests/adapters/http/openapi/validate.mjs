// Validates an OpenAPI document against the specification's JSON Schema for its version (the
// schemas @seriousme/openapi-schema-validator ships, checked with ajv), $refs resolved.
// Usage: node validate.mjs DOCUMENT.json [VERSION]   exit 0 valid, 1 invalid, 2 unreadable.
import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";

const [path, expected] = process.argv.slice(2);
let doc;
try {
  doc = JSON.parse(readFileSync(path, "utf8"));
} catch (e) {
  console.error(`validate.mjs: cannot read ${path}: ${e.message}`);
  process.exit(2);
}
const validator = new Validator();
const result = await validator.validate(doc);
if (expected && validator.version !== expected) {
  console.error(`validate.mjs: ${path} is OpenAPI ${validator.version}, expected ${expected}`);
  process.exit(1);
}
if (!result.valid) {
  console.error(`validate.mjs: ${path} is not a valid OpenAPI ${validator.version} document:`);
  console.error(JSON.stringify(result.errors, null, 1));
  process.exit(1);
}
console.log(`${path}: a valid OpenAPI ${validator.version} document`);
