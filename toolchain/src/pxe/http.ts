// A static, read-only HTTP server for a netboot tree: what iPXE fetches
// payloads from when the tree has an HTTP base (GET and HEAD of regular
// files under the root, nothing else; one log line per request with the
// client's address). `crossguard run --boot pxe` starts it inside its lab
// namespace; a lab would use its own web server.

import { createReadStream, realpathSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { isAbsolute, join, relative, sep } from 'node:path';

/**
 * The file under `root` a request path names, or null (pure but for the
 * file system): percent-decoded, query dropped, no `..`, no NUL, and after
 * symlinks still inside root.
 */
export function resolveTreePath(root: string, urlPath: string, prefix = ''): string | null {
  let p = urlPath.split(/[?#]/)[0]!;
  if (prefix) {
    if (!p.startsWith(prefix + '/')) return null;
    p = p.slice(prefix.length);
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(p);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.split('/').some((s) => s === '..')) return null;
  const full = join(root, decoded);
  try {
    const real = realpathSync(full);
    const rel = relative(realpathSync(root), real);
    if (rel.startsWith('..' + sep) || rel === '..' || isAbsolute(rel)) return null;
    return statSync(real).isFile() ? real : null;
  } catch {
    return null;
  }
}

/** The `http://${next-server}[:PORT][/PREFIX]` parts of a tree's HTTP base, or null when the lab server cannot serve it. */
export function labHttpBase(base: string | null): { port: number; prefix: string } | null {
  const m = base ? /^http:\/\/\$\{next-server\}(?::(\d{1,5}))?(\/[^\s]*)?$/.exec(base) : null;
  if (!m) return null;
  const port = m[1] ? Number(m[1]) : 80;
  if (port < 1 || port > 65535) return null;
  return { port, prefix: (m[2] ?? '').replace(/\/+$/, '') };
}

/** Serves `root` on host:port; `log` gets one line per request. Resolves once listening. */
export function serveTree(root: string, host: string, port: number, prefix: string, log: (line: string) => void): Promise<Server> {
  const server = createServer((req, res) => {
    const who = `${req.socket.remoteAddress ?? '?'}`;
    const path = req.method === 'GET' || req.method === 'HEAD' ? resolveTreePath(root, req.url ?? '/', prefix) : null;
    if (!path) {
      res.writeHead(req.method === 'GET' || req.method === 'HEAD' ? 404 : 405, { 'content-type': 'text/plain' });
      res.end('not found\n');
      log(`http ${who} ${req.method} ${req.url} ${res.statusCode}`);
      return;
    }
    const size = statSync(path).size;
    // GRUB's HTTP client matches "Content-Length: " case-sensitively (without
    // it GRUB has no file size and its loaders fail), and opens one
    // connection per file: name the headers as RFC 9110 writes them, and close.
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': size, Connection: 'close' });
    log(`http ${who} ${req.method} ${req.url} 200 ${size}`);
    if (req.method === 'HEAD') return void res.end();
    createReadStream(path).on('error', () => res.destroy()).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
