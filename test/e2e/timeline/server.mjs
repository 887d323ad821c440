// A tiny static server for the timeline harness (tests and benchmark): `/` is harness/index.html
// with a fresh nonce, the CSP source (this server's origin) and the theme filled in; `/harness/*`
// the harness files; `/dist/*` the built bundles (dist/webview from `node esbuild.mjs`,
// dist/bench for the benchmark's peer). Nothing else is served.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..', '..');
const TYPES = { '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf', '.html': 'text/html', '.map': 'application/json' };
const ROOTS = {
  '/harness/': path.join(HERE, 'harness'),
  '/dist/webview/': path.join(REPO, 'dist', 'webview'),
  '/dist/bench/': path.join(REPO, 'dist', 'bench'),
};
const APPS = { timeline: '/dist/webview/timeline.js', peer: '/dist/bench/timeline-peer.js' };

export async function startHarnessServer() {
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname === '/') {
        const origin = `http://${req.headers.host}`;
        const nonce = randomBytes(16).toString('base64');
        const theme = url.searchParams.get('theme') ?? 'vscode-dark';
        const app = APPS[url.searchParams.get('app') ?? 'timeline'];
        if (!/^vscode-[a-z-]+$/.test(theme) || !app) throw Object.assign(new Error('bad query'), { status: 400 });
        const html = (await readFile(path.join(HERE, 'harness', 'index.html'), 'utf8'))
          .replaceAll('{{CSP_SOURCE}}', origin)
          .replaceAll('{{NONCE}}', nonce)
          .replaceAll('{{THEME}}', theme)
          .replaceAll('{{APP}}', app);
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        return res.end(html);
      }
      for (const [prefix, dir] of Object.entries(ROOTS)) {
        if (!url.pathname.startsWith(prefix)) continue;
        const file = path.join(dir, decodeURIComponent(url.pathname.slice(prefix.length)));
        if (!file.startsWith(dir + path.sep)) break;
        const body = await readFile(file);
        res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
        return res.end(body);
      }
      res.writeHead(404).end();
    } catch (e) {
      res.writeHead(e.status ?? (e.code === 'ENOENT' ? 404 : 500)).end(String(e.message));
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((resolve) => server.close(resolve)) };
}
