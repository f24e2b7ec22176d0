package dev.choreoscope.peer;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;
import org.apache.kafka.streams.state.Stores;

/**
 * The Kafka Streams peer: reads the demo's JSON events, runs the order checks
 * (OrderProcessor) and writes verdicts as JSON to an output topic.
 *
 *   java -cp 'classes:lib/*' dev.choreoscope.peer.Peer --brokers HOST:PORT --topic IN
 *        [--output OUT] [--app-id ID] [--state-dir DIR] [--threads N] [--store rocksdb|memory]
 *   java -cp 'classes:lib/*' dev.choreoscope.peer.Peer --replay EVENTS.jsonl
 *
 * At start it counts the input topic's records (end - beginning offsets, via Admin) and
 * reports when it has processed that many (Progress); it runs until SIGTERM, then closes
 * cleanly (commits, flushes the verdicts).
 */
public final class Peer {
    private Peer() {}

    public static void main(String[] argv) throws Exception {
        if (argv.length == 2 && argv[0].equals("--replay")) {
            FileCheck.run(argv[1]);
            return;
        }
        Map<String, String> a = new HashMap<>(Map.of("--output", "order-verdicts", "--app-id", "order-peer",
            "--state-dir", "/tmp/order-peer", "--threads", "1", "--store", "rocksdb"));
        for (int i = 0; i + 1 < argv.length; i += 2) a.put(argv[i], argv[i + 1]);
        if (!a.containsKey("--brokers") || !a.containsKey("--topic")) {
            System.err.println("usage: Peer --brokers HOST:PORT --topic IN [--output OUT] [--app-id ID] "
                + "[--state-dir DIR] [--threads N] [--store rocksdb|memory]");
            System.exit(2);
        }
        String in = a.get("--topic"), out = a.get("--output");
        long expected = topicSize(a.get("--brokers"), in);
        System.out.println("peer: input " + in + " holds " + expected + " records");

        Progress progress = new Progress(expected); // one for all tasks and threads
        Topology t = new Topology();
        t.addSource("events", Serdes.String().deserializer(), new Event.Json(), in);
        t.addProcessor("order", () -> new OrderProcessor(progress), "events");
        // rocksdb: persistent stores (the default a team would take); memory: in-heap
        // stores, changelogged the same way, for the cost of keeping every flow in RAM
        boolean mem = a.get("--store").equals("memory");
        t.addStateStore(Stores.keyValueStoreBuilder(mem ? Stores.inMemoryKeyValueStore(OrderProcessor.FLOWS)
            : Stores.persistentKeyValueStore(OrderProcessor.FLOWS), Serdes.String(), Serdes.ByteArray())
            .withCachingEnabled(), "order");
        t.addStateStore(Stores.keyValueStoreBuilder(mem ? Stores.inMemoryKeyValueStore(OrderProcessor.TIMERS)
            : Stores.persistentKeyValueStore(OrderProcessor.TIMERS), Serdes.Bytes(), Serdes.ByteArray())
            .withCachingEnabled(), "order");
        t.addSink("verdicts", out, Serdes.String().serializer(), Serdes.String().serializer(), "order");

        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, a.get("--app-id"));
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, a.get("--brokers"));
        p.put(StreamsConfig.STATE_DIR_CONFIG, a.get("--state-dir"));
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, Integer.parseInt(a.get("--threads")));
        p.put(StreamsConfig.DEFAULT_TIMESTAMP_EXTRACTOR_CLASS_CONFIG, Event.Time.class);
        p.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, LogAndContinueExceptionHandler.class);
        p.put(StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG, BoundedRocksDb.class);
        p.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
        KafkaStreams ks = new KafkaStreams(t, p);
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            ks.close();
            stop.countDown();
        }));
        ks.setUncaughtExceptionHandler(e -> {
            e.printStackTrace();
            return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        ks.start();
        stop.await();
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
