#!/usr/bin/env node
// validate.js: checks Kubernetes manifests offline against the Kubernetes API schemas,
// which come installed with the pinned packages (package-lock.json) and are never
// fetched:
//
//   kubernetes-models  JSON-schema validators generated from the Kubernetes OpenAPI
//                      spec (ajv): types, required fields, enums, formats, int-or-string.
//   kubernetes-types   the same API (Kubernetes 1.30) as TypeScript declarations: the
//                      field names of every object, used for strict checking. The
//                      OpenAPI schemas leave additionalProperties open, so without this
//                      a misspelled field would pass (kubectl would refuse it).
//   yaml               multi-document YAML.
//
//   node validate.js FILE...          every document of every file; exit 0 when all
//                                     are valid, 1 (errors on stderr) when any is not
//   node validate.js --json FILE...   also prints the documents as JSON on stdout
//
// A document whose apiVersion/kind has no schema is an error, never skipped.
"use strict";

const fs = require("fs");
const path = require("path");
const YAML = require("yaml");

const MODELS = path.dirname(require.resolve("kubernetes-models/package.json"));
const TYPES = path.dirname(require.resolve("kubernetes-types/package.json"));

// apiVersion "apps/v1" -> ["apps", "v1"]; "v1" -> ["", "v1"].
function splitApiVersion(apiVersion) {
  const i = apiVersion.lastIndexOf("/");
  return i < 0 ? ["", apiVersion] : [apiVersion.slice(0, i), apiVersion.slice(i + 1)];
}

function modelFor(apiVersion, kind) {
  const [group, version] = splitApiVersion(apiVersion);
  if (!/^[a-z0-9.-]*$/.test(group) || !/^v[0-9a-z]+$/.test(version) || !/^[A-Z][A-Za-z0-9]*$/.test(kind))
    return null;
  const file = path.join(MODELS, group, version, kind + ".js");
  if (!fs.existsSync(file)) return null;
  const mod = require(file);
  return mod[kind] || null;
}

// --- kubernetes-types: interface name -> { field: type text }, per declaration file ---

const declCache = new Map();

function parseDeclarations(file) {
  if (declCache.has(file)) return declCache.get(file);
  const text = fs.readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
  const imports = {};
  for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*"([^"]+)"/g))
    for (const name of m[1].split(",").map((s) => s.trim()).filter(Boolean))
      imports[name] = path.resolve(path.dirname(file), m[2] + ".d.ts");
  const interfaces = {};
  const aliases = new Set();
  for (const m of text.matchAll(/export\s+type\s+(\w+)\s*=/g)) aliases.add(m[1]);
  const re = /export\s+interface\s+(\w+)\s*\{/g;
  let m;
  while ((m = re.exec(text))) {
    let depth = 1, i = re.lastIndex, start = i, members = [];
    for (; i < text.length && depth > 0; i++) {
      const c = text[i];
      if (c === "{" || c === "<" || c === "(") depth++;
      else if (c === "}" || c === ">" || c === ")") depth--;
      if ((c === ";" && depth === 1) || depth === 0) {
        const member = text.slice(start, depth === 0 ? i : i).trim();
        if (member) members.push(member);
        start = i + 1;
      }
    }
    const fields = {};
    for (const member of members) {
      const f = /^(?:readonly\s+)?("?)([^"?:]+)\1\??\s*:\s*([\s\S]+)$/.exec(member);
      if (f) fields[f[2]] = f[3].replace(/\s+/g, "");
    }
    interfaces[m[1]] = fields;
  }
  const decl = { file, imports, interfaces, aliases };
  declCache.set(file, decl);
  return decl;
}

// A type text in a declaration file -> a walker description.
function resolveType(decl, type) {
  if (type.startsWith("Array<") && type.endsWith(">"))
    return { array: resolveType(decl, type.slice(6, -1)) };
  const map = /^\{\[\w+:string\]:(.+);?\}$/.exec(type);
  if (map) return { map: resolveType(decl, map[1].replace(/;$/, "")) };
  if (!/^\w+$/.test(type)) return null;   // unions, literals, primitives: leaves
  if (decl.interfaces[type]) return { decl, name: type };
  if (decl.imports[type]) {
    const other = parseDeclarations(decl.imports[type]);
    if (other.interfaces[type]) return { decl: other, name: type };
  }
  return null;
}

