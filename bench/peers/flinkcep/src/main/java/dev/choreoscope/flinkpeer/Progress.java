package dev.choreoscope.flinkpeer;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The Kafka Streams peer's Progress (same output line, so bench scripts read both), here
 * one per JVM (get()): the job runs in a MiniCluster inside this JVM, so the source's
 * deserializer (records it skips) and OrderChecks (every other record) count into one
 * instance across their threads. Counts input records and prints, on stdout, one line when
 * the first arrives and one when the expected number (the topic's size at start) has
 * been processed:
 *   peer: done records=N verdicts=V seconds=S events_per_sec=R cpu_seconds=C
 *         cpu_total_seconds=T peak_rss_kb=K second_half_events_per_sec=R2
 *         second_half_cpu_seconds=C2 jit_cpu_seconds=J
 * timed from the first record (the group join before it is not counted, as in
 * choreoscope's own figure); cpu_seconds is this process's utime+stime over the same
 * window (all JVM threads: stream, GC, JIT, RocksDB), cpu_total_seconds since start.
 * The second half of the records alone is the warmer JVM: on a run of a few hundred
 * thousand records the JIT compiler still takes a large share of the first half.
 * jit_cpu_seconds: the part of cpu_seconds spent by the JIT compiler threads (so
 * cpu_seconds - jit_cpu_seconds approximates a warm JVM).
 */
final class Progress {
    private static volatile Progress instance = new Progress(Long.MAX_VALUE);

    static Progress get() {
        return instance;
    }

    /** Before the job starts: the number of records that makes the "done" line. */
    static void expect(long n) {
        instance = new Progress(n);
    }

    private final long expected;
    private final AtomicLong records = new AtomicLong();
    private final AtomicLong verdicts = new AtomicLong();
    private volatile long t0;
    private volatile double cpu0, cpuHalf, jit0;
    private volatile long tHalf;

    Progress(long expected) {
        this.expected = expected;
    }

    void verdict() {
        verdicts.incrementAndGet();
    }

    void record() {
        long n = records.incrementAndGet();
        if (n == 1) {
            t0 = System.nanoTime();
            cpu0 = ProcStat.cpuSeconds();
            jit0 = ProcStat.jitCpuSeconds();
            System.out.println("peer: first record");
        }
        if (n == expected / 2) {
            tHalf = System.nanoTime();
            cpuHalf = ProcStat.cpuSeconds();
        }
        if (n == expected) {
            long t = System.nanoTime();
            double secs = (t - t0) / 1e9, cpu = ProcStat.cpuSeconds(), half = (t - tHalf) / 1e9;
            System.out.printf("peer: done records=%d verdicts=%d seconds=%.3f events_per_sec=%.0f "
                + "cpu_seconds=%.2f cpu_total_seconds=%.2f peak_rss_kb=%d second_half_events_per_sec=%.0f "
                + "second_half_cpu_seconds=%.2f jit_cpu_seconds=%.2f%n", n, verdicts.get(), secs, n / secs,
                cpu - cpu0, cpu, ProcStat.peakRssKb(), (n - expected / 2) / half, cpu - cpuHalf,
                ProcStat.jitCpuSeconds() - jit0);
            System.out.flush();
        }
    }
}
