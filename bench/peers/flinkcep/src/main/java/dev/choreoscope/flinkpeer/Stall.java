package dev.choreoscope.flinkpeer;

/**
 * A stall CEP detected: a partial match that expected step (OrderFlow's index) of flow
 * correlationId timed out at deadlineUs (its first event's time + the pattern's within).
 * A Flink POJO, keyed by correlation id like the events it is judged with.
 */
public final class Stall {
    public String correlationId;
    public int step;
    public long deadlineUs;

    public Stall() {}

    Stall(String correlationId, int step, long deadlineUs) {
        this.correlationId = correlationId;
        this.step = step;
        this.deadlineUs = deadlineUs;
    }
}
