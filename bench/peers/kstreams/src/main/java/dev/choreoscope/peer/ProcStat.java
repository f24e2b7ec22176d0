package dev.choreoscope.peer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** This process's CPU seconds (utime + stime, all threads) and peak RSS, from /proc/self. */
final class ProcStat {
    private ProcStat() {}

    static double cpuSeconds() {
        try {
            String s = Files.readString(Path.of("/proc/self/stat"));
            String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
            // fields 14 and 15 of stat(5); f[0] is field 3
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
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
