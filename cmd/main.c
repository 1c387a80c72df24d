/*
 * main.c - cassandgo's entry point: global options, the command table,
 * signals. The only place that exits.
 */
#include "cli.h"
#include "ops.h"
#include "../planner/stress.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CG_VERSION "0.1.0"

static const char usage_main[] =
	"usage: cassandgo [GLOBAL OPTIONS] COMMAND [ARGS]\n"
	"\n"
	"Bring up multi-datacenter Apache Cassandra clusters, declaratively.\n"
	"\n"
	"Commands:\n"
	"  plan CLUSTER        show what apply would create, change or destroy\n"
	"  apply CLUSTER       converge the world to the configuration\n"
	"  destroy CLUSTER     tear the cluster down, leaving nothing behind\n"
	"  stop CLUSTER        park it: drain and stop every node, power machines off\n"
	"  start CLUSTER       start a parked cluster; wait until the ring is healthy\n"
	"  state SUBCOMMAND    show, list, rm, unlock: what cassandgo believes exists\n"
	"  validate [CLUSTER]  check the configuration offline\n"
	"  create CLUSTER      apply --auto-approve (the 2014 tool's command)\n"
	"  initSG [CLUSTER]    create the security groups of every region in the config\n"
	"  initKP [CLUSTER]    create the key pairs of every region in the config\n"
	"  status CLUSTER      the ring as the nodes see it (nodetool status)\n"
	"  output CLUSTER      how to connect: ssh and cqlsh commands, monitoring URL\n"
	"  latency CLUSTER     zone-to-zone and DC-to-DC round trips, measured on the nodes\n"
	"  ssh CLUSTER NODE    log into a node (NODE: DC1.n2 or DC1/2)\n"
	"  cqlsh CLUSTER [NODE] open a CQL shell on the cluster\n"
	"  stress CLUSTER      load every DC with latte; a table, a report page\n"
	"  run CLUSTER FILE    a scenario: load and faults on one timeline, healed at the end\n"
	"\n"
	"Global options (before the command):\n"
	"  -c, --config FILE   configuration (default ./cassandgo.yaml, or $CASSANDGO_CONFIG)\n"
	"      --state FILE    state database (default .cassandgo/state.db beside the\n"
	"                      config, or $CASSANDGO_STATE)\n"
	"  -h, --help          this help; 'cassandgo COMMAND --help' for a command\n"
	"      --version       print the version\n"
	"\n"
	"Exit codes: 0 ok, 1 error, 2 changes present (plan --detailed-exitcode),\n"
	"64 usage, 65 configuration error, 75 state locked.\n";

static const char usage_plan[] =
	"usage: cassandgo plan CLUSTER [--json] [--detailed-exitcode] [--out FILE]\n"
	"                      [--refresh=false] [--destroy] [--stage infra|install|all]\n"
	"\n"
	"Refresh what exists, compare it with the configuration and the state, and show\n"
	"the actions apply would take: + create, ~ update in place, -/+ replace,\n"
	"- destroy, each with its reason. Changes nothing.\n"
	"\n"
	"  --json               machine-readable plan\n"
	"  --detailed-exitcode  exit 0 when nothing to do, 2 when there are changes\n"
	"  --out FILE           save the plan; 'apply CLUSTER FILE' applies exactly it\n"
	"  --refresh=false      plan from the state alone (no provider calls)\n"
	"  --destroy            plan a destroy\n"
	"  --stage infra        only the cloud resources (network, key pairs, machines)\n"
	"  --stage install      those and Cassandra installed on every machine\n";

