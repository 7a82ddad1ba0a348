import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

export function registerInspect(program: Command, context: CliContext): void {
  void program; void context; // TODO: filled in by the inspect work
}
