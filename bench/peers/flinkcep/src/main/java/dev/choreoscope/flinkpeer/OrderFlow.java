package dev.choreoscope.flinkpeer;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * The demo's order saga (config/demo.yaml, flow "order") as one hand-written state machine,
 * the keyed state of OrderChecks (one instance per correlation id, on the heap state
 * backend). The same machine as the Kafka Streams peer's (bench/peers/kstreams OrderFlow),
 * less its binary store format, plus one thing: a stall is not reported on this machine's
 * word alone. The CEP patterns (StallPatterns) detect stalls as timed-out partial matches;
 * this machine decides whether a stall counts (not after the flow closed, not for a step
 * whose alternative happened or that was reported missing: what CEP cannot see) and the
 * verdict is emitted once both agree (confirmStall). A stall this machine owes but CEP never
 * times out is never emitted: the truth test then shows the difference.
 *
 * Verdicts follow docs/semantics.md for this graph: stalled (a step not there within its
 * deadline), late, missing (a successor came without its predecessor, past the lateness),
 * out_of_order (the predecessor came after it, within the lateness), duplicate (same event
 * id), double_step (a step again with a new id), unexpected (an undeclared type, or an
 * alternative after its partner), abandoned (not closed 15 s after it opened). Each once per
 * (kind, step). Times are microseconds of event time; the clock is the caller's watermark.
 *
 * Not thread-safe: an instance belongs to the subtask that owns its key.
 */
final class OrderFlow implements Serializable {
    private static final long serialVersionUID = 1L;
    static final long NONE = Long.MIN_VALUE;
    static final long LATENESS_US = 1_000_000L;
    static final long DEADLINE_US = 15_000_000L;

    static final String[] STEPS = {
        "OrderPlaced", "PaymentAuthorized", "PaymentDeclined", "InventoryReserved",
        "InventoryFailed", "PaymentRefunded", "OrderShipped", "OrderCancelled",
    };
    static final int N = STEPS.length;
    /** after: all of them (AND); the one after_any step is marked in AFTER_ANY. */
    private static final int[] AFTER = { 0, 1 << 0, 1 << 0, 1 << 1, 1 << 1, 1 << 4, 1 << 3, (1 << 2) | (1 << 5) };
    private static final int AFTER_ANY = 1 << 7;
    private static final int[] ALTS = { 0, 1 << 2, 1 << 1, 1 << 4, 1 << 3, 0, 0, 0 };
    static final long[] WITHIN_US = { 0, 3_000_000L, 3_000_000L, 3_000_000L, 3_000_000L, 3_000_000L, 4_000_000L, 3_000_000L };
    /** outcome of an end step; 0: not an end */
    private static final byte[] END = { 0, 0, 0, 0, 0, 0, 1, 2 };
    static final String[] OUTCOMES = { "open", "completed", "compensated", "abandoned" };

    static final String[] KINDS = {
        "stalled", "late", "missing", "out_of_order", "duplicate", "double_step", "unexpected", "abandoned",
    };
    private static final int K_STALLED = 0, K_LATE = 1, K_MISSING = 2, K_OOO = 3, K_DUP = 4, K_DOUBLE = 5,
        K_UNEXPECTED = 6, K_ABANDONED = 7;

    /** Where verdicts go: the processor forwards them to the output topic. */
    interface Sink {
        void verdict(String correlationId, String kind, String step, long atUs);
    }

    /** The steps that become expected when step p happens (p is in their after or after_any). */
    static int successors(int p) {
        int m = 0;
        for (int x = 0; x < N; x++) if ((AFTER[x] & (1 << p)) != 0) m |= 1 << x;
        return m;
    }

    static int stepIndex(String type) {
        switch (type) {
            case "OrderPlaced": return 0;
            case "PaymentAuthorized": return 1;
            case "PaymentDeclined": return 2;
            case "InventoryReserved": return 3;
            case "InventoryFailed": return 4;
            case "PaymentRefunded": return 5;
            case "OrderShipped": return 6;
            case "OrderCancelled": return 7;
            default: return -1;
        }
    }

