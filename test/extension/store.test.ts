import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ReportStore } from '../../src/host/store';
import { fakeRun } from '../fixtures';
import { tempDir } from '../helpers';

function tmp(): string {
  return tempDir('fconv-store-');
}

function runAt(ms: number) {
  const r = fakeRun();
  r.createdAt = new Date(ms).toISOString();
  return r;
}

test('the store saves runs, returns the last and the one before, and survives a new instance (a reload)', () => {
  const dir = tmp();
  const s = new ReportStore(dir);
  assert.equal(s.last(), undefined);
  const a = s.save(runAt(1000));
  const b = s.save(runAt(2000));
  const c = s.save(runAt(2000)); // same timestamp: still a distinct id
  assert.equal(new Set([a, b, c]).size, 3);
  const again = new ReportStore(dir);
  assert.equal(again.last()?.runId, c);
  assert.equal(again.previous(c)?.runId, b);
  assert.equal(again.previous(a), undefined);
  assert.deepEqual(again.load(b)?.run, runAt(2000));
  assert.deepEqual(
    fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
    'no temp files left behind',
  );
});

test('the store keeps only the newest runs', () => {
  const dir = tmp();
  const s = new ReportStore(dir, 3);
  const ids = [1, 2, 3, 4, 5].map((i) => s.save(runAt(i * 1000)));
  assert.deepEqual(s.list(), ids.slice(2));
  assert.equal(s.load(ids[0]!), undefined);
  assert.equal(fs.readdirSync(dir).filter((f) => f.startsWith('run-')).length, 3);
});

test('a damaged or foreign report file is skipped and reported, never returned', () => {
  const dir = tmp();
  const problems: string[] = [];
  const s = new ReportStore(dir, 20, (m) => problems.push(m));
  const good = s.save(runAt(1000));
  const bad = s.save(runAt(2000));
  fs.writeFileSync(path.join(dir, `${bad}.json`), '{"schemaVersion": 1, "status": "ok"'); // torn write
  assert.equal(s.last()?.runId, good, 'falls back to the last readable run');
  assert.match(problems.join('\n'), new RegExp(`${bad} is damaged`));
  fs.writeFileSync(path.join(dir, 'index.json'), 'not json');
  assert.equal(s.last(), undefined);
  assert.match(problems.at(-1)!, /index .* unreadable/);
  assert.ok(s.save(runAt(3000)), 'a new index is started');
});

test('run ids cannot name files outside the store (a restored panel state is not trusted)', () => {
  const dir = tmp();
  const outside = path.join(dir, '..', `fconv-outside-${process.pid}.json`);
  fs.writeFileSync(outside, JSON.stringify(fakeRun()));
  const s = new ReportStore(dir);
  s.save(runAt(1000));
  assert.equal(s.load(`../${path.basename(outside, '.json')}`), undefined);
  assert.equal(s.load('a/b'), undefined);
  assert.equal(s.previous('../x')?.runId, s.last()?.runId, 'an unknown id has the last run before it');
  fs.rmSync(outside);
});
