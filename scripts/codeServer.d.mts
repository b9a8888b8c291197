// Types of scripts/codeServer.mjs for the TypeScript e2e driver.
import type { Browser } from 'playwright-core';

export const ROOT: string;
export const CODE_SERVER: string;
export const CHROMIUM: string;
export const BASE_SETTINGS: Record<string, unknown>;
export function checkTools(): void;
export interface CodeServer {
  dir: string;
  ws: string;
  port: number;
  base: string;
  startedMs: number;
  log(): string;
  stop(): void;
}
export function startCodeServer(opts?: {
  settings?: Record<string, unknown>;
  vsix?: string;
  env?: Record<string, string>;
  workspace?: string;
  workspaceFiles?: Record<string, string>;
  keep?: boolean;
}): Promise<CodeServer>;
export function launchBrowser(): Promise<Browser>;