    final String id;
    long opened = Long.MAX_VALUE;
    long closed = NONE;
    byte outcome;
    int happened, gone; // gone: no longer expected (alternative happened, or reported missing)
    long reported; // bit kind * 8 + step
    int events;
    long timerAt = NONE; // the deadline the timer index holds for this instance
    final long[] at = new long[N]; // happened at
    final long[] expected = new long[N]; // expected since, NONE if not
    final long[] missDue = new long[N]; // a successor came without it: missing at this time
    final List<String> seen = new ArrayList<>(8);
    final List<String> unexpectedTypes = new ArrayList<>(1);
    /** steps whose stall CEP timed out (at expected + within), and stalls judged here that wait for it */
    int cepStalled, stallOwed;
    final long[] stallAt = new long[N]; // the deadline of an owed stall

    OrderFlow(String id) {
        this.id = id;
        java.util.Arrays.fill(at, NONE);
        java.util.Arrays.fill(expected, NONE);
        java.util.Arrays.fill(missDue, NONE);
    }

    private boolean has(int mask, int s) { return (mask & (1 << s)) != 0; }

    private void once(Sink out, int kind, int step, long atUs) {
        long bit = 1L << (kind * 8 + step);
        if ((reported & bit) != 0) return;
        reported |= bit;
        if (kind == K_STALLED && !has(cepStalled, step)) { // judged here, not yet timed out by CEP
            stallOwed |= 1 << step;
            stallAt[step] = atUs;
            return;
        }
        out.verdict(id, KINDS[kind], STEPS[step], atUs);
    }

    /**
     * CEP timed out a partial match that expected step s by deadlineUs. It counts when this
     * machine expects s since deadlineUs - within (the same predecessor event; other partial
     * matches, e.g. of a duplicate or a second occurrence, are ignored): emitted now if this
     * machine already judged the stall, else remembered for when it does.
     */
    void confirmStall(int s, long deadlineUs, Sink out) {
        if (expected[s] == NONE || expected[s] + WITHIN_US[s] != deadlineUs) return;
        cepStalled |= 1 << s;
        if (has(stallOwed, s)) {
            stallOwed &= ~(1 << s);
            out.verdict(id, KINDS[K_STALLED], STEPS[s], stallAt[s]);
        }
    }

    /** A stall deadline still to judge for step s, or NONE. */
    private long stallDue(int s) {
        if (expected[s] == NONE || has(happened, s) || has(gone, s) || WITHIN_US[s] == 0
            || (reported & (1L << (K_STALLED * 8 + s))) != 0) return NONE;
        long d = expected[s] + WITHIN_US[s];
        return closed == NONE || d < closed ? d : NONE;
    }

    /** The earliest pending deadline (stall, missing, abandoned, retirement), or NONE. */
    long nextDeadline() {
        long d = Long.MAX_VALUE;
        for (int s = 0; s < N; s++) {
            long x = stallDue(s);
            if (x != NONE) d = Math.min(d, x);
            if (missDue[s] != NONE) d = Math.min(d, missDue[s]);
        }
        if (closed == NONE && opened != Long.MAX_VALUE) d = Math.min(d, opened + DEADLINE_US);
        else if (d == Long.MAX_VALUE) d = closed + LATENESS_US; // retire once nothing is pending
        return d;
    }

    /**
     * Judges every deadline up to watermark w, in order of time (at one time: abandoned
     * first, so a stall at the close time is not judged; then stalls in declaration order,
     * then missing). Returns true when the instance is retired (closed, lateness past,
     * nothing pending): the caller deletes it.
     */
    boolean fire(long w, Sink out) {
        for (;;) {
            long d = nextDeadline();
            if (d > w) return false;
            if (closed != NONE && d == closed + LATENESS_US && isIdle()) return true;
            if (closed == NONE && d == opened + DEADLINE_US) abandon(out, d);
            for (int s = 0; s < N; s++)
                if (stallDue(s) == d) once(out, K_STALLED, s, d);
            for (int s = 0; s < N; s++)
                if (missDue[s] == d) {
                    missDue[s] = NONE;
                    gone |= 1 << s;
                    once(out, K_MISSING, s, d);
                }
        }
    }

