import * as assert from 'node:assert/strict';
import {
  decodeWaitStatus,
  mapSlurmState,
  normalizeSlurmState,
  parseExitPair,
  parseSbatchParsable,
  parseScontrolLine,
  parseSqueueJson,
  slurmTimeMinutes,
  statusFromSacct,
  statusFromScontrol,
} from '../../../src/runners/slurmStates';

describe('runners/slurmStates', () => {
  it('maps every terminal Slurm state to ours', () => {
    const cases: Record<string, string> = {
      COMPLETED: 'succeeded',
      FAILED: 'failed',
      CANCELLED: 'cancelled',
      'CANCELLED by 0': 'cancelled',
      TIMEOUT: 'timed_out',
      DEADLINE: 'timed_out',
      NODE_FAIL: 'failed',
      OUT_OF_MEMORY: 'failed',
      PREEMPTED: 'failed',
      BOOT_FAIL: 'failed',
      SPECIAL_EXIT: 'failed',
      REVOKED: 'cancelled',
      PENDING: 'pending',
      REQUEUED: 'pending',
      SUSPENDED: 'pending',
      CONFIGURING: 'pending',
      RUNNING: 'running',
      COMPLETING: 'running',
      'RUNNING+SIGNALING': 'running',
      completed: 'succeeded',
      WEIRD_NEW_STATE: 'unknown',
      '': 'unknown',
    };
    for (const [raw, want] of Object.entries(cases)) assert.equal(mapSlurmState(raw).phase, want, raw);
    assert.match(mapSlurmState('OUT_OF_MEMORY').reason!, /memory/);
    assert.match(mapSlurmState('NODE_FAIL').reason!, /node/i);
    assert.match(mapSlurmState('PREEMPTED').reason!, /preempt/);
    assert.equal(normalizeSlurmState(' cancelled by 1000 '), 'CANCELLED');
  });

  it('decodes wait statuses and exit pairs', () => {
    assert.deepEqual(decodeWaitStatus(768), { exitCode: 3 });
    assert.deepEqual(decodeWaitStatus(0), { exitCode: 0 });
    assert.deepEqual(decodeWaitStatus(15), { exitCode: 0, signal: 15 });
    assert.deepEqual(decodeWaitStatus(255 << 8), { exitCode: 255 });
    assert.deepEqual(parseExitPair('3:0'), { exitCode: 3 });
    assert.deepEqual(parseExitPair('0:15'), { exitCode: 0, signal: 15 });
    assert.equal(parseExitPair('garbage'), undefined);
  });

  it('parses sbatch --parsable output and rejects anything else', () => {
    assert.equal(parseSbatchParsable('42\n'), '42');
    assert.equal(parseSbatchParsable('42;cluster\n'), '42');
    assert.throws(() => parseSbatchParsable('sbatch: error: oops'), /unexpected sbatch output/);
  });

  it('rounds time limits up to whole minutes, at least one', () => {
    assert.equal(slurmTimeMinutes(1), 1);
    assert.equal(slurmTimeMinutes(60), 1);
    assert.equal(slurmTimeMinutes(61), 2);
    assert.equal(slurmTimeMinutes(0), 1);
  });

  it('filters squeue --json client-side and maps each job', () => {
    const out = JSON.stringify({
      jobs: [
        { job_id: 7, job_state: 'FAILED', exit_code: 768, start_time: 1700000000, end_time: 1700000005, state_reason: 'NonZeroExitCode' },
        { job_id: 8, job_state: 'RUNNING', exit_code: 0, start_time: 1700000001, end_time: 1700003601 },
        { job_id: 9, job_state: 'PENDING', exit_code: 0, start_time: 0, end_time: 0, state_reason: 'Resources' },
        { job_id: 10, job_state: 'CANCELLED', exit_code: 15, start_time: 1700000001, end_time: 1700000002 },
      ],
    });
    const m = parseSqueueJson(out);
    assert.equal(m.size, 4);
    assert.deepEqual(
      { ...m.get('7') },
      { phase: 'failed', rawState: 'FAILED', exitCode: 3, startedAt: new Date(1700000000000).toISOString(), endedAt: new Date(1700000005000).toISOString(), reason: 'NonZeroExitCode' },
    );
    assert.equal(m.get('8')!.phase, 'running');
    assert.equal(m.get('8')!.endedAt, undefined, 'a running job has no end time yet (squeue reports the limit)');
    assert.equal(m.get('8')!.exitCode, undefined);
    assert.equal(m.get('9')!.phase, 'pending');
    assert.equal(m.get('9')!.reason, 'Resources');
    assert.equal(m.get('10')!.phase, 'cancelled');
    assert.equal(m.get('10')!.signal, 15);
  });

  it('parses scontrol show job -o and sacct -c lines', () => {
    const line =
      'JobId=12 JobName=ovs-exp-3 UserId=root(0) JobState=TIMEOUT Reason=TimeLimit Dependency=(null) ExitCode=0:15 RunTime=00:01:20 StartTime=2026-01-02T03:04:05 EndTime=2026-01-02T03:05:25 WorkDir=/x/y';
    assert.equal(parseScontrolLine(line).WorkDir, '/x/y');
    const st = statusFromScontrol(line)!;
    assert.equal(st.phase, 'timed_out');
    assert.equal(st.rawState, 'TIMEOUT');
    assert.equal(st.signal, 15);
    assert.equal(st.startedAt, new Date('2026-01-02T03:04:05').toISOString());
    assert.equal(statusFromScontrol('slurm_load_jobs error: Invalid job id specified'), undefined);
    const sacct = '12|CANCELLED by 0|0:15|2026-01-02T03:04:05|2026-01-02T03:04:09\n13|COMPLETED|0:0|2026-01-02T03:04:05|2026-01-02T03:04:06\n';
    assert.equal(statusFromSacct(sacct, '12')!.phase, 'cancelled');
    assert.equal(statusFromSacct(sacct, '13')!.phase, 'succeeded');
    assert.equal(statusFromSacct(sacct, '14'), undefined);
  });
});
