// Names every skipped suite at the end of a run, with how many tests it holds, so a run without DATABASE_URL or
// REDIS_URL cannot pass for a full one: the counts above say "skipped", this says what.
import type { Reporter, TestModule, TestSuite } from 'vitest/node';

export default class SkippedSuites implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>) {
    const lines: string[] = [];
    let total = 0;
    for (const module of modules) {
      for (const suite of module.children.allSuites()) {
        // Only the outermost skipped suite: its inner suites are skipped with it.
        const parent = suite.parent as TestSuite | TestModule;
        if (suite.state() !== 'skipped' || (parent.type === 'suite' && parent.state() === 'skipped')) continue;
        const tests = [...suite.children.allTests()].length;
        total += tests;
        lines.push(`  ${module.relativeModuleId} > ${suite.fullName} (${tests} tests)`);
      }
    }
    if (lines.length) console.log(`\nSkipped suites: ${lines.length}, ${total} tests\n${lines.join('\n')}\n`);
  }
}
