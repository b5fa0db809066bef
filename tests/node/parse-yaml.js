// Test support: parses a YAML file strictly (the `yaml` package from npm) and prints it as JSON.
const fs = require('fs');
const YAML = require('yaml');
const docs = YAML.parseAllDocuments(fs.readFileSync(process.argv[2], 'utf8'), { strict: true, uniqueKeys: true });
for (const d of docs) if (d.errors.length) { console.error(d.errors.map(e => e.message).join('\n')); process.exit(1); }
process.stdout.write(JSON.stringify(docs.map(d => d.toJSON())));
