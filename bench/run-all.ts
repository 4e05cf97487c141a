// The standard set: every scenario against every target, one after the other on this machine, bounded so that
// the whole set ends in under 10 minutes. Writes bench/results/<timestamp>.json and bench/results/latest.md and
// prints the Markdown to stdout.
//
//   node --import tsx bench/run-all.ts [--targets service,socketio,ws-floor] [--quick] [--budget 570]
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { describe, log, runScenario, type Options, type RunResult, type TrialResult } from './load.ts';
import { machineInfo, now, REPO, type TargetKind } from './lib.ts';

const { values } = parseArgs({
  options: { targets: { type: 'string' }, quick: { type: 'boolean' }, budget: { type: 'string' } },
});
const targets = (values.targets ?? 'service,socketio,ws-floor').split(',') as TargetKind[];
const quick = values.quick ?? false;
const budgetS = Number(values.budget ?? 800);

// Scale of the standard set; --quick is a smoke test of the harness itself (about a minute per target).
const S = quick
  ? { users: 50, rate: 200, duration: 6, sockets: 1000, idleBudget: 20, maxTrials: 3, maxBudget: 30, likers: 100, notifyRate: 50 }
  : { users: 1000, rate: 200, duration: 10, sockets: 19_000, idleBudget: 60, maxTrials: 10, maxBudget: 110, likers: 300, notifyRate: 60 };

type Spec = Partial<Options> & { target: TargetKind };
const specs: Spec[] = [];
for (const target of targets) {
  const base = { target, users: S.users, rate: S.rate, duration: S.duration, ramp: 3 } as const;
  specs.push({ ...base, scenario: 'fanout', devices: 2 });
  if (target === 'service') {
    specs.push({ ...base, scenario: 'fanout', devices: 2, recv: 'gql' });
    specs.push({ ...base, scenario: 'fanout', devices: 2, send: 'graphql' });
  }
  specs.push({ ...base, scenario: 'cross', devices: 2 });
  // The cross scenario again over a three-master Redis Cluster (sharded pub/sub): the service only.
  if (target === 'service') specs.push({ ...base, scenario: 'cluster', devices: 2 });
  // Issue #10: latency at 1,000 msg/s, next to the floor's.
  specs.push({ ...base, scenario: 'fanout', devices: 1, rate: quick ? 400 : 1000 });
}
for (const target of targets) specs.push({ target, scenario: 'idle', connections: S.sockets, concurrency: 200, budget: S.idleBudget });
if (targets.includes('service')) {
  specs.push({ target: 'service', scenario: 'notify', users: S.likers, devices: 2, rate: S.notifyRate, duration: 30, ramp: 2 });
}
// Last, so that each search gets an equal share of whatever time is left (at most S.maxBudget).
for (const target of targets) {
  const search = { target, scenario: 'max', users: S.users, devices: 1, rate: 400, duration: 6, ramp: 2, drain: 3, trials: S.maxTrials } as const;
  specs.push(search);
  // Issue #10: the same search for graphql-ws receivers and across two instances (send on A, receive on B).
  if (target === 'service') specs.push({ ...search, recv: 'gql' }, { ...search, instances: 2 });
}

const START_COST_S = 15; // start-up, connecting, drain: a rough allowance per scenario
const started = new Date();
const t0 = now();
const results: RunResult[] = [];
const skipped: Spec[] = [];
for (const [k, spec] of specs.entries()) {
  const elapsed = (now() - t0) / 1000;
  const left = budgetS - elapsed;
  if (spec.scenario === 'max') {
    const searches = specs.slice(k).filter((s) => s.scenario === 'max').length;
    spec.budget = Math.min(S.maxBudget, Math.floor(left / searches - START_COST_S));
  }
  const cost = (spec.scenario === 'max' || spec.scenario === 'idle' ? spec.budget! : spec.duration!) + START_COST_S;
  if (cost > left || (spec.scenario === 'max' && spec.budget! < 2 * (spec.duration! + 5))) {
    skipped.push(spec);
    log(`skipped (time budget): ${spec.scenario} ${spec.target}`);
    continue;
  }
  log(`--- ${spec.scenario} ${spec.target} ${spec.recv ?? ''} ${spec.send ?? ''} (${Math.round(elapsed)} s elapsed)`);
  const r = await runScenario({ ...spec, label: `${spec.scenario}_${spec.target}`.replace('-', '') });
  log(describe(r));
  results.push(r);
}

// ---------------------------------------------------------------- report

