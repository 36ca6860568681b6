// build.mjs - bundles the dashboard into OUTDIR with esbuild
//
// node dashboard/build.mjs OUTDIR: src/main.js (and the uPlot CSS it
// imports) become OUTDIR/main.js and OUTDIR/main.css, minified, with a
// source map; index.html and styles.css are copied as they are.
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outdir = process.argv[2];
if (!outdir) {
    console.error('usage: node dashboard/build.mjs OUTDIR');
    process.exit(2);
}
const out = resolve(outdir);
await mkdir(out, { recursive: true });
await build({
    entryPoints: [join(here, 'src/main.js')],
    bundle: true,
    minify: true,
    sourcemap: true,
    format: 'esm',
    target: ['chrome100', 'firefox100', 'safari15'],
    outdir: out,
    logLevel: 'warning',
});
for (const file of ['index.html', 'styles.css'])
    await copyFile(join(here, 'src', file), join(out, file));
console.log(`dashboard built into ${outdir}`);