static const char usage_apply[] =
	"usage: cassandgo apply CLUSTER [PLANFILE] [--auto-approve] [--parallelism N]\n"
	"                       [--refresh=false] [--stage infra|install|all]\n"
	"\n"
	"Show the plan, ask for 'yes' (on a terminal), then converge. Nothing to do:\n"
	"prints 'No changes.' and touches nothing. With PLANFILE (from plan --out),\n"
	"apply exactly that plan, refusing it if the state or the world changed since.\n"
	"\n"
	"  --auto-approve       do not ask (required when stdin is not a terminal)\n"
	"  --parallelism N      at most N actions at once (default 10)\n"
	"  --refresh=false      trust the state, do not refresh\n"
	"  --stage infra        stop after the cloud resources\n"
	"  --stage install      stop once Cassandra is installed (nothing started)\n"
	"\n"
	"Ctrl-C once: running actions finish and are recorded, nothing new starts.\n"
	"Twice: stop at once (the state stays consistent; the journal says what was\n"
	"in flight, and the next plan reconciles it).\n";

static const char usage_destroy[] =
	"usage: cassandgo destroy CLUSTER [--auto-approve] [--parallelism N] [--refresh=false]\n"
	"\n"
	"Destroy everything of the cluster, in reverse dependency order: instances\n"
	"(waiting until they are gone), then security groups and key pairs. Same\n"
	"confirmation rules as apply. Afterwards nothing of the cluster is in the state.\n";

static const char usage_stop[] =
	"usage: cassandgo stop CLUSTER [--auto-approve] [--parallelism N]\n"
	"\n"
	"Park the cluster: drain every node (nodetool drain) and stop Cassandra, then\n"
	"power its machines off: EC2 instances stopped (their EBS volumes keep the\n"
	"data; only the volumes are billed), local nodes' processes ended (their\n"
	"namespaces and files stay). The state records the cluster as parked before\n"
	"anything changes; plan and apply leave it alone until 'cassandgo start'.\n"
	"A node that cannot be drained stops the stop before any machine is powered\n"
	"off. Killed half-way: run stop (or start) again. Same confirmation rules\n"
	"as apply. destroy works on a parked cluster.\n";

static const char usage_start[] =
	"usage: cassandgo start CLUSTER [--auto-approve] [--parallelism N]\n"
	"                       [--stage infra|all]\n"
	"\n"
	"Start a parked cluster: its machines are started and their addresses read\n"
	"again; what depends on a changed address is rendered again (broadcast\n"
	"addresses, seeds, cross-region rules, the certificates' IP addresses);\n"
	"Cassandra starts on the seeds, then on every other node, and start waits\n"
	"until every node is Up/Normal in the ring. The parked mark goes only when\n"
	"all of it succeeded; a failed start names the node and why, and the next\n"
	"start goes on from there. Same confirmation rules as apply.\n"
	"\n"
	"  --stage infra   only the machines and what they carry (a cluster applied\n"
	"                  with apply --stage infra)\n";

static const char usage_create[] =
	"usage: cassandgo create CLUSTER [apply options]\n"
	"\n"
	"The 2014 tool's command: the same as 'apply --auto-approve CLUSTER'.\n";

static const char usage_initsg[] =
	"usage: cassandgo initSG [CLUSTER...] [--auto-approve]\n"
	"\n"
	"Create the security groups (cassandgo-CLUSTER-REGION) of every region named in\n"
	"the configuration (all clusters, or those given). Never deletes anything.\n";

static const char usage_initkp[] =
	"usage: cassandgo initKP [CLUSTER...] [--auto-approve]\n"
	"\n"
	"Create the key pairs (cassandgo-CLUSTER-REGION, ed25519; private keys in\n"
	".cassandgo/keys/, mode 0600) of every region named in the configuration.\n"
	"Never deletes anything.\n";

static const char usage_validate[] =
	"usage: cassandgo validate [CLUSTER]\n"
	"\n"
	"Check the configuration offline: syntax, keys, types, values. Errors name\n"
	"FILE:LINE:COL and exit 65.\n";

static const char usage_state[] =
	"usage: cassandgo state show [CLUSTER] [--json]\n"
	"       cassandgo state list\n"
	"       cassandgo state rm [--cluster CLUSTER] ADDRESS...\n"
	"       cassandgo state unlock LOCK_ID\n"
	"       cassandgo state import CLUSTER [--pin-host-keys]\n"
	"\n"
	"  show    what cassandgo believes exists (all clusters, or one)\n"
	"  list    one line per resource: cluster, address, id\n"
	"  rm      forget resources without destroying them\n"
	"  unlock  remove a lock left by a crashed run (the ID is in the lock error)\n"
	"  import  rebuild a lost state from the cloud's tags (groups, key pairs,\n"
	"          instances), so that destroy works; --pin-host-keys (or yes on a\n"
	"          terminal) pins the host keys the instances' tags name\n";

