// The peer side of bench/pii.sh: runs redact-pii's local SyncRedactor on
// every text of the dataset, recovers the redacted spans, and times it.
//
// usage: node redact_pii.mjs MODULES_DIR DATASET.json SPANS.jsonl [MB]
//
// MODULES_DIR is the folder holding node_modules/redact-pii (installed from
// bench/pii/package-lock.json). SPANS.jsonl gets one line per text:
// {"i": index, "spans": [[label, start, end], ...]} with UTF-8 byte offsets
// into full_text and redact-pii's own labels (CREDIT_CARD_NUMBER, ...).
// stdout gets one JSON line with the throughput on the dataset's texts
// joined with newlines and repeated to MB megabytes (default 8), redacted
// one text at a time, the best of two passes.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const [modulesDir, datasetPath, spansPath, mbArg] = process.argv.slice(2);
if (!modulesDir || !datasetPath || !spansPath) {
    process.stderr.write('usage: node redact_pii.mjs MODULES_DIR DATASET.json SPANS.jsonl [MB]\n');
    process.exit(2);
}
const require = createRequire(path.resolve(modulesDir) + '/');
const { SyncRedactor } = require('redact-pii');
const redactVersion = require('redact-pii/package.json').version;

// The replacement labels of redact-pii 3.4.0 (lib/composition.js: the
// snake-cased names of the built-in patterns, then NameRedactor's label).
const LABELS = [
    'US_SOCIAL_SECURITY_NUMBER',
    'CREDIT_CARD_NUMBER',
    'STREET_ADDRESS',
    'EMAIL_ADDRESS',
    'PHONE_NUMBER',
    'PERSON_NAME',
    'IP_ADDRESS',
    'CREDENTIALS',
    'USERNAME',
    'PASSWORD',
    'ZIPCODE',
    'DIGITS',
    'URL',
];
const labelRe = new RegExp(LABELS.join('|'), 'g');

// What the text a label replaced must look like: the library's own
// pattern, anchored (names: no digits, no line break). Used to choose
// between alignments when a literal piece of the output occurs more than
// once in the input.
const patterns = require('redact-pii/lib/built-ins/simple-regexp-patterns.js');
const SHAPE = { PERSON_NAME: /^[^\d\n]+$/ };
for (const [name, re] of Object.entries(patterns)) {
    const label = name.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
    SHAPE[label] = new RegExp('^(?:' + re.source + ')$', re.flags.replace('g', ''));
}

// The output as pieces: literal text and labels.
function pieces(out) {
    const p = [];
    let last = 0;
    for (const m of out.matchAll(labelRe)) {
        p.push({ lit: out.slice(last, m.index) });
        p.push({ label: m[0] });
        last = m.index + m[0].length;
    }
    p.push({ lit: out.slice(last) });
    return p;
}

// Aligns the redacted output with the input: every literal piece is copied
// from the input, every label replaced at least one character. Returns
// [[label, start, end]] in UTF-16 offsets, or null when no alignment exists
// (the input itself contained a label word). A literal piece may occur
// more than once in the input: the first alignment in which every replaced
// text has its label's shape wins; failing that, the first alignment at all.
function align(input, out) {
    const p = pieces(out);
    if (!input.startsWith(p[0].lit)) return null;
    const spans = [];
    const walk = (k, pos, strict, failed) => {
        // p[k] is a label, p[k + 1] the literal after it.
        if (k >= p.length) return pos === input.length;
        const key = k * (input.length + 1) + pos;
        if (failed.has(key)) return false;
        const label = p[k].label;
        const lit = p[k + 1].lit;
        const ends = [];
        if (k + 2 >= p.length) {
            if (input.endsWith(lit) && input.length - lit.length > pos)
                ends.push(input.length - lit.length);
        } else {
            for (let e = input.indexOf(lit, pos + 1); e >= 0; e = input.indexOf(lit, e + 1))
                ends.push(e);
        }
        const shape = SHAPE[label];
        for (const e of ends) {
            if (strict && shape && !shape.test(input.slice(pos, e))) continue;
            spans.push([label, pos, e]);
            if (walk(k + 2, e + lit.length, strict, failed)) return true;
            spans.pop();
        }
        failed.add(key);
        return false;
    };
    const start = p[0].lit.length;
    if (walk(1, start, true, new Set()) || walk(1, start, false, new Set())) return spans;
    return null;
}

// UTF-16 offset -> UTF-8 byte offset in `s`.
function byteOffsets(s) {
    const off = new Uint32Array(s.length + 1);
    let b = 0;
    for (let i = 0; i < s.length; i++) {
        off[i] = b;
        const c = s.charCodeAt(i);
        if (c < 0x80) b += 1;
        else if (c < 0x800) b += 2;
        else if (c < 0xd800 || c > 0xdbff) b += 3;
        else {
            b += 4; // a surrogate pair: no span starts or ends inside it
            off[++i] = b;
        }
    }
    off[s.length] = b;
    return off;
}

const data = JSON.parse(readFileSync(datasetPath, 'utf8'));
const redactor = new SyncRedactor();
const lines = [];
let unaligned = 0;
for (let i = 0; i < data.length; i++) {
    const text = data[i].full_text;
    const spans = align(text, redactor.redact(text));
    if (spans === null) unaligned++;
    const off = byteOffsets(text);
    const bytes = (spans || []).map(([l, s, e]) => [l, off[s], off[e]]);
    lines.push(JSON.stringify({ i, spans: bytes }));
}
writeFileSync(spansPath, lines.join('\n') + '\n');

// Throughput: the texts joined with newlines, repeated to the target size,
// redacted one text at a time (as the accuracy pass, which warmed it up,
// did); the best of TIMED_PASSES passes.
const TIMED_PASSES = 2;
const target = Number(mbArg || 8) * 1e6;
const texts = data.map((d) => d.full_text);
const oneRound = texts.reduce((n, t) => n + Buffer.byteLength(t) + 1, 0);
const rounds = Math.max(1, Math.round(target / oneRound));
let sink = 0;
let seconds = Infinity;
for (let pass = 0; pass < TIMED_PASSES; pass++) {
    const t0 = process.hrtime.bigint();
    for (let r = 0; r < rounds; r++)
        for (const t of texts) sink += redactor.redact(t).length;
    seconds = Math.min(seconds, Number(process.hrtime.bigint() - t0) / 1e9);
}
const bytes = oneRound * rounds;
process.stdout.write(
    JSON.stringify({
        system: 'redact-pii',
        version: redactVersion,
        node: process.version,
        texts: data.length,
        unaligned,
        bytes,
        seconds: Number(seconds.toFixed(3)),
        mb_per_s: Number((bytes / 1e6 / seconds).toFixed(3)),
        sink,
    }) + '\n',
);
