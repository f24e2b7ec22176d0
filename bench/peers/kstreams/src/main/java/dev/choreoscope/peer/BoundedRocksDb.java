package dev.choreoscope.peer;

import java.util.Map;
import org.apache.kafka.streams.state.RocksDBConfigSetter;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Cache;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.WriteBufferManager;

/**
 * The bounded-memory RocksDB setup the Kafka Streams memory-management docs recommend:
 * every store of the process shares one LRU block cache, and memtables are charged to
 * it through one WriteBufferManager. Without it each of the 2 x 64 stores (64 tasks)
 * would take its own 50 MiB cache and up to 3 x 16 MiB memtables. Total size from the
 * system property peer.rocksdb.mib (default 256), memtables half of it.
 */
public final class BoundedRocksDb implements RocksDBConfigSetter {
    private static final long TOTAL = Long.getLong("peer.rocksdb.mib", 256L) << 20;
    private static final Cache CACHE = new LRUCache(TOTAL, -1, false, 0.1);
    private static final WriteBufferManager WBM = new WriteBufferManager(TOTAL / 2, CACHE);

    @Override
    public void setConfig(String storeName, Options options, Map<String, Object> configs) {
        BlockBasedTableConfig table = (BlockBasedTableConfig) options.tableFormatConfig();
        table.setBlockCache(CACHE);
        table.setCacheIndexAndFilterBlocks(true);
        table.setCacheIndexAndFilterBlocksWithHighPriority(true);
        table.setPinTopLevelIndexAndFilter(true);
        options.setWriteBufferManager(WBM);
        options.setMaxWriteBufferNumber(2);
        options.setWriteBufferSize(8L << 20);
        options.setTableFormatConfig(table);
    }

    @Override
    public void close(String storeName, Options options) {
        // CACHE and WBM are shared by every store: never closed here.
    }
}
