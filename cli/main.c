/* logward: the command-line entry point. Dispatches to one subcommand per
 * file (cli/cmd_*.c); everything else lives in the libraries. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
} commands[] = {
	{"serve", lw_cmd_serve, "run the collector daemon"},
	{"ingest", lw_cmd_ingest, "store log files or stdin through the same path"},
	{"query", lw_cmd_query, "search stored events"},
	{"verify", lw_cmd_verify, "recompute the segment hash chain"},
	{"stats", lw_cmd_stats, "show store and collector statistics"},
	{"incidents", lw_cmd_incidents, "list, show, acknowledge and close incidents"},
	{"rules", lw_cmd_rules, "check rule files, or test log lines against them"},
	{"init-key", lw_cmd_init_key, "make a new store keyed; print its initial key once"},
	{"user", lw_cmd_user, "add, list, disable users of the web console"},
	{"token", lw_cmd_token, "add, list, revoke API tokens"},
	{"audit", lw_cmd_audit, "list the audit trail of the console"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: logward COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].help);
	fprintf(out, "\n'logward COMMAND --help' shows a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "logward: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