static const char usage_status[] =
	"usage: cassandgo status CLUSTER [--json]\n"
	"\n"
	"The ring as the nodes see it: 'nodetool status' from the first node that\n"
	"answers over SSH, per datacenter and rack: state, load, tokens, ownership.\n"
	"Every node not Up/Normal is marked. Exit 0 when every configured node is Up\n"
	"and Normal, 1 otherwise (also when no node answers). A parked cluster\n"
	"(cassandgo stop) is said to be parked, with what it costs parked; exit 1.\n"
	"\n"
	"  --json   machine-readable (healthy, nodes_expected, nodes[...])\n";

static const char usage_output[] =
	"usage: cassandgo output CLUSTER [--json]\n"
	"\n"
	"How to connect to the cluster's nodes, from the state (no network): per node an\n"
	"ssh command that uses the cluster's key and pinned known_hosts (never ~/.ssh),\n"
	"a cqlsh command, and the Prometheus URL when the cluster has monitoring.\n"
	"\n"
	"  --json   machine-readable\n";

static const char usage_latency[] =
	"usage: cassandgo latency CLUSTER [--json]\n"
	"\n"
	"Round trips measured from the nodes over SSH, to the addresses nodes gossip on:\n"
	"between the zones of each datacenter and between every pair of datacenters.\n"
	"5 samples each (ping when it works, else a TCP connect to port 7000): min, avg,\n"
	"max in ms, as a table and as boxes. Exit 1 when a pair could not be measured.\n"
	"\n"
	"  --json   machine-readable\n";

static const char usage_gc[] =
	"usage: cassandgo gc [--destroy-expired [--auto-approve]] [--json]\n"
	"\n"
	"Every cluster cassandgo made on AWS in the regions of the config, found by the tags\n"
	"on its instances (the state file may be gone): nodes, age, expiry (`expires:`),\n"
	"what it costs per hour and has cost so far, whether the state records it.\n"
	"\n"
	"  --destroy-expired  destroy the clusters past their expiry: instances, then\n"
	"                     security groups and key pairs in every region of the config;\n"
	"                     the state forgets them. Asks first on a terminal\n"
	"  --auto-approve     do not ask\n"
	"  --json             machine-readable\n";

static const char usage_chaos[] =
	"usage: cassandgo chaos CLUSTER kill NODE | stop NODE | pause NODE SECONDS\n"
	"                              | partition DC|ZONE | delay DC MS | heal [NODE|all]\n"
	"\n"
	"Faults, to see how the cluster behaves (NODE as ssh takes it: DC1.n2):\n"
	"  kill       SIGKILL Cassandra          stop   a clean stop\n"
	"  pause      SIGSTOP, SIGCONT after SECONDS\n"
	"  partition  the DC's or zone's nodes lose all traffic with every other node\n"
	"             (firewall rules on those nodes)\n"
	"  delay      netem delay on the DC's nodes (needs the kernel's sch_netem)\n"
	"  heal       undo all of it on NODE or every node; start Cassandra where it is\n"
	"             down\n";

static const char usage_nodetool[] =
	"usage: cassandgo nodetool CLUSTER NODE|DC|ZONE|all ARGS...\n"
	"\n"
	"Run nodetool ARGS on one node (DC1.n2), the nodes of a DC or zone, or every\n"
	"node, several at once, over the pinned sessions (the node's own jars, its\n"
	"local JMX). Each line of output starts with its node's name; the exit code is\n"
	"1 when any node failed, and the error names them.\n";

static const char usage_ssh[] =
	"usage: cassandgo ssh CLUSTER NODE [COMMAND...]\n"
	"\n"
	"Log into NODE (DC1.n2, DC1/2) with the ssh command 'cassandgo output' prints:\n"
	"the cluster's key, its pinned known_hosts, strict host key checking.\n"
	"With COMMAND, run it there instead of a login shell.\n";

