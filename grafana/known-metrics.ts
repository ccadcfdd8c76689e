// The metric names Prometheus scrapes in the Evergreen stack, from the metric catalog the dashboards and alert rules
// share. A name missing here is a typo or a metric nobody exports; the live-Prometheus test has the final word.

const histogram = (name: string) => [`${name}_bucket`, `${name}_sum`, `${name}_count`];

const SERVICE = [
  ...histogram('http_request_duration_seconds'),
  // prom-client default metrics (those the dashboards or rules may use).
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
  'process_start_time_seconds',
  'process_open_fds',
  'nodejs_eventloop_lag_seconds',
  'nodejs_eventloop_lag_mean_seconds',
  'nodejs_eventloop_lag_p99_seconds',
  'nodejs_eventloop_lag_max_seconds',
  'nodejs_heap_size_used_bytes',
  'nodejs_heap_size_total_bytes',
  'nodejs_active_handles_total',
  ...histogram('nodejs_gc_duration_seconds'),
  // Business counters and the Redis client's view.
  'evergreen_purchases_total',
  'evergreen_units_sold_total',
  'evergreen_revenue_cents_total',
  'evergreen_cancellations_total',
  'evergreen_refunded_cents_total',
  'evergreen_idempotent_replays_total',
  'evergreen_purchase_watch_retries_total',
  'evergreen_wait_total',
  'evergreen_login_limited_total',
  'evergreen_redis_master',
  'evergreen_redis_master_switches_total',
  'evergreen_redis_client_revivals_total',
  'evergreen_failover_fence',
  'evergreen_catalog_reads_total',
  'evergreen_catalog_replica_reads_total',
  'evergreen_replica_lag_seconds',
  'evergreen_replica_lagging',
  ...histogram('evergreen_redis_pool_wait_seconds'),
  'evergreen_redis_pool_pending',
  // The client-side cache (Redis CLIENT TRACKING).
  'evergreen_cache_hits_total',
  'evergreen_cache_misses_total',
  'evergreen_cache_invalidations_total',
  'evergreen_cache_flushes_total',
  'evergreen_cache_entries',
  'evergreen_cache_bytes',
  'evergreen_cache_trusted_links',
  // Live stock (server-sent events).
  'evergreen_sse_streams',
  'evergreen_sse_events_total',
  'evergreen_sse_dropped_total',
  'evergreen_sse_refused_total',
  ...histogram('evergreen_sse_delivery_seconds'),
];

// prometheus-redis-exporter 1.45, against the Redis nodes.
const REDIS = [
  'redis_up',
  'redis_instance_info',
  'redis_uptime_in_seconds',
  'redis_connected_clients',
  'redis_connected_slaves',
  'redis_connected_slave_lag_seconds',
  'redis_connected_slave_offset_bytes',
  'redis_master_repl_offset',
  'redis_slave_repl_offset',
  'redis_master_link_up',
  'redis_master_last_io_seconds_ago',
  'redis_commands_processed_total',
  'redis_commands_total',
  'redis_commands_duration_seconds_total',
  'redis_memory_used_bytes',
  'redis_memory_max_bytes',
  'redis_memory_used_rss_bytes',
  'redis_mem_fragmentation_ratio',
  'redis_db_keys',
  'redis_evicted_keys_total',
  'redis_expired_keys_total',
  'redis_rejected_connections_total',
  'redis_keyspace_hits_total',
  'redis_keyspace_misses_total',
  'redis_net_input_bytes_total',
  'redis_net_output_bytes_total',
  'redis_aof_enabled',
  'redis_aof_last_write_status',
  'redis_aof_last_bgrewrite_status',
  'redis_rdb_last_bgsave_status',
  'redis_rdb_last_save_timestamp_seconds',
  'redis_rdb_changes_since_last_save',
  'redis_exporter_last_scrape_error',
];

// The same exporter against the Sentinels.
const SENTINEL = [
  'redis_sentinel_masters',
  'redis_sentinel_tilt',
  'redis_sentinel_master_status',
  'redis_sentinel_master_ckquorum_status',
  'redis_sentinel_master_ok_sentinels',
  'redis_sentinel_master_sentinels',
  'redis_sentinel_master_slaves',
  'redis_sentinel_master_ok_slaves',
];

// prometheus-nginx-exporter 0.11 on stub_status.
const NGINX = [
  'nginx_up',
  'nginx_connections_active',
  'nginx_connections_accepted',
  'nginx_connections_handled',
  'nginx_connections_reading',
  'nginx_connections_writing',
  'nginx_connections_waiting',
  'nginx_http_requests_total',
];

/** Every exact metric name the catalog lists, plus `up` (every job) and `ALERTS` (the rules). */
export const KNOWN_METRICS: ReadonlySet<string> = new Set([
  'up',
  'ALERTS',
  ...SERVICE,
  ...REDIS,
  ...SENTINEL,
  ...NGINX,
]);

/** Prometheus' and Alertmanager's own metrics, known by prefix only. */
export const KNOWN_METRIC_PREFIXES: readonly string[] = ['prometheus_', 'alertmanager_'];

export function isKnownMetric(name: string): boolean {
  return KNOWN_METRICS.has(name) || KNOWN_METRIC_PREFIXES.some((prefix) => name.startsWith(prefix));
}
