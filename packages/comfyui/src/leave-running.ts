/**
 * An abort reason for a run's signal: stop waiting for the job and take it out of the server's queue if it
 * still waits there, but let a job that already runs finish. Its result stays in the server's history under
 * its prompt id, where the next run with that id collects it: Ctrl-C on a build does not throw away the
 * GPU's work on the image it is making. Any other abort reason interrupts a running job.
 */
export class LeaveRunning extends Error {
  override name = 'LeaveRunning';

  constructor(message = 'Stopped; a job that already runs finishes on the server, for the next run to collect.') {
    super(message);
  }
}

/** Whether an abort reason is LeaveRunning (by name: another copy of this package may have made it). */
export function isLeaveRunning(reason: unknown): boolean {
  return reason instanceof Error && reason.name === 'LeaveRunning';
}
