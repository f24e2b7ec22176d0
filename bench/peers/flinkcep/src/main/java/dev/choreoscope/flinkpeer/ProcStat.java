package dev.choreoscope.flinkpeer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** This process's CPU seconds (utime + stime, all threads, or the JIT's) and peak RSS, from /proc/self. */
final class ProcStat {
    private ProcStat() {}

    static double cpuSeconds() {
        return cpuOf(Path.of("/proc/self/stat"));
    }

    /** utime + stime of a stat(5) file (fields 14 and 15), in seconds (USER_HZ 100). */
    private static double cpuOf(Path stat) {
        try {
            String s = Files.readString(stat);
            String[] f = s.substring(s.lastIndexOf(')') + 2).split(" "); // f[0] is field 3
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /**
     * CPU seconds of the JIT compiler threads alive now ("C1/C2 CompilerThre..."), so that
     * a run can report its cost without compilation, i.e. a warm JVM's. A compiler thread
     * that has exited is not counted here (its CPU stays in the process's total).
     */
    static double jitCpuSeconds() {
        double sum = 0;
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                String comm = Files.readString(t.resolve("comm")).trim();
                if (comm.startsWith("C1 Compiler") || comm.startsWith("C2 Compiler"))
                    sum += cpuOf(t.resolve("stat"));
            }
        } catch (IOException | RuntimeException e) {
            return sum;
        }
        return sum;
    }

    /** VmHWM in KiB, -1 if unknown. */
    static long peakRssKb() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/status")))
                if (l.startsWith("VmHWM:")) return Long.parseLong(l.replaceAll("[^0-9]", ""));
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
