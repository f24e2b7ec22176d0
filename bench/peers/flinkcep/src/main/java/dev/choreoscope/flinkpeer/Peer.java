package dev.choreoscope.flinkpeer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.KeyedStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * The Flink CEP peer: a Flink job, run in a local MiniCluster inside this JVM
 * (StreamExecutionEnvironment.getExecutionEnvironment() from `java`), that reads the
 * demo's JSON events from Kafka, runs the order checks and writes verdicts as JSON to an
 * output topic:
 *
 *   KafkaSource (event-time watermarks: max event time - 1 s, the flow's lateness)
 *     -> keyBy(correlation id) -> CEP patterns with within (StallPatterns): timed-out partial
 *        matches -> Stalls
 *     -> keyBy(correlation id) -> OrderChecks (keyed state, event-time timers) <- Stalls
 *     -> KafkaSink (key: correlation id, timestamp: wall clock)
 *
 *   java -cp 'classes:lib/*' dev.choreoscope.flinkpeer.Peer --brokers HOST:PORT --topic IN
 *        [--output OUT] [--group ID] [--parallelism N] [--checkpoint-ms MS]
 *
 * At start it counts the input topic's records (end - beginning offsets, via Admin) and
 * reports when it has processed that many (Progress); it runs until SIGTERM.
 */
public final class Peer {
    private Peer() {}

    public static void main(String[] argv) throws Exception {
        Map<String, String> a = new HashMap<>(Map.of("--output", "order-verdicts", "--group", "order-flink-peer",
            "--parallelism", "1", "--checkpoint-ms", "0"));
        for (int i = 0; i + 1 < argv.length; i += 2) a.put(argv[i], argv[i + 1]);
        if (!a.containsKey("--brokers") || !a.containsKey("--topic")) {
            System.err.println("usage: Peer --brokers HOST:PORT --topic IN [--output OUT] [--group ID] "
                + "[--parallelism N] [--checkpoint-ms MS]");
            System.exit(2);
        }
        String brokers = a.get("--brokers"), in = a.get("--topic"), outTopic = a.get("--output");
        int par = Integer.parseInt(a.get("--parallelism"));
        long expected = topicSize(brokers, in);
        System.out.println("peer: input " + in + " holds " + expected + " records");
        Progress.expect(expected);

        Configuration conf = new Configuration();
        conf.set(StateBackendOptions.STATE_BACKEND, "hashmap"); // every flow on the heap, as choreoscope keeps them
        conf.set(TaskManagerOptions.NUM_TASK_SLOTS, par);
        // the MiniCluster's defaults reserve far more than this job uses (no RocksDB, no batch)
        conf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.ofMebiBytes(16));
        conf.set(TaskManagerOptions.NETWORK_MEMORY_MIN, MemorySize.ofMebiBytes(32));
        conf.set(TaskManagerOptions.NETWORK_MEMORY_MAX, MemorySize.ofMebiBytes(32));
        conf.set(RestOptions.BIND_PORT, "0"); // no fixed port: several peers may run at once
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(par);
        long cp = Long.parseLong(a.get("--checkpoint-ms"));
        if (cp > 0) env.enableCheckpointing(cp);

        KafkaSource<Event> source = KafkaSource.<Event>builder()
            .setBootstrapServers(brokers)
            .setTopics(in)
            .setGroupId(a.get("--group"))
            .setStartingOffsets(OffsetsInitializer.earliest())
            .setDeserializer(KafkaRecordDeserializationSchema.valueOnly(new Event.Json()))
            .build();
        // Event time: watermarks max event time - lateness (1 s), per partition, the source's
        // the minimum over its partitions. No idleness: the generator's tail ticks every
        // partition, and an idle partition must hold the clock back, not skip it.
        WatermarkStrategy<Event> wm = WatermarkStrategy.<Event>forBoundedOutOfOrderness(Duration.ofMillis(OrderFlow.LATENESS_US / 1000))
            .withTimestampAssigner((e, ts) -> Math.floorDiv(e.timeUs, 1000L));
        DataStream<Event> events = env.fromSource(source, wm, "kafka-events").uid("kafka-events");

        KeyedStream<Event, String> steps = events.filter(e -> e.step >= 0 && !e.otherFlow()).name("order-steps")
            .keyBy(e -> e.correlationId);
        DataStream<Stall> stalls = StallPatterns.stalls(steps);
        DataStream<Verdict> verdicts = events.keyBy(e -> e.correlationId)
            .connect(stalls.keyBy(s -> s.correlationId))
            .process(new OrderChecks()).name("order-checks").uid("order-checks");

        KafkaSink<Verdict> sink = KafkaSink.<Verdict>builder()
            .setBootstrapServers(brokers)
            .setRecordSerializer(new VerdictRecord(outTopic))
            .setDeliveryGuarantee(cp > 0 ? DeliveryGuarantee.AT_LEAST_ONCE : DeliveryGuarantee.NONE)
            .build();
        verdicts.sinkTo(sink).name("kafka-verdicts").uid("kafka-verdicts");
        env.execute("order-flink-peer");
    }

    /** Verdict to a Kafka record keyed by correlation id. */
    private static final class VerdictRecord implements KafkaRecordSerializationSchema<Verdict> {
        private static final long serialVersionUID = 1L;
        private final String topic;

        VerdictRecord(String topic) {
            this.topic = topic;
        }

        @Override
        public ProducerRecord<byte[], byte[]> serialize(Verdict v, KafkaSinkContext ctx, Long ts) {
            // Stamped with the wall clock, not event time: a broker's time retention deletes
            // records whose timestamps are older than it (replays of old traffic, the
            // generator's synthetic 2026-01-01 clock); the event time is in "at".
            return new ProducerRecord<>(topic, null, System.currentTimeMillis(),
                v.key.getBytes(StandardCharsets.UTF_8), v.json.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** Records in topic now: sum over partitions of end - beginning offset. */
    private static long topicSize(String brokers, String topic) throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
        try (Admin admin = Admin.create(p)) {
            TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
            List<TopicPartition> tps = d.partitions().stream().map(x -> new TopicPartition(topic, x.partition()))
                .collect(Collectors.toList());
            var end = admin.listOffsets(tps.stream().collect(Collectors.toMap(x -> x, x -> OffsetSpec.latest())))
                .all().get();
            var begin = admin.listOffsets(tps.stream().collect(Collectors.toMap(x -> x, x -> OffsetSpec.earliest())))
                .all().get();
            long n = 0;
            for (TopicPartition tp : tps) n += end.get(tp).offset() - begin.get(tp).offset();
            return n;
        }
    }
}
