package dev.choreoscope.flinkpeer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;

/**
 * What CEP does not do natively, in a keyed process function with keyed state: one
 * OrderFlow per correlation id (ValueState; heap state backend) fed every event in arrival
 * order, so it sees duplicates (same event id), double steps, undeclared types, missing
 * predecessors (a successor without it, past the lateness), out_of_order, late and
 * abandoned; and the Stalls of StallPatterns, which it confirms against the flow's state.
 *
 * Clock: event time. An event at t first judges its own flow's deadlines up to
 * t - lateness (as the Kafka Streams peer); an event-time timer at the flow's next deadline
 * judges it when the watermark (max event time - lateness, Peer) passes it. The stalls of
 * CEP reach this function before a watermark past their deadline does (CEP emits them when
 * that watermark reaches it, before forwarding the watermark), so a flow retired at
 * close + lateness has had every confirmation it could get.
 *
 * Threads: one instance per subtask, called by that subtask's thread only.
 */
final class OrderChecks extends KeyedCoProcessFunction<String, Event, Stall, Verdict> {
    private static final long serialVersionUID = 1L;
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private transient ValueState<OrderFlow> state;
    private transient Collector<Verdict> out;
    private transient OrderFlow.Sink sink;

    @Override
    public void open(OpenContext ctx) {
        state = getRuntimeContext().getState(new ValueStateDescriptor<>("order-flow", TypeInformation.of(OrderFlow.class)));
        sink = this::emit;
    }

    @Override
    public void processElement1(Event ev, Context ctx, Collector<Verdict> o) throws Exception {
        Progress.get().record();
        if (ev.otherFlow()) return;
        out = o;
        OrderFlow f = state.value();
        if (f != null && (f.fire(ev.timeUs - OrderFlow.LATENESS_US, sink) || f.isPastClose(ev.timeUs))) {
            unarm(ctx, f);
            state.clear();
            f = null;
        }
        if (f == null) {
            if (ev.step < 0) return; // no order for this key: not ours (choreoscope calls it unmatched)
            f = new OrderFlow(ev.correlationId);
        }
        f.apply(ev.eventId, ev.step, ev.type, ev.timeUs, sink);
        save(ctx, f);
    }

    @Override
    public void processElement2(Stall st, Context ctx, Collector<Verdict> o) throws Exception {
        OrderFlow f = state.value();
        if (f == null) return; // retired, or never opened here
        out = o;
        f.confirmStall(st.step, st.deadlineUs, sink);
        state.update(f);
    }

    @Override
    public void onTimer(long ts, OnTimerContext ctx, Collector<Verdict> o) throws Exception {
        OrderFlow f = state.value();
        if (f == null || timerOf(f.timerAt) != ts) return; // stale: re-armed since
        out = o;
        f.timerAt = OrderFlow.NONE;
        if (f.fire(watermarkUs(ctx.timerService().currentWatermark()), sink)) state.clear();
        else save(ctx, f);
    }

    /**
     * The watermark in the Kafka Streams peer's terms: Flink's bounded-out-of-orderness
     * watermark is max event time - lateness - 1 ms, that peer's clock max event time -
     * lateness (both in milliseconds of the events' microseconds).
     */
    private static long watermarkUs(long wmMs) {
        return (wmMs + 1) * 1000L;
    }

    /** The event-time timer (ms) at which watermarkUs reaches deadline d (µs). */
    private static long timerOf(long d) {
        return d == OrderFlow.NONE ? Long.MIN_VALUE : Math.floorDiv(d + 999, 1000L) - 1;
    }

    /** Writes f back and moves its timer to its next deadline. */
    private void save(Context ctx, OrderFlow f) throws Exception {
        long next = f.nextDeadline();
        if (next == Long.MAX_VALUE) next = OrderFlow.NONE;
        if (next != f.timerAt) {
            unarm(ctx, f);
            if (next != OrderFlow.NONE) ctx.timerService().registerEventTimeTimer(timerOf(next));
            f.timerAt = next;
        }
        state.update(f);
    }

    private static void unarm(Context ctx, OrderFlow f) {
        if (f.timerAt != OrderFlow.NONE) ctx.timerService().deleteEventTimeTimer(timerOf(f.timerAt));
    }

    private void emit(String id, String kind, String step, long atUs) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("record", "anomaly");
        o.put("flow", "order");
        o.put("correlation_id", id);
        o.put("kind", kind);
        o.put("step", step);
        o.put("at", Instant.ofEpochSecond(Math.floorDiv(atUs, 1_000_000L), Math.floorMod(atUs, 1_000_000L) * 1000L).toString());
        out.collect(new Verdict(id, o.toString()));
        Progress.get().verdict();
    }
}