static const char usage_cqlsh[] =
	"usage: cassandgo cqlsh CLUSTER [NODE]\n"
	"\n"
	"Open cqlsh on NODE (default the first node), with the command 'cassandgo\n"
	"output' prints: local clusters from this machine, others on the node via ssh.\n";

static const char usage_stress[] =
	"usage: cassandgo stress CLUSTER [--dc DC]... [--workload write|read|mixed]\n"
	"                        [--rate OPS_PER_S] [--duration SECONDS]\n"
	"                        [--consistency CL] [--json]\n"
	"\n"
	"Load a running cluster with latte (" CG_STRESS_LATTE_VERSION ", built by 'make deps'): one client per DC\n"
	"against its own DC (local provider: in a client namespace of that DC, removed\n"
	"after the run), with the cluster's TLS and superuser credentials, writing to\n"
	"keyspace " CG_STRESS_KEYSPACE " (NetworkTopologyStrategy over every DC, RF min(3, nodes)).\n"
	"A live line per DC while it runs (latte reports failed requests only at the\n"
	"end: the live error count is its failed cycles), then a table per DC and\n"
	"results/CLUSTER/TIMESTAMP/ beside the state directory (kept after destroy):\n"
	"report.html, summary.json, latte's reports and output (password removed).\n"
	"latte does not verify the nodes' certificates: stress says so.\n"
	"\n"
	"  --dc DC            only this DC (repeat for several; default every DC)\n"
	"  --workload W       write (default), read, or mixed (half each)\n"
	"  --rate N           operations per second per DC (default 1000)\n"
	"  --duration S       seconds of measured load (default 30)\n"
	"  --consistency CL   default LOCAL_QUORUM\n"
	"  --json             {\"report\": DIR, \"dcs\": {DC: {ops_per_s, p50_ms, p99_ms, errors}}}\n";

static const char usage_run[] =
	"usage: cassandgo run CLUSTER SCENARIO.yaml [--check] [--json]\n"
	"\n"
	"Load and faults on one timeline: the load of 'stress' (latte per DC) with\n"
	"each fault of the scenario fired at its time after the load began (kill,\n"
	"stop, pause NODE; partition, delay DC|ZONE; heal NODE|all, as 'chaos' does).\n"
	"At the end, whatever happened (an error, Ctrl-C), every node is healed and\n"
	"the ring waited for (every node UN). The results folder is stress's; its\n"
	"report marks each fault on the charts, summary.json lists the faults (planned\n"
	"and fired times) and the figures per DC between faults (phases).\n"
	"The file is validated first (FILE:LINE:COL, exit 65): see\n"
	"examples/scenario-node-loss.yaml and examples/scenario-dc-partition.yaml.\n"
	"\n"
	"  --check   validate the file against the cluster's config and print the\n"
	"            timeline; run nothing\n"
	"  --json    at the end, what 'stress --json' prints\n";

const struct cg_command cg_commands[] = {
	{"plan", cmd_plan, "show what apply would do", usage_plan},
	{"apply", cmd_apply, "converge the world to the configuration", usage_apply},
	{"destroy", cmd_destroy, "tear the cluster down", usage_destroy},
	{"stop", cmd_stop, "park the cluster: drain, stop, power off", usage_stop},
	{"start", cmd_start, "start a parked cluster", usage_start},
	{"state", cmd_state, "inspect and edit the state", usage_state},
	{"validate", cmd_validate, "check the configuration offline", usage_validate},
	{"create", cmd_create, "apply --auto-approve", usage_create},
	{"initSG", cmd_init_sg, "create security groups", usage_initsg},
	{"initKP", cmd_init_kp, "create key pairs", usage_initkp},
	{"status", cmd_status, "the ring as the nodes see it", usage_status},
	{"output", cmd_output, "how to connect to the nodes", usage_output},
	{"latency", cmd_latency, "latencies between zones and datacenters", usage_latency},
	{"gc", cmd_gc, "list clusters by their tags; destroy the expired ones", usage_gc},
	{"chaos", cmd_chaos, "kill, pause, partition or delay nodes; heal them", usage_chaos},
	{"nodetool", cmd_nodetool, "nodetool on one node, a DC or all, output per node", usage_nodetool},
	{"ssh", cmd_ssh, "log into a node", usage_ssh},
	{"cqlsh", cmd_cqlsh, "open a CQL shell", usage_cqlsh},
	{"stress", cmd_stress, "load every DC with latte", usage_stress},
	{"run", cmd_run, "a scenario: load and faults on one timeline", usage_run},
	{NULL, NULL, NULL, NULL},
};

