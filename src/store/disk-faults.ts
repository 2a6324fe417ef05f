/**
 * The documented fault switch for disk errors (docs/reliability.md, "Disk
 * faults"): make the state directory's writes fail as a full disk
 * (ENOSPC), a read-only one (EROFS) or one without permission (EACCES)
 * would, at one place: `stage` (copying a plugin into the state directory),
 * `intent` (flushing a reload's intent record to the disk), `marker`
 * (writing active.json) or `journal` (appending a result). Off
 * unless set: by WFRELOAD_FAULT_DISK=PLACE:CODE in the environment, or by
 * `setDiskFault` from a test.
 */
export type DiskFaultPlace = 'stage' | 'intent' | 'marker' | 'journal';
export type DiskFaultCode = 'ENOSPC' | 'EROFS' | 'EACCES';

const MESSAGES: Record<DiskFaultCode, string> = {
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
};

const parse = (value: string | undefined): { place: DiskFaultPlace; code: DiskFaultCode } | null => {
  const match = /^(stage|intent|marker|journal):(ENOSPC|EROFS|EACCES)$/.exec(value ?? '');
  return match ? { place: match[1] as DiskFaultPlace, code: match[2] as DiskFaultCode } : null;
};

let armed = parse(process.env.WFRELOAD_FAULT_DISK);

/** Arm (or, with null, disarm) a disk fault at `place`. */
export function setDiskFault(place: DiskFaultPlace, code: DiskFaultCode | null): void {
  armed = code === null ? null : { place, code };
}

/** Throws the armed fault's error (as the file system would, with its code) when `place` is armed. */
export function diskFault(place: DiskFaultPlace, path: string): void {
  if (armed?.place !== place) return;
  throw Object.assign(new Error(`${armed.code}: ${MESSAGES[armed.code]}, open '${path}'`), { code: armed.code, path });
}
