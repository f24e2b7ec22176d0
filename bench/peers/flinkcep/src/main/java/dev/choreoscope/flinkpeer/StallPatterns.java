package dev.choreoscope.flinkpeer;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.apache.flink.cep.CEP;
import org.apache.flink.cep.functions.PatternProcessFunction;
import org.apache.flink.cep.functions.TimedOutPartialMatchHandler;
import org.apache.flink.cep.pattern.Pattern;
import org.apache.flink.cep.pattern.conditions.IterativeCondition;
import org.apache.flink.cep.pattern.conditions.SimpleCondition;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.KeyedStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * The order flow's step deadlines as Flink CEP patterns: "a step, followed by one of the
 * steps it makes expected, within their `within`" (OrderPlaced -> PaymentAuthorized |
 * PaymentDeclined within 3 s, InventoryReserved -> OrderShipped within 4 s, ...). One
 * pattern per distinct `within` (CEP's within is per pattern): 3 s and 4 s. A partial match
 * that times out is a stall of every step its first event made expected: a Stall on the
 * side output, judged with the flow's state by OrderChecks. Full matches (the step came
 * in time) produce nothing.
 *
 * Time: event time, as the job's watermarks (Peer): CEP buffers each key's events until
 * the watermark passes them and matches them in event-time order, so an event that
 * arrived before its predecessor (out_of_order) still completes the match. Events behind
 * the watermark (more than the lateness late) are dropped by CEP; their stalls time out
 * regardless, and OrderChecks, which sees every event, judges them late.
 */
final class StallPatterns {
    static final OutputTag<Stall> STALLS = new OutputTag<>("stalls") {
        private static final long serialVersionUID = 1L;
    };

    private StallPatterns() {}

    /** The stalls of every pattern, from the order flow's events keyed by correlation id. */
    static DataStream<Stall> stalls(KeyedStream<Event, String> events) {
        DataStream<Stall> all = null;
        TreeSet<Long> withins = new TreeSet<>();
        for (int s = 0; s < OrderFlow.N; s++) if (OrderFlow.WITHIN_US[s] > 0) withins.add(OrderFlow.WITHIN_US[s]);
        for (long w : withins) {
            SingleOutputStreamOperator<Void> p = CEP.pattern(events, pattern(w)).inEventTime()
                .process(new Timeouts(w));
            p.name("cep-within-" + w / 1000 + "ms").uid("cep-within-" + w / 1000 + "ms");
            DataStream<Stall> st = p.getSideOutput(STALLS);
            all = all == null ? st : all.union(st);
        }
        return all;
    }

    /** Steps p after which some successor must come within w (µs). */
    private static int startsOf(long w) {
        int m = 0;
        for (int p = 0; p < OrderFlow.N; p++)
            if (successorsWithin(p, w) != 0) m |= 1 << p;
        return m;
    }

    private static int successorsWithin(int p, long w) {
        int m = 0, succ = OrderFlow.successors(p);
        for (int x = 0; x < OrderFlow.N; x++)
            if ((succ & (1 << x)) != 0 && OrderFlow.WITHIN_US[x] == w) m |= 1 << x;
        return m;
    }

    private static Pattern<Event, Event> pattern(long w) {
        final int starts = startsOf(w);
        return Pattern.<Event>begin("from")
            .where(SimpleCondition.of(e -> e.step >= 0 && (starts & (1 << e.step)) != 0))
            .followedBy("to")
            .where(new IterativeCondition<Event>() {
                private static final long serialVersionUID = 1L;

                @Override
                public boolean filter(Event e, Context<Event> ctx) throws Exception {
                    if (e.step < 0) return false;
                    for (Event from : ctx.getEventsForPattern("from"))
                        return (successorsWithin(from.step, w) & (1 << e.step)) != 0;
                    return false;
                }
            })
            .within(Duration.ofMillis(w / 1000));
    }

    /** Timed-out partial matches to Stalls; matches are the happy path and say nothing. */
    private static final class Timeouts extends PatternProcessFunction<Event, Void>
        implements TimedOutPartialMatchHandler<Event> {
        private static final long serialVersionUID = 1L;
        private final long w;

        Timeouts(long w) {
            this.w = w;
        }

        @Override
        public void processMatch(Map<String, List<Event>> match, Context ctx, Collector<Void> out) {}

        @Override
        public void processTimedOutMatch(Map<String, List<Event>> match, Context ctx) {
            Event from = match.get("from").get(0);
            int m = successorsWithin(from.step, w);
            for (int x = 0; x < OrderFlow.N; x++)
                if ((m & (1 << x)) != 0) ctx.output(STALLS, new Stall(from.correlationId, x, from.timeUs + w));
        }
    }
}
