#!/usr/bin/env node
// The independent side of the Sparkplug B interoperability tests (tests/TSViz.Plugins.Tests/Sparkplug): Eclipse Tahu's
// JavaScript codec, sparkplug-payload, encoding and decoding on behalf of the .NET tests.
//
//   node sparkplug.js encode < payloads.json   # [{timestamp, seq, metrics: [{name, alias, timestamp, type, value}]}, ...]
//                                               #   -> ["<base64>", ...]
//   node sparkplug.js decode < base64.json     # ["<base64>", ...] -> [{timestamp, seq, metrics: [...]}, ...]
//
// 64-bit integers (timestamps, aliases, seq, Int64/UInt64/DateTime values) travel as decimal strings both ways, since a
// JSON number loses precision beyond 2^53; bytes travel as base64.
'use strict';

const Long = require('long');
const sparkplug = require('sparkplug-payload').get('spBv1.0');

const LONG_TYPES = new Set(['INT64', 'UINT64', 'UINT32', 'DATETIME', 'LONG']);

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on('data', (chunk) => chunks.push(chunk));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

// A decimal string (or number) for a uint64 field: unsigned.
function toUnsignedLong(value) {
  return typeof value === 'string' ? Long.fromString(value, true) : value;
}

function toMetricValue(metric) {
  const type = String(metric.type).toUpperCase();
  if (metric.value === null || metric.value === undefined || typeof metric.value !== 'string' || !LONG_TYPES.has(type)) {
    return metric.value;
  }

  return Long.fromString(metric.value, type !== 'INT64' && type !== 'LONG');
}

function toEncodable(payload) {
  const result = { ...payload };
  if (payload.timestamp !== undefined) {
    result.timestamp = toUnsignedLong(payload.timestamp);
  }

  if (payload.seq !== undefined) {
    result.seq = toUnsignedLong(payload.seq);
  }

  result.metrics = (payload.metrics || []).map((metric) => {
    const encodable = { ...metric, value: toMetricValue(metric) };
    if (metric.timestamp !== undefined) {
      encodable.timestamp = toUnsignedLong(metric.timestamp);
    }

    if (metric.alias !== undefined) {
      encodable.alias = toUnsignedLong(metric.alias);
    }

    return encodable;
  });
  return result;
}

// Long to a decimal string, Buffer/Uint8Array to base64, everything else as it is.
function toJson(key, value) {
  if (Long.isLong(value)) {
    return value.toString();
  }

  if (value && value.type === 'Buffer' && Array.isArray(value.data)) {
    return Buffer.from(value.data).toString('base64');
  }

  return value;
}

async function main() {
  const mode = process.argv[2];
  const input = JSON.parse(await readStdin());
  let output;
  if (mode === 'encode') {
    output = input.map((payload) => Buffer.from(sparkplug.encodePayload(toEncodable(payload))).toString('base64'));
  } else if (mode === 'decode') {
    output = input.map((base64) => sparkplug.decodePayload(new Uint8Array(Buffer.from(base64, 'base64'))));
  } else {
    throw new Error(`unknown mode '${mode}': use encode or decode`);
  }

  process.stdout.write(JSON.stringify(output, toJson));
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
