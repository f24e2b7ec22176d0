package dev.choreoscope.peer;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.processor.TimestampExtractor;

/**
 * One input event as choreoscope-gen --format json writes it (the fields of
 * docs/semantics.md; attributes are not needed by the order checks and are skipped).
 * Parsed once by Jackson in the value deserializer; the timestamp extractor then reads
 * the event time from the parsed value, so stream time is event time.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public final class Event {
    @JsonProperty("event_id") String eventId;
    @JsonProperty("correlation_id") String correlationId;
    @JsonProperty("type") String type;
    @JsonProperty("source") String source;
    @JsonProperty("time") String time;
    @JsonProperty("flow") String flow;
    /** event time, microseconds since the epoch; set by the deserializer */
    long timeUs;

    static long micros(String rfc3339) {
        Instant i = Instant.parse(rfc3339);
        return i.getEpochSecond() * 1_000_000L + i.getNano() / 1_000;
    }

    /** JSON bytes to Event; null (skipped by the processor) for input it cannot read. */
    static final class Json implements Deserializer<Event> {
        private static final ObjectMapper MAPPER = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

        @Override
        public Event deserialize(String topic, byte[] data) {
            if (data == null) return null;
            try {
                Event e = MAPPER.readValue(data, Event.class);
                if (e.eventId == null || e.correlationId == null || e.type == null || e.time == null)
                    return null;
                e.timeUs = micros(e.time);
                return e;
            } catch (Exception ex) {
                return null;
            }
        }
    }

    /** Stream time = event time (ms); unreadable records keep their Kafka timestamp. */
    public static final class Time implements TimestampExtractor {
        @Override
        public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
            Object v = record.value();
            if (v instanceof Event) return Math.floorDiv(((Event) v).timeUs, 1000L);
            return record.timestamp() >= 0 ? record.timestamp() : partitionTime;
        }
    }
}
