package dev.choreoscope.peer;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * The order checks over a JSON-lines file, without Kafka: the same OrderFlow, a hash map
 * for the store and a sorted set for the timer index, on one watermark (highest event
 * time - lateness) for the whole file. Prints one verdict per line like the processor.
 * For checking the checks quickly; the benchmark and the truth test use Kafka.
 */
final class FileCheck {
    private FileCheck() {}

    private record Timer(long at, String id) implements Comparable<Timer> {
        public int compareTo(Timer o) {
            return at != o.at ? Long.compare(at, o.at) : id.compareTo(o.id);
        }
    }

    static void run(String file) throws IOException {
        Map<String, OrderFlow> flows = new HashMap<>();
        TreeSet<Timer> timers = new TreeSet<>();
        Event.Json json = new Event.Json();
        StringBuilder outb = new StringBuilder();
        OrderFlow.Sink sink = (id, kind, step, at) -> outb.append("{\"record\":\"anomaly\",\"flow\":\"order\",\"correlation_id\":\"")
            .append(id).append("\",\"kind\":\"").append(kind).append("\",\"step\":\"").append(step)
            .append("\",\"at_us\":").append(at).append("}\n");
        long tmax = Long.MIN_VALUE;
        try (BufferedReader r = Files.newBufferedReader(Path.of(file), StandardCharsets.UTF_8)) {
            for (String line; (line = r.readLine()) != null;) {
                Event ev = json.deserialize("", line.getBytes(StandardCharsets.UTF_8));
                if (ev == null) continue;
                tmax = Math.max(tmax, ev.timeUs);
                long w = tmax - OrderFlow.LATENESS_US;
                while (!timers.isEmpty() && timers.first().at <= w) {
                    Timer t = timers.pollFirst();
                    OrderFlow f = flows.get(t.id);
                    if (f == null || f.timerAt != t.at) continue;
                    if (f.fire(w, sink)) flows.remove(t.id);
                    else arm(f, timers);
                }
                if (ev.flow != null && !ev.flow.equals("order")) continue;
                int s = OrderFlow.stepIndex(ev.type);
                OrderFlow f = flows.get(ev.correlationId);
                if (f != null && (f.fire(ev.timeUs - OrderFlow.LATENESS_US, sink) || f.isPastClose(ev.timeUs))) {
                    flows.remove(ev.correlationId);
                    f = null;
                }
                if (f == null) {
                    if (s < 0) continue;
                    f = new OrderFlow(ev.correlationId);
                    flows.put(ev.correlationId, f);
                }
                f.apply(ev.eventId, s, ev.type, ev.timeUs, sink);
                arm(f, timers);
                if (outb.length() > 1 << 16) { System.out.print(outb); outb.setLength(0); }
            }
        }
        for (OrderFlow f : flows.values()) f.fire(tmax, sink); // end of input: lateness released
        System.out.print(outb);
        System.out.flush();
    }

    private static void arm(OrderFlow f, TreeSet<Timer> timers) {
        long next = f.nextDeadline();
        if (next == Long.MAX_VALUE) next = OrderFlow.NONE;
        if (next != f.timerAt) {
            if (f.timerAt != OrderFlow.NONE) timers.remove(new Timer(f.timerAt, f.id));
            if (next != OrderFlow.NONE) timers.add(new Timer(next, f.id));
            f.timerAt = next;
        }
    }
}
