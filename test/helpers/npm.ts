/**
 * Running npm from a test as an operator would: in a directory of the test's choosing,
 * without the settings of the `npm test` that runs the test, and, where asked, on a machine
 * with no compiler.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `npm test` exports its settings as npm_* variables; `npm_config_local_prefix` among them
 * would make an inner npm work on this checkout instead of the directory it is run in.
 * Only HOME (npm's cache and ~/.npmrc, e.g. `nodedir`) and PATH are kept.
 */
export function operatorEnv(path = process.env.PATH ?? ''): NodeJS.ProcessEnv {
  return { HOME: process.env.HOME, PATH: path, LANG: 'C.UTF-8' };
}

/** Finds `name` on `path` as a shell would; null when it is not there. */
export function which(name: string, path: string): string | null {
  const r = spawnSync('/bin/sh', ['-c', `command -v ${name}`], { env: { PATH: path }, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** The tools a compile needs, which a PATH without a compiler must not offer. */
export const COMPILER_TOOLS = ['cc', 'gcc', 'g++', 'c++', 'clang', 'make'];

/**
 * A directory holding links to node, npm, npx and sh only (npm runs package scripts with sh):
 * as PATH it is a machine where nothing can be compiled.
 */
export function pathWithoutCompiler(dir: string): string {
  mkdirSync(dir, { recursive: true });
  for (const tool of ['node', 'npm', 'npx', 'sh']) {
    const found = which(tool, process.env.PATH ?? '');
    if (!found) throw new Error(`${tool} is not on PATH (${process.env.PATH})`);
    symlinkSync(found, join(dir, tool));
  }
  return dir;
}

export interface Run {
  code: number | null;
  out: string;
}

/** Runs a command to its end; stdout and stderr together, in order, for failure messages. */
export function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, out }));
  });
}
