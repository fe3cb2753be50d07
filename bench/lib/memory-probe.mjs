/*
 * Loaded into the service by bench/ops.ts with `node --import`: on SIGUSR2 it writes where the process's
 * memory is to the file BENCH_MEMORY_REPORT names. It does nothing else and allocates nothing until asked,
 * so the figures are the service's own. Plain JavaScript: the service runs compiled, without tsx.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import v8 from 'node:v8';

const target = process.env.BENCH_MEMORY_REPORT;
if (target) {
  process.on('SIGUSR2', () => {
    const status = Object.fromEntries(
      readFileSync('/proc/self/status', 'utf8')
        .split('\n')
        .filter((l) => /^(VmRSS|RssAnon|RssFile|RssShmem|VmHWM):/.test(l))
        .map((l) => [l.split(':')[0], Number(l.split(/\s+/)[1]) * 1024]),
    );
    // Resident memory by what is mapped: the node binary (its code and ICU data), the V8 heap and malloc (anonymous), addons.
    const byMapping = {};
    let name = '';
    for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
      const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
      if (head) name = head[1] || '[anonymous]';
      else if (line.startsWith('Rss:')) byMapping[name] = (byMapping[name] ?? 0) + Number(line.split(/\s+/)[1]) * 1024;
    }
    const report = {
      at: Date.now(),
      memoryUsage: process.memoryUsage(),
      heap: v8.getHeapStatistics(),
      spaces: v8.getHeapSpaceStatistics().map((s) => ({ name: s.space_name, size: s.space_size, used: s.space_used_size })),
      status,
      byMapping: Object.fromEntries(Object.entries(byMapping).filter(([, v]) => v > 512 * 1024).sort((a, b) => b[1] - a[1])),
    };
    writeFileSync(`${target}.tmp`, JSON.stringify(report));
    // Renamed into place: the benchmark reads a whole report or none.
    renameSync(`${target}.tmp`, target);
  });
}