const f = (x: number | undefined, digits = 1) => (x === undefined || Number.isNaN(x) ? '–' : String(Math.round(x * 10 ** digits) / 10 ** digits));
const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
const table = (head: string[], rows: (string | number)[][]) => [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');
const errs = (t: TrialResult) =>
  Object.entries(t.httpErrors)
    .map(([k, v]) => `${k}×${v}`)
    .join(' ') || '0';

const delivery = results.filter((r) => r.trial);
const maxes = results.filter((r) => r.scenario === 'max');
const idles = results.filter((r) => r.scenario === 'idle');
const find = (scenario: string, target: TargetKind, variant?: string) =>
  results.find((r) => r.scenario === scenario && r.target === target && (!variant || r.variant === variant) && !r.error);

function ratios(): (string | number)[][] {
  const out: (string | number)[][] = [];
  const add = (what: string, value: number | undefined, target: string, met: boolean | undefined) =>
    out.push([what, f(value, 2), target, met === undefined ? 'n/a' : met ? 'met' : '**not met**']);
  const max = (t: TargetKind) => find('max', t)?.maxRate;
  const svc = max('service');
  const ratio = (a?: number, b?: number) => (a !== undefined && b ? a / b : undefined);
  const sio = ratio(svc, max('socketio'));
  add('max rate, JSON socket ÷ Socket.IO peer', sio, '≥ 1.5', sio === undefined ? undefined : sio >= 1.5);
  const floor = ratio(svc, max('ws-floor'));
  add('max rate, JSON socket ÷ ws+pg floor', floor, '≥ 1.0', floor === undefined ? undefined : floor >= 1);
  const peers = ratio(max('socketio'), max('ws-floor'));
  add('(context) max rate, Socket.IO peer ÷ ws+pg floor', peers, '–', undefined);
  const variantMax = (variant: string) => results.find((r) => r.scenario === 'max' && r.target === 'service' && r.variant === variant && !r.error)?.maxRate;
  const gqlMax = ratio(variantMax('rest → gql'), svc);
  add('max rate, graphql-ws receivers ÷ JSON socket', gqlMax, '≥ 0.8', gqlMax === undefined ? undefined : gqlMax >= 0.8);
  const crossMax = ratio(variantMax('rest → json (other instance)'), svc);
  add('max rate, two instances ÷ one (JSON socket)', crossMax, '≥ 0.8', crossMax === undefined ? undefined : crossMax >= 0.8);
  const p99At = (t: TargetKind) => results.find((r) => r.scenario === 'fanout' && r.target === t && r.options.rate > S.rate && !r.error)?.trial?.latencyMs.p99;
  const p99Ratio = ratio(p99At('service'), p99At('ws-floor'));
  add(`p99 at ${quick ? 400 : 1000} msg/s, service ÷ ws+pg floor`, p99Ratio, '≤ 1.5', p99Ratio === undefined ? undefined : p99Ratio <= 1.5);
  const kb = ratio(find('idle', 'service')?.idle?.perSocketKB, find('idle', 'ws-floor')?.idle?.perSocketKB);
  add('RSS per idle socket, service ÷ ws floor', kb, '≤ 1.5', kb === undefined ? undefined : kb <= 1.5);
  const open = find('idle', 'service')?.idle?.openAfterSettle;
  add('idle sockets held open by the service', open, `${S.sockets} (fd limit 20,000)`, open === undefined ? undefined : open >= S.sockets);
  const single = find('fanout', 'service', 'rest → json')?.trial?.latencyMs.p50;
  const cross = find('cross', 'service')?.trial?.latencyMs.p50;
  const delta = cross !== undefined && single !== undefined ? cross - single : undefined;
  add('cross-instance p50 − single p50 (ms)', delta, '≤ 2', delta === undefined ? undefined : delta <= 2);
  const overCluster = find('cluster', 'service')?.trial?.latencyMs.p50;
  const clusterDelta = overCluster !== undefined && cross !== undefined ? overCluster - cross : undefined;
  add('(context) cross-instance p50, Redis Cluster − one Redis (ms)', clusterDelta, '–', undefined);
  const gql = ratio(find('fanout', 'service', 'rest → gql')?.trial?.latencyMs.p50, single);
  add('graphql-ws p50 ÷ JSON socket p50', gql, '≤ 1.3', gql === undefined ? undefined : gql <= 1.3);
  return out;
}

const m = machineInfo();
const git = (args: string) => {
  try {
    return execSync(`git ${args}`, { cwd: REPO, encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
};
const revision = `${git('rev-parse --short HEAD')}${git('status --porcelain -- src') ? ' + uncommitted changes in src/' : ''}`;
const md = [
  `# Benchmark results ${started.toISOString()}`,
  '',
  `Machine: ${m.cpuModel}, ${m.cpuCount} vCPUs, ${m.totalMemMB} MB, ${m.platform}, Node ${m.node}; load average at the end ${m.loadavg.join(' ')}.`,
  `Set: ${quick ? 'quick' : 'standard'}, targets ${targets.join(', ')}; revision ${revision}; ${Math.round((now() - t0) / 1000)} s.`,
  '',
  '## Targets of issues #5 and #10 (ratios inside this run)',
  '',
  table(['what', 'measured', 'target', 'verdict'], ratios()),
  '',
  '## Delivery (open-loop senders, latency from just before the send to receipt, steady state after the ramp)',
  '',
  table(
    [
      'scenario',
      'target',
      'send → receive',
      'users×devices',
      'rate/s',
      'achieved/s',
      'delivered/expected',
      'lost',
      'dup',
      'errors',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'max ms',
      'server CPU %',
      'server RSS MB',
      'generator CPU %',
      'machine busy %',
    ],
    delivery.map((r) => {
      const t = r.trial!;
      return [
        r.scenario,
        r.target,
        r.variant,
        `${r.options.users}×${r.options.devices}`,
        t.rate,
        t.achievedRate,
        `${t.delivered}/${t.expected}`,
        t.lost,
        t.duplicates,
        errs(t),
        t.latencyMs.p50,
        t.latencyMs.p95,
        t.latencyMs.p99,
        t.latencyMs.max,
        t.usage.serverCpuPct.join(' + '),
        t.usage.serverRssPeakMB.join(' + '),
        t.usage.generatorCpuPct,
        t.usage.machineBusyPct,
      ];
    }),
  ),
  '',
  `## Max sustainable rate (p99 < 100 ms, no loss, no errors; ${S.users} receivers, REST senders)`,
  '',
  table(
    ['target', 'max msg/s', 'trials (rate: p99 ms, pass)', 'server CPU % at max', 'generator CPU % at max'],
    maxes.map((r) => {
      const best = r.trials?.find((t) => t.pass && t.rate === r.maxRate);
      return [
        r.target,
        `${r.maxBounded ? '' : '≥ '}${r.maxRate ?? '–'}`,
        (r.trials ?? []).map((t) => `${t.rate}: ${t.latencyMs.p99}${t.pass ? ' ✓' : ' ✗'}`).join(', '),
        best?.usage.serverCpuPct.join(' ') ?? '–',
        best?.usage.generatorCpuPct ?? '–',
      ];
    }),
  ),
  '',
  '## Idle sockets',
  '',
  table(
    ['target', 'transport', 'sockets open', 'failed', 'connect/s', 'server RSS before → after MB', 'KB per socket', 'server CPU % while connecting'],
    idles.map((r) => [
      r.target,
      r.variant,
      r.idle?.openAfterSettle ?? '–',
      r.connect?.failed ?? '–',
      r.connect?.perSecond ?? '–',
      r.idle ? `${r.idle.baseRssMB} → ${r.idle.rssMB}` : '–',
      r.idle?.perSocketKB ?? '–',
      r.idle?.usage.serverCpuPct.join(' ') ?? '–',
    ]),
  ),
  '',
  ...results
    .filter((r) => r.notify)
    .map(
      (r) =>
        `Notify: ${r.trial!.ok} acknowledged actions; notifications received per owner device ${r.notify!.received.join(', ')}; last unseen count ${r.notify!.lastUnseenCount.join(', ')} (${r.notify!.unseenCountCorrect ? 'correct' : '**wrong**'}).`,
    ),
  ...results.filter((r) => r.error).map((r) => `Error in ${r.scenario} ${r.target} (${r.variant}): ${r.error}`),
  ...skipped.map((s) => `Skipped for the time budget: ${s.scenario} ${s.target}.`),
  '',
].join('\n');

const dir = path.join(REPO, 'bench', 'results');
mkdirSync(dir, { recursive: true });
const stamp = started.toISOString().replace(/[:.]/g, '-');
writeFileSync(path.join(dir, `${stamp}.json`), JSON.stringify({ startedAt: started, quick, targets, revision, machine: m, results, skipped }, null, 2));
writeFileSync(path.join(dir, 'latest.md'), md);
console.log(md);
log(`wrote bench/results/${stamp}.json and bench/results/latest.md`);
process.exit(results.some((r) => r.error) ? 1 : 0);
