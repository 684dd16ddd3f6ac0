import type { Approval, Step } from './types.js';

/**
 * Puts the gate where `atWeight` says: before green takes any traffic (0), or once green has been
 * watched at that weight, before the next change. The config has checked that the plan reaches it.
 */
export function withApproval(steps: Step[], approval: Approval | undefined): Step[] {
  if (!approval) return steps;
  const gate: Step = { kind: 'approval', timeout: approval.timeout, onTimeout: approval.onTimeout };
  if (approval.atWeight === 0) return [gate, ...steps];
  const at = steps.findIndex((s) => s.kind === 'setWeight' && s.weight === approval.atWeight);
  if (at < 0) throw new Error(`no step sends ${approval.atWeight}% to green, so the approval has no place`);
  const watched = steps[at + 1]?.kind === 'pause' ? at + 2 : at + 1;
  return [...steps.slice(0, watched), gate, ...steps.slice(watched)];
}
