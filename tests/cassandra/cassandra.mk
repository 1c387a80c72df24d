# Cassandra runtime (Maven Central jars) and the real-node integration test.
# The version is pinned in tests/cassandra/VERSION only.
.PHONY: cassandra check-cassandra

cassandra:
	@tests/cassandra/fetch.sh

# Renders a node's files with planner/cassconf.c for the integration test.
$(BUILD)/tests/cass-render: tests/cassandra/render.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iplanner -o $@ $^ $(LDFLAGS) $(LDLIBS)

CHECKS += check-cassandra
check-cassandra: cassandra $(BUILD)/tests/cass-render
	@tests/cassandra/test_cgnode_apt.sh
	@tests/cassandra/test_node.sh $(BUILD)/tests/cass-render

# Time to CQL ready of one node, lab flags vs full flags.
BENCHES += bench-cassandra
bench: bench-cassandra
.PHONY: bench-cassandra
bench-cassandra: cassandra $(BUILD)/tests/cass-render
	@tests/cassandra/bench_start.sh $(BUILD)/tests/cass-render
