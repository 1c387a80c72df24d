-- A state file as the first release (schema 1) wrote it; test_state.c
-- builds a database from this and checks that cg_state_open migrates it.
-- Schema 1: one record per (cluster, addr); attributes as one JSON object
-- without flags; a journal without pid; no lock table.
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE resources(
	cluster TEXT NOT NULL,
	addr TEXT NOT NULL,
	kind TEXT NOT NULL,
	region TEXT,
	dc TEXT,
	node INTEGER,
	id TEXT,
	attrs TEXT NOT NULL DEFAULT '{}',
	PRIMARY KEY (cluster, addr));
CREATE TABLE journal(
	id INTEGER PRIMARY KEY,
	cluster TEXT NOT NULL,
	addr TEXT NOT NULL,
	op TEXT NOT NULL,
	status TEXT NOT NULL,
	started TEXT NOT NULL,
	ended TEXT,
	message TEXT);

INSERT INTO meta VALUES ('lineage', '0b7f4a52-3c1e-4d2a-9f6b-1e2d3c4b5a69'), ('serial', '17');
INSERT INTO resources VALUES
 ('MultiDC', 'network.eu-west-1', 'network', 'eu-west-1', NULL, 0, 'sg-0123', '{"cidr":"10.0.0.0/16","ports":"7000,9042"}'),
 ('MultiDC', 'machine.DC1.n1', 'machine', 'eu-west-1', 'DC1', 1, 'i-0aa1', '{"type":"m5.large","private_ip":"10.0.0.11","public_ip":null,"zone":"eu-west-1a"}'),
 ('MultiDC', 'install.DC1.n1', 'install', 'eu-west-1', 'DC1', 1, '', '{}'),
 ('MultiDC', 'ring', 'ring', NULL, NULL, 0, NULL, '{"nodes":15,"healthy":true}'),
 ('MonoDC', 'machine.DC1.n1', 'machine', 'eu-west-1', 'DC1', 1, 'i-0bb2', '{"type":"t3.large"}');
INSERT INTO journal VALUES
 (1, 'MultiDC', 'machine.DC1.n1', 'create', 'done', '2025-01-02T03:04:05Z', '2025-01-02T03:05:00Z', NULL),
 (2, 'MultiDC', 'install.DC1.n1', 'create', 'pending', '2025-01-02T03:05:01Z', NULL, NULL);
PRAGMA user_version = 1;
