package dev.choreoscope.flinkpeer;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.time.Instant;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.util.Collector;

/**
 * One input event as choreoscope-gen --format json writes it (the fields of
 * docs/semantics.md; attributes are not needed by the order checks and are skipped).
 * A Flink POJO (public fields, public no-argument constructor), so Flink's own
 * serializer moves it between operators, not Kryo. Parsed once, by Jackson, in the
 * source's deserialization schema; step is the order step's index (OrderFlow.stepIndex,
 * -1: not an order step), so no operator after the source compares strings for it.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public final class Event {
    @JsonProperty("event_id") public String eventId;
    @JsonProperty("correlation_id") public String correlationId;
    @JsonProperty("type") public String type;
    @JsonProperty("time") public String time;
    @JsonProperty("flow") public String flow;
    /** event time, microseconds since the epoch; set by the deserializer */
    public long timeUs;
    public int step;

    public Event() {}

    static long micros(String rfc3339) {
        Instant i = Instant.parse(rfc3339);
        return i.getEpochSecond() * 1_000_000L + i.getNano() / 1_000;
    }

    /** An event of another flow (the generator names it); the order checks skip it. */
    boolean otherFlow() {
        return flow != null && !flow.equals("order");
    }

    /**
     * JSON bytes to Event. Input it cannot read yields no element (counted by Progress, so
     * the end of the topic is still recognised): a team would log and skip, not fail the job.
     */
    static final class Json implements DeserializationSchema<Event> {
        private static final long serialVersionUID = 1L;
        private transient ObjectMapper mapper;

        @Override
        public Event deserialize(byte[] message) {
            throw new UnsupportedOperationException("the collector variant is used");
        }

        @Override
        public void deserialize(byte[] data, Collector<Event> out) throws IOException {
            if (mapper == null)
                mapper = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
            Event e = null;
            try {
                if (data != null) e = mapper.readValue(data, Event.class);
                if (e != null && (e.eventId == null || e.correlationId == null || e.type == null || e.time == null))
                    e = null;
                if (e != null) {
                    e.timeUs = micros(e.time);
                    e.step = OrderFlow.stepIndex(e.type);
                }
            } catch (IOException | RuntimeException ex) {
                e = null;
            }
            if (e == null) Progress.get().record(); // skipped here, still one of the topic's records
            else out.collect(e);
        }

        @Override
        public boolean isEndOfStream(Event next) {
            return false;
        }

        @Override
        public TypeInformation<Event> getProducedType() {
            return TypeInformation.of(Event.class);
        }
    }
}