    private boolean isIdle() {
        for (int s = 0; s < N; s++)
            if (stallDue(s) != NONE || missDue[s] != NONE) return false;
        return true;
    }

    /** Closes as abandoned at d, naming the step expected earliest (ties: declaration order). */
    private void abandon(Sink out, long d) {
        int best = -1;
        for (int s = 0; s < N; s++)
            if (expected[s] != NONE && expected[s] <= d && !has(happened, s) && !has(gone, s)
                && (best < 0 || expected[s] < expected[best])) best = s;
        if (best >= 0) once(out, K_ABANDONED, best, d);
        else out.verdict(id, KINDS[K_ABANDONED], "", d);
        closed = d;
        outcome = 3;
    }

    /** True when an event at time t belongs to a new instance (this one closed long enough ago). */
    boolean isPastClose(long t) {
        return closed != NONE && t > closed + LATENESS_US;
    }

    /** Applies one event of this correlation id (type index s, -1 when undeclared). */
    void apply(String eventId, int s, String type, long t, Sink out) {
        events++;
        if (seen.contains(eventId)) {
            if (s >= 0) once(out, K_DUP, s, t);
            return;
        }
        seen.add(eventId);
        opened = Math.min(opened, t);
        if (s < 0) {
            if (!unexpectedTypes.contains(type)) {
                unexpectedTypes.add(type);
                out.verdict(id, KINDS[K_UNEXPECTED], type, t);
            }
            return;
        }
        if ((happened & ALTS[s]) != 0) { once(out, K_UNEXPECTED, s, t); return; }
        if (has(happened, s)) { once(out, K_DOUBLE, s, t); return; }
        judgeArrival(s, t, out);
        happened |= 1 << s;
        at[s] = t;
        owePredecessors(s, t);
        gone |= ALTS[s];
        if (closed == NONE) expectSuccessors(s, t);
        if (END[s] != 0 && closed == NONE) {
            if (t > opened + DEADLINE_US) abandon(out, t);
            else outcome = END[s];
            closed = t;
        }
    }

    /** late / stalled+late / out_of_order / missing+late for step s arriving at t. */
    private void judgeArrival(int s, long t, Sink out) {
        long stall = stallDue(s);
        long stallBit = 1L << (K_STALLED * 8 + s), missBit = 1L << (K_MISSING * 8 + s);
        if ((reported & (stallBit | missBit)) != 0) once(out, K_LATE, s, t);
        else if (stall != NONE && t > stall) {
            once(out, K_STALLED, s, t);
            once(out, K_LATE, s, t);
        }
        if (missDue[s] == NONE) return;
        if (t <= missDue[s]) {
            once(out, K_OOO, s, t);
            for (int x = 0; x < N; x++) // an after_any successor is satisfied by the first
                if ((AFTER_ANY & (1 << x)) != 0 && has(AFTER[x], s))
                    for (int p = 0; p < N; p++)
                        if (p != s && has(AFTER[x], p)) missDue[p] = NONE;
        } else {
            once(out, K_MISSING, s, t);
            once(out, K_LATE, s, t);
        }
        missDue[s] = NONE;
    }

    /** s happened at t: each predecessor it needs and that has not happened is owed. */
    private void owePredecessors(int s, long t) {
        int need = AFTER[s] & ~happened;
        if (need == 0 || ((AFTER_ANY & (1 << s)) != 0 && need != AFTER[s])) return;
        for (int p = 0; p < N; p++)
            if (has(need, p) && (reported & (1L << (K_MISSING * 8 + p))) == 0)
                missDue[p] = missDue[p] == NONE ? t + LATENESS_US : Math.min(missDue[p], t + LATENESS_US);
    }

    private void expectSuccessors(int s, long t) {
        for (int x = 0; x < N; x++) {
            if (!has(AFTER[x], s) || has(happened, x) || has(gone, x) || expected[x] != NONE) continue;
            if ((AFTER_ANY & (1 << x)) != 0) { expected[x] = t; continue; }
            if ((AFTER[x] & ~happened) != 0) continue;
            long e = NONE;
            for (int p = 0; p < N; p++) if (has(AFTER[x], p)) e = Math.max(e, at[p]);
            expected[x] = e;
        }
    }
}
