package dev.choreoscope.peer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The order checks as a Kafka Streams processor (Processor API). State, both in
 * persistent RocksDB stores with changelog topics, so a moved or restarted task gets
 * it back:
 *   FLOWS  correlation id -> OrderFlow (binary, OrderFlow.encode)
 *   TIMERS 8-byte big-endian deadline (µs) + correlation id -> empty: a time index,
 *          so the punctuator range-scans what is due instead of walking every flow.
 * Each flow keeps at most one timer entry (its earliest deadline, OrderFlow.timerAt).
 *
 * Clock: event time. An event at t first judges its own flow's deadlines up to
 * t - lateness; a stream-time punctuator (every 100 ms of stream time) judges every
 * flow's up to stream time - lateness. Stream time is per task, i.e. per partition.
 *
 * Threads: one instance per task, called only by the stream thread that owns the task.
 */
final class OrderProcessor implements Processor<String, Event, String, String> {
    static final String FLOWS = "order-flows";
    static final String TIMERS = "order-timers";
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final Progress progress;
    private ProcessorContext<String, String> ctx;
    private KeyValueStore<String, byte[]> flows;
    private KeyValueStore<Bytes, byte[]> timers;
    private final OrderFlow.Sink sink = this::emit;
    /**
     * Where the next punctuation's scan starts: every timer before it was judged, except
     * those armed since (scanFrom is lowered to them). In memory only: after a restart the
     * first scan starts at 0. Without it each scan would seek from 0 over the tombstones
     * of every timer already deleted (RocksDB keeps them until compaction), which made the
     * scans the biggest cost.
     */
    private long scanFrom;

    OrderProcessor(Progress progress) {
        this.progress = progress;
    }

    @Override
    public void init(ProcessorContext<String, String> context) {
        ctx = context;
        flows = context.getStateStore(FLOWS);
        timers = context.getStateStore(TIMERS);
        context.schedule(Duration.ofMillis(100), PunctuationType.STREAM_TIME, this::punctuate);
    }

    @Override
    public void process(Record<String, Event> rec) {
        progress.record();
        Event ev = rec.value();
        if (ev == null || (ev.flow != null && !ev.flow.equals("order"))) return;
        int s = OrderFlow.stepIndex(ev.type);
        byte[] raw = flows.get(ev.correlationId);
        OrderFlow f = raw == null ? null : OrderFlow.decode(ev.correlationId, raw);
        long oldTimer = f == null ? OrderFlow.NONE : f.timerAt;
        if (f != null && (f.fire(ev.timeUs - OrderFlow.LATENESS_US, sink) || f.isPastClose(ev.timeUs))) {
            flows.delete(ev.correlationId);
            unarm(oldTimer, ev.correlationId);
            f = null;
            oldTimer = OrderFlow.NONE;
        }
        if (f == null) {
            if (s < 0) return; // no order for this key: not ours (choreoscope calls it unmatched)
            f = new OrderFlow(ev.correlationId);
        }
        f.apply(ev.eventId, s, ev.type, ev.timeUs, sink);
        save(f, oldTimer);
    }

    /** Judges every flow whose timer is due at stream time - lateness. */
    private void punctuate(long streamTimeMs) {
        long w = streamTimeMs * 1000L - OrderFlow.LATENESS_US;
        List<Bytes> due = new ArrayList<>();
        if (w < scanFrom) return;
        try (KeyValueIterator<Bytes, byte[]> it = timers.range(timerKey(scanFrom, ""), timerKey(w + 1, ""))) {
            while (it.hasNext()) due.add(it.next().key);
        }
        for (Bytes k : due) {
            ByteBuffer b = ByteBuffer.wrap(k.get());
            long at = b.getLong();
            String id = new String(k.get(), 8, k.get().length - 8, StandardCharsets.UTF_8);
            timers.delete(k);
            byte[] raw = flows.get(id);
            if (raw == null) continue;
            OrderFlow f = OrderFlow.decode(id, raw);
            if (f.timerAt != at) continue; // stale: re-armed since
            f.timerAt = OrderFlow.NONE;
            if (f.fire(w, sink)) flows.delete(id);
            else save(f, OrderFlow.NONE);
        }
        scanFrom = Math.max(scanFrom, w + 1);
    }

    /** Writes f back and moves its timer entry to its next deadline. */
    private void save(OrderFlow f, long oldTimer) {
        long next = f.nextDeadline();
        if (next == Long.MAX_VALUE) next = OrderFlow.NONE;
        if (next != oldTimer) {
            unarm(oldTimer, f.id);
            if (next != OrderFlow.NONE) {
                timers.put(timerKey(next, f.id), new byte[0]);
                scanFrom = Math.min(scanFrom, next);
            }
        }
        f.timerAt = next;
        flows.put(f.id, f.encode());
    }

    private void unarm(long at, String id) {
        if (at != OrderFlow.NONE) timers.delete(timerKey(at, id));
    }

    private static Bytes timerKey(long at, String id) {
        byte[] k = id.getBytes(StandardCharsets.UTF_8);
        return Bytes.wrap(ByteBuffer.allocate(8 + k.length).putLong(at).put(k).array());
    }

    private void emit(String id, String kind, String step, long atUs) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("record", "anomaly");
        o.put("flow", "order");
        o.put("correlation_id", id);
        o.put("kind", kind);
        o.put("step", step);
        o.put("at", Instant.ofEpochSecond(Math.floorDiv(atUs, 1_000_000L), Math.floorMod(atUs, 1_000_000L) * 1000L).toString());
        // Stamped with the wall clock, not stream time: a broker's time retention deletes
        // records whose timestamps are older than it (replays of old traffic, the
        // generator's synthetic 2026-01-01 clock); the event time is in "at".
        ctx.forward(new Record<>(id, o.toString(), System.currentTimeMillis()));
        progress.verdict();
    }

}
