package dev.choreoscope.flinkpeer;

/** One verdict record for the output topic: key (correlation id) and JSON value. */
public final class Verdict {
    public String key;
    public String json;

    public Verdict() {}

    Verdict(String key, String json) {
        this.key = key;
        this.json = json;
    }
}