/* The only mutable global: set by the signal handler, read by the executor. */
static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	if (interrupted) {
		static const char msg[] = "\nStopping now. The state is consistent; the journal "
			"records what was in flight. If the state stays locked, run "
			"'cassandgo state unlock ID'.\n";
		ssize_t w = write(2, msg, sizeof(msg) - 1);
		(void)w;
		_exit(130);
	}
	interrupted = 1;
	static const char msg[] = "\nInterrupt: letting running actions finish and recording "
		"them; Ctrl-C again to stop at once.\n";
	ssize_t w = write(2, msg, sizeof(msg) - 1);
	(void)w;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"state", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct cg_cli cli = {0};
	int c;

	cli.config_path = getenv("CASSANDGO_CONFIG");
	cli.state_opt = getenv("CASSANDGO_STATE");
	if (cli.state_opt && !*cli.state_opt)
		cli.state_opt = NULL;
	while ((c = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cli.config_path = optarg; break;
		case 's': cli.state_opt = optarg; break;
		case 'h': fputs(usage_main, stdout); return CG_EXIT_OK;
		case 'V': printf("cassandgo %s\n", CG_VERSION); return CG_EXIT_OK;
		default:
			fputs(usage_main, stderr);
			return CG_EXIT_USAGE;
		}
	}
	if (!cli.config_path || !*cli.config_path)
		cli.config_path = "cassandgo.yaml";
	if (optind >= argc) {
		fputs(usage_main, stderr);
		return CG_EXIT_USAGE;
	}
	const char *name = argv[optind];
	if (!strcmp(name, "help")) {
		if (optind + 1 < argc)
			for (const struct cg_command *cmd = cg_commands; cmd->name; cmd++)
				if (!strcmp(cmd->name, argv[optind + 1])) {
					fputs(cmd->usage, stdout);
					return CG_EXIT_OK;
				}
		fputs(usage_main, stdout);
		return CG_EXIT_OK;
	}
	const struct cg_command *cmd = NULL;
	for (const struct cg_command *k = cg_commands; k->name; k++)
		if (!strcmp(k->name, name))
			cmd = k;
	if (!cmd) {
		const char *best = NULL;
		int bd = 3;
		for (const struct cg_command *k = cg_commands; k->name; k++) {
			int d = cg_edit_distance(k->name, name);
			if (d < bd) {
				bd = d;
				best = k->name;
			}
		}
		fprintf(stderr, "Error: unknown command '%s'%s%s%s\nRun 'cassandgo --help'.\n", name,
			best ? "; did you mean '" : "", best ? best : "", best ? "'?" : "");
		return CG_EXIT_USAGE;
	}
	if (cli_wants_help(cmd, argc - optind, argv + optind))
		return CG_EXIT_OK;

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	cli.interrupted = &interrupted;
	cli.stdin_tty = isatty(0);
	cli.stdout_tty = isatty(1);
	cli.color = isatty(1) && !getenv("NO_COLOR");
	int first = optind;
	optind = 0;	/* commands run getopt_long again on their own argv */
	int rc = cmd->run(&cli, argc - first, argv + first);
	if (cli.cfg)
		cg_config_free(cli.cfg);
	free(cli.state_path);
	free(cli.state_dir);
	free(cli.cluster_dir);
	free(cli.config_dir);
	return rc;
}
