// Validates a JSON document against a QCSchema JSON Schema document (draft-04) with ajv:
//   node tests/browser/qcschema-validate.mjs SCHEMA_FILE MOLECULE_SCHEMA_FILE DOCUMENT_FILE
// Exit 0 when valid; otherwise prints ajv's errors and exits 1. Used by the integration tests
// (tests/integration/test_qcschema.cpp) on what noxd answers.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// The packages live in www/node_modules (installed by scripts/install-deps.sh).
const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), "../../www/package.json"));
const Ajv = require("ajv-draft-04");

const [schemaFile, moleculeFile, documentFile] = process.argv.slice(2);
const schema = JSON.parse(readFileSync(schemaFile, "utf8"));
const molecule = JSON.parse(readFileSync(moleculeFile, "utf8"));
const document = JSON.parse(readFileSync(documentFile, "utf8"));
// The schemas use "definition"/"guidance" annotations ajv does not know: not strict.
const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addSchema(molecule, "qc_schema_molecule.schema");
const validate = ajv.compile(schema);
if (validate(document)) {
  console.log("valid");
  process.exit(0);
}
console.log(JSON.stringify(validate.errors, null, 2));
process.exit(1);
