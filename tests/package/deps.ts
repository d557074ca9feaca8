/** What an install put into a project's node_modules: packages, native addons, platform-bound packages. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface InstalledPackage {
  name: string;
  version: string;
  /** relative to the project, e.g. node_modules/a/node_modules/b */
  path: string;
  os?: string[];
  cpu?: string[];
}

function readPkg(dir: string): { name?: string; version?: string; os?: string[]; cpu?: string[] } | null {
  const f = join(dir, 'package.json');
  return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : null;
}

/** Every package folder under `project`/node_modules, nested node_modules included. */
export function installedPackages(project: string): InstalledPackage[] {
  const found: InstalledPackage[] = [];
  const visit = (nm: string): void => {
    if (!existsSync(nm)) return;
    for (const e of readdirSync(nm, { withFileTypes: true })) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue;
      const dirs = e.name.startsWith('@')
        ? readdirSync(join(nm, e.name), { withFileTypes: true }).filter((s) => s.isDirectory()).map((s) => join(nm, e.name, s.name))
        : [join(nm, e.name)];
      for (const d of dirs) {
        const pkg = readPkg(d);
        if (!pkg?.name) continue;
        found.push({ name: pkg.name, version: pkg.version ?? '', path: relative(project, d), os: pkg.os, cpu: pkg.cpu });
        visit(join(d, 'node_modules'));
      }
    }
  };
  visit(join(project, 'node_modules'));
  return found;
}

/** Files under `dir` whose name ends with `suffix` (native addons: '.node'). */
export function filesEnding(dir: string, suffix: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith(suffix)) out.push(join(e.parentPath, e.name));
  }
  return out;
}

/**
 * The lockfile's view: entries npm marked optional or bound to an os/cpu, also those it
 * skipped on this platform (they are in the lockfile but not on disk).
 */
export function platformBoundLockEntries(project: string): string[] {
  const lock = JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { optional?: boolean; os?: string[]; cpu?: string[] }>;
  };
  return Object.entries(lock.packages)
    .filter(([, p]) => p.optional || p.os || p.cpu)
    .map(([path]) => path);
}
