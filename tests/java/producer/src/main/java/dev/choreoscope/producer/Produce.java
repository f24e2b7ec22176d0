/*
 * Produce: sends records read from stdin with the Java kafka-clients producer and its
 * default partitioner (murmur2 of the key, as every Java and KafkaJS client does).
 *
 * Input, one record a line, tab-separated: KEY, then NAME=VALUE headers; a header named
 * "value" is the record's value instead (default empty). tests/e2e/kafka_real_java.sh
 * turns events into lines keyed by correlation id with CloudEvents binary-mode headers
 * (ce_specversion, ce_id, ce_type, ce_source, ce_time, ce_correlationid, ...).
 *
 * Usage: Produce BOOTSTRAP TOPIC [PROPERTIES] < lines. acks=all, idempotent; prints the
 * count sent and exits non-zero when any send failed. PROPERTIES, a Java properties file
 * of further client settings (security.protocol, sasl.*, ssl.*: tests/e2e/kafka_real_tls.sh),
 * is applied after the defaults. Single-threaded (plus the client's sender).
 */
package dev.choreoscope.producer;

import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public final class Produce {
    public static void main(String[] args) throws Exception {
        if (args.length != 2 && args.length != 3) {
            System.err.println("usage: Produce BOOTSTRAP TOPIC [PROPERTIES] < lines");
            System.exit(2);
        }
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        if (args.length == 3)
            try (FileInputStream f = new FileInputStream(args[2])) {
                p.load(f);
            }
        AtomicLong failed = new AtomicLong();
        long sent = 0;
        try (KafkaProducer<byte[], byte[]> prod = new KafkaProducer<>(p);
             BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.isEmpty())
                    continue;
                String[] f = line.split("\t");
                byte[] value = new byte[0];
                ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(args[1], f[0].getBytes(StandardCharsets.UTF_8), null);
                for (int i = 1; i < f.length; i++) {
                    int eq = f[i].indexOf('=');
                    if (eq <= 0)
                        throw new IllegalArgumentException("bad header '" + f[i] + "' in: " + line);
                    String name = f[i].substring(0, eq);
                    byte[] v = f[i].substring(eq + 1).getBytes(StandardCharsets.UTF_8);
                    if (name.equals("value"))
                        value = v;
                    else
                        r.headers().add(name, v);
                }
                r = new ProducerRecord<>(r.topic(), null, null, r.key(), value, r.headers());
                prod.send(r, (md, e) -> {
                    if (e != null && failed.getAndIncrement() < 5)
                        System.err.println("send failed: " + e);
                });
                sent++;
            }
            prod.flush();
        }
        System.err.println("sent " + sent + " records, " + failed.get() + " failed");
        System.exit(failed.get() == 0 ? 0 : 1);
    }
}