function typesFor(apiVersion, kind) {
  const [group, version] = splitApiVersion(apiVersion);
  const dir = group === "" ? "core" : group.replace(/\.k8s\.io$/, "").replace(/\.authorization$/, "");
  const file = path.join(TYPES, dir, version + ".d.ts");
  if (!fs.existsSync(file)) return null;
  const decl = parseDeclarations(file);
  return decl.interfaces[kind] ? { decl, name: kind } : null;
}

// Every field that the API does not know, with its path.
function unknownFields(value, type, where, out) {
  if (!type || value === null || typeof value !== "object") return out;
  if ("array" in type) {
    if (Array.isArray(value)) value.forEach((v, i) => unknownFields(v, type.array, `${where}[${i}]`, out));
    return out;
  }
  if ("map" in type) {
    for (const [k, v] of Object.entries(value)) unknownFields(v, type.map, `${where}.${k}`, out);
    return out;
  }
  if (Array.isArray(value)) return out;
  const fields = type.decl.interfaces[type.name];
  for (const [k, v] of Object.entries(value)) {
    const at = where ? `${where}.${k}` : k;
    if (!(k in fields)) out.push(`${at}: unknown field "${k}" in ${type.name}`);
    else unknownFields(v, resolveType(type.decl, fields[k]), at, out);
  }
  return out;
}

function validateDocument(doc) {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc))
    return ["not a Kubernetes object (a mapping with apiVersion and kind)"];
  const { apiVersion, kind } = doc;
  if (typeof apiVersion !== "string" || typeof kind !== "string")
    return ["apiVersion and kind are required strings"];
  const Model = modelFor(apiVersion, kind);
  const types = typesFor(apiVersion, kind);
  if (!Model || !types) return [`no schema for apiVersion ${apiVersion}, kind ${kind}`];
  const errors = [];
  try {
    new Model(doc).validate();
  } catch (e) {
    const list = e.errors || [];
    if (list.length === 0) errors.push(String(e.message || e));
    for (const err of list) {
      const at = (err.instancePath || "").replace(/^\//, "").replace(/\//g, ".") || "(document)";
      errors.push(`${at}: ${err.message}${err.params && err.params.allowedValues ? " " +
        JSON.stringify(err.params.allowedValues) : ""}`);
    }
  }
  return errors.concat(unknownFields(doc, types, "", []));
}

function main(argv) {
  const json = argv[0] === "--json";
  const files = json ? argv.slice(1) : argv;
  if (files.length === 0) {
    process.stderr.write("usage: node validate.js [--json] FILE...\n");
    return 2;
  }
  let bad = 0, count = 0;
  const all = [];
  for (const file of files) {
    let docs;
    try {
      docs = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"), { uniqueKeys: true });
    } catch (e) {
      process.stderr.write(`${file}: ${e.message}\n`);
      bad++;
      continue;
    }
    docs.forEach((d, index) => {
      if (d.errors.length) {
        for (const e of d.errors) process.stderr.write(`${file}: document ${index + 1}: ${e.message}\n`);
        bad++;
        return;
      }
      const doc = d.toJS();
      if (doc === null || doc === undefined) return;   // an empty document (a trailing ---)
      count++;
      const errors = validateDocument(doc);
      const name = `${doc.kind || "?"}/${(doc.metadata && doc.metadata.name) || "?"}`;
      for (const e of errors) process.stderr.write(`${file}: ${name}: ${e}\n`);
      if (errors.length) bad++;
      all.push({ file, doc });
    });
  }
  if (json) process.stdout.write(JSON.stringify(all) + "\n");
  process.stderr.write(`validate: ${count} documents in ${files.length} files, ${bad} invalid\n`);
  return bad === 0 && count > 0 ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
